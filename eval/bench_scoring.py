"""Full recompute speed and peak memory: 100,000 accounts, 2,000,000 events, SQLite and PostgreSQL.

    .venv/bin/python eval/bench_scoring.py                        # both databases, full size
    .venv/bin/python eval/bench_scoring.py --accounts 10000 --events 200000 --database sqlite

Generates a synthetic store (ids, numbers and event labels; no text): accounts, 15 metric
snapshots each (two dates for the trend measures), 4 conversations each and their events,
all inside the 90-day window so every event is read and weighed. Then `recompute` runs
twice, each time in a fresh child process pinned to one CPU: 30 days earlier (so the
measured run has snapshots to compute trends and triggers against), then the measured run
at as-of, which streams the accounts page by page and writes a snapshot per account and
the triggers. The child reports wall time and its peak resident memory (VmHWM) next to the
resident memory after imports. The database server is another process (PostgreSQL uses its
own core). The goal, < 60 s for the full recompute, is printed beside the result, never
asserted: the machines are shared; read the numbers as an order of magnitude.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from convsignal.evaluation.history_generator import bulk_writer

AS_OF = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
POSTGRES_URL = os.environ.get(
    "CONVSIGNAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
GOAL_SECONDS = 60.0
CONVERSATIONS_PER_ACCOUNT = 4
SEGMENTS = ["smb", "mid_market", "enterprise"]
KINDS = {
    "sentiment": ["positive", "neutral", "negative", "escalating"],
    "risk_flag": [
        "champion_leaving",
        "evaluating_alternatives",
        "budget_cuts",
        "product_frustration",
        "service_reliability",
        "payment_issue",
        "executive_escalation",
        "cancellation_intent",
    ],
    "intent": ["planning_to_renew", "expansion_interest", "seeking_help", "feature_request"],
    "expansion_signal": ["additional_seats", "new_use_case", "upgrade_tier"],
}
KIND_WEIGHTS = [30, 15, 40, 15]
ROLES = ["customer", "customer", "vendor", "unknown"]
EVENT_COLUMNS = [
    "account_id", "conversation_id", "extraction_id", "occurred_at", "kind", "signal_type",
    "score", "confidence", "speaker_role", "evidence", "extractor_id", "prompt_version",
    "created_at",
]  # fmt: skip


# ---------------------------------------------------------------- generation


def generate(url: str, accounts: int, events: int, seed: int) -> dict[str, int]:
    from convsignal.store.engine import make_engine, upgrade
    from convsignal.store.tables import ConversationExtraction, ConversationRecord

    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(seed)
    conversations = accounts * CONVERSATIONS_PER_ACCOUNT
    raw = engine.raw_connection()
    try:
        write = bulk_writer(raw, postgres=not url.startswith("sqlite"))
        ids = [f"acct-{n:06d}" for n in range(accounts)]
        write(
            "accounts",
            ["id", "name", "segment", "created_at"],
            ((a, None, rng.choice(SEGMENTS), AS_OF) for a in ids),
        )
        write(
            "metric_snapshots",
            ["account_id", "measure", "as_of", "value", "source", "created_at"],
            _metrics(ids, rng),
        )
        owners = [ids[n // CONVERSATIONS_PER_ACCOUNT] for n in range(conversations)]
        dates = [AS_OF - timedelta(days=rng.uniform(0, 85)) for _ in range(conversations)]
        conversation_row = _defaults(
            ConversationRecord,
            created_at=AS_OF,
            turn_count=12,
            customer_participants=1,
            vendor_participants=1,
            source_format="bench",
            source_file="bench",
            channel="call",
        )
        write(
            "conversations",
            ["id", "account_id", "content_hash", "source_id", "occurred_at", *conversation_row],
            (
                (n + 1, owners[n], f"{n:064x}", f"c{n}", dates[n], *conversation_row.values())
                for n in range(conversations)
            ),
        )
        extraction_row = _defaults(
            ConversationExtraction, created_at=AS_OF, extractor_id="lexicon", prompt_version="bench"
        )
        write(
            "conversation_extractions",
            ["id", "conversation_id", *extraction_row],
            ((n + 1, n + 1, *extraction_row.values()) for n in range(conversations)),
        )
        write("signal_events", EVENT_COLUMNS, _events(events, owners, dates, rng))
        raw.commit()
        cursor = raw.cursor()  # statistics, as a database in use has them
        cursor.execute("ANALYZE")
        cursor.close()
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
    return {"accounts": accounts, "conversations": conversations, "events": events}


def _defaults(model: Any, **given: Any) -> dict[str, Any]:
    """Every other non-null column of a table the ingest/extract code owns, at its default,
    so the benchmark keeps working while they add columns."""
    skip = {"id", "account_id", "content_hash", "source_id", "occurred_at", "conversation_id"}
    values = dict(given)
    for column in model.__table__.columns:
        if column.name in skip or column.name in values or column.nullable:
            continue
        field = model.model_fields.get(column.name)
        default = getattr(field, "default", None)
        values[column.name] = default if isinstance(default, int | float | str) else 0
    return values


def _metrics(ids: Sequence[str], rng: random.Random) -> Iterable[tuple[Any, ...]]:
    early, late = AS_OF - timedelta(days=35), AS_OF - timedelta(days=5)
    for account in ids:
        seats = rng.choice([10, 25, 60, 150, 400])
        active = seats * rng.uniform(0.2, 1.0)
        adoption, nps, csat = rng.uniform(10, 90), rng.uniform(-60, 80), rng.uniform(2.5, 5)
        for when, drift in ((early, 0.0), (late, 1.0)):  # the trend measures, twice
            trending = {
                "active_users": round(active * (1 + drift * rng.uniform(-0.3, 0.2))),
                "feature_adoption_pct": adoption + drift * rng.uniform(-10, 10),
                "nps": nps + drift * rng.uniform(-30, 20),
                "csat": min(5.0, csat + drift * rng.uniform(-1, 0.5)),
            }
            for measure, value in trending.items():
                yield account, measure, when, float(value), "bench", AS_OF
        for measure, value in (
            ("licensed_seats", seats),
            ("open_critical_tickets", rng.choice([0, 0, 0, 1, 2, 4])),
            ("tickets_unanswered_3d", rng.choice([0, 0, 1, 3])),
            ("avg_resolution_hours", rng.uniform(4, 120)),
            ("days_payment_late", rng.choice([0, 0, 0, 10, 45])),
            ("days_since_last_contact", rng.uniform(0, 80)),
            ("days_to_renewal", rng.uniform(10, 360)),
        ):
            yield account, measure, late, float(value), "bench", AS_OF


def _events(
    total: int, owners: Sequence[str], dates: Sequence[datetime], rng: random.Random
) -> Iterable[tuple[Any, ...]]:
    kinds = list(KINDS)
    for n in range(total):
        conversation = n % len(owners)
        kind = rng.choices(kinds, KIND_WEIGHTS)[0]
        score = rng.uniform(-1, 1) if kind == "sentiment" else 1.0
        yield (
            owners[conversation],
            conversation + 1,
            conversation + 1,
            dates[conversation],
            kind,
            rng.choice(KINDS[kind]),
            score,
            rng.uniform(0.5, 1.0),
            rng.choice(ROLES),
            "",
            "lexicon",
            "bench",
            AS_OF,
        )


# ---------------------------------------------------------------- the measured child


def child(url: str, as_of: str, page_size: int) -> None:
    """One recompute in this process; prints a JSON line with time and memory."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from convsignal.score.profile import load_profile
    from convsignal.score.service import recompute
    from convsignal.store.engine import make_engine, session_scope

    profile = load_profile()
    engine = make_engine(url)
    with engine.connect():  # connect before measuring: the pool is not the scoring
        pass
    baseline = _status_kb("VmRSS")
    started, cpu_started = time.perf_counter(), time.process_time()
    with session_scope(engine) as session:
        summary = recompute(session, profile, datetime.fromisoformat(as_of), page_size=page_size)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    engine.dispose()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu,
                "accounts": summary.accounts,
                "scored": summary.scored,
                "triggers": summary.triggers,
                "baseline_mb": baseline / 1024,
                "peak_mb": _status_kb("VmHWM") / 1024,
            }
        )
    )


