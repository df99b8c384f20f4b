"""The scoring engine over a real store (SQLite and PostgreSQL): runs and snapshots,
point-in-time scores, trends, paging, segments, and the 0002 migration over old data."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, text
from sqlmodel import select

from convsignal.score.profile import DEFAULT_PROFILE_PATH, load_profile
from convsignal.score.service import ScoredAccount, recompute, score_account, score_all
from convsignal.store.engine import make_engine, session_scope, upgrade
from convsignal.store.tables import ScoreRun, ScoreSnapshot
from tests.integration.scoring_helpers import (
    BUDGET,
    CANCEL,
    CHAMPION,
    GOOD,
    POOR,
    RENEW,
    add_account,
    add_conversation,
    add_metrics,
    day,
)

PROFILE = load_profile()


def seed(engine: Engine) -> None:
    """Five accounts: good, poor, turning sour, metrics-only, nothing at all."""
    with session_scope(engine) as session:
        add_metrics(session, "good", day(-5), GOOD)
        add_conversation(session, "good", day(-20), RENEW)
        add_conversation(session, "good", day(-8), RENEW)
        add_metrics(session, "poor", day(-5), POOR)
        add_conversation(session, "poor", day(-15), CANCEL)
        add_conversation(session, "poor", day(-3), BUDGET)
        add_metrics(session, "sour", day(-5), GOOD)
        add_conversation(session, "sour", day(-30), RENEW)
        add_conversation(session, "sour", day(-4), CHAMPION, BUDGET)
        add_metrics(session, "numbers", day(-5), GOOD)
        add_account(session, "silent")


def by_id(scored: list[ScoredAccount]) -> dict[str, ScoredAccount]:
    return {s.score.account_id: s for s in scored}


def test_each_run_keeps_one_snapshot_per_account(engine: Engine) -> None:
    seed(engine)
    for _ in range(2):
        with session_scope(engine) as session:
            summary = recompute(session, PROFILE, day(0))
        assert summary.accounts == 5
        assert summary.scored == 4  # "silent" is insufficient_signal
    with session_scope(engine) as session:
        runs = session.exec(select(ScoreRun).order_by(ScoreRun.id)).all()  # type: ignore[arg-type]
        snapshots = session.exec(select(ScoreSnapshot)).all()
    assert [(r.accounts, r.scored, r.status) for r in runs] == [(5, 4, "done")] * 2
    assert len(snapshots) == 10
    assert {s.run_id for s in snapshots} == {runs[0].id, runs[1].id}
    silent = [s for s in snapshots if s.account_id == "silent"]
    assert {(s.score, s.band) for s in silent} == {(None, "insufficient_signal")}
    for snapshot in snapshots:
        if snapshot.score is not None:  # drivers stored whole: they still add up
            total = 50 + sum(d["points"] for d in snapshot.drivers)
            assert total == pytest.approx(snapshot.score, abs=1e-6)
            assert snapshot.profile_version == PROFILE.full_version


def test_ranking_and_bands_tell_the_story(engine: Engine) -> None:
    seed(engine)
    with session_scope(engine) as session:
        scored = score_all(session, PROFILE, day(0), save=False)
    order = [s.score.account_id for s in scored]
    assert order[0] == "poor"
    assert order[-1] == "silent"  # unscored last, never ranked as healthy
    accounts = by_id(scored)
    assert accounts["good"].score.band.value == "healthy"
    assert accounts["sour"].score.band.value != "healthy"  # good numbers, champion leaving
    assert accounts["sour"].score.versions == ("lexicon@v1",)


def test_as_of_uses_only_data_from_before(engine: Engine) -> None:
    seed(engine)
    as_of = day(-10)
    with session_scope(engine) as session:
        before = by_id(score_all(session, PROFILE, as_of, save=False))
    with session_scope(engine) as session:  # things that happen after as-of
        add_metrics(session, "good", day(-2), POOR)
        add_conversation(session, "good", day(-1), CANCEL)
        add_conversation(session, "numbers", day(-9), CANCEL)
        add_conversation(session, "numbers", day(-9.5), CANCEL)
    with session_scope(engine) as session:
        after = by_id(score_all(session, PROFILE, as_of, save=False))
        now = by_id(score_all(session, PROFILE, day(0), save=False))
    for account, scored in before.items():
        assert after[account].score == scored.score, account
    assert now["good"].score.score != before["good"].score.score  # the new data does count now
    # "sour"'s champion-leaving call (day −4) is after as-of: not seen then
    names = {d.name for d in before["sour"].score.drivers}
    assert "risk_flag:champion_leaving" not in names


def test_trend_against_the_previous_run_and_30_days_ago(engine: Engine) -> None:
    seed(engine)
    scores = {}
    for as_of in (day(-31), day(-1), day(0)):
        if as_of == day(0):
            with session_scope(engine) as session:
                add_conversation(session, "good", day(-0.5), CHAMPION)
        with session_scope(engine) as session:
            scores[as_of] = by_id(score_all(session, PROFILE, as_of))["good"]
    latest = scores[day(0)]
    assert latest.previous_score == scores[day(-1)].score.score
    assert latest.score_30d_ago == scores[day(-31)].score.score
    assert latest.trend == pytest.approx(latest.score.score - scores[day(-1)].score.score)  # type: ignore[operator]
    assert latest.trend is not None
    assert latest.trend < 0
    assert scores[day(-1)].trend_30d is None  # 30 days before day −1: no snapshot in range
    with session_scope(engine) as session:
        stored = session.exec(
            select(ScoreSnapshot).where(
                ScoreSnapshot.account_id == "good", ScoreSnapshot.as_of == day(0)
            )
        ).one()
    assert stored.trend == pytest.approx(latest.trend)
    assert stored.trend_30d == pytest.approx(latest.trend_30d)


def test_paging_does_not_change_any_score(engine: Engine) -> None:
    seed(engine)
    with session_scope(engine) as session:
        pages: list[int] = []
        small: list[ScoredAccount] = []

        def collect(page: list[ScoredAccount]) -> None:
            pages.append(len(page))
            small.extend(page)

        recompute(session, PROFILE, day(0), save=False, page_size=2, on_page=collect)
        whole = score_all(session, PROFILE, day(0), save=False)
    assert pages == [2, 2, 1]
    assert by_id(small).keys() == by_id(whole).keys()
    for account, scored in by_id(whole).items():
        assert by_id(small)[account].score == scored.score


def test_score_account_equals_the_recompute(engine: Engine) -> None:
    seed(engine)
    with session_scope(engine) as session:
        everything = by_id(score_all(session, PROFILE, day(0), save=False))
        for account, scored in everything.items():
            assert score_account(session, PROFILE, account, day(0)) == scored.score


def test_a_segment_is_scored_with_its_own_profile(engine: Engine, tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_PROFILE_PATH.read_text(encoding="utf-8"))
    data["segments"] = [
        {
            "name": "enterprise",
            "when": {"segment": "enterprise"},
            "overrides": {"composite": {"qualitative_weight": 0.6}},
        }
    ]
    path = tmp_path / "segmented.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    profile = load_profile(path)
    seed(engine)
    with session_scope(engine) as session:
        add_account(session, "sour", segment="enterprise")
        scored = by_id(score_all(session, profile, day(0)))
    sour, good = scored["sour"], scored["good"]
    assert sour.segment == "enterprise"
    assert sour.score.weights["qualitative"] == pytest.approx(0.6)
    assert sour.score.profile_version == f"{profile.version}/enterprise@{profile.content_hash[:8]}"
    assert good.segment is None
    assert good.score.weights["qualitative"] == pytest.approx(0.35)
    with session_scope(engine) as session:
        stored = session.exec(select(ScoreSnapshot).where(ScoreSnapshot.account_id == "sour")).one()
    assert stored.segment == "enterprise"
    assert stored.profile_version == sour.score.profile_version


def test_snapshots_from_before_the_migration_are_kept_and_used(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0001")
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO accounts (id, created_at) VALUES ('old', :t)"),
                               {"t": datetime(2026, 1, 1, tzinfo=UTC)})  # fmt: skip
            connection.execute(
                text(
                    "INSERT INTO score_snapshots (account_id, as_of, computed_at, score, band, "
                    "confidence, weights, drivers, flags, versions, profile_version) VALUES "
                    "('old', :as_of, :as_of, 80, 'healthy', 1, '{}', '[]', '[]', '[]', 'v0')"
                ),
                {"as_of": day(-3)},
            )
        upgrade(engine)
        with session_scope(engine) as session:
            old = session.exec(select(ScoreSnapshot)).one()
            assert (old.run_id, old.expansion_ready, old.conditions) == (None, False, [])
            add_metrics(session, "old", day(-1), POOR)
        with session_scope(engine) as session:
            (scored,) = score_all(session, PROFILE, day(0))
        assert scored.previous_score == 80
        # healthy → critical, and NPS −40 while the score fell (vs. the previous snapshot)
        assert [t.kind.value for t in scored.triggers] == ["band_changed", "low_nps_declining"]
    finally:
        engine.dispose()
