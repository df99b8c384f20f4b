"""Request and response bodies of the scorer API (pydantic; they are the OpenAPI schemas).

Inputs are strict where a bad value would otherwise reach the database: ids and names
without control characters (PostgreSQL refuses NUL), finite numbers, dates between 1970 and
2200, bounded list sizes. Times are returned as ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from convsignal.domain import (
    Band,
    ExpansionSignal,
    Intent,
    RiskFlag,
    Role,
    SentimentLabel,
    SignalKind,
)

PLAIN = r"^[^\x00-\x1f\x7f]*$"  # no control characters
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
MAX_BATCH = 1000
MAX_MEASURES = 100
MAX_EVENTS = 5000
LABELS: dict[SignalKind, tuple[str, ...]] = {
    SignalKind.SENTIMENT: tuple(SentimentLabel),
    SignalKind.INTENT: tuple(Intent),
    SignalKind.RISK_FLAG: tuple(RiskFlag),
    SignalKind.EXPANSION_SIGNAL: tuple(ExpansionSignal),
}

AccountId = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
]
MeasureName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]*$")
]
ShortText = Annotated[str, StringConstraints(max_length=300, pattern=PLAIN)]


def _utc_in_range(value: datetime) -> datetime:
    value = value.replace(tzinfo=UTC) if value.utcoffset() is None else value
    if not EARLIEST <= value <= LATEST:
        raise ValueError("must be between 1970-01-01 and 2200-01-01")
    return value.astimezone(UTC)


Timestamp = Annotated[datetime, AfterValidator(_utc_in_range)]
Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- accounts and scores ------------------------------------------------------------------


class OverrideOut(BaseModel):
    id: int
    score: float
    band: Band
    reason: str
    author: str
    created_at: datetime
    expires_at: datetime


class AccountSummary(BaseModel):
    account_id: str
    name: str | None
    segment: str | None
    score: float | None = Field(description="the computed score (null: insufficient signal)")
    band: Band | None = Field(description="the computed band (null: not scored yet)")
    effective_score: float | None = Field(description="the override's score when one is in force")
    effective_band: Band | None
    confidence: float | None
    trend: float | None = Field(description="points vs. the previous snapshot")
    as_of: datetime | None
    overridden: bool


class RunRef(BaseModel):
    id: int
    as_of: datetime
    profile_version: str


class AccountPage(BaseModel):
    items: list[AccountSummary]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null: done")
    run: RunRef | None = Field(description="the score run the page is read from")


class DriverOut(BaseModel):
    source: str = Field(description="measure or event")
    name: str
    points: float = Field(description="signed score points; drivers sum to score − 50")
    detail: str = ""
    event_id: int | None = None
    value: float | None = Field(
        default=None, description="the measure's own value (measures only; null for events)"
    )


class ExpansionDriverOut(BaseModel):
    component: str
    value: float
    points: float


class ExpansionOut(BaseModel):
    score: float | None
    ready: bool
    drivers: list[ExpansionDriverOut]


class HistoryPoint(BaseModel):
    as_of: datetime
    score: float | None
    band: Band
    effective_score: float | None
    run_id: int | None


class AccountScore(BaseModel):
    account_id: str
    name: str | None
    segment: str | None
    as_of: datetime
    computed_at: datetime
    run_id: int | None
    score: float | None
    band: Band
    effective_score: float | None
    effective_band: Band
    quantitative: float | None
    qualitative: float | None
    weights: dict[str, Any]
    confidence: float
    drivers: list[DriverOut]
    flags: list[str]
    trend: float | None
    trend_30d: float | None
    expansion: ExpansionOut
    risk_since: datetime | None
    conditions: list[str]
    override: OverrideOut | None = Field(description="the override in force now, if any")
    profile_version: str
    versions: list[str] = Field(description="extractor@prompt versions behind the events")
    history: list[HistoryPoint] = Field(description="recent snapshots, newest first")


# ---- events -------------------------------------------------------------------------------


class EventOut(BaseModel):
    id: int
    conversation_id: int
    occurred_at: datetime
    kind: SignalKind
    signal_type: str
    score: float
    confidence: float
    speaker_role: str
    evidence: str = Field(description="scrubbed (PII replaced), at most 200 characters")
    extractor_id: str
    prompt_version: str


class EventPage(BaseModel):
    items: list[EventOut]
    next_cursor: str | None


# ---- metrics ------------------------------------------------------------------------------


class AccountMetrics(_In):
    """One account's measures at one date; a measure already stored for that date is replaced."""

    as_of: Timestamp
    measures: dict[MeasureName, Finite] = Field(max_length=MAX_MEASURES)
    name: ShortText | None = None
    segment: Annotated[str, StringConstraints(max_length=100, pattern=PLAIN)] | None = None
    attributes: dict[MeasureName, ShortText] = Field(default_factory=dict, max_length=50)


