"""Shared value types.

This module imports nothing of convsignal's own: every layer may depend on it, it depends on
no layer. Types that hold conversation text (`Conversation`, `ScrubbedConversation`) live in
memory only; the store has no column for them (invariant 1 in ARCHITECTURE.md).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    CALL = "call"
    EMAIL = "email"
    TICKET = "ticket"
    CHAT = "chat"


class Role(StrEnum):
    """Which side of the relationship a person speaks for."""

    CUSTOMER = "customer"
    VENDOR = "vendor"
    UNKNOWN = "unknown"


class SignalKind(StrEnum):
    SENTIMENT = "sentiment"
    INTENT = "intent"
    RISK_FLAG = "risk_flag"
    EXPANSION_SIGNAL = "expansion_signal"


class SentimentLabel(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    NEGATIVE = "negative"
    ESCALATING = "escalating"


class Trajectory(StrEnum):
    IMPROVING = "improving"
    STABLE = "stable"
    DECLINING = "declining"


class RiskFlag(StrEnum):
    CHAMPION_LEAVING = "champion_leaving"
    EVALUATING_ALTERNATIVES = "evaluating_alternatives"
    BUDGET_CUTS = "budget_cuts"
    MERGER_OR_ACQUISITION = "merger_or_acquisition"
    DOWNGRADE_OR_SEAT_REDUCTION = "downgrade_or_seat_reduction"
    CANCELLATION_INTENT = "cancellation_intent"
    EXECUTIVE_ESCALATION = "executive_escalation"
    PRODUCT_FRUSTRATION = "product_frustration"
    SERVICE_RELIABILITY = "service_reliability"
    PAYMENT_ISSUE = "payment_issue"
    CONTRACT_RENEGOTIATION = "contract_renegotiation"
    SECURITY_OR_COMPLIANCE_CONCERN = "security_or_compliance_concern"


class Intent(StrEnum):
    PLANNING_TO_RENEW = "planning_to_renew"
    EXPANSION_INTEREST = "expansion_interest"
    EVALUATING_ALTERNATIVES = "evaluating_alternatives"
    REQUESTING_DISCOUNT = "requesting_discount"
    CONSIDERING_CANCELLATION = "considering_cancellation"
    SEEKING_HELP = "seeking_help"
    FEATURE_REQUEST = "feature_request"


class ExpansionSignal(StrEnum):
    ADDITIONAL_SEATS = "additional_seats"
    NEW_TEAM_OR_DEPARTMENT = "new_team_or_department"
    NEW_USE_CASE = "new_use_case"
    UPGRADE_TIER = "upgrade_tier"
    NEW_REGION = "new_region"


class Band(StrEnum):
    HEALTHY = "healthy"
    ATTENTION = "attention"
    AT_RISK = "at_risk"
    CRITICAL = "critical"
    INSUFFICIENT_SIGNAL = "insufficient_signal"


@dataclass(frozen=True, slots=True)
class SourceLocator:
    """Where an item came from, precise enough for a user to find it again.

    `record` is a line number, JSON path or Message-ID, never content.
    """

    format: str
    file: str
    record: str | None = None

    def __str__(self) -> str:
        return f"{self.file}:{self.record}" if self.record else self.file


@dataclass(frozen=True, slots=True)
class Participant:
    name: str
    role: Role = Role.UNKNOWN
    email: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """One utterance or message. `internal`: a note the customer never saw (Zendesk private
    comment, Intercom note, Freshdesk private note); not part of `content_hash`, so data
    ingested before the field existed keeps its hash."""

    speaker: str
    text: str
    role: Role = Role.UNKNOWN
    start_seconds: float | None = None
    internal: bool = False


@dataclass(frozen=True, slots=True)
class Conversation:
    """One call, email thread or ticket with its raw text. Memory only: never persisted."""

    source_id: str
    account_id: str
    channel: Channel
    occurred_at: datetime
    participants: tuple[Participant, ...]
    turns: tuple[Turn, ...]
    locator: SourceLocator
    subject: str | None = None
    account_name: str | None = None
    # The export's own account/org ids ("zendesk:360012345", "salesforce:0015g00000AbC"),
    # used to map the conversation to an account; not part of `content_hash`.
    org_ids: tuple[str, ...] = ()

    @property
    def content_hash(self) -> str:
        """SHA-256 over everything that defines the conversation, order-stable.

        The same call exported twice hashes the same; any edit to a turn changes it.
        """
        canonical = {
            "account": self.account_id,
            "channel": self.channel.value,
            "occurred_at": self.occurred_at.isoformat(),
            "subject": self.subject,
            "turns": [[t.speaker, t.role.value, t.text] for t in self.turns],
        }
        payload = json.dumps(canonical, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ScrubbedTurn:
    speaker: str  # a placeholder such as <CUSTOMER_1>
    text: str
    role: Role = Role.UNKNOWN
    start_seconds: float | None = None
    internal: bool = False  # see Turn.internal


@dataclass(frozen=True, slots=True)
class ScrubbedConversation:
    """The same conversation after PII scrubbing; the only text an extractor ever sees."""

    source_id: str
    account_id: str
    channel: Channel
    occurred_at: datetime
    content_hash: str
    turns: tuple[ScrubbedTurn, ...]
    locator: SourceLocator
    participant_roles: tuple[Role, ...]
    subject: str | None = None
    account_name: str | None = None
    pii_found: dict[str, int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(f"{t.speaker}: {t.text}" for t in self.turns)


@dataclass(frozen=True, slots=True)
class ExtractedSignal:
    """One sentiment, intent, risk flag or expansion signal found in a conversation.

    `signal_type` is a value of the closed enum that matches `kind`; `score` is the sentiment
    score (−1..1) for sentiment and 1.0 otherwise. Evidence is scrubbed text, ≤ 200 chars.
    """

    kind: SignalKind
    signal_type: str
    confidence: float
    speaker_role: Role
    evidence: str
    score: float = 1.0


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens billed for one conversation, summed over every attempt (retries included)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    requests: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
            self.cache_read_tokens + other.cache_read_tokens,
            self.cache_write_tokens + other.cache_write_tokens,
            self.requests + other.requests,
        )


@dataclass(frozen=True, slots=True)
class ExtractionResult:
    extractor_id: str
    prompt_version: str
    signals: tuple[ExtractedSignal, ...]
    usage: TokenUsage | None = None  # None for extractors that bill nothing (lexicon)


@dataclass(frozen=True, slots=True)
class Driver:
    """A signed contribution to a score, in score points. Drivers sum to score − 50."""

    source: str  # "measure" or "event"
    name: str
    points: float
    detail: str = ""
    event_id: int | None = None
    value: float | None = None  # a measure's own value (days_payment_late 0), not an event's


@dataclass(frozen=True, slots=True)
class HealthScore:
    account_id: str
    as_of: datetime
    score: float | None
    band: Band
    quantitative: float | None
    qualitative: float | None
    weights: dict[str, float]
    confidence: float
    drivers: tuple[Driver, ...]
    flags: tuple[str, ...]
    profile_version: str
    versions: tuple[str, ...] = ()
    conversations_in_window: int = 0
    quantitative_coverage: float = 0.0
