r"""A seeded synthetic customer history with planted churn signal, for `convsignal backtest`.

SYNTHETIC DATA. Nothing here comes from a real customer: the numbers are drawn from the model
below, the events carry labels only (evidence is the word "synthetic"), and no conversation
text exists at all. Every account gets the attribute `synthetic=true`: the backtest report
shows a "synthetic data" banner when any account it scores carries it.

The generative model (per account i; N = normal, B = Bernoulli, σ = logistic, all draws from
one numpy generator seeded with `seed`, so a seed always gives the same store):

    history         START 2025-05-01 .. END 2026-10-31 (18 months)
    renewal T_i     uniform over [START + 300 d, END]          (≥ 6 months of history at T−120)
    health          h_i ~ N(0, 1)                              latent, never stored
    drift           δ_i ~ N(−0.15, 0.6);  h_T = h_i + δ_i       health at renewal
    path            x_i(t) = h_i + δ_i · clip((t − (T_i − 180 d)) / 180 d, 0, 1)
                    (flat, then a linear slide over the six months before renewal; flat after)
    disruption      D_i ~ B(σ(−1.9 − 0.5 h_i))                 ≈ 15 %, more likely when unhealthy
                    kind ∈ {champion_leaving, evaluating_alternatives, budget_cuts}, onset
                    uniform 30..120 days before T_i (so at T−90 only about a third are visible)
    churn           C_i ~ B(σ(−2.7 − 1.2 h_T + 2.2 D_i)), or a "surprise" churn with p 0.03
                    (acquired, shut down: no signal at all)
    other outcomes  u = h_T + N(0, 0.6): expanded if u > 1.1; downgraded if u < −0.9 or
                    (D_i and B(0.3)); renewed otherwise

Quantitative snapshots every 30 days (first at a per-account offset), until T for churners and
END otherwise, each measure a noisy function of x(t) (3 % of accounts send no metrics):

    licensed_seats        by segment (smb 10–40, mid_market 40–200, enterprise 200–1,500)
    active_users          seats · clip(0.62 + 0.15 x + N(0, 0.06), 0.03, 1)
    feature_adoption_pct  clip(45 + 14 x + N(0, 6), 2, 98)
    open_critical_tickets Poisson(e^(−0.8 − 0.6 x));  tickets_unanswered_3d Poisson(e^(−1 − 0.5 x))
    avg_resolution_hours  24 · e^(−0.3 x + N(0, 0.4))
    csat                  clip(4.0 + 0.35 x + N(0, 0.3), 1, 5)
    days_payment_late     with p σ(−2.2 − 0.9 x): uniform 5..60, else 0
    days_since_last_qbr   clip(110 − 35 x + N(0, 25), 5, 365)
    days_to_renewal       days from the snapshot to T (to T + 365 after a renewal)
    nps                   every third snapshot (quarterly survey), answered with p 0.7:
                          clip(20 + 28 x + N(0, 30), −100, 100)

Conversations: λ_i ~ Gamma(2, 0.65) per 30 days (mean 1.3; some accounts rarely talk, so
their qualitative part is insufficient), ×1.6 after a disruption's onset. Each conversation
has one sentiment event, s = tanh(0.45 x + N(0, 0.55)) − 0.35 after the onset (escalating
when s < −0.75 with p 0.5), and possibly:

    disruption flag       after the onset, p 0.65: the disruption's kind (risk flag), plus
                          p 0.3 an `evaluating_alternatives` intent
    background risk flag  p 0.04 + 0.08 σ(−1.5 x): product_frustration, service_reliability,
                          evaluating_alternatives, budget_cuts or payment_issue (false alarms
                          included: healthy accounts get them too)
    planning_to_renew     within 150 days of T, p 0.3 σ(x − 0.5)
    expansion             p 0.15 σ(2 (x − 1)): expansion_interest or an expansion signal

Confidence uniform 0.6..0.95; speaker customer 80 %, vendor 10 %, unknown 10 %.

Why the composite can beat quantitative-only without being rigged: the conversations carry
two things the metrics do not — the disruption D (which drives churn directly and shows in the
metrics not at all) and a second, independently noisy reading of x(t) through sentiment. How
much of D is visible depends on the horizon: at T−90 only disruptions with onset ≥ 90 days
before renewal have produced events. Churners with no warning (the surprise churns, and
healthy accounts with an unlucky draw) and false alarms keep every method honest.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, select
from sqlmodel import col

from convsignal.errors import StoreError
from convsignal.store.tables import (
    Account,
    ConversationExtraction,
    ConversationRecord,
)

START = datetime(2025, 5, 1, tzinfo=UTC)
END = datetime(2026, 10, 31, tzinfo=UTC)
EXTRACTOR_ID = "synthetic-history"
SYNTHETIC_ATTRIBUTE = "synthetic"
ACCOUNT_PREFIX = "syn-"
OUTCOME_COLUMNS = ("account_id", "renewal_date", "outcome")
SNAPSHOT_DAYS = 30
DISRUPTIONS = ("champion_leaving", "evaluating_alternatives", "budget_cuts")
BACKGROUND_FLAGS = (
    "product_frustration",
    "service_reliability",
    "evaluating_alternatives",
    "budget_cuts",
    "payment_issue",
)
EXPANSION = (
    ("intent", "expansion_interest"),
    ("expansion_signal", "additional_seats"),
    ("expansion_signal", "new_use_case"),
    ("expansion_signal", "upgrade_tier"),
)
SEGMENTS = (("smb", 0.5, 10, 40), ("mid_market", 0.35, 40, 200), ("enterprise", 0.15, 200, 1500))
CHANNELS = ("call", "email", "ticket", "chat")
Event = tuple[str, str, float, float, str]  # kind, type, score, confidence, speaker role


@dataclass
class GenerationSummary:
    accounts: int = 0
    metric_snapshots: int = 0
    conversations: int = 0
    events: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    seed: int = 0


@dataclass
class _Account:
    """One generated account: its rows, ready to insert."""

    id: str
    renewal: datetime
    outcome: str
    segment: str
    metrics: list[tuple[str, str, datetime, float]] = field(default_factory=list)
    conversations: list[tuple[datetime, str, list[Event]]] = field(default_factory=list)


def _clip(value: float, low: float, high: float) -> float:
    return min(high, max(low, float(value)))


def _sigmoid(value: float) -> float:
    return 1.0 / (1.0 + math.exp(-value))


def _account(rng: np.random.Generator, number: int) -> _Account:
    span = (END - START).days
    renewal = START + timedelta(days=int(rng.integers(300, span + 1)))
    health = float(rng.normal())
    drift = float(rng.normal(-0.15, 0.6))
    health_at_renewal = health + drift
    disrupted = rng.random() < _sigmoid(-1.9 - 0.5 * health)
    disruption = DISRUPTIONS[int(rng.integers(len(DISRUPTIONS)))]
    onset = renewal - timedelta(days=float(rng.uniform(30, 120)))
    churn_p = _sigmoid(-2.7 - 1.2 * health_at_renewal + 2.2 * disrupted)
    surprise = rng.random() < 0.03
    if surprise or rng.random() < churn_p:
        outcome = "churned"
    else:
        mood = health_at_renewal + float(rng.normal(0, 0.6))
        if mood > 1.1:
            outcome = "expanded"
        elif mood < -0.9 or (disrupted and rng.random() < 0.3):
            outcome = "downgraded"
        else:
            outcome = "renewed"
    last_day = renewal if outcome == "churned" else END
    slide_start = renewal - timedelta(days=180)

    def x_at(when: datetime) -> float:
        share = min(1.0, max(0.0, (when - slide_start).days / 180))
        return health + drift * share

    pick = rng.random()
    segment, seats_low, seats_high = SEGMENTS[-1][0], SEGMENTS[-1][2], SEGMENTS[-1][3]
    cumulative = 0.0
    for name, share, low, high in SEGMENTS:
        cumulative += share
        if pick < cumulative:
            segment, seats_low, seats_high = name, low, high
            break
    account = _Account(f"{ACCOUNT_PREFIX}{number:06d}", renewal, outcome, segment)
    seats = float(rng.integers(seats_low, seats_high + 1))
    metered = rng.random() >= 0.03
    offset = timedelta(days=int(rng.integers(0, SNAPSHOT_DAYS)), hours=12)
    when, k = START + offset, 0
    while metered and when <= last_day:
        x = x_at(when)
        to_renewal = (renewal - when).days
        in_use = _clip(0.62 + 0.15 * x + rng.normal(0, 0.06), 0.03, 1)
        measures = {
            "licensed_seats": seats,
            "active_users": float(round(seats * in_use)),
            "feature_adoption_pct": min(98.0, max(2.0, 45 + 14 * x + rng.normal(0, 6))),
            "open_critical_tickets": float(rng.poisson(math.exp(-0.8 - 0.6 * x))),
            "tickets_unanswered_3d": float(rng.poisson(math.exp(-1.0 - 0.5 * x))),
            "avg_resolution_hours": 24 * math.exp(-0.3 * x + rng.normal(0, 0.4)),
            "csat": min(5.0, max(1.0, 4.0 + 0.35 * x + rng.normal(0, 0.3))),
            "days_payment_late": (
                float(rng.uniform(5, 60)) if rng.random() < _sigmoid(-2.2 - 0.9 * x) else 0.0
            ),
            "days_since_last_qbr": min(365.0, max(5.0, 110 - 35 * x + rng.normal(0, 25))),
            "days_to_renewal": float(to_renewal if to_renewal >= 0 else to_renewal + 365),
        }  # fmt: skip
        if k % 3 == 0 and rng.random() < 0.7:
            measures["nps"] = min(100.0, max(-100.0, 20 + 28 * x + rng.normal(0, 30)))
        account.metrics += [(account.id, m, when, float(v)) for m, v in measures.items()]
        when, k = when + timedelta(days=SNAPSHOT_DAYS), k + 1

    rate = float(rng.gamma(2.0, 0.65))
    month = START
    while month < last_day:
        month_end = min(month + timedelta(days=SNAPSHOT_DAYS), last_day)
        hot = disrupted and month_end > onset
        count = int(rng.poisson(rate * (1.6 if hot else 1.0)))
        for _ in range(count):
            at = month + (month_end - month) * float(rng.random())
            x = x_at(at)
            after_onset = disrupted and at >= onset
            events = _events(rng, x, after_onset, disruption, (renewal - at).days)
            channel = CHANNELS[int(rng.integers(len(CHANNELS)))]
            account.conversations.append((at, channel, events))
        month = month_end
    return account


def _events(
    rng: np.random.Generator, x: float, after_onset: bool, disruption: str, days_to_renewal: int
) -> list[Event]:
    """The labels of one conversation's events (no evidence text: the store gets "synthetic")."""
    found: list[tuple[str, str, float]] = []
    mood = math.tanh(0.45 * x + rng.normal(0, 0.55)) - (0.35 if after_onset else 0.0)
    mood = max(-1.0, min(1.0, mood))
    label = "positive" if mood > 0.3 else "negative" if mood < -0.3 else "neutral"
    if mood < -0.75 and rng.random() < 0.5:
        label = "escalating"
    found.append(("sentiment", label, mood))
    if after_onset and rng.random() < 0.65:
        found.append(("risk_flag", disruption, 1.0))
        if rng.random() < 0.3:
            found.append(("intent", "evaluating_alternatives", 1.0))
    if rng.random() < 0.04 + 0.08 * _sigmoid(-1.5 * x):
        flag = BACKGROUND_FLAGS[int(rng.integers(len(BACKGROUND_FLAGS)))]
        found.append(("risk_flag", flag, 1.0))
    if 0 <= days_to_renewal <= 150 and rng.random() < 0.3 * _sigmoid(x - 0.5):
        found.append(("intent", "planning_to_renew", 1.0))
    if rng.random() < 0.15 * _sigmoid(2 * (x - 1)):
        found.append(EXPANSION[int(rng.integers(len(EXPANSION)))] + (1.0,))
    return [
        (kind, signal_type, score, float(rng.uniform(0.6, 0.95)), _role(float(rng.random())))
        for kind, signal_type, score in found
    ]


