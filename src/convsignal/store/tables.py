"""Tables. No column anywhere holds conversation text (invariant 1).

What is kept per conversation: ids, account, channel, timestamps, participant roles and
counts, a SHA-256 of the content, and the extracted events with scrubbed evidence ≤ 200 chars.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC: sqlmodel's UTCDateTime columns refuse naive values and return UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive values are taken as UTC (what SQLite and CSV files give back)."""
    return value.replace(tzinfo=UTC) if value.utcoffset() is None else value.astimezone(UTC)


class Account(SQLModel, table=True):
    __tablename__ = "accounts"

    id: str = Field(primary_key=True, max_length=200)
    name: str | None = Field(default=None, max_length=300)
    segment: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class ConversationRecord(SQLModel, table=True):
    """Metadata of one conversation; the text itself is never stored."""

    __tablename__ = "conversations"

    id: int | None = Field(default=None, primary_key=True)
    content_hash: str = Field(max_length=64, unique=True, index=True)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=200)
    source_id: str = Field(max_length=300)
    source_format: str = Field(max_length=50)
    source_file: str = Field(max_length=1000)
    source_record: str | None = Field(default=None, max_length=300)
    channel: str = Field(max_length=20)
    occurred_at: datetime = Field(index=True)
    turn_count: int = 0
    customer_participants: int = 0
    vendor_participants: int = 0
    unknown_participants: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class ExtractionRun(SQLModel, table=True):
    __tablename__ = "extraction_runs"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    extractor_id: str = Field(max_length=200)
    prompt_version: str = Field(max_length=64)
    status: str = Field(default="running", max_length=20)
    processed: int = 0
    skipped: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


class ConversationExtraction(SQLModel, table=True):
    """Marks a conversation done for one extractor + prompt version (the idempotency key).

    Written in the same transaction as its events, so a killed run leaves either both or
    neither, and a re-run skips exactly what was finished.
    """

    __tablename__ = "conversation_extractions"
    __table_args__ = (
        UniqueConstraint("conversation_id", "extractor_id", "prompt_version", name="uq_extraction"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversations.id", index=True)
    extractor_id: str = Field(max_length=200)
    prompt_version: str = Field(max_length=64)
    run_id: int | None = Field(default=None, foreign_key="extraction_runs.id")
    event_count: int = 0
    pii_redacted_in_output: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class SignalEventRecord(SQLModel, table=True):
    __tablename__ = "signal_events"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=200)
    conversation_id: int = Field(foreign_key="conversations.id", index=True)
    extraction_id: int = Field(foreign_key="conversation_extractions.id", index=True)
    occurred_at: datetime = Field(index=True)
    kind: str = Field(max_length=30)
    signal_type: str = Field(max_length=60)
    score: float = 1.0
    confidence: float = 1.0
    speaker_role: str = Field(max_length=20)
    evidence: str = Field(default="", max_length=200)  # scrubbed, re-scanned, ≤ 200 chars
    extractor_id: str = Field(max_length=200)
    prompt_version: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class MetricSnapshot(SQLModel, table=True):
    """One quantitative measure of one account at one date (long form: new measures need no
    migration)."""

    __tablename__ = "metric_snapshots"
    __table_args__ = (UniqueConstraint("account_id", "measure", "as_of", name="uq_metric"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=200)
    measure: str = Field(max_length=100)
    as_of: datetime = Field(index=True)
    value: float
    source: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)


class ScoreSnapshot(SQLModel, table=True):
    __tablename__ = "score_snapshots"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=200)
    as_of: datetime = Field(index=True)
    computed_at: datetime = Field(default_factory=utcnow)
    score: float | None = None
    band: str = Field(max_length=30)
    quantitative: float | None = None
    qualitative: float | None = None
    confidence: float = 0.0
    weights: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    drivers: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    versions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    profile_version: str = Field(max_length=64)


class DeadLetter(SQLModel, table=True):
    """An input that could not become events, with why. Never holds conversation text."""

    __tablename__ = "dead_letters"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int | None = Field(default=None, foreign_key="extraction_runs.id")
    stage: str = Field(max_length=20)  # ingest | scrub | extract | store
    source_file: str = Field(max_length=1000)
    source_record: str | None = Field(default=None, max_length=300)
    content_hash: str | None = Field(default=None, max_length=64, index=True)
    error_type: str = Field(max_length=100)
    reason: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None