def _status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def measure(url: str, as_of: datetime, page_size: int) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", url, as_of.isoformat(), str(page_size)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"recompute failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ---------------------------------------------------------------- driver


def bench(name: str, url: str, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    sizes = generate(url, args.accounts, args.events, args.seed)
    print(
        f"\n{name}: generated {sizes['accounts']:,} accounts, {sizes['conversations']:,} "
        f"conversations, {sizes['events']:,} events in {time.perf_counter() - started:.0f} s"
    )
    earlier = measure(url, AS_OF - timedelta(days=30), args.page_size)
    run = measure(url, AS_OF, args.page_size)
    for label, result in (("run 30 days earlier", earlier), ("measured run", run)):
        rate = result["accounts"] / result["seconds"]
        print(
            f"  {label:20} {result['seconds']:6.1f} s (CPU {result['cpu_seconds']:5.1f} s)  "
            f"{rate:8,.0f} accounts/s  "
            f"peak {result['peak_mb']:5.0f} MB (after imports {result['baseline_mb']:.0f} MB)  "
            f"{result['scored']:,} scored, {result['triggers']:,} triggers"
        )
    events_per_s = args.events / run["seconds"]
    full_size = run["seconds"] * 100_000 / args.accounts
    goal = "met" if full_size < GOAL_SECONDS else "NOT met"
    scaled = "" if args.accounts == 100_000 else f" (scaled to 100,000 accounts: {full_size:.0f} s)"
    print(
        f"  events weighed: {events_per_s:,.0f}/s; goal < {GOAL_SECONDS:.0f} s for 100,000 "
        f"accounts: {goal}{scaled}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--page-size", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--child", nargs=3, metavar=("URL", "AS_OF", "PAGE_SIZE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    print(
        f"recompute benchmark: {args.accounts:,} accounts, {args.events:,} events, "
        f"page size {args.page_size}, one CPU for the scoring process"
    )
    if args.database in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as folder:
            bench("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", args)
    if args.database in ("postgres", "both"):
        bench_postgres(args)


def bench_postgres(args: argparse.Namespace) -> None:
    from sqlalchemy import text

    from convsignal.store.engine import make_engine

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in POSTGRES_URL else "?"
        bench("PostgreSQL", f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}", args)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
