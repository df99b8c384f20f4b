"""`convsignal profile show|validate` and the new parts of `convsignal score` output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from convsignal.cli import app
from convsignal.score.profile import DEFAULT_PROFILE_PATH, load_profile
from convsignal.store.engine import make_engine, session_scope, upgrade
from tests.integration.scoring_helpers import (
    CANCEL,
    GOOD,
    POOR,
    RENEW,
    add_conversation,
    add_metrics,
    day,
)

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with session_scope(engine) as session:
        add_metrics(session, "acme", day(-40), GOOD)
        add_conversation(session, "acme", day(-50), RENEW)
        add_conversation(session, "acme", day(-45), RENEW)
        add_metrics(session, "acme", day(-2), POOR)
        add_conversation(session, "acme", day(-1), CANCEL)
    engine.dispose()
    return {"CONVSIGNAL_DATABASE_URL": url}


def score_json(env: dict[str, str], as_of: str, *extra: str) -> list[dict[str, object]]:
    result = runner.invoke(app, ["score", "--as-of", as_of, "--format", "json", *extra], env=env)
    assert result.exit_code == 0, result.output
    return list(json.loads(result.output))


def test_score_json_carries_trends_expansion_override_and_triggers(env: dict[str, str]) -> None:
    score_json(env, day(-35).isoformat())  # a snapshot 35 days earlier: healthy then
    (row,) = score_json(env, day(0).isoformat())
    assert row["band"] == "critical"
    assert isinstance(row["trend_30d"], float)
    assert row["trend_30d"] == pytest.approx(row["trend"])  # the one earlier snapshot
    assert row["trend_30d"] < -15
    assert [t["kind"] for t in row["triggers"]][:2] == ["band_changed", "score_drop"]  # type: ignore[index]
    assert set(row["expansion"]) == {"score", "ready", "drivers", "coverage"}  # type: ignore[arg-type]
    assert row["override"] is None
    assert row["effective_score"] == row["score"]
    assert row["effective_band"] == row["band"]


def test_score_table_lists_the_triggers(env: dict[str, str]) -> None:
    runner.invoke(app, ["score", "--as-of", day(-35).isoformat()], env=env)
    result = runner.invoke(app, ["score", "--as-of", day(0).isoformat()], env=env)
    assert result.exit_code == 0, result.output
    assert "playbook triggers: " in result.output
    assert "acme: band_changed (from healthy, to critical" in result.output
    assert "Δ30" in result.output


def test_no_save_stores_nothing(env: dict[str, str]) -> None:
    score_json(env, day(0).isoformat(), "--no-save")
    (row,) = score_json(env, day(0).isoformat())
    assert row["trend"] is None  # no earlier snapshot was kept


# ---------------------------------------------------------------- profile show / validate


def test_profile_show_prints_the_file_with_its_comments() -> None:
    result = runner.invoke(app, ["profile", "show"])
    assert result.exit_code == 0, result.output
    assert "# convsignal default scoring profile" in result.output
    assert f"version {load_profile().full_version}" in result.output


def test_profile_show_resolved_applies_a_segment(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_PROFILE_PATH.read_text(encoding="utf-8"))
    data["segments"] = [
        {"name": "smb", "when": {"segment": "smb"}, "overrides": {"bands": {"healthy": 80}}}
    ]
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(
        app, ["profile", "show", "--profile", str(path), "--resolved", "--segment", "smb"]
    )
    assert result.exit_code == 0, result.output
    shown = yaml.safe_load(result.output.split("\n", 1)[1])  # after the version line
    assert shown["bands"] == {"healthy": 80.0, "attention": 50.0, "at_risk": 30.0}
    assert shown["segment"] == "smb"
    unknown = runner.invoke(
        app, ["profile", "show", "--profile", str(path), "--resolved", "--segment", "gold"]
    )
    assert unknown.exit_code != 0
    assert "no segment 'gold' (segments: smb)" in str(unknown.exception)


def test_profile_validate_summarises_a_valid_file() -> None:
    result = runner.invoke(app, ["profile", "validate", str(DEFAULT_PROFILE_PATH)])
    assert result.exit_code == 0, result.output
    assert "is a valid scoring profile" in result.output
    assert "group usage 30%: seat_utilisation 18%, usage_trend_pct 12%" in result.output
    assert "bands: healthy ≥ 70, attention ≥ 50, at_risk ≥ 30" in result.output
    assert "warning" not in result.output


def test_profile_validate_warns_about_unused_settings(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_PROFILE_PATH.read_text(encoding="utf-8"))
    data["quantitative"]["curves"]["logins"] = [[0, 0], [1, 100]]
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = runner.invoke(app, ["profile", "validate", str(path)])
    assert result.exit_code == 0
    assert f"warning: {path}: quantitative.curves.logins: no group scores" in result.output


def test_profile_validate_names_file_and_field_and_exits_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    data = yaml.safe_load(DEFAULT_PROFILE_PATH.read_text(encoding="utf-8"))
    data["bands"]["healthy"] = 10
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from convsignal.cli import main; main()",
            "profile",
            "validate",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    stderr = " ".join(result.stderr.split())  # rich wraps long lines at the console width
    assert stderr.startswith(f"error: {path}: invalid scoring profile: bands")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("args", "teaches"),
    [
        (["profile", "--help"], "profile validate mine.yaml"),
        (["profile", "show", "--help"], "--resolved"),
        (["profile", "validate", "--help"], "exit code 2"),
        (["override", "--help"], "computed score is never hidden"),
        (["override", "set", "--help"], "--reason"),
        (["override", "clear", "--help"], "computed score is in force again"),
        (["override", "list", "--help"], "--all"),
        (["score", "--help"], "Δ30"),
    ],
)
def test_help_teaches(args: list[str], teaches: str) -> None:
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert teaches in result.output
