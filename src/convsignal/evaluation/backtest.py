r"""Backtest: would the health score have seen the renewals coming?

Input: an outcomes CSV, one row per renewal (`account_id,renewal_date,outcome`, outcome one of
renewed / churned / expanded / downgraded; lines starting with `#` are comments). For each
row, with T its renewal date (00:00 UTC) and H the horizon (default 90 days):

- **Point in time.** The account is scored as of T − H with the product's own code
  (`score.inputs.load_page` + `score.service.score_inputs`), which reads only metrics,
  conversations, events, snapshots and overrides dated on or before as-of. Nothing later
  leaks in (tests/integration/test_backtest.py proves it by adding data after T − H).
- **Discrimination.** ROC AUC of the churn probability (1 − score/100) for churned = 1; the
  same for churned-or-downgraded, and for downgraded alone (churners left out). Precision and
  recall of the bands {at_risk, critical} as the flag, per target.
- **Lead time.** For each churner flagged at T − H, the earliest of T − (H+90), T − (H+60),
  T − (H+30), T − H at which its band was at_risk or critical: days of warning.
- **Calibration.** Reliability curve and Brier score of the raw probability; with
  `calibrate`, out-of-fold isotonic regression (stratified 5-fold: never scored on the rows it
  was fit on) and the map from score to churn probability fit on every row.
- **Ablation.** AUC of quantitative-only, the composite and the naive baseline (renewal
  proximity + latest NPS: defined in `backtest_metrics`) on the accounts all three can rank.
- **Qualitative weight.** Walk-forward search over 0.0..0.6 (step 0.05): chosen on earlier
  renewals, tested on later ones; both sub-scores are kept per account and recombined as the
  combiner does, so no re-query. One weight for every account (segment variants that change
  the weight are searched as if they shared it).

Accounts with `insufficient_signal` at T − H are counted (with their outcomes), never dropped
silently. The report carries ids and numbers only — no conversation text, no evidence.
"""

from __future__ import annotations

import csv
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from convsignal.domain import Band
from convsignal.errors import IngestError
from convsignal.evaluation import backtest_metrics as bm
from convsignal.evaluation.history_generator import SYNTHETIC_ATTRIBUTE
from convsignal.score.inputs import AccountInputs, load_page
from convsignal.score.profile_model import Profile
from convsignal.score.service import ScoredAccount, score_inputs
from convsignal.store.tables import Account

OUTCOMES = ("renewed", "churned", "expanded", "downgraded")
FLAG_BANDS = frozenset({Band.AT_RISK, Band.CRITICAL})
RELIABILITY_BINS = 10
AccountKey = tuple[str, str | None, str | None, dict[str, str]]


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    account_id: str
    renewal_date: date
    outcome: str
    line: int


def read_outcomes(path: Path) -> list[OutcomeRow]:
    """The outcomes CSV, checked row by row; an error names the file, line and field."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise IngestError(f"cannot read the outcomes file: {exc.strerror}", path=str(path)) from exc
    numbered = [
        (n, line)
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not numbered:
        raise IngestError("the outcomes file is empty", path=str(path))
    header_line, header = numbered[0]
    columns = next(csv.reader([header]))
    columns = [c.strip() for c in columns]
    if "account" in columns and "account_id" not in columns:
        columns[columns.index("account")] = "account_id"
    missing = [c for c in ("account_id", "renewal_date", "outcome") if c not in columns]
    if missing:
        raise IngestError(
            f"missing column(s) {', '.join(missing)} (need account_id, renewal_date, outcome)",
            path=str(path),
            record=f"line {header_line}",
        )
    rows: list[OutcomeRow] = []
    reader = csv.reader([line for _, line in numbered[1:]])
    for (number, _), values in zip(numbered[1:], reader, strict=True):
        record = dict(zip(columns, (v.strip() for v in values), strict=False))
        where = f"line {number}"
        account = record.get("account_id") or ""
        if not account:
            raise IngestError("field account_id is empty", path=str(path), record=where)
        raw_date = record.get("renewal_date") or ""
        try:
            renewal = date.fromisoformat(raw_date)
        except ValueError:
            raise IngestError(
                f"field renewal_date {raw_date!r} is not an ISO date such as 2026-03-31",
                path=str(path),
                record=where,
            ) from None
        outcome = (record.get("outcome") or "").lower()
        if outcome not in OUTCOMES:
            raise IngestError(
                f"field outcome {record.get('outcome')!r} is not one of {', '.join(OUTCOMES)}",
                path=str(path),
                record=where,
            )
        rows.append(OutcomeRow(account, renewal, outcome, number))
    if not rows:
        raise IngestError("the outcomes file has a header but no rows", path=str(path))
    return rows


@dataclass
class BacktestRow:
    """One renewal, scored at T − horizon. Ids and numbers only."""

    account_id: str
    renewal_date: str
    outcome: str
    as_of: str
    score: float | None
    band: str
    quantitative: float | None
    qualitative: float | None
    baseline: float
    qualitative_weight: float
    nps: float | None
    naive: float
    synthetic: bool
    lead_days: int | None = None

    @property
    def churned(self) -> int:
        return int(self.outcome == "churned")

    @property
    def lost_revenue(self) -> int:
        return int(self.outcome in ("churned", "downgraded"))

    @property
    def flagged(self) -> bool:
        return self.band in FLAG_BANDS


def _accounts(session: Session, rows: Sequence[OutcomeRow], path: Path) -> dict[str, AccountKey]:
    wanted = sorted({row.account_id for row in rows})
    found: dict[str, AccountKey] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for account in session.exec(select(Account).where(col(Account.id).in_(chunk))):
            found[account.id] = (account.id, account.name, account.segment, account.attributes)
    for row in rows:
        if row.account_id not in found:
            raise IngestError(
                f"field account_id {row.account_id!r}: no such account in the database",
                path=str(path),
                record=f"line {row.line}",
            )
    return found


def renewal_time(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def score_at(
    session: Session, profile: Profile, account: AccountKey, as_of: datetime
) -> tuple[AccountInputs, ScoredAccount]:
    """The product's point-in-time score of one account (only data dated ≤ as_of)."""
    (inputs,) = load_page(session, profile, [account], as_of)
    return inputs, score_inputs(profile, inputs, as_of)


