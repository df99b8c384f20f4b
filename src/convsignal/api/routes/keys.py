"""GET /v1/api-keys and DELETE /v1/api-keys/{key_id} (admin): keys are listed by prefix,
never shown; new keys are made with `convsignal apikey create` (the secret is shown once)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from convsignal.api.auth import Scope, key_cache, list_api_keys, require_scope, revoke_api_key
from convsignal.api.deps import SessionDep
from convsignal.api.problems import Problem, problem_responses
from convsignal.api.schemas import ApiKeyOut
from convsignal.errors import ConfigError
from convsignal.store.api_tables import ApiKey
from convsignal.store.tables import as_utc

router = APIRouter(tags=["api keys"])
ADMIN = [Depends(require_scope(Scope.ADMIN))]


def _out(key: ApiKey) -> ApiKeyOut:
    assert key.id is not None
    return ApiKeyOut(
        id=key.id,
        prefix=key.prefix,
        scope=key.scope,
        name=key.name,
        created_at=as_utc(key.created_at),
        revoked_at=as_utc(key.revoked_at) if key.revoked_at else None,
    )


@router.get(
    "/api-keys", dependencies=ADMIN, response_model=list[ApiKeyOut], summary="List API keys"
)
def list_keys(
    session: SessionDep, include_revoked: Annotated[bool, Query()] = False
) -> list[ApiKeyOut]:
    return [_out(key) for key in list_api_keys(session, include_revoked=include_revoked)]


@router.delete(
    "/api-keys/{key_id}",
    dependencies=ADMIN,
    response_model=ApiKeyOut,
    responses=problem_responses(404),
    summary="Revoke an API key (takes effect on the next request)",
)
def revoke_key(
    request: Request, key_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep
) -> ApiKeyOut:
    try:
        key = revoke_api_key(session, key_id)
    except ConfigError as exc:
        raise Problem(404, detail=str(exc)) from None
    session.commit()
    key_cache(request).clear()  # this process refuses it from now on
    return _out(key)
