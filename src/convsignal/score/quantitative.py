r"""Quantitative sub-score from metric snapshots.

Measures (default profile; `measures.py` derives the ones marked *):

    usage 30        seat_utilisation* (active_users ÷ licensed_seats), usage_trend_pct*
    adoption 20     feature_adoption_pct (breadth: share of key features in use)
    support 20      open_critical_tickets, tickets_unanswered_3d, avg_resolution_hours,
                    csat, csat_trend*
    payment 15      days_payment_late, days_to_renewal* (from renewal_date, counting down)
    engagement 15   days_since_last_contact* (also from stored conversations),
                    days_since_last_qbr, nps, nps_trend*

Each measure i becomes s_i ∈ 0..100 through its piecewise-linear curve (flat beyond the end
points); its configured weight is w_i = group weight ÷ Σ group weights × share in the group.
A measure is *missing* when never reported (and not derivable) and *stale* when its newest
value is older than its validity (`validity_days`, else `stale_after_days`); both are left
out and named in the flags. With P the measures present and fresh:

    coverage = Σ_{i∈P} w_i          quantitative = Σ_{i∈P} (w_i / coverage) · s_i

Below `min_coverage` (default 0.5) the part has no score: it is flagged, never defaulted.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from convsignal.score.measures import History, derive_measures
from convsignal.score.profile_model import Quantitative

DAY = 86400.0
COVERAGE_TOLERANCE = 1e-9  # weights are floats: 0.2 + 0.15 + 0.09 + 0.06 must count as 0.5


class MeasureScore(NamedTuple):
    measure: str
    value: float
    score: float  # 0..100
    weight: float  # share of the quantitative part after re-normalising


@dataclass(frozen=True, slots=True)
class QuantitativeResult:
    subscore: float | None
    coverage: float  # share of configured weight present and fresh, 0..1
    measures: tuple[MeasureScore, ...]
    missing: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    flags: tuple[str, ...] = field(default=())
    values: Mapping[str, float] = field(default_factory=dict)  # fresh values, derived included


def curve_score(points: list[tuple[float, float]], value: float) -> float:
    """Piecewise-linear interpolation, clamped to the first and last point."""
    if value <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if value <= x1:
            return y0 + (y1 - y0) * (value - x0) / (x1 - x0)
    return points[-1][1]


def quantitative_subscore(
    profile: Quantitative,
    raw: Mapping[str, tuple[float, datetime]],
    as_of: datetime,
    *,
    history: History | None = None,
    last_contact: datetime | None = None,
) -> QuantitativeResult:
    """`raw`: newest value of each measure; `history`: every snapshot, for the trends."""
    measures = derive_measures(
        raw, profile, as_of=as_of, history=history, last_contact=last_contact
    )
    validity, default_validity = profile.validity_days, profile.stale_after_days
    fresh = {
        name: value
        for name, (value, at) in measures.items()
        if (as_of - at).total_seconds() <= validity.get(name, default_validity) * DAY
    }
    present: dict[str, tuple[float, float]] = {}  # measure → (value, configured weight)
    missing, stale = [], []
    for measure, weight in profile.measure_weights().items():
        if measure not in measures:
            missing.append(measure)
        elif measure not in fresh:
            stale.append(measure)
        else:
            present[measure] = (fresh[measure], weight)
    coverage = sum(weight for _, weight in present.values())
    flags = [f"stale measure left out: {m}" for m in stale]
    if not present or coverage < profile.min_coverage - COVERAGE_TOLERANCE:
        flags.append(
            f"quantitative coverage {coverage:.0%} below {profile.min_coverage:.0%}"
            + (f" (not measured: {', '.join(missing)})" if missing else "")
        )
        return QuantitativeResult(
            None, coverage, (), tuple(missing), tuple(stale), tuple(flags), fresh
        )
    if missing:
        flags.append(f"not measured, weight re-normalised: {', '.join(missing)}")
    scored = tuple(
        MeasureScore(
            measure=measure,
            value=value,
            score=curve_score(profile.curves[measure], value),
            weight=weight / coverage,
        )
        for measure, (value, weight) in present.items()
    )
    subscore = sum(m.score * m.weight for m in scored)
    return QuantitativeResult(
        subscore, coverage, scored, tuple(missing), tuple(stale), tuple(flags), fresh
    )
