"""Playbook triggers and trends against earlier snapshots (`score/history.py`), by table.

Default thresholds: a drop of ≥ 15 points vs. 30 days ago; at_risk/critical for ≥ 30 days;
NPS ≤ 0 with a fall of ≥ 5 points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from convsignal.score.history import PriorSnapshot, TriggerKind, timeline
from convsignal.score.profile import load_profile

AS_OF = datetime(2026, 11, 24, tzinfo=UTC)
PROFILE = load_profile()
BAND, DROP, RISK = TriggerKind.BAND_CHANGED, TriggerKind.SCORE_DROP, TriggerKind.SUSTAINED_RISK
READY, NPS = TriggerKind.EXPANSION_READY, TriggerKind.LOW_NPS_DECLINING


def ago(days: float) -> datetime:
    return AS_OF - timedelta(days=days)


def prior(score: float | None, band: str, *, days: float = 1, **extra: object) -> PriorSnapshot:
    return PriorSnapshot(ago(days), score, band, **extra)  # type: ignore[arg-type]


@dataclass
class Case:
    name: str
    score: float | None
    band: str
    expected: list[TriggerKind]
    previous: PriorSnapshot | None = None
    month_ago: PriorSnapshot | None = None
    ready: bool = False
    nps: float | None = None


CASES = [
    Case("first snapshot, nothing to report", 75, "healthy", []),
    Case("first snapshot already at risk: no band change", 40, "at_risk", []),
    Case("band changed", 72, "healthy", [BAND], previous=prior(65, "attention")),
    Case("same band", 66, "attention", [], previous=prior(65, "attention")),
    Case(
        "to insufficient signal is a band change",
        None,
        "insufficient_signal",
        [BAND],
        previous=prior(65, "attention"),
    ),
    Case(
        "dropped 20 in 30 days",
        60,
        "attention",
        [DROP],
        previous=prior(62, "attention"),
        month_ago=prior(80, "healthy", days=30),
    ),
    Case(
        "drop already reported yesterday",
        60,
        "attention",
        [],
        previous=prior(62, "attention", conditions=("score_drop",)),
        month_ago=prior(80, "healthy", days=30),
    ),
    Case(
        "dropped exactly 15",
        60,
        "attention",
        [DROP],
        previous=prior(60, "attention"),
        month_ago=prior(75, "healthy", days=31),
    ),
    Case(
        "dropped 10: below the threshold",
        60,
        "attention",
        [],
        previous=prior(60, "attention"),
        month_ago=prior(70, "healthy", days=30),
    ),
    Case(
        "at risk for 31 days, now critical",
        25,
        "critical",
        [BAND, RISK],
        previous=prior(35, "at_risk", risk_since=ago(31)),
    ),
    Case(
        "at risk for 20 days", 35, "at_risk", [], previous=prior(35, "at_risk", risk_since=ago(20))
    ),
    Case(
        "sustained risk already reported",
        35,
        "at_risk",
        [],
        previous=prior(35, "at_risk", risk_since=ago(40), conditions=("sustained_risk",)),
    ),
    Case("expansion ready, first time", 85, "healthy", [READY], ready=True),
    Case(
        "expansion ready again",
        85,
        "healthy",
        [],
        ready=True,
        previous=prior(85, "healthy", conditions=("expansion_ready",)),
    ),
    Case(
        "low NPS and down 8 in 30 days",
        62,
        "attention",
        [NPS],
        nps=-10,
        previous=prior(63, "attention"),
        month_ago=prior(70, "healthy", days=30),
    ),
    Case(
        "low NPS but rising",
        62,
        "attention",
        [],
        nps=-10,
        previous=prior(60, "attention"),
        month_ago=prior(55, "attention", days=30),
    ),
    Case(
        "low NPS, no 30-day snapshot: vs. previous",
        60,
        "attention",
        [BAND, NPS],
        nps=-10,
        previous=prior(70, "healthy"),
    ),
    Case(
        "NPS above the threshold",
        60,
        "attention",
        [],
        nps=10,
        previous=prior(60, "attention"),
        month_ago=prior(70, "healthy", days=30),
    ),
    Case(
        "no NPS measured",
        60,
        "attention",
        [],
        previous=prior(60, "attention"),
        month_ago=prior(70, "healthy", days=30),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_triggers(case: Case) -> None:
    result = timeline(
        PROFILE,
        as_of=AS_OF,
        score=case.score,
        band=case.band,
        expansion_ready=case.ready,
        nps=case.nps,
        previous=case.previous,
        month_ago=case.month_ago,
    )
    assert [t.kind for t in result.triggers] == case.expected


def test_trends_against_previous_and_30_days_ago() -> None:
    result = timeline(
        PROFILE, as_of=AS_OF, score=60, band="attention", expansion_ready=False, nps=None,
        previous=prior(62, "attention"), month_ago=prior(80, "healthy", days=30),
    )  # fmt: skip
    assert result.trend == pytest.approx(-2)
    assert result.trend_30d == pytest.approx(-20)
    (drop,) = result.triggers
    assert drop.detail == {
        "drop": 20.0, "score": 60, "score_then": 80, "then": ago(30).isoformat(),
    }  # fmt: skip
    assert result.conditions == ("score_drop",)


def test_no_trend_without_an_earlier_score() -> None:
    result = timeline(
        PROFILE, as_of=AS_OF, score=60, band="attention", expansion_ready=False, nps=None,
        previous=prior(None, "insufficient_signal"), month_ago=None,
    )  # fmt: skip
    assert result.trend is None
    assert result.trend_30d is None


RISK_SINCE_CASES = [
    # (previous snapshot, band now, risk_since now)
    (None, "at_risk", AS_OF),  # starts now
    (prior(60, "attention"), "critical", AS_OF),
    (prior(35, "at_risk", risk_since=ago(12)), "critical", ago(12)),  # carried across bands
    (prior(35, "at_risk", risk_since=ago(12)), "attention", None),  # the streak ends
]


@pytest.mark.parametrize(("previous", "band", "since"), RISK_SINCE_CASES)
def test_risk_streak_is_carried_between_snapshots(
    previous: PriorSnapshot | None, band: str, since: datetime | None
) -> None:
    result = timeline(
        PROFILE, as_of=AS_OF, score=40, band=band, expansion_ready=False, nps=None,
        previous=previous, month_ago=None,
    )  # fmt: skip
    assert result.risk_since == since


def test_band_change_detail_names_both_bands() -> None:
    result = timeline(
        PROFILE, as_of=AS_OF, score=28, band="critical", expansion_ready=False, nps=None,
        previous=prior(55, "attention"), month_ago=None,
    )  # fmt: skip
    (change,) = result.triggers
    assert change.detail == {"from": "attention", "to": "critical", "score": 28,
                             "previous_score": 55}  # fmt: skip


def test_expansion_ready_detail_carries_both_scores() -> None:
    result = timeline(
        PROFILE,
        as_of=AS_OF,
        score=85,
        band="healthy",
        expansion_ready=True,
        expansion=82.5,
        nps=None,
        previous=None,
        month_ago=None,
    )
    (ready,) = result.triggers
    assert ready.detail == {"expansion": 82.5, "score": 85}
