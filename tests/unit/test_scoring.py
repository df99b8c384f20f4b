"""Behaviour of the scoring engine, checked against the formulas in the module docstrings.

Every expected number below is worked out by hand from the default profile
(`default_profile.yaml`) and the documented formulas; the comment next to it shows the sum.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convsignal.domain import (
    Band,
    ExpansionSignal,
    Intent,
    RiskFlag,
    Role,
    SentimentLabel,
    SignalKind,
)
from convsignal.score.combiner import band_for, combine
from convsignal.score.profile import Bands, Group, Quantitative, load_profile
from convsignal.score.qualitative import (
    EventContribution,
    EventInput,
    QualitativeResult,
    qualitative_subscore,
)
from convsignal.score.quantitative import (
    MeasureScore,
    QuantitativeResult,
    curve_score,
    quantitative_subscore,
)

AS_OF = datetime(2026, 11, 24, tzinfo=UTC)
PROFILE = load_profile(Path(__file__).with_name("scoring_profile.yaml"))
QUANT = PROFILE.quantitative
QUAL = PROFILE.qualitative
RISK, INTENT = SignalKind.RISK_FLAG, SignalKind.INTENT
EXPANSION, SENTIMENT = SignalKind.EXPANSION_SIGNAL, SignalKind.SENTIMENT

# Default measure weights by hand: group weight / 100 × share inside the group.
DEFAULT_WEIGHTS = {
    "seat_utilisation": 0.30 * 0.6,  # 0.18
    "usage_trend_pct": 0.30 * 0.4,  # 0.12
    "feature_adoption_pct": 0.20,
    "open_critical_tickets": 0.20 * 0.5,  # 0.10
    "csat": 0.20 * 0.5,  # 0.10
    "days_payment_late": 0.15,
    "days_since_last_contact": 0.15 * 0.6,  # 0.09
    "nps": 0.15 * 0.4,  # 0.06
}


# ---------------------------------------------------------------- helpers


def ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def event(
    kind: str = RISK,
    signal_type: str = RiskFlag.CHAMPION_LEAVING,
    *,
    score: float = 1.0,
    confidence: float = 1.0,
    role: str = Role.CUSTOMER,
    age_days: float = 0.0,
    version: str = "lexicon@v1",
    event_id: int | None = None,
) -> EventInput:
    return EventInput(
        event_id=event_id,
        kind=kind,
        signal_type=signal_type,
        score=score,
        confidence=confidence,
        speaker_role=role,
        occurred_at=ago(age_days),
        version=version,
    )


def renewal(role: str = Role.CUSTOMER) -> EventInput:
    return event(INTENT, Intent.PLANNING_TO_RENEW, role=role)


def all_measures(age_days: float = 1) -> dict[str, tuple[float, datetime]]:
    """Every default measure at a value whose curve score is easy to work out by hand."""
    at = ago(age_days)
    return {
        "active_users": (27, at),  # seat_utilisation 27/40 = 0.675 → 50 + 50·0.175/0.35 = 75
        "licensed_seats": (40, at),
        "usage_trend_pct": (10, at),  # 60 + 40·10/20 = 80
        "feature_adoption_pct": (40, at),  # knot → 50
        "open_critical_tickets": (1, at),  # knot → 60
        "csat": (4.0, at),  # 50 + 50·0.5/1 = 75
        "days_payment_late": (0, at),  # knot → 100
        "days_since_last_contact": (45, at),  # knot → 50
        "nps": (25, at),  # 50 + 50·25/50 = 75
    }


ALL_SCORES = {
    "seat_utilisation": 75.0,
    "usage_trend_pct": 80.0,
    "feature_adoption_pct": 50.0,
    "open_critical_tickets": 60.0,
    "csat": 75.0,
    "days_payment_late": 100.0,
    "days_since_last_contact": 50.0,
    "nps": 75.0,
}
# 0.18·75 + 0.12·80 + 0.2·50 + 0.1·60 + 0.1·75 + 0.15·100 + 0.09·50 + 0.06·75
# = 13.5 + 9.6 + 10 + 6 + 7.5 + 15 + 4.5 + 4.5 = 70.6
ALL_SUBSCORE = 70.6


def quant_result(
    *scores: tuple[str, float, float], coverage: float = 1.0, flags: tuple[str, ...] = ()
) -> QuantitativeResult:
    """A quantitative part from (measure, score, re-normalised weight) triples."""
    measures = tuple(MeasureScore(name, value=1.0, score=s, weight=w) for name, s, w in scores)
    subscore = sum(s * w for _, s, w in scores) if scores else None
    return QuantitativeResult(subscore, coverage, measures, flags=flags)


NO_QUANT = QuantitativeResult(None, 0.2, (), flags=("quantitative coverage 20% below 50%",))


def qual_result(
    subscore: float | None,
    *contributions: tuple[EventInput, float],
    conversations: int = 4,
    flags: tuple[str, ...] = (),
) -> QualitativeResult:
    return QualitativeResult(
        subscore,
        conversations,
        tuple(EventContribution(event=e, points=p) for e, p in contributions),
        flags,
        versions=tuple(sorted({e.version for e, _ in contributions})),
    )


NO_QUAL = qual_result(None, conversations=1, flags=("1 conversation(s) in the last 90 days",))


def contribution_sum(result: QualitativeResult) -> float:
    return sum(c.points for c in result.contributions)


# ---------------------------------------------------------------- curve_score

SEAT_CURVE = [(0.2, 0.0), (0.5, 50.0), (0.85, 100.0)]  # the default seat_utilisation curve
TICKET_CURVE = [(0.0, 100.0), (1.0, 60.0), (3.0, 0.0)]  # decreasing: more tickets is worse

CURVE_CASES = [
    (SEAT_CURVE, -1.0, 0.0),  # far below the first point: flat at its score
    (SEAT_CURVE, 0.0, 0.0),
    (SEAT_CURVE, 0.2, 0.0),  # exactly the first point
    (SEAT_CURVE, 0.35, 25.0),  # half-way along 0.2→0.5: 0 + 50·0.15/0.3
    (SEAT_CURVE, 0.5, 50.0),  # inner knot
    (SEAT_CURVE, 0.675, 75.0),  # half-way along 0.5→0.85: 50 + 50·0.175/0.35
    (SEAT_CURVE, 0.85, 100.0),  # exactly the last point
    (SEAT_CURVE, 3.0, 100.0),  # beyond the last point: flat at its score
    (TICKET_CURVE, -5.0, 100.0),
    (TICKET_CURVE, 0.5, 80.0),  # 100 − 40·0.5
    (TICKET_CURVE, 2.0, 30.0),  # 60 − 60·1/2
    (TICKET_CURVE, 10.0, 0.0),
    ([(0.0, 0.0), (10.0, 100.0)], 2.5, 25.0),  # two-point curve: plain line
]


@pytest.mark.parametrize(("points", "value", "expected"), CURVE_CASES)
def test_curve_score(points: list[tuple[float, float]], value: float, expected: float) -> None:
    assert curve_score(points, value) == pytest.approx(expected)


@given(value=st.floats(min_value=-1e6, max_value=1e6), other=st.floats(-1e6, 1e6))
def test_curve_score_stays_within_its_points_and_keeps_their_order(
    value: float, other: float
) -> None:
    # An increasing curve gives an increasing score, always between the first and last y.
    assert 0.0 <= curve_score(SEAT_CURVE, value) <= 100.0
    low, high = sorted((value, other))
    assert curve_score(SEAT_CURVE, low) <= curve_score(SEAT_CURVE, high)
    assert curve_score(TICKET_CURVE, low) >= curve_score(TICKET_CURVE, high)


# ---------------------------------------------------------------- quantitative_subscore


def test_default_measure_weights_match_the_group_shares() -> None:
    weights = QUANT.measure_weights()
    assert weights == pytest.approx(DEFAULT_WEIGHTS)
    assert sum(weights.values()) == pytest.approx(1.0)


def test_every_measure_present_gives_the_weighted_mean() -> None:
    result = quantitative_subscore(QUANT, all_measures(), AS_OF)
    assert result.subscore == pytest.approx(ALL_SUBSCORE)
    assert result.coverage == pytest.approx(1.0)
    assert {m.measure: m.score for m in result.measures} == pytest.approx(ALL_SCORES)
    assert result.missing == ()
    assert result.stale == ()
    assert result.flags == ()


SEAT_ONLY = Quantitative(
    min_coverage=0.5,
    stale_after_days=45,
    groups={"usage": Group(weight=1, measures={"seat_utilisation": 1.0})},
    curves={"seat_utilisation": SEAT_CURVE},
)

SEAT_CASES = [
    # (active_users, licensed_seats, expected utilisation, expected subscore)
    (35, 100, 0.35, 25.0),  # 35/100 = 0.35 → 0 + 50·0.15/0.3
    (27, 40, 0.675, 75.0),  # 27/40 = 0.675 → 50 + 50·0.175/0.35
    (50, 50, 1.0, 100.0),  # fully used, beyond the curve end
    (0, 40, 0.0, 0.0),  # nobody active: 0 is a real value, not a missing one
]


@pytest.mark.parametrize(("active", "licensed", "utilisation", "expected"), SEAT_CASES)
def test_seat_utilisation_is_derived_from_active_users_and_licensed_seats(
    active: float, licensed: float, utilisation: float, expected: float
) -> None:
    raw = {"active_users": (active, ago(1)), "licensed_seats": (licensed, ago(1))}
    result = quantitative_subscore(SEAT_ONLY, raw, AS_OF)
    (measure,) = result.measures
    assert measure.measure == "seat_utilisation"
    assert measure.value == pytest.approx(utilisation)
    assert result.subscore == pytest.approx(expected)


def test_seat_utilisation_is_not_derived_from_zero_licensed_seats() -> None:
    raw = {"active_users": (10, ago(1)), "licensed_seats": (0, ago(1))}
    result = quantitative_subscore(SEAT_ONLY, raw, AS_OF)
    assert result.subscore is None
    assert result.missing == ("seat_utilisation",)


def test_a_reported_seat_utilisation_wins_over_the_derived_one() -> None:
    raw = {
        "seat_utilisation": (0.5, ago(1)),  # → 50
        "active_users": (35, ago(1)),  # would derive 0.35 → 25
        "licensed_seats": (100, ago(1)),
    }
    assert quantitative_subscore(SEAT_ONLY, raw, AS_OF).subscore == pytest.approx(50.0)


def test_derived_seat_utilisation_is_as_old_as_its_older_input() -> None:
    raw = {"active_users": (27, ago(1)), "licensed_seats": (40, ago(46))}
    result = quantitative_subscore(SEAT_ONLY, raw, AS_OF)
    assert result.stale == ("seat_utilisation",)
    assert result.subscore is None


def test_a_missing_measure_is_left_out_and_the_weights_renormalised() -> None:
    raw = all_measures()
    del raw["nps"]
    result = quantitative_subscore(QUANT, raw, AS_OF)
    # coverage 1 − 0.06 = 0.94; subscore (70.6 − 0.06·75) / 0.94 = 66.1 / 0.94
    assert result.coverage == pytest.approx(0.94)
    assert result.subscore == pytest.approx(66.1 / 0.94)
    assert result.missing == ("nps",)
    weights = {m.measure: m.weight for m in result.measures}
    assert "nps" not in weights
    assert sum(weights.values()) == pytest.approx(1.0)
    assert weights["feature_adoption_pct"] == pytest.approx(0.20 / 0.94)


def test_a_stale_measure_is_left_out_and_flagged() -> None:
    raw = all_measures()
    raw["days_payment_late"] = (0, ago(QUANT.stale_after_days + 1))
    result = quantitative_subscore(QUANT, raw, AS_OF)
    # coverage 1 − 0.15 = 0.85; subscore (70.6 − 0.15·100) / 0.85 = 55.6 / 0.85
    assert result.stale == ("days_payment_late",)
    assert result.missing == ()
    assert result.coverage == pytest.approx(0.85)
    assert result.subscore == pytest.approx(55.6 / 0.85)
    assert "days_payment_late" not in {m.measure for m in result.measures}
    assert sum(m.weight for m in result.measures) == pytest.approx(1.0)
    assert any("stale" in f and "days_payment_late" in f for f in result.flags)


def test_a_measure_exactly_stale_after_days_old_still_counts() -> None:
    raw = all_measures()
    raw["days_payment_late"] = (0, ago(QUANT.stale_after_days))  # not *older* than 45 days
    result = quantitative_subscore(QUANT, raw, AS_OF)
    assert result.stale == ()
    assert result.subscore == pytest.approx(ALL_SUBSCORE)


COVERAGE_CASES = [
    # (measures kept, expected coverage) — all below min_coverage 0.5
    ((), 0.0),
    (("active_users", "licensed_seats", "usage_trend_pct"), 0.30),  # usage group only
    (("feature_adoption_pct", "days_payment_late", "nps"), 0.41),  # 0.2 + 0.15 + 0.06
]


@pytest.mark.parametrize(("kept", "coverage"), COVERAGE_CASES)
def test_coverage_below_minimum_gives_no_subscore_and_a_flag(
    kept: tuple[str, ...], coverage: float
) -> None:
    raw = {k: v for k, v in all_measures().items() if k in kept}
    result = quantitative_subscore(QUANT, raw, AS_OF)
    assert result.subscore is None
    assert result.measures == ()
    assert result.coverage == pytest.approx(coverage)
    assert any("coverage" in f for f in result.flags)


def test_coverage_at_minimum_is_enough() -> None:
    # usage + adoption = 0.3 + 0.2 = 0.5 = min_coverage; subscore (13.5 + 9.6 + 10) / 0.5
    kept = ("active_users", "licensed_seats", "usage_trend_pct", "feature_adoption_pct")
    raw = {k: v for k, v in all_measures().items() if k in kept}
    result = quantitative_subscore(QUANT, raw, AS_OF)
    assert result.subscore == pytest.approx(33.1 / 0.5)
    assert len(result.flags) == 1  # the missing measures are named, not hidden
    assert result.flags[0].startswith("not measured")
    assert "csat" in result.flags[0]


def test_coverage_exactly_at_minimum_is_enough_whatever_the_measures() -> None:
    # adoption + payment + engagement = 20 + 15 + 15 = 50 of 100 group weight = min_coverage.
    # subscore (0.2·50 + 0.15·100 + 0.09·50 + 0.06·75) / 0.5 = 34 / 0.5 = 68
    kept = ("feature_adoption_pct", "days_payment_late", "days_since_last_contact", "nps")
    raw = {k: v for k, v in all_measures().items() if k in kept}
    result = quantitative_subscore(QUANT, raw, AS_OF)
    assert result.subscore == pytest.approx(68.0)


def test_no_measures_never_score_even_with_zero_min_coverage() -> None:
    lenient = QUANT.model_copy(update={"min_coverage": 0.0})
    assert quantitative_subscore(lenient, {}, AS_OF).subscore is None


# ---------------------------------------------------------------- qualitative_subscore


@pytest.mark.parametrize("conversations", [0, 1])
def test_too_few_conversations_gives_no_subscore_and_a_flag(conversations: int) -> None:
    result = qualitative_subscore(QUAL, [event()], conversations, AS_OF)
    assert result.subscore is None
    assert result.contributions == ()
    assert result.conversations == conversations
    (flag,) = result.flags
    assert f"{conversations} conversation" in flag
    assert f"need {QUAL.min_conversations}" in flag


def test_enough_conversations_and_no_events_give_the_baseline() -> None:
    result = qualitative_subscore(QUAL, [], QUAL.min_conversations, AS_OF)
    assert result.subscore == QUAL.baseline
    assert result.flags == ()


DECAY_CASES = [
    # champion_leaving (−30), customer, confidence 1: 50 − 30 · 0.5^(age / 30)
    (0, 20.0),
    (15, 50 - 30 * 0.5**0.5),
    (30, 35.0),  # one half-life: counts half
    (60, 42.5),  # two half-lives: a quarter
    (90, 46.25),
]


@pytest.mark.parametrize(("age_days", "expected"), DECAY_CASES)
def test_events_decay_with_a_half_life(age_days: float, expected: float) -> None:
    result = qualitative_subscore(QUAL, [event(age_days=age_days)], 2, AS_OF)
    assert result.subscore == pytest.approx(expected)


def test_an_event_dated_after_as_of_counts_in_full() -> None:
    result = qualitative_subscore(QUAL, [event(age_days=-3)], 2, AS_OF)
    assert result.subscore == pytest.approx(20.0)


ROLE_CASES = [
    # budget_cuts (−18) × role weight
    (Role.CUSTOMER, 32.0),  # 50 − 18
    (Role.UNKNOWN, 36.5),  # 50 − 18·0.75
    (Role.VENDOR, 41.0),  # 50 − 18·0.5
]


@pytest.mark.parametrize(("role", "expected"), ROLE_CASES)
def test_role_weights_scale_an_event(role: Role, expected: float) -> None:
    result = qualitative_subscore(
        QUAL, [event(signal_type=RiskFlag.BUDGET_CUTS, role=role)], 2, AS_OF
    )
    assert result.subscore == pytest.approx(expected)


@pytest.mark.parametrize(
    "make", [lambda role: event(role=role), lambda role: renewal(role=role)], ids=["neg", "pos"]
)
def test_customer_spoken_outweighs_vendor_spoken(make: Callable[[Role], EventInput]) -> None:
    def moved(role: Role) -> float:
        result = qualitative_subscore(QUAL, [make(role)], 2, AS_OF)
        assert result.subscore is not None
        return abs(result.subscore - QUAL.baseline)

    assert moved(Role.CUSTOMER) > moved(Role.UNKNOWN) > moved(Role.VENDOR) > 0


def test_confidence_scales_an_event() -> None:
    result = qualitative_subscore(QUAL, [event(confidence=0.5)], 2, AS_OF)
    assert result.subscore == pytest.approx(35.0)  # 50 − 30·0.5


POINT_CASES = [
    # (event, expected subscore) — one fresh customer event, confidence 1
    (event(RISK, RiskFlag.CANCELLATION_INTENT), 15.0),  # 50 − 35
    (event(INTENT, Intent.CONSIDERING_CANCELLATION), 35.0),  # 50 − 15
    (event(SENTIMENT, SentimentLabel.NEGATIVE, score=-1.0), 38.0),  # 50 − 1·12
    (event(SENTIMENT, SentimentLabel.NEGATIVE, score=-0.5), 44.0),  # 50 − 0.5·12
    # escalating: min(−0.5·12, −15) = −15
    (event(SENTIMENT, SentimentLabel.ESCALATING, score=-0.5), 35.0),
    # escalating worse than the floor keeps its own points: min(−1.5·12, −15) = −18
    (event(SENTIMENT, SentimentLabel.ESCALATING, score=-1.5), 32.0),
    (event(INTENT, Intent.SEEKING_HELP), 50.0),  # 0 points
    (event(RISK, "not_a_known_flag"), 50.0),  # unknown type: 0 points
    # positives saturate: 35·(1 − e^(−p/35))
    (event(EXPANSION, ExpansionSignal.NEW_REGION), 50 + 35 * (1 - math.exp(-5 / 35))),
    (event(SENTIMENT, SentimentLabel.POSITIVE, score=1.0), 50 + 35 * (1 - math.exp(-12 / 35))),
]


@pytest.mark.parametrize(("one_event", "expected"), POINT_CASES)
def test_points_of_one_event(one_event: EventInput, expected: float) -> None:
    result = qualitative_subscore(QUAL, [one_event], 2, AS_OF)
    assert result.subscore == pytest.approx(expected)


def test_events_worth_zero_points_are_not_drivers() -> None:
    result = qualitative_subscore(QUAL, [event(INTENT, Intent.SEEKING_HELP), event()], 2, AS_OF)
    assert [c.event.signal_type for c in result.contributions] == [RiskFlag.CHAMPION_LEAVING]


def test_negatives_add_linearly() -> None:
    two = [event(signal_type=RiskFlag.BUDGET_CUTS)] * 2
    assert qualitative_subscore(QUAL, two, 2, AS_OF).subscore == pytest.approx(14.0)  # 50 − 36


def test_positives_saturate_at_the_cap() -> None:
    many = [renewal()] * 20  # raw 240 → 35·(1 − e^(−240/35)) ≈ 34.96
    result = qualitative_subscore(QUAL, many, 2, AS_OF)
    assert result.subscore is not None
    assert result.subscore == pytest.approx(50 + 35 * (1 - math.exp(-240 / 35)))
    assert result.subscore < QUAL.baseline + QUAL.positive_cap


def test_one_champion_leaving_outweighs_several_renewals() -> None:
    champion = qualitative_subscore(QUAL, [event()], 2, AS_OF).subscore
    renewals = [renewal()] * 5
    mixed = qualitative_subscore(QUAL, [event(), *renewals], 2, AS_OF).subscore
    praise_only = qualitative_subscore(QUAL, renewals, 2, AS_OF).subscore
    assert champion is not None
    assert mixed is not None
    assert praise_only is not None
    # champion alone: 50 − 30 = 20; five renewals: raw 60 → P = 35·(1 − e^(−60/35)) ≈ 28.70
    assert champion == pytest.approx(20.0)
    assert mixed == pytest.approx(20 + 35 * (1 - math.exp(-60 / 35)))
    # the drop is larger than the rise, so the account stays below baseline
    assert QUAL.baseline - champion > praise_only - QUAL.baseline
    assert mixed < QUAL.baseline


def test_contributions_sum_to_subscore_minus_baseline() -> None:
    events = [
        event(),  # −30
        renewal(),  # +12
        event(EXPANSION, ExpansionSignal.ADDITIONAL_SEATS, confidence=0.8, role=Role.VENDOR),
        event(SENTIMENT, SentimentLabel.POSITIVE, score=0.5),  # +0.5·12 = +6
    ]
    result = qualitative_subscore(QUAL, events, 3, AS_OF)
    # positives raw 12 + 6·0.8·0.5 + 6 = 20.4 → P = 35·(1 − e^(−20.4/35)); Q = 50 − 30 + P
    positive = 35 * (1 - math.exp(-20.4 / 35))
    assert result.subscore == pytest.approx(20 + positive)
    points = [c.points for c in result.contributions]
    # negatives keep their points; each positive is scaled by P / 20.4
    scale = positive / 20.4
    assert points == pytest.approx([-30.0, 12 * scale, 2.4 * scale, 6 * scale])
    assert contribution_sum(result) == pytest.approx(result.subscore - QUAL.baseline)


def test_clamped_at_zero_with_contributions_still_summing() -> None:
    events = [event(signal_type=RiskFlag.CANCELLATION_INTENT)] * 2 + [renewal()]
    result = qualitative_subscore(QUAL, events, 2, AS_OF)
    # N = −70, P = 35·(1 − e^(−12/35)) ≈ 10.3; 50 − 70 + P < 0 → clamped to 0
    assert result.subscore == 0.0
    assert contribution_sum(result) == pytest.approx(-QUAL.baseline)
    # rescaled by 50 / |N + P|, signs kept
    total = -70 + 35 * (1 - math.exp(-12 / 35))
    assert result.contributions[0].points == pytest.approx(-35 * 50 / -total)
    assert result.contributions[2].points > 0


def test_clamped_at_hundred_with_contributions_still_summing() -> None:
    generous = QUAL.model_copy(update={"baseline": 90.0})
    result = qualitative_subscore(generous, [renewal()] * 3, 2, AS_OF)
    # 90 + 35·(1 − e^(−36/35)) ≈ 112.5 → clamped to 100
    assert result.subscore == 100.0
    assert contribution_sum(result) == pytest.approx(10.0)
    assert all(c.points == pytest.approx(10 / 3) for c in result.contributions)


# ---------------------------------------------------------------- combine

A_RISK = event(event_id=7, version="anthropic/claude@p1")


def test_both_parts_weighted_and_drivers_explain_the_score() -> None:
    quant = quant_result(("csat", 80.0, 0.5), ("nps", 60.0, 0.5))  # 0.5·80 + 0.5·60 = 70
    qual = qual_result(40.0, (A_RISK, -10.0))
    health = combine(PROFILE, "acct-1", AS_OF, quant, qual)
    assert health.weights == pytest.approx({"quantitative": 0.65, "qualitative": 0.35})
    assert health.score == pytest.approx(59.5)  # 0.65·70 + 0.35·40 = 45.5 + 14
    assert health.band is Band.ATTENTION
    assert health.quantitative == 70.0
    assert health.qualitative == 40.0
    # csat 0.65·0.5·(80 − 50) = 9.75; nps 0.65·0.5·10 = 3.25; event 0.35·(−10) = −3.5
    drivers = {d.name: d.points for d in health.drivers}
    assert drivers == pytest.approx({"csat": 9.75, "nps": 3.25, "risk_flag:champion_leaving": -3.5})
    assert [abs(d.points) for d in health.drivers] == sorted(
        (abs(d.points) for d in health.drivers), reverse=True
    )
    assert sum(d.points for d in health.drivers) == pytest.approx(health.score - 50, abs=1e-6)
    event_driver = next(d for d in health.drivers if d.source == "event")
    assert event_driver.event_id == 7
    assert event_driver.value is None
    assert {d.name: d.value for d in health.drivers if d.source == "measure"} == {
        "csat": 1.0,
        "nps": 1.0,
    }
    # confidence 0.65·coverage 1 + 0.35·min(1, 4/4)
    assert health.confidence == pytest.approx(1.0)
    assert health.flags == ()
    assert health.profile_version == PROFILE.full_version


def test_combine_from_real_subscores() -> None:
    quant = quantitative_subscore(QUANT, all_measures(), AS_OF)  # 70.6
    qual = qualitative_subscore(QUAL, [event(age_days=30)], 2, AS_OF)  # 50 − 15 = 35
    health = combine(PROFILE, "acct-1", AS_OF, quant, qual)
    assert health.score == pytest.approx(0.65 * 70.6 + 0.35 * 35)  # 45.89 + 12.25 = 58.14
    assert sum(d.points for d in health.drivers) == pytest.approx(8.14, abs=1e-6)
    drivers = {d.name: d.points for d in health.drivers}
    assert drivers["days_payment_late"] == pytest.approx(0.65 * 0.15 * 50)  # 4.875
    assert drivers["risk_flag:champion_leaving"] == pytest.approx(0.35 * -15)  # −5.25
    # confidence 0.65·1 + 0.35·min(1, 2/4) = 0.825
    assert health.confidence == pytest.approx(0.825)


def test_only_quantitative_carries_the_score_alone() -> None:
    quant = quant_result(("csat", 80.0, 0.5), ("nps", 60.0, 0.5))
    health = combine(PROFILE, "acct-1", AS_OF, quant, NO_QUAL)
    assert health.score == pytest.approx(70.0)
    assert health.band is Band.HEALTHY
    assert health.weights == {"quantitative": 1.0, "qualitative": 0.0}
    assert health.qualitative is None
    assert "scored on quantitative data only" in health.flags
    assert NO_QUAL.flags[0] in health.flags
    assert {d.source for d in health.drivers} == {"measure"}
    assert sum(d.points for d in health.drivers) == pytest.approx(20.0)


def test_only_qualitative_carries_the_score_alone() -> None:
    qual = qual_result(40.0, (A_RISK, -10.0))
    health = combine(PROFILE, "acct-1", AS_OF, NO_QUANT, qual)
    assert health.score == pytest.approx(40.0)
    assert health.band is Band.AT_RISK
    assert health.weights == {"quantitative": 0.0, "qualitative": 1.0}
    assert health.quantitative is None
    assert "scored on conversations only" in health.flags
    assert NO_QUANT.flags[0] in health.flags
    assert [(d.source, d.points) for d in health.drivers] == [("event", -10.0)]


def test_neither_part_gives_no_score_and_insufficient_signal() -> None:
    health = combine(PROFILE, "acct-1", AS_OF, NO_QUANT, NO_QUAL)
    assert health.score is None
    assert health.band is Band.INSUFFICIENT_SIGNAL
    assert health.band is not Band.HEALTHY
    assert health.drivers == ()
    assert any(f.startswith("insufficient signal") for f in health.flags)
    assert health.confidence == 0.0


BAND_CASES = [
    (100.0, Band.HEALTHY),
    (70.0, Band.HEALTHY),
    (69.99, Band.ATTENTION),
    (50.0, Band.ATTENTION),
    (49.99, Band.AT_RISK),
    (30.0, Band.AT_RISK),
    (29.99, Band.CRITICAL),
    (0.0, Band.CRITICAL),
    (None, Band.INSUFFICIENT_SIGNAL),
]


@pytest.mark.parametrize(("score", "band"), BAND_CASES)
def test_band_edges(score: float | None, band: Band) -> None:
    assert band_for(score, PROFILE.bands) is band


def test_bands_follow_the_profile() -> None:
    strict = Bands(healthy=80, attention=60, at_risk=40)
    assert band_for(75.0, strict) is Band.ATTENTION
    assert band_for(39.0, strict) is Band.CRITICAL


def test_versions_are_collected_from_events() -> None:
    qual = qual_result(
        40.0,
        (event(version="lexicon@v2"), -5.0),
        (event(version="anthropic/claude@p1"), -3.0),
        (event(version="lexicon@v2"), -2.0),
    )
    health = combine(PROFILE, "acct-1", AS_OF, quant_result(("csat", 60.0, 1.0)), qual)
    assert health.versions == ("anthropic/claude@p1", "lexicon@v2")  # distinct, sorted


# ---------------------------------------------------------------- properties

SIGNAL_TYPES: dict[str, list[str]] = {
    RISK: [str(f) for f in RiskFlag],
    INTENT: [str(i) for i in Intent],
    EXPANSION: [str(x) for x in ExpansionSignal],
    SENTIMENT: [str(s) for s in SentimentLabel],
}
ROLES = [str(r) for r in Role]


def measure_value(measure: str) -> st.SearchStrategy[float]:
    xs = [x for x, _ in QUANT.curves[measure]]
    span = xs[-1] - xs[0]
    return st.floats(min_value=xs[0] - span, max_value=xs[-1] + span)


@st.composite
def raw_measures(draw: st.DrawFn) -> dict[str, tuple[float, datetime]]:
    raw: dict[str, tuple[float, datetime]] = {}
    for measure in QUANT.measure_weights():
        if draw(st.booleans()):
            raw[measure] = (draw(measure_value(measure)), ago(draw(st.floats(0, 90))))
    if "seat_utilisation" not in raw and draw(st.booleans()):
        raw["active_users"] = (draw(st.integers(0, 500)), ago(draw(st.floats(0, 90))))
        raw["licensed_seats"] = (draw(st.integers(0, 500)), ago(draw(st.floats(0, 90))))
    return raw


@st.composite
def events_of(draw: st.DrawFn, kind: str | None = None) -> EventInput:
    kind = kind or draw(st.sampled_from(list(SIGNAL_TYPES)))
    return event(
        kind,
        draw(st.sampled_from(SIGNAL_TYPES[kind])),
        score=draw(st.floats(-1, 1)) if kind == SENTIMENT else 1.0,
        confidence=draw(st.floats(0, 1)),
        role=draw(st.sampled_from(ROLES)),
        age_days=draw(st.floats(0, 90)),
        version=draw(st.sampled_from(["lexicon@v1", "anthropic/claude@p1"])),
    )


def score_of(
    raw: dict[str, tuple[float, datetime]], events: list[EventInput], conversations: int
) -> tuple[float | None, float | None, float]:
    quant = quantitative_subscore(QUANT, raw, AS_OF)
    qual = qualitative_subscore(QUAL, events, conversations, AS_OF)
    health = combine(PROFILE, "acct-1", AS_OF, quant, qual)
    return health.score, qual.subscore, sum(d.points for d in health.drivers)


@settings(max_examples=300, deadline=None)
@given(
    raw=raw_measures(),
    events=st.lists(events_of(), max_size=12),
    conversations=st.integers(0, 6),
)
def test_score_is_bounded_and_explained_by_its_drivers(
    raw: dict[str, tuple[float, datetime]], events: list[EventInput], conversations: int
) -> None:
    quant = quantitative_subscore(QUANT, raw, AS_OF)
    qual = qualitative_subscore(QUAL, events, conversations, AS_OF)
    health = combine(PROFILE, "acct-1", AS_OF, quant, qual)
    if health.score is None:
        assert health.band is Band.INSUFFICIENT_SIGNAL
        assert quant.subscore is None
        assert qual.subscore is None
        return
    assert 0.0 <= health.score <= 100.0
    assert health.band is band_for(health.score, PROFILE.bands)
    if qual.subscore is not None:
        assert 0.0 <= qual.subscore <= 100.0
        assert contribution_sum(qual) == pytest.approx(qual.subscore - QUAL.baseline, abs=1e-6)
    if quant.subscore is not None:
        assert 0.0 <= quant.subscore <= 100.0 + 1e-9
    if 0.0 < health.score < 100.0:
        drivers = sum(d.points for d in health.drivers)
        assert drivers == pytest.approx(health.score - 50.0, abs=1e-6)


@settings(max_examples=300, deadline=None)
@given(
    raw=raw_measures(),
    events=st.lists(events_of(), max_size=12),
    conversations=st.integers(0, 6),
    risk=events_of(RISK),
)
def test_a_negative_risk_flag_never_raises_the_score(
    raw: dict[str, tuple[float, datetime]],
    events: list[EventInput],
    conversations: int,
    risk: EventInput,
) -> None:
    before, qual_before, _ = score_of(raw, events, conversations)
    after, qual_after, _ = score_of(raw, [*events, risk], conversations)
    assert (before is None) == (after is None)
    if before is not None and after is not None:
        assert after <= before + 1e-9
    if qual_before is not None and qual_after is not None:
        assert qual_after <= qual_before + 1e-9


def test_default_risk_flags_are_all_negative() -> None:
    # The property above relies on it: every configured risk flag takes points away.
    assert set(QUAL.risk_flags) == set(RiskFlag)
    assert all(points < 0 for points in QUAL.risk_flags.values())


def test_the_why_column_names_each_measures_value_and_sums_events_of_one_type() -> None:
    from convsignal.cli.scoring import explain
    from convsignal.domain import Driver

    drivers = (
        Driver("event", "risk_flag:budget_cuts", -5.0, event_id=1),
        Driver("event", "risk_flag:budget_cuts", -2.5, event_id=2),
        Driver("measure", "days_payment_late", 4.3, value=0.0),
        Driver("measure", "seat_utilisation", -4.6, value=0.28333),
    )
    why = explain(drivers, (), False, 3)
    assert "budget_cuts -7.5" in why
    assert "seat_utilisation=0.283 -4.6" in why
    assert "days_payment_late=0 +4.3" in why