def _role(draw: float) -> str:
    return "customer" if draw < 0.8 else "vendor" if draw < 0.9 else "unknown"


def generate_history(
    engine: Engine,
    *,
    accounts: int,
    seed: int,
    outcomes_path: Path,
    on_account: Callable[[int], None] | None = None,
) -> GenerationSummary:
    """Draw `accounts` synthetic accounts into the (migrated) store and write the outcomes CSV.

    Refuses a store that already holds synthetic accounts: a second draw would mix seeds.
    Rows go in through the driver's bulk path (executemany on SQLite, COPY on PostgreSQL), as
    in eval/bench_scoring.py, in one transaction: the history is stored whole or not at all.
    """
    if accounts < 1:
        raise StoreError("--accounts must be at least 1")
    rng = np.random.default_rng(seed)
    summary = GenerationSummary(seed=seed)
    with engine.connect() as connection:
        existing = connection.execute(
            select(func.count()).where(col(Account.id).startswith(ACCOUNT_PREFIX))
        ).scalar_one()
        next_conversation = connection.execute(select(func.max(ConversationRecord.id))).scalar()
        next_extraction = connection.execute(select(func.max(ConversationExtraction.id))).scalar()
    if existing:
        raise StoreError(
            f"the database already holds {existing} synthetic accounts ({ACCOUNT_PREFIX}…); "
            "generate into a fresh database"
        )
    generated: list[_Account] = []
    for number in range(1, accounts + 1):
        generated.append(_account(rng, number))
        if on_account is not None:
            on_account(1)
    postgres = engine.dialect.name == "postgresql"
    raw = engine.raw_connection()
    try:
        write = bulk_writer(raw, postgres=postgres)
        _write_rows(
            write, generated, seed, int(next_conversation or 0), int(next_extraction or 0), summary
        )
        if postgres:
            cursor = raw.cursor()
            for table in (
                "conversations",
                "conversation_extractions",
                "signal_events",
                "metric_snapshots",
            ):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                )
            cursor.close()
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()
    summary.accounts = len(generated)
    write_outcomes(outcomes_path, generated, summary)
    return summary


