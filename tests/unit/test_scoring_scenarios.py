"""Scenarios a CS leader would check, table-driven, on the shipped default profile.

Each scenario is an account's inputs and the claim the score must make true. They go
through `score_inputs`, the same function a recompute uses for every account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convsignal.domain import Band, Intent, RiskFlag, Role, SentimentLabel, SignalKind
from convsignal.score.history import PriorSnapshot, TriggerKind
from convsignal.score.inputs import AccountInputs
from convsignal.score.profile import load_profile
from convsignal.score.qualitative import EventInput
from convsignal.score.service import ScoredAccount, score_inputs

AS_OF = datetime(2026, 11, 24, tzinfo=UTC)
PROFILE = load_profile()
WINDOW = PROFILE.qualitative.window_days


def ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def strong_metrics() -> dict[str, tuple[float, datetime]]:
    at = ago(3)
    return {
        "licensed_seats": (100, at),
        "active_users": (92, at),
        "usage_trend_pct": (8, at),
        "feature_adoption_pct": (78, at),
        "open_critical_tickets": (0, at),
        "tickets_unanswered_3d": (0, at),
        "avg_resolution_hours": (10, at),
        "csat": (4.6, at),
        "days_payment_late": (0, at),
        "days_to_renewal": (200, at),
        "days_since_last_contact": (5, at),
        "days_since_last_qbr": (40, at),
        "nps": (45, at),
    }


def ev(
    kind: str,
    signal_type: str,
    age_days: float,
    *,
    role: str = Role.CUSTOMER,
    confidence: float = 0.9,
    score: float = 1.0,
    event_id: int = 1,
) -> EventInput:
    return EventInput(
        event_id, kind, signal_type, score, confidence, role, ago(age_days), "lexicon@v1"
    )


def neutral(age_days: float) -> EventInput:
    return ev(SignalKind.SENTIMENT, SentimentLabel.NEUTRAL, age_days, score=0.0)


@dataclass
class Scenario:
    name: str
    metrics: dict[str, tuple[float, datetime]] = field(default_factory=dict)
    events: list[EventInput] = field(default_factory=list)
    conversations: int = 0
    segment: str | None = None

    def score(self) -> ScoredAccount:
        inputs = AccountInputs(
            "acct",
            segment=self.segment,
            latest=self.metrics,
            events=self.events,
            conversations={WINDOW: self.conversations},
        )
        return score_inputs(PROFILE, inputs, AS_OF)


CALM = [neutral(10), neutral(40), neutral(70)]


def healthy_baseline() -> Scenario:
    return Scenario("strong usage, calm conversations", strong_metrics(), CALM, 3)


def champion_and_budget() -> Scenario:
    events = [
        *CALM,
        ev(SignalKind.RISK_FLAG, RiskFlag.CHAMPION_LEAVING, 5),
        ev(SignalKind.RISK_FLAG, RiskFlag.BUDGET_CUTS, 12),
    ]
    return Scenario("strong usage, champion leaving + budget cut", strong_metrics(), events, 3)


def nothing() -> Scenario:
    return Scenario("no metrics, no conversations")


def old_escalation() -> Scenario:
    # five months ago: outside the 90-day window, so it has no weight left at all
    events = [*CALM, ev(SignalKind.RISK_FLAG, RiskFlag.EXECUTIVE_ESCALATION, 150)]
    return Scenario("escalation five months ago", strong_metrics(), events, 3)


def competitor(role: str) -> Scenario:
    events = [*CALM, ev(SignalKind.RISK_FLAG, RiskFlag.EVALUATING_ALTERNATIVES, 7, role=role)]
    return Scenario(f"{role} names a competitor", strong_metrics(), events, 3)


def metrics_only() -> Scenario:
    return Scenario("metrics, one conversation", strong_metrics(), [neutral(3)], 1)


def stale_everything() -> Scenario:
    old = {name: (value, ago(200)) for name, (value, _) in strong_metrics().items()}
    return Scenario("every measure 200 days old", old, [], 0)


def unanswered_tickets() -> Scenario:
    metrics = strong_metrics()
    metrics["tickets_unanswered_3d"] = (4, ago(1))
    metrics["avg_resolution_hours"] = (120, ago(1))
    return Scenario("tickets waiting > 3 days", metrics, CALM, 3)


def score_of(scenario: Scenario) -> float:
    value = scenario.score().score.score
    assert value is not None, scenario.name
    return value


CLAIMS: list[tuple[str, Callable[[], None]]] = []


def claim(fn: Callable[[], None]) -> Callable[[], None]:
    CLAIMS.append((fn.__name__, fn))
    return fn


@claim
def strong_usage_with_champion_leaving_and_budget_cut_drops_out_of_healthy() -> None:
    assert healthy_baseline().score().score.band is Band.HEALTHY
    hit = champion_and_budget().score().score
    assert hit.band is not Band.HEALTHY
    worst = min(hit.drivers, key=lambda d: d.points)
    assert worst.name == "risk_flag:champion_leaving"


@claim
def no_conversations_and_no_metrics_is_insufficient_not_healthy() -> None:
    health = nothing().score().score
    assert health.band is Band.INSUFFICIENT_SIGNAL
    assert health.score is None
    assert health.drivers == ()
    assert health.confidence == 0.0


@claim
def every_measure_stale_and_no_conversations_is_insufficient() -> None:
    health = stale_everything().score().score
    assert health.band is Band.INSUFFICIENT_SIGNAL
    assert any("stale" in flag for flag in health.flags)


@claim
def a_single_escalation_five_months_ago_has_decayed() -> None:
    assert score_of(old_escalation()) == pytest.approx(score_of(healthy_baseline()))
    assert not any(
        d.name.endswith("executive_escalation") for d in old_escalation().score().score.drivers
    )


@claim
def a_recent_escalation_weighs_more_than_the_same_one_two_months_ago() -> None:
    recent = healthy_baseline()
    recent.events = [*CALM, ev(SignalKind.RISK_FLAG, RiskFlag.EXECUTIVE_ESCALATION, 2)]
    older = healthy_baseline()
    older.events = [*CALM, ev(SignalKind.RISK_FLAG, RiskFlag.EXECUTIVE_ESCALATION, 60)]
    assert score_of(recent) < score_of(older) < score_of(healthy_baseline())


@claim
def a_vendor_naming_a_competitor_counts_less_than_the_customer_doing_so() -> None:
    customer, vendor = score_of(competitor(Role.CUSTOMER)), score_of(competitor(Role.VENDOR))
    assert customer < vendor < score_of(healthy_baseline())


@claim
def metrics_alone_score_with_a_flag_and_lower_confidence() -> None:
    alone = metrics_only().score().score
    both = healthy_baseline().score().score
    assert alone.score is not None
    assert alone.weights == {"quantitative": 1.0, "qualitative": 0.0}
    assert "scored on quantitative data only" in alone.flags
    assert alone.confidence < both.confidence


@claim
def tickets_unanswered_for_days_pull_the_score_down() -> None:
    assert score_of(unanswered_tickets()) < score_of(healthy_baseline())
    drivers = {d.name: d.points for d in unanswered_tickets().score().score.drivers}
    assert drivers["tickets_unanswered_3d"] < 0
    assert drivers["avg_resolution_hours"] < 0


@claim
def praise_cannot_buy_back_a_cancellation() -> None:
    praise = [ev(SignalKind.INTENT, Intent.PLANNING_TO_RENEW, d, event_id=d) for d in range(8)]
    cancel = [ev(SignalKind.RISK_FLAG, RiskFlag.CANCELLATION_INTENT, 3)]
    with_both = Scenario("praise and cancellation", {}, [*praise, *cancel], 4)
    assert score_of(with_both) < PROFILE.qualitative.baseline


@pytest.mark.parametrize("check", [fn for _, fn in CLAIMS], ids=[name for name, _ in CLAIMS])
def test_scenario(check: Callable[[], None]) -> None:
    check()


# ---------------------------------------------------------------- whole-account properties

KINDS = {
    SignalKind.RISK_FLAG: [str(f) for f in RiskFlag],
    SignalKind.INTENT: [str(i) for i in Intent],
    SignalKind.SENTIMENT: [str(s) for s in SentimentLabel],
}


@st.composite
def account_inputs(draw: st.DrawFn) -> AccountInputs:
    metrics = {
        name: (value * draw(st.floats(0, 2)), ago(draw(st.floats(0, 150))))
        for name, (value, _) in strong_metrics().items()
        if draw(st.booleans())
    }
    events = []
    for index in range(draw(st.integers(0, 10))):
        kind = draw(st.sampled_from(list(KINDS)))
        events.append(
            ev(
                kind,
                draw(st.sampled_from(KINDS[kind])),
                draw(st.floats(0, WINDOW)),
                role=draw(st.sampled_from([str(r) for r in Role])),
                confidence=draw(st.floats(0, 1)),
                score=draw(st.floats(-1, 1)),
                event_id=index,
            )
        )
    previous = None
    if draw(st.booleans()):
        band = draw(st.sampled_from([str(b) for b in Band]))
        previous = PriorSnapshot(ago(1), draw(st.floats(0, 100)), band)
    return AccountInputs(
        "acct",
        latest=metrics,
        events=events,
        conversations={WINDOW: draw(st.integers(0, 6))},
        previous=previous,
    )


@settings(max_examples=200, deadline=None)
@given(inputs=account_inputs())
def test_every_account_score_is_bounded_explained_and_honest(inputs: AccountInputs) -> None:
    scored = score_inputs(PROFILE, inputs, AS_OF)
    health = scored.score
    assert health.profile_version == PROFILE.full_version
    assert 0.0 <= health.confidence <= 1.0
    if health.score is None:
        assert health.band is Band.INSUFFICIENT_SIGNAL
        assert health.flags
        assert not scored.expansion.ready
    else:
        assert 0.0 <= health.score <= 100.0
        if 0.0 < health.score < 100.0:
            total = sum(d.points for d in health.drivers)
            assert total == pytest.approx(health.score - 50.0, abs=1e-6)
    if scored.expansion.score is not None:
        assert 0.0 <= scored.expansion.score <= 100.0 + 1e-9
        total = sum(d.points for d in scored.expansion.drivers)
        assert total == pytest.approx(scored.expansion.score)
    kinds = [t.kind for t in scored.triggers]
    assert len(kinds) == len(set(kinds))  # each trigger at most once per snapshot
    if inputs.previous is None:
        assert TriggerKind.BAND_CHANGED not in kinds
