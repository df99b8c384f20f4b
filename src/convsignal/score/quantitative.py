"""Quantitative sub-score from metric snapshots.

Each measure becomes 0–100 through the profile's piecewise-linear curve (flat beyond the end
points). The sub-score is the weighted mean over the measures that are present and fresh; the
weights of missing or stale ones are re-normalised away and the omission is reported, never
silently filled with a default.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from convsignal.score.profile import Quantitative

COVERAGE_TOLERANCE = 1e-9  # weights are floats: 0.2 + 0.15 + 0.09 + 0.06 must count as 0.5


@dataclass(frozen=True, slots=True)
class MeasureScore:
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


def curve_score(points: list[tuple[float, float]], value: float) -> float:
    """Piecewise-linear interpolation, clamped to the first and last point."""
    if value <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if value <= x1:
            return y0 + (y1 - y0) * (value - x0) / (x1 - x0)
    return points[-1][1]


def derive_measures(
    raw: Mapping[str, tuple[float, datetime]],
) -> dict[str, tuple[float, datetime]]:
    """Add measures computed from others (seat utilisation = active users ÷ licensed seats)."""
    measures = dict(raw)
    active, licensed = raw.get("active_users"), raw.get("licensed_seats")
    if "seat_utilisation" not in measures and active and licensed and licensed[0] > 0:
        measures["seat_utilisation"] = (active[0] / licensed[0], min(active[1], licensed[1]))
    return measures


def quantitative_subscore(
    profile: Quantitative, raw: Mapping[str, tuple[float, datetime]], as_of: datetime
) -> QuantitativeResult:
    measures = derive_measures(raw)
    configured = profile.measure_weights()
    fresh_after = as_of - timedelta(days=profile.stale_after_days)
    present: dict[str, tuple[float, float]] = {}  # measure → (value, configured weight)
    missing, stale = [], []
    for measure, weight in configured.items():
        if measure not in measures:
            missing.append(measure)
        elif measures[measure][1] < fresh_after:
            stale.append(measure)
        else:
            present[measure] = (measures[measure][0], weight)
    coverage = sum(weight for _, weight in present.values())
    flags = [f"stale measure left out: {m}" for m in stale]
    if not present or coverage < profile.min_coverage - COVERAGE_TOLERANCE:
        flags.append(
            f"quantitative coverage {coverage:.0%} below {profile.min_coverage:.0%}"
            + (f" (not measured: {', '.join(missing)})" if missing else "")
        )
        return QuantitativeResult(None, coverage, (), tuple(missing), tuple(stale), tuple(flags))
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
        subscore, coverage, scored, tuple(missing), tuple(stale), tuple(flags)
    )