class MetricsItem(AccountMetrics):
    account_id: AccountId


class MetricsBatch(_In):
    items: list[MetricsItem] = Field(min_length=1, max_length=MAX_BATCH)


class MetricsWritten(BaseModel):
    accounts: int
    snapshots: int
    values: int


# ---- what-if scoring ----------------------------------------------------------------------


class EventIn(_In):
    kind: SignalKind
    signal_type: Annotated[str, StringConstraints(min_length=1, max_length=60, pattern=PLAIN)]
    score: Annotated[float, Field(ge=-1, le=1)] = 1.0
    confidence: Annotated[float, Field(ge=0, le=1)] = 1.0
    speaker_role: Role = Role.CUSTOMER
    occurred_at: Timestamp
    conversation: Annotated[str, StringConstraints(max_length=200, pattern=PLAIN)] | None = Field(
        default=None, description="events with the same value count as one conversation"
    )

    @model_validator(mode="after")
    def _known_type(self) -> EventIn:
        """The closed label set of the kind, as extraction produces (and stores) them."""
        known = LABELS[self.kind]
        if self.signal_type not in known:
            raise ValueError(f"signal_type of a {self.kind.value} is one of {', '.join(known)}")
        return self


class WhatIf(_In):
    """Score an account that exists only in this request: nothing is read or stored."""

    as_of: Timestamp | None = Field(default=None, description="default: now")
    account_id: AccountId = "what-if"
    segment: Annotated[str, StringConstraints(max_length=100, pattern=PLAIN)] | None = None
    attributes: dict[MeasureName, ShortText] = Field(default_factory=dict, max_length=50)
    measures: dict[MeasureName, Finite] = Field(default_factory=dict, max_length=MAX_MEASURES)
    events: list[EventIn] = Field(default_factory=list, max_length=MAX_EVENTS)
    conversations: Annotated[int, Field(ge=0, le=100_000)] | None = Field(
        default=None,
        description="conversations in the look-back window; default: one per distinct "
        "`conversation` of the events (an event without one is its own)",
    )
    last_contact: Timestamp | None = None
    previous_score: Annotated[float, Field(ge=0, le=100)] | None = None


class WhatIfScore(BaseModel):
    as_of: datetime
    score: float | None
    band: Band
    quantitative: float | None
    qualitative: float | None
    weights: dict[str, Any]
    confidence: float
    drivers: list[DriverOut]
    flags: list[str]
    trend: float | None
    expansion: ExpansionOut
    segment: str | None
    profile_version: str


# ---- overrides ----------------------------------------------------------------------------


class OverrideIn(_In):
    score: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=PLAIN)]
    author: Annotated[str, StringConstraints(max_length=200, pattern=PLAIN)] | None = Field(
        default=None, description="the CSM deciding; default: the API key's name"
    )
    expires_at: Timestamp | None = Field(default=None, description="default: now + `days`")
    days: Annotated[int, Field(ge=1, le=3650)] = 30


class OverrideCleared(BaseModel):
    account_id: str
    cleared: int


# ---- API keys -----------------------------------------------------------------------------


class ApiKeyOut(BaseModel):
    id: int
    prefix: str
    scope: str
    name: str
    created_at: datetime
    revoked_at: datetime | None