def score_rows(
    session: Session,
    profile: Profile,
    rows: Sequence[OutcomeRow],
    *,
    outcomes_path: Path,
    horizon_days: int = 90,
    on_row: Callable[[int], None] | None = None,
) -> list[BacktestRow]:
    accounts = _accounts(session, rows, outcomes_path)
    scored: list[BacktestRow] = []
    for row in rows:
        renewal = renewal_time(row.renewal_date)
        as_of = renewal - timedelta(days=horizon_days)
        account = accounts[row.account_id]
        inputs, result = score_at(session, profile, account, as_of)
        health = result.score
        resolved = profile.variants.get(result.segment or "", profile)
        nps = inputs.latest.get("nps")
        item = BacktestRow(
            account_id=row.account_id,
            renewal_date=row.renewal_date.isoformat(),
            outcome=row.outcome,
            as_of=as_of.isoformat(),
            score=health.score,
            band=health.band.value,
            quantitative=health.quantitative,
            qualitative=health.qualitative,
            baseline=resolved.qualitative.baseline,
            qualitative_weight=resolved.composite.qualitative_weight,
            nps=nps[0] if nps else None,
            naive=bm.naive_health(nps[0] if nps else None, float(horizon_days)),
            synthetic=inputs.attributes.get(SYNTHETIC_ATTRIBUTE) == "true",
        )
        if item.churned and item.flagged:
            flagged_at = {horizon_days: True}
            for extra in (30, 60, 90):
                earlier = renewal - timedelta(days=horizon_days + extra)
                _, then = score_at(session, profile, account, earlier)
                flagged_at[horizon_days + extra] = then.score.band in FLAG_BANDS
            item.lead_days = bm.lead_time(flagged_at)
        scored.append(item)
        if on_row is not None:
            on_row(1)
    return scored


@dataclass
class Target:
    name: str
    positives: int
    auc: float | None
    bands: bm.PrecisionRecall


@dataclass
class BacktestReport:
    outcomes_file: str
    profile_version: str
    horizon_days: int
    generated_at: str
    rows: int
    scored: int
    synthetic_accounts: int
    outcomes: dict[str, int]
    insufficient_signal: dict[str, int]  # outcome → count of unscored accounts
    band_by_outcome: dict[str, dict[str, int]]
    mean_score_by_outcome: dict[str, float | None]
    targets: list[Target]
    lead_time: dict[str, Any]
    calibration: dict[str, Any]
    ablation: dict[str, Any]
    weight_search: bm.WeightSearch
    accounts: list[BacktestRow] = field(default_factory=list)

    @property
    def synthetic(self) -> bool:
        return self.synthetic_accounts > 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["synthetic"] = self.synthetic
        search = data["weight_search"]
        search["auc_by_weight"] = {f"{w:.2f}": v for w, v in search["auc_by_weight"].items()}
        return data


