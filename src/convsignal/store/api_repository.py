"""Reads the scorer API needs beyond the scoring engine's: the current run, pages of accounts
with their current snapshot, one account's newest snapshots, pages of events.

Pages are keyset pages (`WHERE id > :after ORDER BY id LIMIT n`): stable under inserts and
as cheap on the last page as on the first. An account list is read from one score run (the
*current* run: the newest finished one by as-of), through the (run_id, account_id) index, so
every page of one listing comes from the same run even if another finishes meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Row, and_, bindparam, func, or_, select, union_all
from sqlmodel import Session, col

from convsignal.store.score_repository import _in_force as in_force
from convsignal.store.tables import (
    Account,
    ScoreOverride,
    ScoreRun,
    ScoreSnapshot,
    SignalEventRecord,
    as_utc,
)


def current_run(session: Session, *, finished_before: datetime | None = None) -> ScoreRun | None:
    """The newest finished run by as-of (ties: the later run); with `finished_before`, the one
    that was current at that time."""
    statement = select(ScoreRun).where(col(ScoreRun.status) == "done")
    if finished_before is not None:
        statement = statement.where(col(ScoreRun.finished_at) < as_utc(finished_before))
    statement = statement.order_by(col(ScoreRun.as_of).desc(), col(ScoreRun.id).desc()).limit(1)
    return session.scalars(statement).first()


def run_by_id(session: Session, run_id: int) -> ScoreRun | None:
    return session.get(ScoreRun, run_id)


@dataclass(frozen=True, slots=True)
class AccountFilter:
    bands: tuple[str, ...] = ()  # the band in force (override first)
    segment: str | None = None  # the account's segment
    changed_against_run: int | None = None  # only accounts that differ from this run's snapshot
    changed_filter: bool = False  # True: changed_since was given (baseline run may be None)


def _table(model: Any) -> Any:
    """A model's Core table: plain columns for the hand-shaped page queries."""
    return model.__table__


@cache
def _statement(shape: tuple[Any, ...]) -> Any:
    """The statement of one query shape, built once with bound parameters: building and
    keying a statement costs more than running these small indexed queries, so the hot
    reads reuse one object per shape (the compiled form is cached on it)."""
    kind, *rest = shape
    builders: dict[str, Any] = {
        "page": _page_statement,
        "scored": _scored_statement,
        "latest": _latest_statement,
        "override": _override_statement,
    }
    return builders[kind](*rest)


def account_page(
    session: Session,
    run_id: int | None,
    filters: AccountFilter,
    *,
    after: str | None,
    limit: int,
) -> Sequence[Row[Any]]:
    """(account id, name, segment, snapshot columns…) in id order; the snapshot columns are
    None for an account the run did not score. A band or changed filter keeps scored
    accounts only."""
    params: dict[str, Any] = {"run_id": run_id, "limit": limit, "after": after}
    params["segment"] = filters.segment
    has_after, has_segment = after is not None, filters.segment is not None
    if filters.bands or filters.changed_filter:
        bands = filters.bands or ALL_BANDS
        params.update({f"band_{n}": band for n, band in enumerate(bands)})
        params["overridden"] = list(bands)
        baseline = filters.changed_against_run
        params["baseline"] = baseline
        shape: tuple[Any, ...] = (
            "scored",
            len(bands),
            has_after,
            has_segment,
            baseline is not None,
        )
    else:
        shape = ("page", has_after, has_segment)
    return session.connection().execute(_statement(shape), params).all()


def _snapshot_columns(snap: Any) -> list[Any]:
    c = snap.c
    return [c.score, c.band, c.override_score, c.override_band, c.confidence, c.trend, c.as_of]


ALL_BANDS = ("healthy", "attention", "at_risk", "critical", "insufficient_signal")


def _page_statement(has_after: bool, has_segment: bool) -> Any:
    accounts = _table(Account)
    snap = _table(ScoreSnapshot).alias("snap")
    on = and_(snap.c.account_id == accounts.c.id, snap.c.run_id == bindparam("run_id"))
    statement = select(
        accounts.c.id, accounts.c.name, accounts.c.segment, *_snapshot_columns(snap)
    ).select_from(accounts.outerjoin(snap, on))
    if has_after:
        statement = statement.where(accounts.c.id > bindparam("after"))
    if has_segment:
        statement = statement.where(accounts.c.segment == bindparam("segment"))
    return statement.order_by(accounts.c.id).limit(bindparam("limit"))


def _scored_statement(bands: int, has_after: bool, has_segment: bool, changed: bool) -> Any:
    """Accounts of the run whose band in force is one of the bands.

    The band in force is the override's, else the computed one. One branch per band walks
    the (run_id, band, account_id) index of the snapshots without an override, one more
    walks (run_id, override_band, account_id): each stops after `limit` rows, already in
    account order, so a page costs a few index range scans whatever the band's share.
    `changed`: only accounts whose band, whole-point score or override differ from their
    snapshot in the baseline run (or that it did not score)."""
    branches = [_branch(f"band_{n}", has_after, has_segment, changed) for n in range(bands)] + [
        _branch(None, has_after, has_segment, changed)
    ]
    # Each branch as a subquery of its own: SQLite allows no LIMIT on a UNION's members.
    wrapped = [select(*branch.subquery(f"b{n}").c) for n, branch in enumerate(branches)]
    page = union_all(*wrapped).subquery("page")
    return select(*page.c).order_by(page.c.id).limit(bindparam("limit"))


