"""Queries and writes of the scoring engine, shaped for streaming a full recompute.

A recompute walks the accounts in pages (keyset on the id, in the database's own order) and
asks for each page's inputs with one query per kind (metrics, events, conversation counts,
earlier snapshots, overrides), so memory holds one page, never the whole table, and the
round trips are a handful per page rather than per account. Rows come back as plain tuples:
building ORM objects for millions of events would cost more than scoring them, and the
three big reads (events, metrics, metric history) take the DBAPI cursor's tuples as they are,
with timestamps normalised by `utc` (SQLite returns text, PostgreSQL aware datetimes).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Row, and_, case, func, insert, select, type_coerce, update
from sqlmodel import Session, col

from convsignal.store.tables import (
    Account,
    ConversationRecord,
    MetricSnapshot,
    PlaybookTrigger,
    ScoreOverride,
    ScoreRun,
    ScoreSnapshot,
    SignalEventRecord,
    as_utc,
    utcnow,
)

AccountRow = Row[str, str | None, str | None, dict[str, str]]


def _account_columns() -> Any:
    return select(col(Account.id), col(Account.name), col(Account.segment), col(Account.attributes))


def account_page(session: Session, after: str | None, limit: int) -> Sequence[AccountRow]:
    """(id, name, segment, attributes) of the next `limit` accounts after `after`, id order."""
    statement = _account_columns()
    if after is not None:
        statement = statement.where(col(Account.id) > after)
    return session.connection().execute(statement.order_by(col(Account.id)).limit(limit)).all()


def account_row(session: Session, account_id: str) -> AccountRow | None:
    statement = _account_columns()
    return session.execute(statement.where(col(Account.id) == account_id)).first()


def _in_page(column: Any, first: str, last: str) -> Any:
    return and_(column >= first, column <= last)


def utc(value: datetime | str) -> datetime:
    """A timestamp from a raw row: SQLite's UTC text or PostgreSQL's datetime, as aware UTC."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _raw_rows(session: Session, statement: Any) -> list[tuple[Any, ...]]:
    """All rows as the driver returns them: no per-value processing (see the docstring)."""
    result = session.connection().execute(statement)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _stamp(column: Any) -> Any:
    """A timestamp read without sqlmodel's per-value UTC wrapper (millions of rows): naive
    UTC on SQLite, aware on PostgreSQL; callers normalise with `as_utc`."""
    return type_coerce(column, DateTime(timezone=True)).label(column.key)


def metric_rows(
    session: Session, first: str, last: str, at_or_before: datetime
) -> list[tuple[Any, ...]]:
    """Raw (account, measure, as_of, value) of every snapshot up to `at_or_before`, oldest
    first per account and measure: the walk of the unique index, so no sort. The caller keeps
    the newest per measure (an old one is reported stale, not missing) and the recent ones
    of the trend measures. Reads each account's whole metric history up to as-of."""
    metric = MetricSnapshot
    return _raw_rows(
        session,
        select(col(metric.account_id), col(metric.measure), col(metric.as_of), col(metric.value))
        .where(
            _in_page(col(metric.account_id), first, last),
            col(metric.as_of) <= as_utc(at_or_before),
        )
        .order_by(col(metric.account_id), col(metric.measure), col(metric.as_of)),
    )


