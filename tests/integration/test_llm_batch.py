"""Batch APIs end to end: submit, poll, reconcile every custom_id, resume after a stop."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from convsignal.batch import BatchRunner, BatchSummary, custom_id
from convsignal.extract.pricing import load_prices
from convsignal.extract.providers.batch import batch_api
from convsignal.store.engine import session_scope
from convsignal.store.tables import BatchItem, BatchJob, ConversationExtraction, DeadLetter
from convsignal.testing import FakeLLMServer, signals_answer
from tests.integration.llm_helpers import llm_extractor, llm_pipeline, write_keyed


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    return folder


def runner_for(engine: Engine, base_url: str, provider: str) -> BatchRunner:
    model = "claude-sonnet-4-test" if provider == "anthropic" else "gpt-4o-mini"
    extractor = llm_extractor(base_url, provider=provider, model=model)
    pipeline = llm_pipeline(engine, extractor)
    prices = load_prices()
    return BatchRunner(
        pipeline,
        batch_api(extractor.config),
        provider=provider,
        extractor_id=extractor.extractor_id,
        prompt=extractor.prompt,
        max_chunk_chars=extractor.config.max_chunk_chars,
        batch_discount_cost=lambda usage: prices.cost(extractor.extractor_id, usage, batch=True),
    )


def drain(runner: BatchRunner, summary: BatchSummary, polls: int = 10) -> None:
    for _ in range(polls):
        jobs = runner.open_jobs()
        if not jobs:
            return
        for job in jobs:
            if runner.poll(job).ended:
                runner.reconcile(job, summary)
    raise AssertionError("batches never ended")


def conversation_hash(engine: Engine, key: str) -> str:
    from convsignal.store.tables import ConversationRecord

    with session_scope(engine) as session:
        record = session.exec(
            select(ConversationRecord).where(ConversationRecord.source_id == key)
        ).one()
    return record.content_hash


@pytest.mark.parametrize("provider", ["anthropic", "openai"])
def test_every_custom_id_is_accounted_for(engine: Engine, exports: Path, provider: str) -> None:
    keys = write_keyed(exports, 6)
    answers = {keys[0]: signals_answer("negative", risk_flags=["cancellation_intent"])}
    with FakeLLMServer(answers=answers, batch_polls=2) as server:
        base = server.base_url if provider == "anthropic" else server.openai_base_url
        runner = runner_for(engine, base, provider)
        summary = BatchSummary()
        runner.submit([exports], summary)
        assert summary.submitted_conversations == 6
        # the provider decides some fates; the rest succeed
        failing = {keys[1]: "errored", keys[2]: "expired"}
        for key, outcome in failing.items():
            server.set_batch_outcome(custom_id(conversation_hash(engine, key), 1), outcome)  # type: ignore[arg-type]
        drain(runner, summary)
    assert summary.succeeded == 4
    assert summary.failed == 2
    with session_scope(engine) as session:
        extractions = session.exec(select(ConversationExtraction)).all()
        letters = session.exec(select(DeadLetter)).all()
        items = session.exec(select(BatchItem)).all()
        job = session.exec(select(BatchJob)).one()
    assert len(extractions) == 4
    assert len(letters) == 2
    assert all(letter.stage == "extract" for letter in letters)
    assert {item.status for item in items} == {"succeeded", "failed"}
    assert job.status == "reconciled"
    assert summary.cost_usd > 0  # priced at the batch discount


def test_a_stopped_cli_resumes_polling_and_nothing_is_submitted_twice(
    engine: Engine, exports: Path
) -> None:
    write_keyed(exports, 3)
    with FakeLLMServer(batch_polls=3) as server:
        first = runner_for(engine, server.base_url, "anthropic")
        summary = BatchSummary()
        first.submit([exports], summary)  # then the CLI is stopped before the batch ends
        again = BatchSummary()
        second = runner_for(engine, server.base_url, "anthropic")
        second.submit([exports], again)  # the same files: already pending, not resent
        assert again.submitted_conversations == 0
        assert again.skipped == 3
        drain(second, again)
        third = BatchSummary()
        runner_for(engine, server.base_url, "anthropic").submit([exports], third)
    assert again.succeeded == 3
    assert third.skipped == 3  # done now
    with session_scope(engine) as session:
        assert len(session.exec(select(BatchJob)).all()) == 1
        assert len(session.exec(select(ConversationExtraction)).all()) == 3
