"""CSM overrides: a person's score for an account, with a reason, an author and an expiry.

An override never replaces the computed score: recomputation keeps computing it, and
stores the override in force beside it (snapshot `override_*` columns) until the override
expires or is cleared. Setting a new one clears the one in force ("superseded"). For
point-in-time scores an override counts from when it was set, so a backtest never sees an
override from its future.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from convsignal.errors import ScoringError
from convsignal.store import score_repository as queries
from convsignal.store.tables import Account, ScoreOverride, as_utc

MAX_REASON = 500
MAX_AUTHOR = 200


@dataclass(frozen=True, slots=True)
class OverrideStatus:
    override: ScoreOverride
    status: str  # "in force", "expired", "cleared by …"


def set_override(
    session: Session,
    account_id: str,
    *,
    score: float,
    reason: str,
    author: str,
    expires_at: datetime,
    now: datetime,
) -> ScoreOverride:
    reason, author = reason.strip(), author.strip()
    if not 0 <= score <= 100:
        raise ScoringError(f"override score {score:g} is outside 0..100")
    if not reason:
        raise ScoringError("an override needs a --reason (why the computed score is wrong)")
    if len(reason) > MAX_REASON:
        raise ScoringError(f"--reason is {len(reason)} characters; keep it to {MAX_REASON}")
    if not author or len(author) > MAX_AUTHOR:
        raise ScoringError(f"an override needs an --author of 1..{MAX_AUTHOR} characters")
    if as_utc(expires_at) <= as_utc(now):
        raise ScoringError(f"--expires {as_utc(expires_at):%Y-%m-%d %H:%M} is not in the future")
    if session.get(Account, account_id) is None:
        raise ScoringError(f"unknown account {account_id!r}; `convsignal score` lists the accounts")
    in_force = queries.overrides_in_force(session, account_id, now)
    queries.clear_overrides(session, in_force, by=f"{author} (superseded)", at=now)
    return queries.add_override(
        session,
        account_id,
        score=score,
        reason=reason,
        author=author,
        expires_at=expires_at,
        now=now,
    )


def clear_override(session: Session, account_id: str, *, author: str, now: datetime) -> int:
    """Clear the override in force; an error if there is none. Returns how many cleared."""
    in_force = queries.overrides_in_force(session, account_id, now)
    if not in_force:
        raise ScoringError(f"no override in force for {account_id!r}")
    queries.clear_overrides(session, in_force, by=author.strip() or "unknown", at=now)
    return len(in_force)


def list_overrides(
    session: Session, *, now: datetime, account_id: str | None = None, everything: bool = False
) -> Sequence[OverrideStatus]:
    rows = queries.list_overrides(session, at=now, account_id=account_id, everything=everything)
    return [OverrideStatus(row, status_of(row, now)) for row in rows]


def status_of(override: ScoreOverride, now: datetime) -> str:
    now = as_utc(now)
    if override.cleared_at is not None and as_utc(override.cleared_at) <= now:
        return f"cleared {as_utc(override.cleared_at):%Y-%m-%d} by {override.cleared_by}"
    if as_utc(override.expires_at) <= now:
        return "expired"
    if as_utc(override.created_at) > now:
        return "not yet set"
    return "in force"