Writer = Callable[[str, list[str], Iterable[tuple[Any, ...]]], None]


def _write_rows(
    write: Writer,
    generated: list[_Account],
    seed: int,
    conversation_base: int,
    extraction_base: int,
    summary: GenerationSummary,
) -> None:
    now = datetime.now(UTC)
    prompt_version = f"seed-{seed}"
    write(
        "accounts",
        ["id", "name", "segment", "attributes", "created_at"],
        (
            (
                a.id,
                f"Synthetic account {a.id[len(ACCOUNT_PREFIX) :]}",
                a.segment,
                json.dumps({SYNTHETIC_ATTRIBUTE: "true", "generator_seed": str(seed)}),
                now,
            )
            for a in generated
        ),
    )
    metrics = [(*m, EXTRACTOR_ID, now) for a in generated for m in a.metrics]
    write(
        "metric_snapshots",
        ["account_id", "measure", "as_of", "value", "source", "created_at"],
        metrics,
    )
    summary.metric_snapshots = len(metrics)
    conversations: list[tuple[Any, ...]] = []
    extractions: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    for account in generated:
        for n, (at, channel, found) in enumerate(account.conversations):
            conversation_id = conversation_base + len(conversations) + 1
            extraction_id = extraction_base + len(extractions) + 1
            key = f"synthetic-history/{seed}/{account.id}/{n}"
            conversations.append(
                (
                    conversation_id, hashlib.sha256(key.encode()).hexdigest(), account.id,
                    f"{account.id}-{n}", EXTRACTOR_ID, EXTRACTOR_ID, channel, at,
                    0, 1, 1, 0, now,
                )
            )  # fmt: skip
            extractions.append(
                (extraction_id, conversation_id, EXTRACTOR_ID, prompt_version, len(found),
                 0, 0, 0, 0, 0, 0, 0.0, now)
            )  # fmt: skip
            events += [
                (account.id, conversation_id, extraction_id, at, kind, signal_type, score,
                 confidence, role, "synthetic", EXTRACTOR_ID, prompt_version, now)
                for kind, signal_type, score, confidence, role in found
            ]  # fmt: skip
    write("conversations", CONVERSATION_COLUMNS, conversations)
    write("conversation_extractions", EXTRACTION_COLUMNS, extractions)
    write("signal_events", EVENT_COLUMNS, events)
    summary.conversations, summary.events = len(conversations), len(events)


