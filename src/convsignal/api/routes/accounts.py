"""GET /v1/accounts (filtered, cursor-paginated) and GET /v1/accounts/{account_id}/score."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlmodel import Session

from convsignal.api.auth import Scope, require_scope
from convsignal.api.deps import get_profile, get_settings, read_session
from convsignal.api.pagination import decode_cursor, encode_cursor, fingerprint
from convsignal.api.problems import Problem, problem_responses
from convsignal.api.responses import json_response
from convsignal.api.schemas import (
    AccountPage,
    AccountScore,
    AccountSummary,
    ExpansionOut,
    HistoryPoint,
    OverrideOut,
    RunRef,
    Timestamp,
)
from convsignal.domain import Band
from convsignal.score.combiner import band_for
from convsignal.score.profile_model import Profile
from convsignal.store import api_repository as reads
from convsignal.store.tables import as_utc

router = APIRouter(tags=["accounts"])
READ = [Depends(require_scope(Scope.READ))]

AccountIdPath = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")]


@router.get(
    "/accounts",
    dependencies=READ,
    response_model=AccountPage,
    responses=problem_responses(400),
    summary="List accounts with their current score",
)
def list_accounts(
    request: Request,
    band: Annotated[
        list[Band] | None, Query(description="band in force (override first); repeatable")
    ] = None,
    segment: Annotated[str | None, Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$")] = None,
    changed_since: Annotated[
        Timestamp | None,
        Query(
            description="only accounts whose band, whole-point score or override differ from "
            "what was current at this time (scored since, or new)"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> Response:
    """Accounts in id order, each with the score of the current run (the newest finished
    `convsignal score` run); accounts not scored yet have nulls. `next_cursor` pages on;
    every page of one listing reads the same run.

    Example: `GET /v1/accounts?band=at_risk&band=critical&limit=50`
    """
    limit = min(limit, get_settings(request).api_max_page_size)
    with read_session(request) as session:
        return _list_accounts(session, band, segment, changed_since, limit, cursor)


def _list_accounts(
    session: Session,
    band: list[Band] | None,
    segment: str | None,
    changed_since: datetime | None,
    limit: int,
    cursor: str | None,
) -> Response:
    bands = tuple(sorted({b.value for b in band or ()}))
    filters = fingerprint(band=bands, segment=segment, changed_since=changed_since)
    after: str | None = None
    run = None
    if cursor is not None:
        position = decode_cursor(cursor, filters)
        after, run_id = position.get("after"), position.get("run")
        if not isinstance(after, str) or not (run_id is None or isinstance(run_id, int)):
            raise Problem(400, detail="query.cursor: malformed",
                          errors=[{"field": "query.cursor", "message": "malformed"}])  # fmt: skip
        run = reads.run_by_id(session, run_id) if run_id is not None else None
    else:
        run = reads.current_run(session)
    run_id = run.id if run is not None else None
    account_filter = reads.AccountFilter(bands=bands, segment=segment)
    if changed_since is not None:
        baseline = reads.current_run(session, finished_before=changed_since)
        if run is None or (baseline is not None and baseline.id == run_id):
            return json_response(AccountPage(items=[], next_cursor=None, run=_run_ref(run)))
        account_filter = reads.AccountFilter(
            bands=bands,
            segment=segment,
            changed_against_run=baseline.id if baseline else None,
            changed_filter=True,
        )
    if bands and run is None:
        return json_response(AccountPage(items=[], next_cursor=None, run=None))
    rows = reads.account_page(session, run_id, account_filter, after=after, limit=limit + 1)
    items = [_summary(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor({"after": items[-1].account_id, "run": run_id}, filters)
    return json_response(AccountPage(items=items, next_cursor=next_cursor, run=_run_ref(run)))


def _run_ref(run: Any) -> RunRef | None:
    if run is None or run.id is None:
        return None
    return RunRef(id=run.id, as_of=as_utc(run.as_of), profile_version=run.profile_version)


def _summary(row: Any) -> AccountSummary:
    account_id, name, segment, score, band, o_score, o_band, confidence, trend, as_of = row
    overridden = o_band is not None
    return AccountSummary(
        account_id=account_id,
        name=name,
        segment=segment,
        score=score,
        band=band,
        effective_score=o_score if overridden else score,
        effective_band=o_band if overridden else band,
        confidence=confidence,
        trend=trend,
        as_of=as_utc(as_of) if as_of is not None else None,
        overridden=overridden,
    )


@router.get(
    "/accounts/{account_id}/score",
    dependencies=READ,
    response_model=AccountScore,
    responses=problem_responses(404),
    summary="An account's current score, explained, with recent history",
)
def get_score(
    account_id: AccountIdPath,
    request: Request,
    history: Annotated[int, Query(ge=0, le=100, description="snapshots in `history`")] = 10,
) -> Response:
    """The newest snapshot: score and band (computed), the override in force now (beside,
    never instead), sub-scores, weights, confidence, drivers (signed points from 50), trend,
    expansion readiness, profile version and the extractor/prompt versions behind its events.
    """
    with read_session(request) as session:
        return _get_score(session, get_profile(request), account_id, history)


def _get_score(session: Session, profile: Profile, account_id: str, history: int) -> Response:
    rows = reads.latest_with_account(session, account_id, max(history, 1))
    if not rows:
        if reads.account(session, account_id) is None:
            raise Problem(404, detail=f"no account {account_id!r}")
        raise Problem(404, detail=f"account {account_id!r} has no score yet; run a score run")
    latest: Any = rows[0]
    in_force = reads.override_in_force(session, account_id, datetime.now(UTC))
    override = _override_out(in_force, latest, profile) if in_force is not None else None
    score = AccountScore(
        account_id=account_id,
        name=latest.account_name,
        segment=latest.account_segment,
        as_of=as_utc(latest.as_of),
        computed_at=as_utc(latest.computed_at),
        run_id=latest.run_id,
        score=latest.score,
        band=Band(latest.band),
        effective_score=override.score if override else latest.score,
        effective_band=override.band if override else Band(latest.band),
        quantitative=latest.quantitative,
        qualitative=latest.qualitative,
        weights=latest.weights,
        confidence=latest.confidence,
        drivers=latest.drivers,
        flags=latest.flags,
        trend=latest.trend,
        trend_30d=latest.trend_30d,
        expansion=ExpansionOut(
            score=latest.expansion,
            ready=latest.expansion_ready,
            drivers=latest.expansion_drivers,
        ),
        risk_since=as_utc(latest.risk_since) if latest.risk_since else None,
        conditions=latest.conditions,
        override=override,
        profile_version=latest.profile_version,
        versions=latest.versions,
        history=[_point(row) for row in rows[:history]],
    )
    return json_response(score)


def _override_out(override: Any, latest: Any, profile: Profile) -> OverrideOut:
    """The band of an override follows the bands of the account's segment profile."""
    if latest.override_id == override.id and latest.override_band:
        band = Band(latest.override_band)
    else:
        segment_profile = profile.variants.get(latest.segment or "", profile)
        band = band_for(override.score, segment_profile.bands)
    return OverrideOut(
        id=override.id,
        score=override.score,
        band=band,
        reason=override.reason,
        author=override.author,
        created_at=as_utc(override.created_at),
        expires_at=as_utc(override.expires_at),
    )


def _point(snapshot: Any) -> HistoryPoint:
    overridden = snapshot.override_score is not None
    return HistoryPoint(
        as_of=as_utc(snapshot.as_of),
        score=snapshot.score,
        band=Band(snapshot.band),
        effective_score=snapshot.override_score if overridden else snapshot.score,
        run_id=snapshot.run_id,
    )
