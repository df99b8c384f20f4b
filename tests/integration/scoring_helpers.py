"""Put accounts, metrics and extracted events into a real store, for the scoring tests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from convsignal.domain import (
    Channel,
    ExtractedSignal,
    ExtractionResult,
    Role,
    ScrubbedConversation,
    SignalKind,
    SourceLocator,
)
from convsignal.store import repository

DAY0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

Signal = tuple[str, str]  # (kind, type), customer-spoken, confidence 0.9


def day(offset: float) -> datetime:
    """DAY0 shifted by `offset` days (negative: before)."""
    return DAY0 + timedelta(days=offset)


GOOD = {
    "licensed_seats": 100.0,
    "active_users": 90.0,
    "usage_trend_pct": 6.0,
    "feature_adoption_pct": 75.0,
    "open_critical_tickets": 0.0,
    "csat": 4.6,
    "days_payment_late": 0.0,
    "days_since_last_contact": 4.0,
    "nps": 40.0,
}
POOR = {
    "licensed_seats": 100.0,
    "active_users": 30.0,
    "usage_trend_pct": -25.0,
    "feature_adoption_pct": 20.0,
    "open_critical_tickets": 3.0,
    "csat": 2.6,
    "days_payment_late": 30.0,
    "days_since_last_contact": 60.0,
    "nps": -40.0,
}


def add_account(
    session: Session, account: str, *, segment: str | None = None, name: str | None = None
) -> None:
    repository.ensure_account(session, account, name=name, segment=segment)


def add_metrics(session: Session, account: str, when: datetime, measures: dict[str, float]) -> None:
    repository.ensure_account(session, account)
    rows = [(account, measure, when, value) for measure, value in measures.items()]
    repository.upsert_metrics(session, rows, source="test.csv")


def add_conversation(
    session: Session, account: str, when: datetime, *signals: Signal, key: str = ""
) -> None:
    """One stored conversation (no text at all) with its extracted events."""
    key = key or f"{account}-{when.isoformat()}-{len(signals)}"
    conversation = ScrubbedConversation(
        source_id=key,
        account_id=account,
        channel=Channel.CALL,
        occurred_at=when,
        content_hash=hashlib.sha256(key.encode()).hexdigest(),
        turns=(),
        locator=SourceLocator("plaintext", f"{key}.txt"),
        participant_roles=(Role.CUSTOMER, Role.VENDOR),
    )
    extracted = tuple(
        ExtractedSignal(SignalKind(kind), signal_type, 0.9, Role.CUSTOMER, "", 1.0)
        for kind, signal_type in signals
    )
    repository.save_extraction(
        session, conversation, ExtractionResult("lexicon", "v1", extracted), run_id=None
    )


CHAMPION = ("risk_flag", "champion_leaving")
CANCEL = ("risk_flag", "cancellation_intent")
BUDGET = ("risk_flag", "budget_cuts")
RENEW = ("intent", "planning_to_renew")
EXPAND = ("intent", "expansion_interest")
SEATS = ("expansion_signal", "additional_seats")
