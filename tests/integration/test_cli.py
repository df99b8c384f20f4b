"""The command line as a user meets it: demo, help, errors, metrics import, score JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convsignal.cli import app
from convsignal.store.engine import head_revision
from tests.integration.helpers import write_transcript

runner = CliRunner()


@pytest.fixture
def demo_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "--database", "demo.db"])
    assert result.exit_code == 0, result.output
    assert "1/3" in result.output
    assert "3/3" in result.output
    scored = runner.invoke(
        app,
        ["score", "--as-of", "2026-11-24", "--format", "json", "--no-save"],
        env={"CONVSIGNAL_DATABASE_URL": "sqlite:///demo.db"},
    )
    assert scored.exit_code == 0, scored.output
    return list(json.loads(scored.output))


def test_demo_scores_the_sample_accounts_as_a_cs_leader_would(
    demo_json: list[dict[str, object]],
) -> None:
    by_id = {row["account_id"]: row for row in demo_json}
    assert len(by_id) >= 12
    bands = {account: row["band"] for account, row in by_id.items()}
    # the quiet account is said to be quiet, never "healthy"
    assert bands["tidewater-ceramics"] == "insufficient_signal"
    assert by_id["tidewater-ceramics"]["score"] is None
    # the cancelling and the escalating accounts are the worst two
    worst_two = {row["account_id"] for row in demo_json[:2]}
    assert worst_two == {"kestrel-media", "ferrox-payments"}
    assert bands["kestrel-media"] in {"critical", "at_risk"}
    # the happy, expanding customer is healthy and the best scored
    assert bands["crestview-learning"] == "healthy"
    scored = [row for row in demo_json if row["score"] is not None]
    assert scored[-1]["account_id"] == "crestview-learning"
    # metrics look fine but the champion is leaving: conversations pull it out of healthy
    northwind = by_id["northwind-logistics"]
    assert bands["northwind-logistics"] != "healthy"
    negative = [d for d in northwind["drivers"] if d["points"] < 0]  # type: ignore[union-attr]
    assert min(negative, key=lambda d: d["points"])["name"] == "risk_flag:champion_leaving"
    # the budget-cut account is not healthy either
    assert bands["harbor-health-partners"] != "healthy"


def test_every_score_explains_itself(demo_json: list[dict[str, object]]) -> None:
    for row in demo_json:
        if row["score"] is None:
            assert row["band"] == "insufficient_signal"
            assert row["flags"]
            continue
        drivers = row["drivers"]
        assert drivers
        total = 50 + sum(d["points"] for d in drivers)  # type: ignore[union-attr]
        assert total == pytest.approx(row["score"], abs=1e-6), row["account_id"]
        assert row["profile_version"]
        assert row["versions"], row["account_id"]  # extractor@prompt versions behind events
        assert 0 <= row["confidence"] <= 1  # type: ignore[operator]


def test_second_demo_run_starts_fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = runner.invoke(app, ["demo"])
    second = runner.invoke(app, ["demo"])
    assert first.exit_code == second.exit_code == 0
    assert "0 skipped" in second.output  # a fresh database, not a re-run


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["ingest", "--help"],
        ["score", "--help"],
        ["metrics", "import", "--help"],
        ["db", "upgrade", "--help"],
        ["demo", "--help"],
    ],
)
def test_help_teaches(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_unknown_extractor_lists_the_known_ones(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["ingest", str(tmp_path), "--extractor", "gpt-9"],
        env={"CONVSIGNAL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"},
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, Exception)
    assert "known: anthropic, lexicon, openai, openai-compatible" in str(result.exception)


def test_metrics_import_keeps_good_rows_and_names_bad_ones(tmp_path: Path) -> None:
    csv = tmp_path / "m.csv"
    csv.write_text(
        "account_id,as_of,nps,csat\n"
        "acme,2026-11-01,20,4.2\n"
        "beta,not-a-date,10,4\n"
        "gamma,2026-11-01,lots,4\n"
        "delta,2026-11-01,,\n"
    )
    env = {"CONVSIGNAL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = runner.invoke(app, ["metrics", "import", str(csv)], env=env)
    assert result.exit_code == 1
    assert "imported 2 rows" in result.output
    assert "2 rejected" in result.output
    assert f"{csv}:line 3: as_of is not an ISO date" in result.output
    assert f"{csv}:line 4: column 'nps' is not a number" in result.output
    scored = runner.invoke(app, ["score", "--format", "json", "--as-of", "2026-11-02"], env=env)
    rows = {row["account_id"]: row for row in json.loads(scored.output)}
    assert set(rows) == {"acme", "delta"}
    # two measures are far below the coverage needed, so no score is invented
    assert rows["acme"]["band"] == "insufficient_signal"


def test_ingest_exit_code_and_summary(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    write_transcript(exports, "ok", lines=["Dana Whitfield: We will renew, no doubt."])
    (exports / "bad.txt").write_text("---\naccount: x\n")
    env = {"CONVSIGNAL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    first = runner.invoke(app, ["ingest", str(exports)], env=env)
    assert first.exit_code == 1
    assert "1 processed" in first.output
    assert "1 failed" in first.output
    assert "never closed" in first.output
    assert "keyword baseline" in first.output
    (exports / "bad.txt").unlink()
    second = runner.invoke(app, ["ingest", str(exports)], env=env)
    assert second.exit_code == 0
    assert "1 skipped as already done" in second.output


def test_db_upgrade_and_status(tmp_path: Path) -> None:
    env = {"CONVSIGNAL_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    first = runner.invoke(app, ["db", "upgrade"], env=env)
    assert "upgraded from empty" in first.output
    again = runner.invoke(app, ["db", "upgrade"], env=env)
    assert "already at" in again.output
    status = runner.invoke(app, ["db", "status"], env=env)
    assert f"current revision: {head_revision()}" in status.output


def test_bad_as_of_is_a_clear_error(tmp_path: Path) -> None:
    env = {"CONVSIGNAL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = runner.invoke(app, ["score", "--as-of", "last tuesday"], env=env)
    assert result.exit_code != 0
    assert "ISO date" in str(result.exception)


def test_errors_reach_the_user_as_one_line_and_exit_2(tmp_path: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "from convsignal.cli import main; main()", "score", "--as-of", "x"],
        env={"CONVSIGNAL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: --as-of 'x' is not an ISO date")
    assert "Traceback" not in result.stderr


def test_demo_never_replaces_a_file_that_is_not_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    precious = tmp_path / "thesis.db"
    precious.write_text("years of work")
    result = runner.invoke(app, ["demo", "--database", str(precious)])
    assert result.exit_code != 0
    assert "not a convsignal database" in str(result.exception)
    assert precious.read_text() == "years of work"


def test_plan_from_the_metrics_csv_selects_a_segment_profile(tmp_path: Path) -> None:
    import yaml

    from convsignal.score.profile import DEFAULT_PROFILE_PATH

    profile = yaml.safe_load(DEFAULT_PROFILE_PATH.read_text())
    profile["segments"] = [
        {"name": "gold", "when": {"plan": "gold"}, "overrides": {"bands": {"healthy": 99}}}
    ]
    profile_path = tmp_path / "profile.yaml"
    profile_path.write_text(yaml.safe_dump(profile))
    csv = tmp_path / "m.csv"
    csv.write_text(
        "account_id,as_of,plan,attr_region,licensed_seats,active_users,usage_trend_pct,"
        "feature_adoption_pct,open_critical_tickets,csat,days_payment_late,nps\n"
        "a-gold,2026-11-01,gold,emea,100,90,10,80,0,4.6,0,50\n"
        "b-std,2026-11-01,standard,apac,100,90,10,80,0,4.6,0,50\n"
    )
    env = {"CONVSIGNAL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    imported = runner.invoke(app, ["metrics", "import", str(csv)], env=env)
    assert imported.exit_code == 0, imported.output
    scored = runner.invoke(
        app,
        ["score", "--as-of", "2026-11-02", "--format", "json", "--profile", str(profile_path)],
        env=env,
    )
    rows = {row["account_id"]: row for row in json.loads(scored.output)}
    assert rows["a-gold"]["score"] == pytest.approx(rows["b-std"]["score"])  # same numbers
    assert "/gold@" in rows["a-gold"]["profile_version"]
    assert "/gold@" not in rows["b-std"]["profile_version"]
    assert rows["a-gold"]["score"] < 99
    assert rows["a-gold"]["band"] != "healthy"  # the gold plan's stricter band edge
    assert rows["b-std"]["band"] == "healthy"


def test_metrics_import_from_json_names_bad_records_by_json_path(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps(
            {
                "metrics": [
                    {"account_id": "acme", "as_of": "2026-11-01", "nps": 20, "csat": None},
                    {"account_id": "beta", "as_of": "2026-11-01", "nps": "lots"},
                    "not a record",
                ]
            }
        )
    )
    env = {"CONVSIGNAL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    result = runner.invoke(app, ["metrics", "import", str(path)], env=env)
    assert result.exit_code == 1
    assert "imported 1 rows (1 values)" in result.output  # null csat: not measured
    assert f"{path}:$.metrics[1]: column 'nps' is not a number" in result.output
    assert f"{path}:$.metrics[2]: record is not an object" in result.output
