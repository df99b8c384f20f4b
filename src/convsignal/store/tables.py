"""Tables. No column anywhere holds conversation text (invariant 1).

What is kept per conversation: ids, account, channel, timestamps, participant roles and
counts, a SHA-256 of the content, and the extracted events with scrubbed evidence ≤ 200 chars.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
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
    # plan, industry, region, … from the metrics CSV: what per-segment profiles can match on
    attributes: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
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
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    requests: int = 0


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
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    requests: int = 0
    cost_usd: float = 0.0
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
    """One account's score in one run. The computed score is never replaced by an override:
    an active override is stored beside it."""

    __tablename__ = "score_snapshots"
    __table_args__ = (
        Index("ix_score_snapshots_account_as_of", "account_id", "as_of"),
        Index("ix_score_snapshots_run_account", "run_id", "account_id"),
    )

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
    # Added by the scoring engine (migration 0002): run, segment, time and override columns.
    run_id: int | None = Field(default=None, foreign_key="score_runs.id")
    segment: str | None = Field(default=None, max_length=24)
    trend: float | None = None  # vs. the previous snapshot
    trend_30d: float | None = None  # vs. the snapshot about 30 days earlier
    expansion: float | None = None
    expansion_ready: bool = False
    expansion_drivers: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    risk_since: datetime | None = None  # at_risk or critical without a break since then
    conditions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    override_id: int | None = Field(default=None, foreign_key="score_overrides.id")
    override_score: float | None = None
    override_band: str | None = Field(default=None, max_length=30)


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


class BatchJob(SQLModel, table=True):
    """A batch submitted to a provider's batch API; polled and reconciled until closed."""

    __tablename__ = "batch_jobs"

    id: int | None = Field(default=None, primary_key=True)
    provider: str = Field(max_length=40)
    provider_batch_id: str = Field(max_length=200, index=True)
    extractor_id: str = Field(max_length=200)
    prompt_version: str = Field(max_length=64)
    run_id: int | None = Field(default=None, foreign_key="extraction_runs.id")
    status: str = Field(default="submitted", max_length=20)  # submitted | reconciled
    request_count: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    reconciled_at: datetime | None = None


class BatchItem(SQLModel, table=True):
    """One conversation in a batch; `custom_id` is its content hash. No text is kept: the
    conversation's metadata row exists from submission on, its events arrive with the results."""

    __tablename__ = "batch_items"
    __table_args__ = (UniqueConstraint("batch_job_id", "custom_id", name="uq_batch_item"),)

    id: int | None = Field(default=None, primary_key=True)
    batch_job_id: int = Field(foreign_key="batch_jobs.id", index=True)
    conversation_id: int = Field(foreign_key="conversations.id", index=True)
    custom_id: str = Field(max_length=64)
    status: str = Field(default="pending", max_length=20)  # pending | succeeded | failed


class ScoreRun(SQLModel, table=True):
    """One recompute of every account (`convsignal score`): its snapshots point here."""

    __tablename__ = "score_runs"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    as_of: datetime
    profile_version: str = Field(max_length=64)
    status: str = Field(default="running", max_length=20)
    accounts: int = 0
    scored: int = 0  # accounts with a score (not insufficient_signal)
    triggers: int = 0


class ScoreOverride(SQLModel, table=True):
    """A CSM's score for an account, with why, who and until when. Only typed reasons are
    stored here, never conversation text."""

    __tablename__ = "score_overrides"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=200)
    score: float
    reason: str = Field(max_length=500)
    author: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    cleared_at: datetime | None = None
    cleared_by: str | None = Field(default=None, max_length=200)


class PlaybookTrigger(SQLModel, table=True):
    """A playbook trigger raised by a scoring run, waiting for the API's webhooks.

    `detail` holds numbers, dates and band names only."""

    __tablename__ = "playbook_triggers"

    id: int | None = Field(default=None, primary_key=True)
    account_id: str = Field(foreign_key="accounts.id", index=True, max_length=200)
    run_id: int | None = Field(default=None, foreign_key="score_runs.id", index=True)
    snapshot_id: int | None = Field(default=None, foreign_key="score_snapshots.id")
    kind: str = Field(max_length=40)
    as_of: datetime
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    profile_version: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = Field(default=None, index=True)


from convsignal.store import api_tables as _api_tables  # noqa: E402, F401  (registers ApiKey)
from convsignal.store import job_tables as _job_tables  # noqa: E402, F401  (jobs, webhooks)
from convsignal.store import review_tables as _review_tables  # noqa: E402, F401  (review)
