"""The measure set: derived trends, ageing, validity, last contact; and the properties the
quantitative part promises (bounded, monotone in each measure, re-normalised when missing).

Expected numbers are worked out by hand next to each case.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convsignal.score.combiner import combine
from convsignal.score.measures import derive_measures, fit_trend
from convsignal.score.profile import Group, Quantitative, Trend, load_profile
from convsignal.score.qualitative import QualitativeResult
from convsignal.score.quantitative import curve_score, quantitative_subscore

AS_OF = datetime(2026, 11, 24, tzinfo=UTC)
DEFAULT = load_profile()
QUANT = DEFAULT.quantitative


def ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


USAGE = Trend(of="active_users", window_days=84, min_span_days=28, per_days=30, relative=True)
NPS_TREND = Trend(of="nps", window_days=180, min_span_days=28, per_days=90)

TREND_CASES = [
    # (trend, [(age in days, value)], expected)
    # 100 → 110 → 120 over 56 days: slope 10/28 a day; ×30 = 10.714; ÷ mean 110 → 9.74 %
    (USAGE, [(56, 100), (28, 110), (0, 120)], 100 * (300 / 28) / 110),
    # the same points as absolute change per 90 days: 10/28 × 90
    (NPS_TREND, [(56, 100), (28, 110), (0, 120)], 900 / 28),
    # least squares through noise: t 0,14,28,42; v 10,14,12,16 → Σ 112 / Σ 980 = 4/35 a day
    (NPS_TREND, [(42, 10), (28, 14), (14, 12), (0, 16)], 4 / 35 * 90),
    # a snapshot older than the window (84 days) is not fitted
    (USAGE, [(100, 500), (56, 100), (28, 110), (0, 120)], 100 * (300 / 28) / 110),
    (USAGE, [(30, 80), (0, 80)], 0.0),  # flat
    (USAGE, [(20, 80), (0, 100)], None),  # 20 days apart: below min_span_days 28
    (USAGE, [(0, 100)], None),  # one snapshot
    (USAGE, [(90, 10), (0, 100)], None),  # only one inside the window
    (USAGE, [(30, 0), (0, 0)], None),  # relative to a mean of 0: undefined, not measured
]


@pytest.mark.parametrize(("trend", "points", "expected"), TREND_CASES)
def test_fit_trend(trend: Trend, points: list[tuple[float, float]], expected: float | None) -> None:
    fitted = fit_trend(trend, [(ago(age), value) for age, value in points], AS_OF)
    if expected is None:
        assert fitted is None
        return
    assert fitted is not None
    value, newest = fitted
    assert value == pytest.approx(expected)
    assert newest == ago(min(age for age, _ in points))  # dated by its newest snapshot


def test_trends_are_derived_from_history_and_a_reported_value_wins() -> None:
    history = {"active_users": [(ago(56), 100.0), (ago(28), 110.0), (ago(0), 120.0)]}
    derived = derive_measures({}, QUANT, as_of=AS_OF, history=history)
    assert derived["usage_trend_pct"][0] == pytest.approx(100 * (300 / 28) / 110)
    reported = derive_measures(
        {"usage_trend_pct": (-4.0, ago(1))}, QUANT, as_of=AS_OF, history=history
    )
    assert reported["usage_trend_pct"] == (-4.0, ago(1))


CONTACT_CURVE = [(14.0, 100.0), (45.0, 50.0), (90.0, 0.0)]
CONTACT_ONLY = Quantitative(
    min_coverage=0.5,
    stale_after_days=45,
    groups={"engagement": Group(weight=1, measures={"days_since_last_contact": 1.0})},
    curves={"days_since_last_contact": CONTACT_CURVE},
    ageing={"days_since_last_contact": 1},
    last_contact_from_conversations=True,
)

CONTACT_CASES = [
    # (reported (value, age) or None, last conversation age or None, expected days)
    ((20, 10), None, 30),  # reported 20 days ten days ago: 30 days today
    ((20, 10), 3, 3),  # a conversation 3 days ago is more recent
    ((2, 1), 20, 3),  # reported contact (3 days today) is more recent than the conversation
    (None, 45, 45),  # no report: the last conversation says it
    ((20, 0), None, 20),
]


@pytest.mark.parametrize(("reported", "conversation", "expected"), CONTACT_CASES)
def test_days_since_last_contact_ages_and_uses_conversations(
    reported: tuple[float, float] | None, conversation: float | None, expected: float
) -> None:
    raw = {} if reported is None else {"days_since_last_contact": (reported[0], ago(reported[1]))}
    last_contact = None if conversation is None else ago(conversation)
    result = quantitative_subscore(CONTACT_ONLY, raw, AS_OF, last_contact=last_contact)
    (measure,) = result.measures
    assert measure.value == pytest.approx(expected)
    assert result.subscore == pytest.approx(curve_score(CONTACT_CURVE, expected))


def test_a_counter_measured_long_ago_ages_and_goes_stale() -> None:
    # 20 days reported 50 days ago → 70 days today, but older than stale_after_days 45
    raw = {"days_since_last_contact": (20.0, ago(50))}
    result = quantitative_subscore(CONTACT_ONLY, raw, AS_OF)
    assert result.stale == ("days_since_last_contact",)
    assert result.subscore is None


def test_days_to_renewal_counts_down() -> None:
    measures = derive_measures({"days_to_renewal": (60.0, ago(10))}, QUANT, as_of=AS_OF)
    assert measures["days_to_renewal"] == (50.0, ago(10))


VALIDITY_CASES = [
    # default profile: nps valid 120 days, csat 90, the rest stale_after_days 45
    ("nps", 100, False),
    ("nps", 121, True),
    ("csat", 89, False),
    ("csat", 91, True),
    ("open_critical_tickets", 46, True),
    ("open_critical_tickets", 45, False),
]


@pytest.mark.parametrize(("measure", "age", "stale"), VALIDITY_CASES)
def test_each_measure_has_its_validity(measure: str, age: float, stale: bool) -> None:
    result = quantitative_subscore(QUANT, {measure: (1.0, ago(age))}, AS_OF)
    assert (measure in result.stale) is stale
    assert (measure in result.values) is not stale
    if stale:
        assert any("stale" in flag and measure in flag for flag in result.flags)


DEFAULT_CURVE_CASES = [
    # (measure, value, score by hand from default_profile.yaml)
    ("tickets_unanswered_3d", 0, 100.0),
    ("tickets_unanswered_3d", 1, 60.0),
    ("tickets_unanswered_3d", 2, 40.0),  # 60 − 60·1/3
    ("tickets_unanswered_3d", 9, 0.0),
    ("avg_resolution_hours", 16, 87.5),  # 100 − 25·8/16
    ("avg_resolution_hours", 48, 52.5),  # 75 − 45·24/48
    ("avg_resolution_hours", 200, 0.0),
    ("days_to_renewal", 0, 30.0),
    ("days_to_renewal", 30, 45.0),  # 30 + 30·30/60
    ("days_to_renewal", 90, 80.0),  # 60 + 40·30/60
    ("days_to_renewal", 365, 100.0),
    ("days_since_last_qbr", 90, 100.0),
    ("days_since_last_qbr", 125, 75.0),  # 100 − 50·25/50
    ("csat_trend", -0.5, 30.0),  # 60·0.5
    ("csat_trend", 0.25, 80.0),  # 60 + 40·0.5
    ("nps_trend", -15, 30.0),
    ("nps_trend", 10, 80.0),
]


@pytest.mark.parametrize(("measure", "value", "expected"), DEFAULT_CURVE_CASES)
def test_default_curves_of_the_full_measure_set(
    measure: str, value: float, expected: float
) -> None:
    assert curve_score(QUANT.curves[measure], value) == pytest.approx(expected)


def test_default_group_weights_are_30_20_20_15_15() -> None:
    weights = QUANT.measure_weights()
    by_group: dict[str, float] = {}
    for measure, weight in weights.items():
        by_group[QUANT.group_of(measure)] = by_group.get(QUANT.group_of(measure), 0) + weight
    assert by_group == pytest.approx(
        {"usage": 0.30, "adoption": 0.20, "support": 0.20, "payment": 0.15, "engagement": 0.15}
    )


# ---------------------------------------------------------------- properties

SCORED = sorted(QUANT.measure_weights())


def value_for(measure: str) -> st.SearchStrategy[float]:
    xs = [x for x, _ in QUANT.curves[measure]]
    span = xs[-1] - xs[0]
    return st.floats(min_value=xs[0] - span, max_value=xs[-1] + span)


@st.composite
def fresh_measures(draw: st.DrawFn) -> dict[str, tuple[float, datetime]]:
    chosen = draw(st.sets(st.sampled_from(SCORED)))
    return {m: (draw(value_for(m)), ago(draw(st.floats(0, 30)))) for m in chosen}


def increasing(measure: str) -> bool:
    ys = [y for _, y in QUANT.curves[measure]]
    return ys == sorted(ys)


def test_every_default_curve_is_monotone() -> None:
    # the monotonicity property below relies on it
    for measure in SCORED:
        ys = [y for _, y in QUANT.curves[measure]]
        assert ys in (sorted(ys), sorted(ys, reverse=True)), measure


QUAL_FIXED = QualitativeResult(40.0, 4, ())


@settings(max_examples=300, deadline=None)
@given(
    raw=fresh_measures(),
    measure=st.sampled_from(SCORED),
    data=st.data(),
)
def test_score_is_monotone_in_each_measure(
    raw: dict[str, tuple[float, datetime]], measure: str, data: st.DataObject
) -> None:
    low, high = sorted((data.draw(value_for(measure)), data.draw(value_for(measure))))
    at = ago(1)
    results = []
    for value in (low, high):
        quant = quantitative_subscore(QUANT, {**raw, measure: (value, at)}, AS_OF)
        health = combine(DEFAULT, "acct", AS_OF, quant, QUAL_FIXED)
        results.append((quant.subscore, health.score))
    (quant_low, score_low), (quant_high, score_high) = results
    assert (quant_low is None) == (quant_high is None)
    if quant_low is None or quant_high is None or score_low is None or score_high is None:
        return
    assert 0.0 <= score_low <= 100.0
    if increasing(measure):
        assert quant_low <= quant_high + 1e-9
        assert score_low <= score_high + 1e-9
    else:
        assert quant_low >= quant_high - 1e-9
        assert score_low >= score_high - 1e-9


@settings(max_examples=300, deadline=None)
@given(raw=fresh_measures())
def test_missing_measures_reweight_the_present_ones(
    raw: dict[str, tuple[float, datetime]],
) -> None:
    configured = QUANT.measure_weights()
    result = quantitative_subscore(QUANT, raw, AS_OF)
    present = set(raw)
    assert result.coverage == pytest.approx(sum(configured[m] for m in present))
    assert set(result.missing) == set(configured) - present
    if result.subscore is None:
        assert result.coverage < QUANT.min_coverage + 1e-9
        return
    weights = {m.measure: m.weight for m in result.measures}
    assert set(weights) == present
    assert sum(weights.values()) == pytest.approx(1.0)
    for measure, weight in weights.items():  # each keeps its configured share of the rest
        assert weight == pytest.approx(configured[measure] / result.coverage)
    expected = sum(configured[m] * m_score for m, m_score in _scores(raw).items())
    assert result.subscore == pytest.approx(expected / result.coverage)
    assert 0.0 <= result.subscore <= 100.0 + 1e-9


def _scores(raw: dict[str, tuple[float, datetime]]) -> dict[str, float]:
    measures = derive_measures(raw, QUANT, as_of=AS_OF)
    return {m: curve_score(QUANT.curves[m], measures[m][0]) for m in raw}
