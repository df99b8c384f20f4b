"""POST / DELETE /v1/accounts/{account_id}/override: a CSM's score, with reason and expiry.

The same rules as `convsignal override`: a new override supersedes the one in force; the
computed score keeps being computed and is shown beside it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from convsignal.api.auth import Principal, Scope, require_scope
from convsignal.api.deps import ProfileDep, SessionDep
from convsignal.api.problems import Problem, problem_responses
from convsignal.api.routes.accounts import AccountIdPath
from convsignal.api.schemas import OverrideCleared, OverrideIn, OverrideOut
from convsignal.score import overrides
from convsignal.score.combiner import band_for
from convsignal.store import api_repository as reads
from convsignal.store import score_repository as queries
from convsignal.store.tables import as_utc

router = APIRouter(tags=["overrides"])
Writer = Annotated[Principal, Depends(require_scope(Scope.WRITE))]


@router.post(
    "/accounts/{account_id}/override",
    status_code=201,
    response_model=OverrideOut,
    responses=problem_responses(404),
    summary="Set the score in force for an account until an expiry",
)
def set_override(
    account_id: AccountIdPath,
    body: OverrideIn,
    session: SessionDep,
    profile: ProfileDep,
    principal: Writer,
) -> OverrideOut:
    """Example body: `{"score": 55, "reason": "renewal signed yesterday", "days": 14}`"""
    now = datetime.now(UTC)
    expires_at = body.expires_at or now + timedelta(days=body.days)
    if expires_at <= now:
        raise Problem(
            422,
            detail="body.expires_at is not in the future",
            errors=[{"field": "body.expires_at", "message": "must be in the future"}],
        )
    account = reads.account(session, account_id)
    if account is None:
        raise Problem(404, detail=f"no account {account_id!r}")
    author = (body.author or "").strip() or f"api:{principal.name}"
    override = overrides.set_override(
        session,
        account_id,
        score=body.score,
        reason=body.reason,
        author=author,
        expires_at=expires_at,
        now=now,
    )
    session.commit()
    assert override.id is not None
    snapshots = reads.latest_snapshots(session, account_id, 1)
    segment = snapshots[0].segment if snapshots else None
    bands = profile.variants.get(segment or "", profile).bands
    return OverrideOut(
        id=override.id,
        score=override.score,
        band=band_for(override.score, bands),
        reason=override.reason,
        author=override.author,
        created_at=as_utc(override.created_at),
        expires_at=as_utc(override.expires_at),
    )


@router.delete(
    "/accounts/{account_id}/override",
    response_model=OverrideCleared,
    responses=problem_responses(404),
    summary="Clear the override in force; the computed score is in force again",
)
def clear_override(
    account_id: AccountIdPath,
    session: SessionDep,
    principal: Writer,
    author: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
) -> OverrideCleared:
    if reads.account(session, account_id) is None:
        raise Problem(404, detail=f"no account {account_id!r}")
    now = datetime.now(UTC)
    in_force = queries.overrides_in_force(session, account_id, now)
    if not in_force:
        raise Problem(404, detail=f"no override in force for {account_id!r}")
    cleared = overrides.clear_override(
        session, account_id, author=(author or "").strip() or f"api:{principal.name}", now=now
    )
    session.commit()
    return OverrideCleared(account_id=account_id, cleared=cleared)