def event_rows(
    session: Session, first: str, last: str, start: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    """Raw (account, id, kind, type, score, confidence, role, occurred_at, extractor, prompt).

    SQLite walks the account index in (account, rowid) order when asked for it, three times
    faster than its default plan; PostgreSQL's bitmap scan needs no order (a sort would spill
    to disk). Callers group by account either way."""
    event = SignalEventRecord
    sqlite = session.get_bind().dialect.name == "sqlite"
    order = (col(event.account_id), col(event.id)) if sqlite else ()
    return _raw_rows(
        session,
        select(
            col(event.account_id),
            col(event.id),
            col(event.kind),
            col(event.signal_type),
            col(event.score),
            col(event.confidence),
            col(event.speaker_role),
            col(event.occurred_at),
            col(event.extractor_id),
            col(event.prompt_version),
        )
        .where(
            _in_page(col(event.account_id), first, last),
            col(event.occurred_at) >= as_utc(start),
            col(event.occurred_at) <= as_utc(end),
        )
        .order_by(*order),
    )


def conversation_stats(
    session: Session, first: str, last: str, window_start: datetime, end: datetime
) -> Sequence[Row[str, int, datetime | None]]:
    """(account, conversations in the window, newest conversation up to `end`)."""
    conversation = ConversationRecord
    in_window = case((col(conversation.occurred_at) >= as_utc(window_start), 1), else_=0)
    return (
        session.connection()
        .execute(
            select(
                col(conversation.account_id),
                func.sum(in_window),
                _stamp(func.max(col(conversation.occurred_at))),
            )
            .where(
                _in_page(col(conversation.account_id), first, last),
                col(conversation.occurred_at) <= as_utc(end),
            )
            .group_by(col(conversation.account_id))
        )
        .all()
    )


SnapshotRef = Row[str, datetime, float | None, str, bool, datetime | None, list[str]]


def snapshot_refs(
    session: Session,
    first: str,
    last: str,
    at_or_before: datetime,
    not_before: datetime | None = None,
) -> Sequence[SnapshotRef]:
    """Per account the newest snapshot with as_of in [not_before, at_or_before]:
    (account, as_of, score, band, expansion_ready, risk_since, conditions)."""
    snap = ScoreSnapshot
    newest = (
        func.row_number()
        .over(
            partition_by=col(snap.account_id),
            order_by=(col(snap.as_of).desc(), col(snap.id).desc()),
        )
        .label("newest")
    )
    conditions = [
        _in_page(col(snap.account_id), first, last),
        col(snap.as_of) <= as_utc(at_or_before),
    ]
    if not_before is not None:
        conditions.append(col(snap.as_of) >= as_utc(not_before))
    ranked = (
        select(
            col(snap.account_id),
            col(snap.as_of),
            col(snap.score),
            col(snap.band),
            col(snap.expansion_ready),
            col(snap.risk_since),
            snap.__table__.c.conditions,  # type: ignore[attr-defined]
            newest,
        )
        .where(*conditions)
        .subquery()
    )
    columns = [c for c in ranked.c if c.name != "newest"]
    return session.connection().execute(select(*columns).where(ranked.c.newest == 1)).all()


def active_overrides(
    session: Session, first: str, last: str, at: datetime
) -> Sequence[ScoreOverride]:
    """Overrides in force at `at` (set before it, not expired, not cleared), newest first."""
    override = ScoreOverride
    at = as_utc(at)
    statement = (
        select(override)
        .where(_in_page(col(override.account_id), first, last), _in_force(at))
        .order_by(col(override.created_at).desc(), col(override.id).desc())
    )
    return session.scalars(statement).all()


def _in_force(at: datetime) -> Any:
    override = ScoreOverride
    return and_(
        col(override.created_at) <= at,
        col(override.expires_at) > at,
        col(override.cleared_at).is_(None) | (col(override.cleared_at) > at),
    )


def add_override(
    session: Session,
    account_id: str,
    *,
    score: float,
    reason: str,
    author: str,
    expires_at: datetime,
    now: datetime,
) -> ScoreOverride:
    override = ScoreOverride(
        account_id=account_id,
        score=score,
        reason=reason,
        author=author,
        created_at=as_utc(now),
        expires_at=as_utc(expires_at),
    )
    session.add(override)
    session.flush()
    return override


def overrides_in_force(session: Session, account_id: str, at: datetime) -> Sequence[ScoreOverride]:
    return active_overrides(session, account_id, account_id, at)


def clear_overrides(
    session: Session, overrides: Sequence[ScoreOverride], *, by: str, at: datetime
) -> None:
    for override in overrides:
        override.cleared_at, override.cleared_by = as_utc(at), by
        session.add(override)
    session.flush()


def list_overrides(
    session: Session, *, at: datetime, account_id: str | None = None, everything: bool = False
) -> Sequence[ScoreOverride]:
    """Overrides in force at `at` (or every override ever set), newest first."""
    statement = select(ScoreOverride)
    if account_id is not None:
        statement = statement.where(col(ScoreOverride.account_id) == account_id)
    if not everything:
        statement = statement.where(_in_force(as_utc(at)))
    order = (col(ScoreOverride.created_at).desc(), col(ScoreOverride.id).desc())
    return session.scalars(statement.order_by(*order)).all()


def start_score_run(session: Session, as_of: datetime, profile_version: str) -> int:
    run = ScoreRun(as_of=as_utc(as_of), profile_version=profile_version)
    session.add(run)
    session.flush()
    assert run.id is not None
    return run.id


def finish_score_run(
    session: Session, run_id: int, *, accounts: int, scored: int, triggers: int
) -> None:
    session.execute(
        update(ScoreRun)
        .where(col(ScoreRun.id) == run_id)
        .values(
            accounts=accounts, scored=scored, triggers=triggers, status="done", finished_at=utcnow()
        )
    )


def insert_snapshots(
    session: Session, run_id: int, rows: list[dict[str, Any]], *, first: str, last: str
) -> dict[str, int]:
    """Insert a page's snapshots (one executemany); their ids by account."""
    if not rows:
        return {}
    table = ScoreSnapshot.__table__  # type: ignore[attr-defined]
    connection = session.connection()
    connection.execute(insert(table), rows)
    ids = connection.execute(
        select(table.c.account_id, table.c.id).where(
            table.c.run_id == run_id, _in_page(table.c.account_id, first, last)
        )
    )
    return {account: int(snapshot_id) for account, snapshot_id in ids}


def insert_triggers(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.connection().execute(insert(PlaybookTrigger.__table__), rows)  # type: ignore[attr-defined]


def triggers_of_run(session: Session, run_id: int) -> Sequence[PlaybookTrigger]:
    statement = select(PlaybookTrigger).where(col(PlaybookTrigger.run_id) == run_id)
    return session.scalars(statement.order_by(col(PlaybookTrigger.id))).all()
