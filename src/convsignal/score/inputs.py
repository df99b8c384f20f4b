"""Gather one page of accounts' scoring inputs with a few set-wise queries.

Point in time: only data dated on or before as-of is read (metrics by their as-of date,
events and conversations by when they happened, earlier snapshots by their as-of, overrides
by when they were set), so `score --as-of` in the past sees what was known then.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from sqlmodel import Session

from convsignal.score.history import PriorSnapshot
from convsignal.score.profile_model import History, Profile
from convsignal.score.qualitative import EventInput
from convsignal.store import score_repository as queries
from convsignal.store.tables import ScoreOverride, as_utc

Measures = dict[str, tuple[float, datetime]]


@dataclass
class AccountInputs:
    account_id: str
    name: str | None = None
    segment: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    latest: Measures = field(default_factory=dict)  # newest value of each measure
    history: dict[str, list[tuple[datetime, float]]] = field(default_factory=dict)
    events: list[EventInput] = field(default_factory=list)  # the widest window, oldest first
    conversations: dict[int, int] = field(default_factory=dict)  # window days → count
    last_contact: datetime | None = None
    previous: PriorSnapshot | None = None
    month_ago: dict[History, PriorSnapshot] = field(default_factory=dict)
    override: ScoreOverride | None = None


def all_profiles(profile: Profile) -> list[Profile]:
    return [profile, *profile.variants.values()]


def load_page(
    session: Session,
    profile: Profile,
    accounts: Sequence[tuple[str, str | None, str | None, dict[str, str]]],
    as_of: datetime,
) -> list[AccountInputs]:
    """Inputs of the accounts (id, name, segment, attributes), in the database's id order."""
    if not accounts:
        return []
    as_of = as_utc(as_of)
    first, last = accounts[0][0], accounts[-1][0]
    by_id = {
        a: AccountInputs(a, name, segment, _attributes(attributes))
        for a, name, segment, attributes in accounts
    }
    profiles = all_profiles(profile)

    utc = _stamp_cache()
    trends = [t for p in profiles for t in p.quantitative.trends.values()]
    sources = {t.of for t in trends}
    history_start = as_of - timedelta(days=max((t.window_days for t in trends), default=0))
    for account, measure, at, value in queries.metric_rows(session, first, last, as_of):
        inputs = by_id.get(account)
        if inputs is None:
            continue
        stamp = utc(at)
        inputs.latest[measure] = (value, stamp)  # oldest first: the last one stays
        if measure in sources and stamp >= history_start:
            inputs.history.setdefault(measure, []).append((stamp, value))

    windows = sorted({p.qualitative.window_days for p in profiles})
    event_start = as_of - timedelta(days=windows[-1])
    for row in queries.event_rows(session, first, last, event_start, as_of):
        inputs = by_id.get(row[0])
        if inputs is not None:
            inputs.events.append(
                EventInput(row[1], row[2], row[3], row[4], row[5], row[6], utc(row[7]),
                           f"{row[8]}@{row[9]}")
            )  # fmt: skip
    by_time = attrgetter("occurred_at", "event_id")
    for inputs in by_id.values():  # the same order on every database
        inputs.events.sort(key=by_time)

    for window in windows:
        window_start = as_of - timedelta(days=window)
        for account, count, newest in queries.conversation_stats(
            session, first, last, window_start, as_of
        ):
            if account in by_id:
                by_id[account].conversations[window] = int(count or 0)
                by_id[account].last_contact = as_utc(newest) if newest else None

    for ref in queries.snapshot_refs(session, first, last, as_of):
        if ref[0] in by_id:
            by_id[ref[0]].previous = _prior(ref)
    for settings in {p.history for p in profiles}:
        newest = as_of - timedelta(days=settings.compare_days)
        oldest = newest - timedelta(days=settings.compare_tolerance_days)
        for ref in queries.snapshot_refs(session, first, last, newest, oldest):
            if ref[0] in by_id:
                by_id[ref[0]].month_ago[settings] = _prior(ref)

    for override in queries.active_overrides(session, first, last, as_of):
        inputs = by_id.get(override.account_id)
        if inputs is not None and inputs.override is None:  # newest first: keep the newest
            inputs.override = override
    return [by_id[row[0]] for row in accounts]


def _stamp_cache() -> Callable[[Any], datetime]:
    """Raw timestamp → aware UTC, parsed once per distinct value (a conversation's events
    and a metrics import share one timestamp)."""
    parsed: dict[Any, datetime] = {}

    def utc(value: Any) -> datetime:
        hit = parsed.get(value)
        if hit is None:
            hit = parsed[value] = queries.utc(value)
        return hit

    return utc


def _prior(ref: queries.SnapshotRef) -> PriorSnapshot:
    _, at, score, band, ready, risk_since, conditions = ref
    return PriorSnapshot(
        as_of=as_utc(at),
        score=score,
        band=band,
        expansion_ready=bool(ready),
        risk_since=as_utc(risk_since) if risk_since else None,
        conditions=tuple(conditions or ()),
    )


def _attributes(raw: Any) -> dict[str, str]:
    """SQLite hands JSON back as text when read as a raw row; PostgreSQL as a dict."""
    if isinstance(raw, str):
        raw = json.loads(raw or "{}")
    return {str(k): str(v) for k, v in (raw or {}).items()}