CONVERSATION_COLUMNS = [
    "id", "content_hash", "account_id", "source_id", "source_format", "source_file", "channel",
    "occurred_at", "turn_count", "customer_participants", "vendor_participants",
    "unknown_participants", "created_at",
]  # fmt: skip
EXTRACTION_COLUMNS = [
    "id", "conversation_id", "extractor_id", "prompt_version", "event_count",
    "pii_redacted_in_output", "input_tokens", "output_tokens", "cache_read_tokens",
    "cache_write_tokens", "requests", "cost_usd", "created_at",
]  # fmt: skip
EVENT_COLUMNS = [
    "account_id", "conversation_id", "extraction_id", "occurred_at", "kind", "signal_type",
    "score", "confidence", "speaker_role", "evidence", "extractor_id", "prompt_version",
    "created_at",
]  # fmt: skip


def bulk_writer(raw: Any, *, postgres: bool) -> Writer:
    """Fast bulk inserts on a raw DB-API connection: COPY on PostgreSQL, executemany on
    SQLite. eval/bench_scoring.py seeds its 100,000 accounts with it too."""
    return _postgres_writer(raw) if postgres else _sqlite_writer(raw)


def _sqlite_writer(raw: Any) -> Writer:
    """SQLite stores timestamps as naive-UTC text, the format the store's own columns write
    (formatted once per distinct value: a history repeats its dates many times)."""
    stamps: dict[datetime, str] = {}

    def fmt(value: Any) -> Any:
        if isinstance(value, datetime):
            text = stamps.get(value)
            if text is None:
                text = stamps[value] = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            return text
        return value

    def write(table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in columns)
        cursor = raw.cursor()
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",  # noqa: S608
            ([fmt(v) for v in row] for row in rows),
        )
        cursor.close()

    return write


def _postgres_writer(raw: Any) -> Writer:
    def write(table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
        cursor = raw.cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.close()

    return write


def write_outcomes(path: Path, generated: list[_Account], summary: GenerationSummary) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(OUTCOME_COLUMNS)
        for account in generated:
            day: date = account.renewal.date()
            writer.writerow([account.id, day.isoformat(), account.outcome])
            summary.outcomes[account.outcome] = summary.outcomes.get(account.outcome, 0) + 1
