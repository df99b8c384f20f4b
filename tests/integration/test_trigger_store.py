"""Playbook triggers as stored rows (SQLite and PostgreSQL): raised once, tied to their
run and snapshot, holding numbers and band names only, waiting for the webhooks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import select

from convsignal.domain import Band
from convsignal.score.profile import load_profile
from convsignal.score.service import recompute
from convsignal.store import score_repository
from convsignal.store.engine import session_scope
from convsignal.store.tables import PlaybookTrigger, ScoreSnapshot
from tests.integration.scoring_helpers import (
    CANCEL,
    EXPAND,
    GOOD,
    POOR,
    RENEW,
    SEATS,
    add_conversation,
    add_metrics,
    day,
)

PROFILE = load_profile()


def run(engine: Engine, as_of: datetime) -> dict[str, list[str]]:
    """Recompute at as_of; the trigger kinds stored by this run, per account."""
    with session_scope(engine) as session:
        summary = recompute(session, PROFILE, as_of)
        assert summary.run_id is not None
        rows = score_repository.triggers_of_run(session, summary.run_id)
    assert summary.triggers == len(rows)
    fired: dict[str, list[str]] = {}
    for row in rows:
        fired.setdefault(row.account_id, []).append(row.kind)
    return fired


def test_a_turn_for_the_worse_fires_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_metrics(session, "acme", day(-45), GOOD)
        add_conversation(session, "acme", day(-60), RENEW)
        add_conversation(session, "acme", day(-50), RENEW)
    assert run(engine, day(-40)).get("acme", []) == []  # first snapshot: healthy, no change
    with session_scope(engine) as session:
        add_metrics(session, "acme", day(-5), POOR)
        add_conversation(session, "acme", day(-3), CANCEL)
    fired = run(engine, day(0))["acme"]
    assert fired[:2] == ["band_changed", "score_drop"]  # healthy → critical, > 15 in 30 days
    assert "low_nps_declining" in fired  # NPS −40 while falling
    assert run(engine, day(0)).get("acme", []) == []  # the same run again: nothing new
    with session_scope(engine) as session:
        rows = session.exec(
            select(PlaybookTrigger).where(PlaybookTrigger.kind == "band_changed")
        ).all()
        (change,) = rows
        snapshot = session.get(ScoreSnapshot, change.snapshot_id)
    assert snapshot is not None
    assert snapshot.account_id == "acme"
    assert snapshot.run_id == change.run_id
    assert change.detail["from"] == Band.HEALTHY.value
    assert change.detail["to"] == snapshot.band
    assert change.profile_version == PROFILE.full_version
    assert change.delivered_at is None  # for the API's webhooks to deliver


def test_thirty_days_at_risk_fires_when_the_streak_reaches_30_days(engine: Engine) -> None:
    with session_scope(engine) as session:
        add_metrics(session, "slump", day(-40), POOR)
        add_metrics(session, "slump", day(-5), POOR)
    assert run(engine, day(-35)).get("slump", []) == []
    assert run(engine, day(-10)).get("slump", []) == []  # 25 days
    assert run(engine, day(-4)).get("slump", []) == ["sustained_risk"]  # 31 days
    assert run(engine, day(0)).get("slump", []) == []  # still at risk: not repeated
    with session_scope(engine) as session:
        latest = session.exec(select(ScoreSnapshot).where(ScoreSnapshot.as_of == day(0))).one()
    assert latest.risk_since == day(-35)
    assert latest.conditions == ["sustained_risk"]


def test_entering_expansion_readiness_fires(engine: Engine) -> None:
    measures = {**GOOD, "active_users": 98.0, "nps": 60.0}
    with session_scope(engine) as session:
        add_metrics(session, "grower", day(-60), {"feature_adoption_pct": 55.0})
        add_metrics(session, "grower", day(-2), measures)
        for offset in (-20, -10, -3):
            add_conversation(session, "grower", day(offset), EXPAND, SEATS, RENEW)
    assert run(engine, day(0)).get("grower") == ["expansion_ready"]
    assert run(engine, day(1)).get("grower", []) == []


def test_trigger_rows_hold_numbers_dates_and_band_names_only(engine: Engine) -> None:
    test_a_turn_for_the_worse_fires_once(engine)
    bands = {b.value for b in Band}
    with session_scope(engine) as session:
        rows = session.exec(select(PlaybookTrigger)).all()
    assert rows
    for row in rows:
        for key, value in row.detail.items():
            if isinstance(value, str):
                assert value in bands or datetime.fromisoformat(value), (key, value)
            else:
                assert value is None or isinstance(value, int | float), (key, value)
