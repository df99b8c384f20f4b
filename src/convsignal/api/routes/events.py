"""GET /v1/accounts/{account_id}/events: an account's extracted signals, newest first.

Only what the store holds: types, scores, roles, versions and the scrubbed evidence snippet
(≤ 200 characters, PII replaced by placeholders). Never conversation text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from convsignal.api.auth import Scope, require_scope
from convsignal.api.deps import get_settings, read_session
from convsignal.api.pagination import decode_cursor, encode_cursor, fingerprint
from convsignal.api.problems import Problem, problem_responses
from convsignal.api.routes.accounts import AccountIdPath
from convsignal.api.schemas import EventOut, EventPage, Timestamp
from convsignal.domain import SignalKind
from convsignal.store import api_repository as reads
from convsignal.store.tables import as_utc

router = APIRouter(tags=["events"])


@router.get(
    "/accounts/{account_id}/events",
    dependencies=[Depends(require_scope(Scope.READ))],
    response_model=EventPage,
    responses=problem_responses(400, 404),
    summary="An account's signal events (scrubbed evidence only), newest first",
)
def list_events(
    account_id: AccountIdPath,
    request: Request,
    kind: Annotated[SignalKind | None, Query()] = None,
    since: Annotated[Timestamp | None, Query(description="occurred at or after")] = None,
    until: Annotated[Timestamp | None, Query(description="occurred at or before")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> EventPage:
    """Example: `GET /v1/accounts/acme/events?kind=risk_flag&limit=20`"""
    limit = min(limit, get_settings(request).api_max_page_size)
    filters = fingerprint(account=account_id, kind=kind, since=since, until=until)
    before: tuple[datetime, int] | None = None
    if cursor is not None:
        position = decode_cursor(cursor, filters)
        try:
            before = (datetime.fromisoformat(position["at"]), int(position["id"]))
        except (KeyError, TypeError, ValueError):
            raise Problem(
                400,
                detail="query.cursor: malformed",
                errors=[{"field": "query.cursor", "message": "malformed"}],
            ) from None
    with read_session(request) as session:
        if reads.account(session, account_id) is None:
            raise Problem(404, detail=f"no account {account_id!r}")
        rows = reads.event_page(
            session,
            account_id,
            before=before,
            limit=limit + 1,
            kind=kind.value if kind else None,
            since=since,
            until=until,
        )
    items = [
        EventOut(
            id=row.id or 0,
            conversation_id=row.conversation_id,
            occurred_at=as_utc(row.occurred_at),
            kind=SignalKind(row.kind),
            signal_type=row.signal_type,
            score=row.score,
            confidence=row.confidence,
            speaker_role=row.speaker_role,
            evidence=row.evidence,
            extractor_id=row.extractor_id,
            prompt_version=row.prompt_version,
        )
        for row in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor({"at": last.occurred_at.isoformat(), "id": last.id}, filters)
    return EventPage(items=items, next_cursor=next_cursor)
