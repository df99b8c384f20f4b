"""Score accounts from what the store holds; a recompute keeps a snapshot per account per run.

A recompute streams: accounts are read a page at a time (`inputs.load_page`), scored, and
the page's snapshots and playbook triggers written before the next page is read, so memory
is bounded by the page size whatever the number of accounts (see eval/bench_scoring.py).
One run is one transaction: it is stored whole or not at all.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from convsignal.domain import Band, HealthScore
from convsignal.score.combiner import band_for, combine
from convsignal.score.expansion import NO_EXPANSION, ExpansionResult, expansion_score
from convsignal.score.history import Timeline, Trigger, timeline
from convsignal.score.inputs import AccountInputs, load_page
from convsignal.score.profile_model import Profile
from convsignal.score.qualitative import qualitative_subscore
from convsignal.score.quantitative import quantitative_subscore
from convsignal.score.snapshots import snapshot_row, trigger_rows
from convsignal.store import score_repository as queries
from convsignal.store.tables import as_utc

PAGE_SIZE = 2000


@dataclass(frozen=True, slots=True)
class OverrideView:
    """A CSM's override in force: shown beside the computed score, never instead of it."""

    id: int
    score: float
    band: Band
    reason: str
    author: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ScoredAccount:
    score: HealthScore  # the computed score, always
    account_name: str | None
    previous_score: float | None
    score_30d_ago: float | None = None
    expansion: ExpansionResult = NO_EXPANSION
    override: OverrideView | None = None
    triggers: tuple[Trigger, ...] = ()
    segment: str | None = None
    timeline: Timeline | None = None

    @property
    def trend(self) -> float | None:
        if self.score.score is None or self.previous_score is None:
            return None
        return self.score.score - self.previous_score

    @property
    def trend_30d(self) -> float | None:
        if self.score.score is None or self.score_30d_ago is None:
            return None
        return self.score.score - self.score_30d_ago

    @property
    def effective_score(self) -> float | None:
        return self.override.score if self.override else self.score.score

    @property
    def effective_band(self) -> Band:
        return self.override.band if self.override else self.score.band


@dataclass
class RunSummary:
    run_id: int | None = None
    accounts: int = 0
    scored: int = 0
    triggers: int = 0
    profile_versions: set[str] = field(default_factory=set)


def score_inputs(profile: Profile, inputs: AccountInputs, as_of: datetime) -> ScoredAccount:
    """Everything about one account's score, from its gathered inputs (no database)."""
    measures = {name: value for name, (value, _) in inputs.latest.items()}
    profile = profile.for_account({**inputs.attributes, "segment": inputs.segment}, measures)
    quant = quantitative_subscore(
        profile.quantitative,
        inputs.latest,
        as_of,
        history=inputs.history,
        last_contact=inputs.last_contact,
    )
    window = profile.qualitative.window_days
    window_start = as_of - timedelta(days=window)
    events = [e for e in inputs.events if e.occurred_at >= window_start]
    qual = qualitative_subscore(
        profile.qualitative, events, inputs.conversations.get(window, 0), as_of
    )
    health = combine(profile, inputs.account_id, as_of, quant, qual)
    month_ago = inputs.month_ago.get(profile.history)
    then = month_ago.score if month_ago else None
    expansion = expansion_score(
        profile.expansion,
        profile.qualitative,
        values=quant.values,
        events=events if qual.subscore is not None else None,
        health_trend=None if health.score is None or then is None else health.score - then,
        band=health.band,
        as_of=as_of,
    )
    times = timeline(
        profile,
        as_of=as_of,
        score=health.score,
        band=health.band.value,
        expansion_ready=expansion.ready,
        expansion=expansion.score,
        nps=quant.values.get("nps"),
        previous=inputs.previous,
        month_ago=month_ago,
    )
    override = None
    if (o := inputs.override) is not None and o.id is not None:
        band = band_for(o.score, profile.bands)
        created, expires = as_utc(o.created_at), as_utc(o.expires_at)
        override = OverrideView(o.id, o.score, band, o.reason, o.author, created, expires)
    return ScoredAccount(
        score=health,
        account_name=inputs.name,
        previous_score=inputs.previous.score if inputs.previous else None,
        score_30d_ago=then,
        expansion=expansion,
        override=override,
        triggers=times.triggers,
        segment=profile.segment,
        timeline=times,
    )


def score_account(
    session: Session, profile: Profile, account_id: str, as_of: datetime
) -> HealthScore:
    """Point-in-time score of one account: only data dated on or before `as_of` is used."""
    as_of = as_utc(as_of)
    row = queries.account_row(session, account_id)
    account = (account_id, row[1], row[2], row[3]) if row else (account_id, None, None, {})
    (inputs,) = load_page(session, profile, [account], as_of)
    return score_inputs(profile, inputs, as_of).score


def recompute(
    session: Session,
    profile: Profile,
    as_of: datetime,
    *,
    save: bool = True,
    page_size: int = PAGE_SIZE,
    on_page: Callable[[list[ScoredAccount]], None] | None = None,
) -> RunSummary:
    """Score every account, page by page; with `save`, one run row, a snapshot per account
    and the playbook triggers. `on_page` sees each page's results (to rank or to count)."""
    as_of = as_utc(as_of)
    summary = RunSummary()
    with _fewer_collections():
        _recompute(session, profile, as_of, summary, save, page_size, on_page)
    return summary


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """A page allocates millions of short-lived tuples that reference counting frees; the
    cyclic collector's default thresholds would run it thousands of times per page and cost
    a third of the recompute. Raised for the run only, then restored."""
    thresholds = gc.get_threshold()
    gc.set_threshold(200_000, 100, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _recompute(
    session: Session,
    profile: Profile,
    as_of: datetime,
    summary: RunSummary,
    save: bool,
    page_size: int,
    on_page: Callable[[list[ScoredAccount]], None] | None,
) -> None:
    if save:
        summary.run_id = queries.start_score_run(session, as_of, profile.full_version)
    after: str | None = None
    while page := queries.account_page(session, after, page_size):
        accounts = [(row[0], row[1], row[2], row[3]) for row in page]
        inputs = load_page(session, profile, accounts, as_of)
        scored = [score_inputs(profile, account, as_of) for account in inputs]
        summary.accounts += len(scored)
        summary.scored += sum(1 for s in scored if s.score.score is not None)
        summary.triggers += sum(len(s.triggers) for s in scored)
        summary.profile_versions.update(s.score.profile_version for s in scored)
        if save and summary.run_id is not None:
            rows = [snapshot_row(s, summary.run_id) for s in scored]
            ids = queries.insert_snapshots(
                session, summary.run_id, rows, first=accounts[0][0], last=accounts[-1][0]
            )
            queries.insert_triggers(session, trigger_rows(scored, ids, summary.run_id))
        if on_page is not None:
            on_page(scored)
        after = accounts[-1][0]
    if save and summary.run_id is not None:
        queries.finish_score_run(
            session,
            summary.run_id,
            accounts=summary.accounts,
            scored=summary.scored,
            triggers=summary.triggers,
        )


def score_all(
    session: Session, profile: Profile, as_of: datetime, *, save: bool = True
) -> list[ScoredAccount]:
    """Score every account, ranked worst first by the score in force (insufficient last)."""
    results: list[ScoredAccount] = []
    recompute(session, profile, as_of, save=save, on_page=results.extend)
    results.sort(key=lambda s: (s.effective_score is None, s.effective_score or 0.0))
    return results
