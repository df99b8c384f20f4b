r"""Expansion readiness: a 0..100 score beside health, for "who could buy more now?".

Components (`expansion.components`, each a weight and a curve to 0..100):

    seat_utilisation    the fresh seat utilisation (near-full seats need more seats)
    adoption_growth     the adoption trend (`expansion.adoption_trend`, e.g. change of
                        feature_adoption_pct per 90 days)
    expansion_interest  Σ points_e × weight_e over the window's expansion signals and
                        `expansion_interest` intents (the qualitative weighting: confidence,
                        speaker role, recency decay); needs enough conversations
    health_trend        the health score change vs. about 30 days ago

A component without data is left out and the rest re-weighted, as for health:

    expansion = Σ_{i present} (w_i / Σ_{j present} w_j) · curve_i(value_i)

Below `min_coverage` of the weight there is no expansion score. Its drivers are the
re-weighted terms and sum to the score. *Expansion ready* means expansion ≥ `ready_at`
while the health band is one of `ready_bands` (default: healthy only: nobody upsells an
account at risk).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from convsignal.domain import Band, Intent, SignalKind
from convsignal.score.profile_model import Expansion, ExpansionComponent, Qualitative
from convsignal.score.qualitative import EventInput, base_points, event_weight
from convsignal.score.quantitative import curve_score


@dataclass(frozen=True, slots=True)
class ExpansionDriver:
    component: str
    value: float
    points: float  # share of the expansion score; drivers sum to the score


@dataclass(frozen=True, slots=True)
class ExpansionResult:
    score: float | None
    ready: bool
    drivers: tuple[ExpansionDriver, ...] = ()
    coverage: float = 0.0


NO_EXPANSION = ExpansionResult(None, False)


EXPANSION_KIND = SignalKind.EXPANSION_SIGNAL.value
INTENT_KIND, EXPANSION_INTENT = SignalKind.INTENT.value, Intent.EXPANSION_INTEREST.value


def is_expansion_event(event: EventInput) -> bool:
    return event.kind == EXPANSION_KIND or (
        event.kind == INTENT_KIND and event.signal_type == EXPANSION_INTENT
    )


def expansion_interest(
    qualitative: Qualitative, events: Sequence[EventInput], as_of: datetime
) -> float:
    return sum(
        max(0.0, base_points(qualitative, e)) * event_weight(qualitative, e, as_of)
        for e in events
        if is_expansion_event(e)
    )


def expansion_score(
    profile: Expansion | None,
    qualitative: Qualitative,
    *,
    values: Mapping[str, float],
    events: Sequence[EventInput] | None,
    health_trend: float | None,
    band: Band,
    as_of: datetime,
) -> ExpansionResult:
    """`values`: fresh measures; `events`: the window's events, None if too few conversations."""
    if profile is None:
        return NO_EXPANSION
    inputs: dict[ExpansionComponent, float | None] = {
        ExpansionComponent.SEAT_UTILISATION: values.get("seat_utilisation"),
        ExpansionComponent.ADOPTION_GROWTH: values.get(profile.adoption_trend),
        ExpansionComponent.EXPANSION_INTEREST: (
            None if events is None else expansion_interest(qualitative, events, as_of)
        ),
        ExpansionComponent.HEALTH_TREND: health_trend,
    }
    total_weight = sum(c.weight for c in profile.components.values())
    present = {
        name: (value, component)
        for name, component in profile.components.items()
        if (value := inputs[name]) is not None
    }
    weight = sum(component.weight for _, component in present.values())
    coverage = weight / total_weight
    if not present or coverage < profile.min_coverage - 1e-9:
        return ExpansionResult(None, False, coverage=coverage)
    drivers = tuple(
        ExpansionDriver(
            component=str(name),
            value=value,
            points=component.weight / weight * curve_score(component.curve, value),
        )
        for name, (value, component) in present.items()
    )
    score = sum(d.points for d in drivers)
    ready = score >= profile.ready_at and band in profile.ready_bands
    return ExpansionResult(score, ready, drivers, coverage)
