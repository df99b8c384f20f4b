"""Tables of the scorer API's background work: the jobs queue and the webhook outbox.

No column holds conversation text in the clear. A job's submitted conversations live in
`jobs.payload`, Fernet-encrypted, and only until the job ends (then the column is NULL).
Webhook bodies hold ids, trigger kinds, numbers and band names; secrets are encrypted too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from convsignal.store.tables import utcnow


class Job(SQLModel, table=True):
    """One submission of conversations, processed by a background worker.

    status: queued → running → succeeded | partial | failed (a running job whose lease
    expired, or that a stopping worker released, goes back to queued)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_created", "status", "created_at"),)

    id: str = Field(primary_key=True, max_length=36)  # a UUID: job ids are not guessable
    status: str = Field(default="queued", max_length=20)
    payload: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    api_key_id: int | None = None  # who submitted it (no foreign key: keys may be deleted)
    conversations: int = 0
    stored: int = 0
    skipped: int = 0  # already extracted with this extractor and prompt version
    dead_lettered: int = 0
    reasons: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )  # [{record, stage, reason}], text-free like dead letters
    error: str | None = Field(default=None, max_length=500)
    extraction_run_id: int | None = Field(default=None, foreign_key="extraction_runs.id")
    attempts: int = 0
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_expires_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class WebhookSubscription(SQLModel, table=True):
    """Where to POST which playbook triggers. `triggers` holds TriggerKind values or "*"."""

    __tablename__ = "webhook_subscriptions"

    id: int | None = Field(default=None, primary_key=True)
    url: str = Field(max_length=2000)
    triggers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str | None = Field(default=None, max_length=200)
    secret: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # Fernet-encrypted
    created_at: datetime = Field(default_factory=utcnow)
    deleted_at: datetime | None = None


class WebhookDelivery(SQLModel, table=True):
    """One trigger for one subscription (the outbox row), retried until delivered or dead.

    status: pending → delivering → delivered | dead. `message_id` is the `webhook-id`
    header: the same on every attempt and replay, so receivers can de-duplicate."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "trigger_id", name="uq_delivery_trigger"),
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=40, unique=True)
    subscription_id: int = Field(foreign_key="webhook_subscriptions.id", index=True)
    trigger_id: int = Field(foreign_key="playbook_triggers.id", index=True)
    event_type: str = Field(max_length=60)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_expires_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=200)  # a cause, never a body
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class WebhookAttempt(SQLModel, table=True):
    """Every attempt: status code (or the error's type), latency. Never a body."""

    __tablename__ = "webhook_attempts"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_deliveries.id", index=True)
    attempt: int
    attempted_at: datetime = Field(default_factory=utcnow)
    status_code: int | None = None
    latency_ms: float = 0.0
    error: str | None = Field(default=None, max_length=200)
