"""`convsignal override set|list|clear` as a CSM uses it, and what `score` shows after."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convsignal.cli import app
from convsignal.store.engine import make_engine, session_scope, upgrade
from tests.integration.scoring_helpers import CANCEL, POOR, add_conversation, add_metrics, day

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        add_metrics(session, "acme", day(-3), POOR)
        add_conversation(session, "acme", day(-10), CANCEL)
        add_conversation(session, "acme", day(-2), CANCEL)
    engine.dispose()
    return {"CONVSIGNAL_DATABASE_URL": url, "COLUMNS": "200"}


def invoke(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def scores(env: dict[str, str]) -> dict[str, object]:
    (row,) = json.loads(invoke(env, "score", "--format", "json", "--no-save"))
    return dict(row)


SET = ["override", "set", "acme", "--score", "62", "--author", "dana@vendor.example"]
REASON = ["--reason", "renewal signed on the phone"]


def test_set_list_score_clear(env: dict[str, str]) -> None:
    computed = scores(env)
    said = invoke(env, *SET, *REASON, "--days", "14")
    assert "override set for acme: 62 until" in said
    listed = invoke(env, "override", "list")
    assert "renewal signed on the phone" in listed
    assert "in force" in listed
    row = scores(env)
    # the computed score stays visible (approx: recency decay moves with the clock)
    assert row["score"] == pytest.approx(computed["score"])
    assert row["band"] == computed["band"]
    assert row["effective_score"] == 62
    assert row["effective_band"] == "attention"
    override = row["override"]
    assert isinstance(override, dict)
    assert override["author"] == "dana@vendor.example"
    table = invoke(env, "score", "--no-save")
    assert "62 attention by dana@vendor.example until" in table
    invoke(env, "override", "clear", "acme", "--author", "lee")
    assert scores(env)["override"] is None
    assert "no overrides in force" in invoke(env, "override", "list")
    history = json.loads(invoke(env, "override", "list", "--all", "--format", "json"))
    assert [h["status"].split(" ")[0] for h in history] == ["cleared"]
    assert history[0]["reason"] == "renewal signed on the phone"


def test_expiry_by_date(env: dict[str, str]) -> None:
    invoke(env, *SET, *REASON, "--expires", "2999-01-31")
    (row,) = json.loads(invoke(env, "override", "list", "--format", "json"))
    assert row["expires_at"].startswith("2999-01-31T23:59:59")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([*SET, "--reason", " "], "needs a --reason"),
        ([*SET, *REASON, "--expires", "2020-01-01"], "not in the future"),
        (
            ["override", "set", "ghost", "--score", "5", "--author", "a", *REASON],
            "unknown account 'ghost'",
        ),
        (["override", "clear", "acme", "--author", "lee"], "no override in force for 'acme'"),
    ],
)
def test_mistakes_are_one_clear_error(env: dict[str, str], args: list[str], message: str) -> None:
    result = runner.invoke(app, args, env=env)
    assert result.exit_code != 0
    assert message in str(result.exception)
