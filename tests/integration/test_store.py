"""Store on SQLite and on the local PostgreSQL: migrations, idempotency key, no text columns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import IntegrityError

from convsignal.domain import (
    Channel,
    ExtractedSignal,
    ExtractionResult,
    Role,
    ScrubbedConversation,
    ScrubbedTurn,
    SignalKind,
    SourceLocator,
)
from convsignal.store import repository
from convsignal.store.engine import current_revision, head_revision, session_scope

WHEN = datetime(2026, 10, 1, 15, 0, tzinfo=UTC)


def scrubbed(content_hash: str = "a" * 64, account: str = "acme") -> ScrubbedConversation:
    return ScrubbedConversation(
        source_id="call-1",
        account_id=account,
        channel=Channel.CALL,
        occurred_at=WHEN,
        content_hash=content_hash,
        turns=(ScrubbedTurn("<CUSTOMER_1>", "we plan to cancel", Role.CUSTOMER),),
        locator=SourceLocator("plaintext", "calls/one.txt"),
        participant_roles=(Role.CUSTOMER, Role.VENDOR, Role.VENDOR),
    )


RESULT = ExtractionResult(
    extractor_id="lexicon",
    prompt_version="v1",
    signals=(
        ExtractedSignal(SignalKind.RISK_FLAG, "cancellation_intent", 0.8, Role.CUSTOMER, "x" * 500),
    ),
)


def test_migrations_reach_head(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {
        "accounts", "conversations", "signal_events", "metric_snapshots", "score_snapshots",
        "dead_letters", "extraction_runs", "conversation_extractions",
    } <= tables  # fmt: skip


def test_no_column_can_hold_conversation_text(engine: Engine) -> None:
    """Only the evidence column may hold scrubbed text, and it is bounded to 200 chars."""
    inspector = inspect(engine)
    for table in inspector.get_table_names():
        for column in inspector.get_columns(table):
            name = column["name"]
            assert not any(word in name for word in ("text", "body", "transcript", "content")) or (
                name == "content_hash"
            ), f"{table}.{name} looks like a text column"
            if table == "signal_events" and name == "evidence":
                assert column["type"].length == 200


def test_save_extraction_stores_events_and_marks_done(engine: Engine) -> None:
    with session_scope(engine) as session:
        stored = repository.save_extraction(session, scrubbed(), RESULT, run_id=None)
    assert stored == 1
    with session_scope(engine) as session:
        assert repository.is_extracted(session, "a" * 64, "lexicon", "v1")
        assert not repository.is_extracted(session, "a" * 64, "lexicon", "v2")
        events = repository.events_in_window(session, "acme", WHEN, WHEN)
        counts = repository.count_rows(session)
    assert len(events) == 1
    assert len(events[0].evidence) == 200  # truncated, never longer
    assert events[0].occurred_at == WHEN  # timezone-aware UTC round trip
    assert counts["conversations"] == 1
    assert counts["accounts"] == 1


def test_same_extraction_twice_is_refused(engine: Engine) -> None:
    with session_scope(engine) as session:
        repository.save_extraction(session, scrubbed(), RESULT, run_id=None)
    with pytest.raises(IntegrityError), session_scope(engine) as session:
        repository.save_extraction(session, scrubbed(), RESULT, run_id=None)
    with session_scope(engine) as session:
        assert repository.count_rows(session)["signal_events"] == 1  # rolled back whole


def test_new_prompt_version_reuses_the_conversation_row(engine: Engine) -> None:
    with session_scope(engine) as session:
        repository.save_extraction(session, scrubbed(), RESULT, run_id=None)
        newer = ExtractionResult("lexicon", "v2", RESULT.signals)
        repository.save_extraction(session, scrubbed(), newer, run_id=None)
    with session_scope(engine) as session:
        counts = repository.count_rows(session)
    assert counts["conversations"] == 1
    assert counts["conversation_extractions"] == 2


def test_metrics_upsert_replaces_and_latest_respects_as_of(engine: Engine) -> None:
    early, late = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        repository.ensure_account(session, "acme", name="Acme", segment="smb")
        repository.upsert_metrics(session, [("acme", "nps", early, 10.0)], source="a.csv")
        repository.upsert_metrics(session, [("acme", "nps", late, 30.0)], source="a.csv")
        repository.upsert_metrics(session, [("acme", "nps", late, 40.0)], source="b.csv")
    with session_scope(engine) as session:
        assert repository.latest_metrics(session, "acme", late)["nps"] == (40.0, late)
        assert repository.latest_metrics(session, "acme", early)["nps"] == (10.0, early)
        assert repository.count_rows(session)["metric_snapshots"] == 2


def test_migrations_match_the_models(engine: Engine) -> None:
    """A model change without a migration fails here, on SQLite and on PostgreSQL."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlmodel import SQLModel

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
