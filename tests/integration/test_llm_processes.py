"""An LLM run sharded over worker processes (CONVSIGNAL_LLM_PROCESSES, `--processes`):
the same answers, errors and stops as in one process, against the fake server."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select
from typer.testing import CliRunner

from convsignal.cli import app
from convsignal.domain import Channel, Role, ScrubbedConversation, ScrubbedTurn, SourceLocator
from convsignal.errors import ExtractionError
from convsignal.extract.providers.sharded import ShardedExtractor
from convsignal.store.engine import session_scope
from convsignal.store.tables import DeadLetter, ExtractionRun
from convsignal.testing import FakeLLMServer, FaultKind, FaultRule, signals_answer
from tests.integration.llm_helpers import llm_extractor, llm_pipeline, write_keyed


def conversation(key: str) -> ScrubbedConversation:
    return ScrubbedConversation(
        source_id=key,
        account_id="acme",
        channel=Channel.CALL,
        occurred_at=datetime(2026, 10, 1, tzinfo=UTC),
        content_hash=key.rjust(64, "0"),
        turns=(
            ScrubbedTurn("<CUSTOMER_1>", f"conversation-key: {key} Budget was cut.", Role.CUSTOMER),
        ),
        locator=SourceLocator("test", "memory"),
        participant_roles=(Role.CUSTOMER,),
    )


def test_answers_come_back_to_the_conversation_that_asked(tmp_path: Path) -> None:
    answers = {
        f"k{i}": signals_answer(
            "negative" if i % 2 else "positive", risk_flags=["budget_cuts"] if i % 2 else []
        )
        for i in range(12)
    }

    async def run(extractor: ShardedExtractor) -> list[tuple[str, str]]:
        try:
            results = await asyncio.gather(*(extractor.aextract(conversation(k)) for k in answers))
        finally:
            await extractor.aclose()
        return [
            (
                key,
                sorted(
                    s.signal_type for s in result.signals if s.kind.value == "risk_flag"
                ).__repr__(),
            )
            for key, result in zip(answers, results, strict=True)
        ]

    with FakeLLMServer(answers=answers) as server:
        extractor = llm_extractor(server.base_url, concurrency=4, processes=2)
        assert isinstance(extractor, ShardedExtractor)
        got = asyncio.run(run(extractor))
        served = len(server.requests)
    for key, flags in got:
        expected = "['budget_cuts']" if int(key[1:]) % 2 else "[]"
        assert flags == expected, key
    assert served == 12  # the warm start of each worker sends nothing


def test_a_schema_violation_in_a_worker_is_dead_lettered_as_in_one_process(
    engine: Engine, tmp_path: Path
) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    keys = write_keyed(exports, 4)
    rule = FaultRule(FaultKind.SCHEMA_VIOLATION, keys={keys[0]})
    with FakeLLMServer(faults=[rule]) as server:
        extractor = llm_extractor(server.base_url, processes=2)
        summary = llm_pipeline(engine, extractor).run([exports])
    assert (summary.processed, summary.failed) == (3, 1)
    # the failed one's usage (RetriesExhausted.usage) crossed the pipe and is billed too
    assert summary.usage.requests == 4
    with session_scope(engine) as session:
        (letter,) = session.exec(select(DeadLetter)).all()
    assert letter.error_type == "RetriesExhausted"
    assert "never matched the response schema" in letter.reason


def test_a_rejected_key_in_a_worker_stops_the_run(engine: Engine, tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    write_keyed(exports, 6)
    rule = FaultRule(FaultKind.SERVER_ERROR, status=401)
    with FakeLLMServer(faults=[rule]) as server:
        pipeline = llm_pipeline(engine, llm_extractor(server.base_url, concurrency=2, processes=2))
        with pytest.raises(ExtractionError, match="API key"):
            pipeline.run([exports])
    with session_scope(engine) as session:
        assert session.exec(select(DeadLetter)).all() == []
        assert session.exec(select(ExtractionRun)).one().status == "failed"


def test_a_killed_worker_fails_its_requests_in_flight_as_fatal() -> None:
    async def run(extractor: ShardedExtractor) -> list[BaseException | object]:
        workers = await extractor._started()
        calls = [asyncio.create_task(extractor.aextract(conversation(f"k{i}"))) for i in range(4)]
        await asyncio.sleep(0.5)  # every request is in a worker, answers take 3 s
        os.kill(workers[0].process.pid, signal.SIGKILL)
        try:
            return await asyncio.gather(*calls, return_exceptions=True)
        finally:
            await extractor.aclose()

    with FakeLLMServer(latency_ms=3000) as server:
        extractor = llm_extractor(server.base_url, concurrency=4, processes=2, timeout=10)
        outcomes = asyncio.run(run(extractor))
    lost = [o for o in outcomes if isinstance(o, ExtractionError)]
    assert len(lost) == 2  # the two on the killed worker; the other worker's two answered
    assert all(error.fatal for error in lost)
    assert "worker process 1 of 2 exited with code -9" in str(lost[0])
    assert sum(1 for o in outcomes if not isinstance(o, BaseException)) == 2


def test_processes_from_the_command_line(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    write_keyed(exports, 5)
    env = {
        "CONVSIGNAL_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "CONVSIGNAL_LLM_BASE_URL": "",
        "ANTHROPIC_API_KEY": "test-key",
    }
    with FakeLLMServer() as server:
        env["CONVSIGNAL_LLM_BASE_URL"] = server.base_url
        result = CliRunner().invoke(
            app,
            [
                "extract",
                str(exports),
                "--extractor",
                "anthropic/claude-sonnet-4-test",
                "--processes",
                "2",
            ],
            env=env,
        )
        served = len(server.requests)
    assert result.exit_code == 0, result.output
    assert "5 processed" in result.output
    assert served == 5


def test_a_worker_that_cannot_start_stops_the_run_with_its_reason() -> None:
    """Every caller waits for the workers to be ready; a worker that fails to start (here:
    the prompt files differ from the parent's) fails them all with its own fatal error."""
    from dataclasses import replace

    from convsignal.extract.prompts import load_prompt

    async def run(extractor: ShardedExtractor) -> list[BaseException | object]:
        try:
            calls = (extractor.aextract(conversation(f"k{i}")) for i in range(3))
            return await asyncio.gather(*calls, return_exceptions=True)
        finally:
            await extractor.aclose()

    with FakeLLMServer() as server:
        config = llm_extractor(server.base_url, processes=2).config
        stale = replace(load_prompt(), version="000000000000")
        outcomes = asyncio.run(run(ShardedExtractor(config, stale)))
        served = len(server.requests)
    assert all(isinstance(o, ExtractionError) and o.fatal for o in outcomes)
    assert "prompt files changed" in str(outcomes[0])
    assert served == 0
