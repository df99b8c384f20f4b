"""Repository functions: the only code that writes or queries the tables.

Functions take a `Session` and plain values; the caller owns the transaction
(`engine.session_scope`), so several writes commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from convsignal.domain import ExtractionResult, Role, ScrubbedConversation, TokenUsage
from convsignal.store.tables import (
    Account,
    ConversationExtraction,
    ConversationRecord,
    DeadLetter,
    ExtractionRun,
    MetricSnapshot,
    ScoreSnapshot,
    SignalEventRecord,
    as_utc,
    utcnow,
)


def ensure_account(
    session: Session,
    account_id: str,
    *,
    name: str | None = None,
    segment: str | None = None,
    attributes: dict[str, str] | None = None,
) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        account = Account(
            id=account_id, name=name, segment=segment, attributes=dict(attributes or {})
        )
        session.add(account)
        session.flush()
        return account
    changed = False
    if name and account.name != name:
        account.name, changed = name, True
    if segment and account.segment != segment:
        account.segment, changed = segment, True
    if attributes and {**account.attributes, **attributes} != account.attributes:
        account.attributes, changed = {**account.attributes, **attributes}, True
    if changed:
        session.add(account)
    return account


def is_extracted(
    session: Session, content_hash: str, extractor_id: str, prompt_version: str
) -> bool:
    statement = (
        select(ConversationExtraction.id)
        .join(
            ConversationRecord, col(ConversationRecord.id) == ConversationExtraction.conversation_id
        )
        .where(
            ConversationRecord.content_hash == content_hash,
            ConversationExtraction.extractor_id == extractor_id,
            ConversationExtraction.prompt_version == prompt_version,
        )
    )
    return session.exec(statement).first() is not None


def conversation_record(session: Session, conversation: ScrubbedConversation) -> ConversationRecord:
    """The metadata row of a conversation (created on first sight; never any text)."""
    ensure_account(session, conversation.account_id)
    return _conversation_record(session, conversation)


def _conversation_record(
    session: Session, conversation: ScrubbedConversation
) -> ConversationRecord:
    existing = session.exec(
        select(ConversationRecord).where(
            ConversationRecord.content_hash == conversation.content_hash
        )
    ).first()
    if existing is not None:
        return existing
    roles = conversation.participant_roles
    record = ConversationRecord(
        content_hash=conversation.content_hash,
        account_id=conversation.account_id,
        source_id=conversation.source_id,
        source_format=conversation.locator.format,
        source_file=conversation.locator.file,
        source_record=conversation.locator.record,
        channel=conversation.channel.value,
        occurred_at=as_utc(conversation.occurred_at),
        turn_count=len(conversation.turns),
        customer_participants=sum(1 for r in roles if r is Role.CUSTOMER),
        vendor_participants=sum(1 for r in roles if r is Role.VENDOR),
        unknown_participants=sum(1 for r in roles if r is Role.UNKNOWN),
    )
    session.add(record)
    session.flush()
    return record


def save_extraction(
    session: Session,
    conversation: ScrubbedConversation,
    result: ExtractionResult,
    *,
    run_id: int | None,
    pii_redacted_in_output: int = 0,
    cost_usd: float = 0.0,
) -> int:
    """Store a conversation's metadata, its extraction marker and its events together.

    Returns the number of events stored. The evidence in `result` must already be scrubbed
    and re-scanned; this layer only enforces the length bound.
    """
    ensure_account(session, conversation.account_id)
    record = _conversation_record(session, conversation)
    return save_events(
        session,
        record,
        result,
        run_id=run_id,
        pii_redacted_in_output=pii_redacted_in_output,
        cost_usd=cost_usd,
    )


def save_events(
    session: Session,
    record: ConversationRecord,
    result: ExtractionResult,
    *,
    run_id: int | None,
    pii_redacted_in_output: int = 0,
    cost_usd: float = 0.0,
) -> int:
    """The extraction marker and the events of an already stored conversation record."""
    assert record.id is not None
    extraction = ConversationExtraction(
        conversation_id=record.id,
        extractor_id=result.extractor_id,
        prompt_version=result.prompt_version,
        run_id=run_id,
        event_count=len(result.signals),
        pii_redacted_in_output=pii_redacted_in_output,
        cost_usd=cost_usd,
    )
    if result.usage is not None:
        extraction.input_tokens = result.usage.input_tokens
        extraction.output_tokens = result.usage.output_tokens
        extraction.cache_read_tokens = result.usage.cache_read_tokens
        extraction.cache_write_tokens = result.usage.cache_write_tokens
        extraction.requests = result.usage.requests
    session.add(extraction)
    session.flush()
    assert extraction.id is not None
    for signal in result.signals:
        session.add(
            SignalEventRecord(
                account_id=record.account_id,
                conversation_id=record.id,
                extraction_id=extraction.id,
                occurred_at=as_utc(record.occurred_at),
                kind=signal.kind.value,
                signal_type=signal.signal_type,
                score=signal.score,
                confidence=signal.confidence,
                speaker_role=signal.speaker_role.value,
                evidence=signal.evidence[:200],
                extractor_id=result.extractor_id,
                prompt_version=result.prompt_version,
            )
        )
    return len(result.signals)


def start_run(session: Session, extractor_id: str, prompt_version: str) -> ExtractionRun:
    run = ExtractionRun(extractor_id=extractor_id, prompt_version=prompt_version)
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session,
    run_id: int,
    *,
    processed: int,
    skipped: int,
    failed: int,
    status: str,
    usage: TokenUsage | None = None,
    cost_usd: float = 0.0,
) -> None:
    run = session.get(ExtractionRun, run_id)
    if run is None:
        return
    run.processed, run.skipped, run.failed = processed, skipped, failed
    if usage is not None:
        run.input_tokens, run.output_tokens = usage.input_tokens, usage.output_tokens
        run.cache_read_tokens = usage.cache_read_tokens
        run.cache_write_tokens = usage.cache_write_tokens
        run.requests = usage.requests
    run.cost_usd = cost_usd
    run.status = status
    run.finished_at = utcnow()
    session.add(run)


@dataclass(frozen=True, slots=True)
class DeadLetterInput:
    stage: str
    source_file: str
    source_record: str | None
    error_type: str
    reason: str
    content_hash: str | None = None


def add_dead_letter(session: Session, item: DeadLetterInput, *, run_id: int | None) -> None:
    session.add(
        DeadLetter(
            run_id=run_id,
            stage=item.stage,
            source_file=item.source_file[:1000],
            source_record=item.source_record[:300] if item.source_record else None,
            content_hash=item.content_hash,
            error_type=item.error_type[:100],
            reason=item.reason[:2000],
        )
    )


def open_dead_letters(session: Session) -> Sequence[DeadLetter]:
    return session.exec(
        select(DeadLetter).where(col(DeadLetter.resolved_at).is_(None)).order_by(col(DeadLetter.id))
    ).all()


def resolve_ingest_letters(session: Session, source_file: str, *, except_run: int) -> int:
    """A file that read cleanly in run `except_run` resolves its older ingest failures."""
    letters = session.exec(
        select(DeadLetter).where(
            DeadLetter.source_file == source_file,
            DeadLetter.stage == "ingest",
            col(DeadLetter.resolved_at).is_(None),
            DeadLetter.run_id != except_run,
        )
    ).all()
    for letter in letters:
        letter.resolved_at = utcnow()
        session.add(letter)
    return len(letters)


def resolve_dead_letters(session: Session, content_hash: str) -> None:
    """Mark earlier failures of a conversation resolved once it finally succeeds."""
    for letter in session.exec(
        select(DeadLetter).where(
            DeadLetter.content_hash == content_hash, col(DeadLetter.resolved_at).is_(None)
        )
    ):
        letter.resolved_at = utcnow()
        session.add(letter)


def upsert_metrics(
    session: Session, rows: Iterable[tuple[str, str, datetime, float]], *, source: str
) -> int:
    """Insert or replace (account, measure, as_of) → value. Returns the number written."""
    count = 0
    for account_id, measure, as_of, value in rows:
        as_of = as_utc(as_of)
        existing = session.exec(
            select(MetricSnapshot).where(
                MetricSnapshot.account_id == account_id,
                MetricSnapshot.measure == measure,
                MetricSnapshot.as_of == as_of,
            )
        ).first()
        if existing is None:
            session.add(
                MetricSnapshot(
                    account_id=account_id, measure=measure, as_of=as_of, value=value, source=source
                )
            )
        else:
            existing.value, existing.source = value, source
            session.add(existing)
        count += 1
    session.flush()
    return count


def latest_metrics(
    session: Session, account_id: str, as_of: datetime
) -> dict[str, tuple[float, datetime]]:
    """The newest value of each measure recorded on or before `as_of`."""
    rows = session.exec(
        select(MetricSnapshot)
        .where(MetricSnapshot.account_id == account_id, MetricSnapshot.as_of <= as_utc(as_of))
        .order_by(col(MetricSnapshot.as_of))
    ).all()
    return {row.measure: (row.value, as_utc(row.as_of)) for row in rows}


def events_in_window(
    session: Session, account_id: str, start: datetime, end: datetime
) -> Sequence[SignalEventRecord]:
    return session.exec(
        select(SignalEventRecord)
        .where(
            SignalEventRecord.account_id == account_id,
            SignalEventRecord.occurred_at >= as_utc(start),
            SignalEventRecord.occurred_at <= as_utc(end),
        )
        .order_by(col(SignalEventRecord.occurred_at), col(SignalEventRecord.id))
    ).all()


def conversations_in_window(
    session: Session, account_id: str, start: datetime, end: datetime
) -> int:
    statement = select(func.count()).where(
        ConversationRecord.account_id == account_id,
        ConversationRecord.occurred_at >= as_utc(start),
        ConversationRecord.occurred_at <= as_utc(end),
    )
    return int(session.exec(statement).one())


def list_accounts(session: Session) -> Sequence[Account]:
    return session.exec(select(Account).order_by(col(Account.id))).all()


def save_score(session: Session, snapshot: ScoreSnapshot) -> None:
    session.add(snapshot)


def latest_score(session: Session, account_id: str, at_or_before: datetime) -> ScoreSnapshot | None:
    """The newest snapshot for an as-of date not after `at_or_before` (for the trend)."""
    return session.exec(
        select(ScoreSnapshot)
        .where(ScoreSnapshot.account_id == account_id, ScoreSnapshot.as_of <= as_utc(at_or_before))
        .order_by(col(ScoreSnapshot.as_of).desc(), col(ScoreSnapshot.id).desc())
    ).first()


def count_rows(session: Session) -> dict[str, int]:
    """Row count per table, for summaries and tests."""
    tables = (
        Account, ConversationRecord, ExtractionRun, ConversationExtraction,
        SignalEventRecord, MetricSnapshot, ScoreSnapshot, DeadLetter,
    )  # fmt: skip
    return {
        table.__tablename__: int(session.exec(select(func.count()).select_from(table)).one())
        for table in tables
    }
