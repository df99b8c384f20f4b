"""`convsignal extract` as a user meets it, against the fake server."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from convsignal.cli import app
from convsignal.testing import FakeLLMServer, FaultKind, FaultRule, signals_answer
from tests.integration.llm_helpers import write_keyed

runner = CliRunner()
MODEL = "anthropic/claude-sonnet-4-test"


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def env_for(tmp_path: Path, base_url: str, **extra: str) -> dict[str, str]:
    return {
        "CONVSIGNAL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "CONVSIGNAL_LLM_BASE_URL": base_url,
        "ANTHROPIC_API_KEY": "test-key",
        **extra,
    }


def test_missing_key_names_the_variable(tmp_path: Path, exports: Path) -> None:
    result = runner.invoke(
        app,
        ["extract", str(exports), "--extractor", MODEL],
        env={"CONVSIGNAL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "ANTHROPIC_API_KEY": ""},
    )
    assert result.exit_code != 0
    assert "ANTHROPIC_API_KEY" in str(result.exception)


def test_extract_prints_tokens_and_cost(tmp_path: Path, exports: Path) -> None:
    write_keyed(exports, 3)
    with FakeLLMServer() as server:
        result = runner.invoke(
            app,
            ["extract", str(exports), "--extractor", MODEL],
            env=env_for(tmp_path, server.base_url),
        )
    assert result.exit_code == 0, result.output
    assert "3 processed" in result.output
    assert "tokens:" in result.output
    assert "cost $" in result.output
    assert "keyword baseline" not in result.output  # an LLM ran, no baseline notice


def test_retry_failed_takes_the_dead_letters_again(tmp_path: Path, exports: Path) -> None:
    keys = write_keyed(exports, 3)
    env = env_for(tmp_path, "")
    with FakeLLMServer(faults=[FaultRule(FaultKind.SCHEMA_VIOLATION, keys={keys[0]})]) as server:
        env["CONVSIGNAL_LLM_BASE_URL"] = server.base_url
        first = runner.invoke(app, ["extract", str(exports), "--extractor", MODEL], env=env)
        assert first.exit_code == 1
        assert "1 failed" in first.output
        server.clear_faults()
        retry = runner.invoke(app, ["extract", "--retry-failed", "--extractor", MODEL], env=env)
    assert retry.exit_code == 0, retry.output
    assert "1 processed" in retry.output
    assert "0 skipped" in retry.output  # only the failed file is read again


def test_batch_from_the_command_line(tmp_path: Path, exports: Path) -> None:
    keys = write_keyed(exports, 4)
    answers = {keys[0]: signals_answer("negative", risk_flags=["champion_leaving"])}
    with FakeLLMServer(answers=answers, batch_polls=2) as server:
        env = env_for(tmp_path, server.base_url)
        submitted = runner.invoke(
            app, ["extract", str(exports), "--extractor", MODEL, "--batch", "--no-wait"], env=env
        )
        assert submitted.exit_code == 0, submitted.output
        assert "submitted 4 conversations in 1 batch(es)" in submitted.output
        assert "still running: 1" in submitted.output
        resumed = runner.invoke(
            app, ["extract", "--extractor", MODEL, "--batch", "--poll-seconds", "0"], env=env
        )
    assert resumed.exit_code == 0, resumed.output
    assert "4 stored" in resumed.output
    assert "still running: 0" in resumed.output