def _branch(band: str | None, has_after: bool, has_segment: bool, changed: bool) -> Any:
    accounts = _table(Account)
    snap = _table(ScoreSnapshot).alias("snap")
    base = _table(ScoreSnapshot).alias("base")
    joined = snap.join(accounts, accounts.c.id == snap.c.account_id)
    if changed:
        on = and_(base.c.account_id == snap.c.account_id, base.c.run_id == bindparam("baseline"))
        joined = joined.outerjoin(base, on)
    statement = (
        select(accounts.c.id, accounts.c.name, accounts.c.segment, *_snapshot_columns(snap))
        .select_from(joined)
        .where(snap.c.run_id == bindparam("run_id"))
    )
    if band is not None:
        statement = statement.where(snap.c.band == bindparam(band), snap.c.override_band.is_(None))
    else:
        statement = statement.where(
            snap.c.override_band.in_(bindparam("overridden", expanding=True))
        )
    if has_after:
        statement = statement.where(snap.c.account_id > bindparam("after"))
    if has_segment:
        statement = statement.where(accounts.c.segment == bindparam("segment"))
    if changed:
        statement = statement.where(
            or_(
                base.c.id.is_(None),
                base.c.band.is_distinct_from(snap.c.band),
                func.round(base.c.score).is_distinct_from(func.round(snap.c.score)),
                base.c.override_score.is_distinct_from(snap.c.override_score),
            )
        )
    return statement.order_by(snap.c.account_id).limit(bindparam("limit"))


def latest_with_account(session: Session, account_id: str, limit: int) -> Sequence[Row[Any]]:
    """The account's newest snapshots by as-of (ties: the later run), newest first, each
    row every snapshot column plus `account_name` and `account_segment`; one Core query
    (no ORM objects: this is the API's hottest read). Empty: no snapshot (or no account;
    `account` tells which)."""
    params = {"account_id": account_id, "limit": limit}
    return session.connection().execute(_statement(("latest",)), params).all()


def _latest_statement() -> Any:
    accounts, snap = _table(Account), _table(ScoreSnapshot)
    return (
        select(
            snap, accounts.c.name.label("account_name"), accounts.c.segment.label("account_segment")
        )
        .select_from(snap.join(accounts, accounts.c.id == snap.c.account_id))
        .where(snap.c.account_id == bindparam("account_id"))
        .order_by(snap.c.as_of.desc(), snap.c.id.desc())
        .limit(bindparam("limit"))
    )


def override_in_force(session: Session, account_id: str, at: datetime) -> Row[Any] | None:
    """The newest override in force at `at` (the scoring engine's rule), as a Core row."""
    params = {"account_id": account_id, "at": as_utc(at)}
    return session.connection().execute(_statement(("override",)), params).first()


def _override_statement() -> Any:
    override = _table(ScoreOverride)
    return (
        select(override)
        .where(
            override.c.account_id == bindparam("account_id"),
            in_force(cast(datetime, bindparam("at"))),
        )
        .order_by(override.c.created_at.desc(), override.c.id.desc())
        .limit(1)
    )


def latest_snapshots(session: Session, account_id: str, limit: int) -> Sequence[ScoreSnapshot]:
    """The account's newest snapshots by as-of (ties: the later run), newest first."""
    statement = (
        select(ScoreSnapshot)
        .where(col(ScoreSnapshot.account_id) == account_id)
        .order_by(col(ScoreSnapshot.as_of).desc(), col(ScoreSnapshot.id).desc())
        .limit(limit)
    )
    return session.scalars(statement).all()


def account(session: Session, account_id: str) -> Account | None:
    return session.get(Account, account_id)


def event_page(
    session: Session,
    account_id: str,
    *,
    before: tuple[datetime, int] | None,
    limit: int,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Sequence[SignalEventRecord]:
    """An account's events, newest first; keyset on (occurred_at, id)."""
    event = SignalEventRecord
    statement = select(event).where(col(event.account_id) == account_id)
    if before is not None:
        at, event_id = as_utc(before[0]), before[1]
        statement = statement.where(
            or_(
                col(event.occurred_at) < at,
                and_(col(event.occurred_at) == at, col(event.id) < event_id),
            )
        )
    if kind is not None:
        statement = statement.where(col(event.kind) == kind)
    if since is not None:
        statement = statement.where(col(event.occurred_at) >= as_utc(since))
    if until is not None:
        statement = statement.where(col(event.occurred_at) <= as_utc(until))
    order = (col(event.occurred_at).desc(), col(event.id).desc())
    return session.scalars(statement.order_by(*order).limit(limit)).all()
