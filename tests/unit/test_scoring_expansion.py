"""Expansion readiness, worked out by hand from the formula in `score/expansion.py`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from convsignal.domain import Band, ExpansionSignal, Intent, RiskFlag, Role, SignalKind
from convsignal.score.expansion import expansion_interest, expansion_score
from convsignal.score.profile import Expansion, load_profile
from convsignal.score.profile_model import ExpansionComponent, WeightedCurve
from convsignal.score.qualitative import EventInput

AS_OF = datetime(2026, 11, 24, tzinfo=UTC)
# the frozen test profile: half-life 30 days; expansion_interest intent +10, seats +6
QUAL = load_profile(Path(__file__).with_name("scoring_profile.yaml")).qualitative

EXP = Expansion(
    ready_at=60,
    ready_bands=(Band.HEALTHY,),
    min_coverage=0.5,
    adoption_trend="feature_adoption_trend",
    components={
        ExpansionComponent.SEAT_UTILISATION: WeightedCurve(
            weight=30, curve=[(0.7, 0), (0.95, 100)]
        ),
        ExpansionComponent.ADOPTION_GROWTH: WeightedCurve(weight=20, curve=[(0, 0), (10, 100)]),
        ExpansionComponent.EXPANSION_INTEREST: WeightedCurve(weight=35, curve=[(0, 0), (12, 100)]),
        ExpansionComponent.HEALTH_TREND: WeightedCurve(
            weight=15, curve=[(-10, 0), (0, 40), (10, 100)]
        ),
    },
)


def ev(kind: str, signal_type: str, *, role: str = Role.CUSTOMER, confidence: float = 1.0,
       age_days: float = 0.0) -> EventInput:  # fmt: skip
    occurred = AS_OF - timedelta(days=age_days)
    return EventInput(None, kind, signal_type, 1.0, confidence, role, occurred, "lexicon@v1")


INTEREST = ev(SignalKind.INTENT, Intent.EXPANSION_INTEREST)  # 10 points, full weight
VALUES = {"seat_utilisation": 0.825, "feature_adoption_trend": 5.0}  # → 50 and 50


def test_all_components_present() -> None:
    result = expansion_score(
        EXP, QUAL, values=VALUES, events=[INTEREST], health_trend=5.0,
        band=Band.HEALTHY, as_of=AS_OF,
    )  # fmt: skip
    # seat 50, adoption 50, interest 100·10/12, trend 40 + 60·0.5 = 70
    # (30·50 + 20·50 + 35·83.33 + 15·70) / 100 = 64.67
    expected = (30 * 50 + 20 * 50 + 35 * 100 * 10 / 12 + 15 * 70) / 100
    assert result.score == pytest.approx(expected)
    assert result.coverage == pytest.approx(1.0)
    assert result.ready  # 64.67 ≥ 60 and healthy
    assert sum(d.points for d in result.drivers) == pytest.approx(expected)
    points = {d.component: d.points for d in result.drivers}
    assert points["expansion_interest"] == pytest.approx(0.35 * 100 * 10 / 12)


@pytest.mark.parametrize("band", [Band.ATTENTION, Band.AT_RISK, Band.INSUFFICIENT_SIGNAL])
def test_not_ready_unless_the_health_band_allows(band: Band) -> None:
    result = expansion_score(
        EXP, QUAL, values=VALUES, events=[INTEREST], health_trend=5.0, band=band, as_of=AS_OF
    )
    assert result.score is not None
    assert result.score > EXP.ready_at
    assert not result.ready


def test_missing_components_are_reweighted() -> None:
    # no conversations to speak of (events None), no earlier snapshot: seat + adoption only
    result = expansion_score(
        EXP, QUAL, values=VALUES, events=None, health_trend=None, band=Band.HEALTHY, as_of=AS_OF
    )
    assert result.coverage == pytest.approx(0.5)
    assert result.score == pytest.approx((30 * 50 + 20 * 50) / 50)
    assert not result.ready  # 50 < 60


def test_too_little_coverage_gives_no_expansion_score() -> None:
    result = expansion_score(
        EXP, QUAL, values={"seat_utilisation": 0.9}, events=None, health_trend=None,
        band=Band.HEALTHY, as_of=AS_OF,
    )  # fmt: skip
    assert result.score is None
    assert result.coverage == pytest.approx(0.3)
    assert not result.ready


def test_without_an_expansion_section_there_is_no_expansion_score() -> None:
    result = expansion_score(
        None, QUAL, values=VALUES, events=[INTEREST], health_trend=1.0, band=Band.HEALTHY,
        as_of=AS_OF,
    )  # fmt: skip
    assert result.score is None
    assert not result.ready


def test_expansion_interest_counts_only_expansion_events_weighted_like_the_qualitative_part() -> (
    None
):
    events = [
        # additional seats +6 × confidence 0.8 × vendor 0.5 × one half-life 0.5 = 1.2
        ev(
            SignalKind.EXPANSION_SIGNAL,
            ExpansionSignal.ADDITIONAL_SEATS,
            role=Role.VENDOR,
            confidence=0.8,
            age_days=30,
        ),
        ev(SignalKind.INTENT, Intent.EXPANSION_INTEREST, age_days=60),  # 10 × 0.25 = 2.5
        ev(SignalKind.INTENT, Intent.PLANNING_TO_RENEW),  # renewal is not expansion
        ev(SignalKind.RISK_FLAG, RiskFlag.BUDGET_CUTS),  # negatives do not subtract here
    ]
    assert expansion_interest(QUAL, events, AS_OF) == pytest.approx(1.2 + 2.5)


def test_default_profile_has_expansion_readiness() -> None:
    expansion = load_profile().expansion
    assert expansion is not None
    assert set(expansion.components) == set(ExpansionComponent)
    assert expansion.ready_bands == (Band.HEALTHY,)
