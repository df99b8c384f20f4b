"""Score accounts from what the store holds, and keep a snapshot per account per run."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from convsignal.domain import HealthScore
from convsignal.score.combiner import combine
from convsignal.score.profile import Profile
from convsignal.score.qualitative import EventInput, qualitative_subscore
from convsignal.score.quantitative import quantitative_subscore
from convsignal.store import repository
from convsignal.store.tables import ScoreSnapshot, as_utc


@dataclass(frozen=True, slots=True)
class ScoredAccount:
    score: HealthScore
    account_name: str | None
    previous_score: float | None

    @property
    def trend(self) -> float | None:
        if self.score.score is None or self.previous_score is None:
            return None
        return self.score.score - self.previous_score


def score_account(
    session: Session, profile: Profile, account_id: str, as_of: datetime
) -> HealthScore:
    """Point-in-time score: only data recorded on or before `as_of` is used."""
    as_of = as_utc(as_of)
    metrics = repository.latest_metrics(session, account_id, as_of)
    quantitative = quantitative_subscore(profile.quantitative, metrics, as_of)
    window_start = as_of - timedelta(days=profile.qualitative.window_days)
    records = repository.events_in_window(session, account_id, window_start, as_of)
    events = [
        EventInput(
            event_id=r.id,
            kind=r.kind,
            signal_type=r.signal_type,
            score=r.score,
            confidence=r.confidence,
            speaker_role=r.speaker_role,
            occurred_at=as_utc(r.occurred_at),
            version=f"{r.extractor_id}@{r.prompt_version}",
        )
        for r in records
    ]
    conversations = repository.conversations_in_window(session, account_id, window_start, as_of)
    qualitative = qualitative_subscore(profile.qualitative, events, conversations, as_of)
    return combine(profile, account_id, as_of, quantitative, qualitative)


def score_all(
    session: Session, profile: Profile, as_of: datetime, *, save: bool = True
) -> list[ScoredAccount]:
    """Score every account, ranked worst first (insufficient signal last)."""
    results = []
    for account in repository.list_accounts(session):
        health = score_account(session, profile, account.id, as_of)
        previous = repository.latest_score(session, account.id, at_or_before=as_of)
        results.append(ScoredAccount(health, account.name, previous.score if previous else None))
        if save:
            repository.save_score(session, to_snapshot(health))
    results.sort(
        key=lambda s: (s.score.score is None, s.score.score if s.score.score is not None else 0)
    )
    return results


def to_snapshot(health: HealthScore) -> ScoreSnapshot:
    return ScoreSnapshot(
        account_id=health.account_id,
        as_of=as_utc(health.as_of),
        score=health.score,
        band=health.band.value,
        quantitative=health.quantitative,
        qualitative=health.qualitative,
        confidence=health.confidence,
        weights=dict(health.weights),
        drivers=[asdict(d) for d in health.drivers],
        flags=list(health.flags),
        versions=list(health.versions),
        profile_version=health.profile_version,
    )