def build_report(
    scored: Sequence[BacktestRow],
    *,
    profile: Profile,
    outcomes_file: str,
    horizon_days: int,
    calibrate: bool = False,
) -> BacktestReport:
    with_score = [r for r in scored if r.score is not None]
    unscored = Counter(r.outcome for r in scored if r.score is None)
    bands: dict[str, dict[str, int]] = {o: {} for o in OUTCOMES}
    for r in scored:
        bands[r.outcome][r.band] = bands[r.outcome].get(r.band, 0) + 1
    means = {o: _mean([r.score for r in with_score if r.outcome == o]) for o in OUTCOMES}
    targets = [
        _target("churned", with_score, lambda r: r.churned),
        _target("churned or downgraded", with_score, lambda r: r.lost_revenue),
        _target(
            "downgraded (churners left out)",
            [r for r in with_score if not r.churned],
            lambda r: int(r.outcome == "downgraded"),
        ),
    ]
    return BacktestReport(
        outcomes_file=outcomes_file,
        profile_version=profile.full_version,
        horizon_days=horizon_days,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        rows=len(scored),
        scored=len(with_score),
        synthetic_accounts=sum(1 for r in scored if r.synthetic),
        outcomes=dict(Counter(r.outcome for r in scored)),
        insufficient_signal=dict(unscored),
        band_by_outcome=bands,
        mean_score_by_outcome=means,
        targets=targets,
        lead_time=_lead_time(with_score, horizon_days),
        calibration=_calibration(with_score, calibrate),
        ablation=_ablation(with_score),
        weight_search=bm.weight_search(
            [
                bm.SubScores(r.quantitative, r.qualitative, r.baseline, r.churned)
                for r in sorted(with_score, key=lambda r: (r.renewal_date, r.account_id))
            ],
            profile.composite.qualitative_weight,
        ),
        accounts=list(scored),
    )


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.fmean(present) if present else None


def _target(name: str, rows: Sequence[BacktestRow], label: Callable[[BacktestRow], int]) -> Target:
    labels = [label(r) for r in rows]
    risks = [bm.churn_probability(r.score or 0.0) for r in rows]
    return Target(
        name=name,
        positives=sum(labels),
        auc=bm.auc(labels, risks),
        bands=bm.precision_recall(labels, [r.flagged for r in rows]),
    )


def _lead_time(rows: Sequence[BacktestRow], horizon_days: int) -> dict[str, Any]:
    churners = [r for r in rows if r.churned]
    leads = [r.lead_days for r in churners if r.lead_days is not None]
    checkpoints = [horizon_days + extra for extra in (90, 60, 30, 0)]
    return {
        "checkpoints_days_before_renewal": checkpoints,
        "churners_scored": len(churners),
        "churners_flagged": len(leads),
        "mean_days": statistics.fmean(leads) if leads else None,
        "median_days": statistics.median(leads) if leads else None,
        "by_days": {str(d): sum(1 for lead in leads if lead == d) for d in checkpoints},
    }


def _calibration(rows: Sequence[BacktestRow], calibrate: bool) -> dict[str, Any]:
    labels = [r.churned for r in rows]
    probabilities = [bm.churn_probability(r.score or 0.0) for r in rows]
    if len(set(labels)) < 2:
        return {"raw": None, "isotonic": None, "map": None}
    result: dict[str, Any] = {
        "raw": asdict(bm.reliability(labels, probabilities, RELIABILITY_BINS)),
        "isotonic": None,
        "map": None,
    }
    if calibrate and min(sum(labels), len(labels) - sum(labels)) >= 5:
        calibrated = bm.isotonic_out_of_fold(labels, probabilities)
        result["isotonic"] = asdict(bm.reliability(labels, calibrated, RELIABILITY_BINS))
        points = [float(h) for h in range(0, 101, 10)]
        mapped = bm.isotonic_map(labels, probabilities, points)
        result["map"] = [
            {"score": h, "churn_probability": p} for h, p in zip(points, mapped, strict=True)
        ]
    return result


def _ablation(rows: Sequence[BacktestRow]) -> dict[str, Any]:
    common = [r for r in rows if r.quantitative is not None]
    labels = [r.churned for r in common]
    methods = {
        "naive baseline (renewal proximity + latest NPS)": [r.naive for r in common],
        "quantitative only": [r.quantitative or 0.0 for r in common],
        "composite (product)": [r.score or 0.0 for r in common],
    }
    auc = {
        name: bm.auc(labels, [bm.churn_probability(h) for h in healths])
        for name, healths in methods.items()
    }
    with_both = [r for r in rows if r.qualitative is not None]
    both_labels = [r.churned for r in with_both]
    return {
        "accounts": len(common),
        "left_out_no_quantitative": len(rows) - len(common),
        "auc": auc,
        "qualitative_only_auc": bm.auc(
            both_labels, [bm.churn_probability(r.qualitative or 0.0) for r in with_both]
        ),
        "qualitative_only_accounts": len(with_both),
    }
