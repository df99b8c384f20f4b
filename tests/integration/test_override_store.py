"""CSM overrides over a real store (SQLite and PostgreSQL): kept by recomputation until
they expire or are cleared, always beside the computed score, never from the future."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from convsignal.domain import Band
from convsignal.errors import ScoringError
from convsignal.score import overrides
from convsignal.score.profile import load_profile
from convsignal.score.service import ScoredAccount, score_all
from convsignal.store.engine import session_scope
from convsignal.store.tables import ScoreSnapshot
from tests.integration.scoring_helpers import CANCEL, POOR, add_conversation, add_metrics, day

PROFILE = load_profile()


@pytest.fixture
def at_risk(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        add_metrics(session, "acme", day(-3), POOR)
        add_conversation(session, "acme", day(-10), CANCEL)
        add_conversation(session, "acme", day(-2), CANCEL)
    return engine


def set_override(engine: Engine, *, now: datetime, expires: datetime, score: float = 65) -> int:
    with session_scope(engine) as session:
        override = overrides.set_override(
            session,
            "acme",
            score=score,
            reason="renewal signed on the phone today",
            author="dana@vendor.example",
            expires_at=expires,
            now=now,
        )
        assert override.id is not None
        return override.id


def acme(engine: Engine, as_of: datetime, *, save: bool = True) -> ScoredAccount:
    with session_scope(engine) as session:
        (scored,) = score_all(session, PROFILE, as_of, save=save)
    return scored


def test_an_override_sits_beside_the_computed_score(at_risk: Engine) -> None:
    computed = acme(at_risk, day(0), save=False)
    override_id = set_override(at_risk, now=day(-1), expires=day(20))
    scored = acme(at_risk, day(0))
    assert scored.score == computed.score  # the computation does not change
    assert scored.override is not None
    assert (scored.override.id, scored.override.score) == (override_id, 65)
    assert scored.override.band is Band.ATTENTION
    assert scored.override.reason == "renewal signed on the phone today"
    assert scored.effective_score == 65
    assert scored.effective_band is Band.ATTENTION
    with session_scope(at_risk) as session:
        snapshot = session.exec(select(ScoreSnapshot)).one()
    assert snapshot.score == computed.score.score
    assert snapshot.band == computed.score.band.value
    assert (snapshot.override_id, snapshot.override_score, snapshot.override_band) == (
        override_id,
        65,
        "attention",
    )


WINDOW_CASES = [
    # (as-of of the recompute, override in force?) for an override set day −1, expiring day 20
    (day(-2), False),  # before it was set: a backtest never sees it
    (day(0), True),
    (day(19.9), True),  # kept by every recomputation until…
    (day(20), False),  # …it expires
]


@pytest.mark.parametrize(("as_of", "in_force"), WINDOW_CASES)
def test_recomputation_keeps_it_until_it_expires(
    at_risk: Engine, as_of: datetime, in_force: bool
) -> None:
    set_override(at_risk, now=day(-1), expires=day(20))
    scored = acme(at_risk, as_of, save=False)
    assert (scored.override is not None) is in_force
    assert scored.score.score is not None  # computed either way


def test_clearing_ends_it_and_keeps_the_history(at_risk: Engine) -> None:
    set_override(at_risk, now=day(-5), expires=day(20))
    with session_scope(at_risk) as session:
        assert overrides.clear_override(session, "acme", author="lee", now=day(-1)) == 1
    assert acme(at_risk, day(0), save=False).override is None
    assert acme(at_risk, day(-2), save=False).override is not None  # it was in force then
    with session_scope(at_risk) as session:
        history = overrides.list_overrides(session, now=day(0), everything=True)
        in_force = overrides.list_overrides(session, now=day(0))
    assert [row.status for row in history] == [f"cleared {day(-1):%Y-%m-%d} by lee"]
    assert in_force == []


def test_a_new_override_supersedes_the_one_in_force(at_risk: Engine) -> None:
    first = set_override(at_risk, now=day(-5), expires=day(20), score=60)
    second = set_override(at_risk, now=day(-1), expires=day(20), score=40)
    scored = acme(at_risk, day(0), save=False)
    assert scored.override is not None
    assert scored.override.id == second
    with session_scope(at_risk) as session:
        rows = {row.override.id: row.status for row in overrides.list_overrides(
            session, now=day(0), everything=True)}  # fmt: skip
    assert rows[second] == "in force"
    assert rows[first].endswith("(superseded)")


BAD_OVERRIDES = [
    # (changes to a valid override, fragment of the error)
    ({"score": 120}, "outside 0..100"),
    ({"score": -1}, "outside 0..100"),
    ({"reason": "   "}, "needs a --reason"),
    ({"reason": "x" * 501}, "501 characters"),
    ({"author": ""}, "--author"),
    ({"expires_at": day(-1)}, "not in the future"),
    ({"account_id": "nobody"}, "unknown account 'nobody'"),
]


@pytest.mark.parametrize(("changes", "fragment"), BAD_OVERRIDES)
def test_bad_overrides_are_refused_with_the_reason(
    at_risk: Engine, changes: dict[str, object], fragment: str
) -> None:
    arguments: dict[str, object] = {
        "account_id": "acme",
        "score": 50,
        "reason": "why",
        "author": "dana",
        "expires_at": day(10),
        "now": day(0),
    }
    arguments.update(changes)
    with pytest.raises(ScoringError) as raised, session_scope(at_risk) as session:
        overrides.set_override(session, **arguments)  # type: ignore[arg-type]
    assert fragment in str(raised.value)


def test_clearing_nothing_is_an_error(at_risk: Engine) -> None:
    with (
        pytest.raises(ScoringError, match="no override in force"),
        session_scope(at_risk) as session,
    ):
        overrides.clear_override(session, "acme", author="lee", now=day(0))
