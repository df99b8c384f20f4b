"""API keys: created, listed and revoked from the CLI (`convsignal apikey …`), checked per request.

A key looks like `csk_<43 url-safe characters>` (32 random bytes). The database keeps its
SHA-256 and its first characters (`csk_AbCd1234`, to recognise it in a list); the key itself
is shown once, when created. Scopes nest: read < write < admin (a write key may also read).

Requests carry the key as `Authorization: Bearer csk_…`. No key or an unknown/revoked one is
401; a key whose scope is too small is 403.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, cast

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlmodel import Session

from convsignal.api.apikeys import (
    Principal,
    Scope,
    authenticate,
    create_api_key,
    hash_key,
    list_api_keys,
    parse_scope,
    revoke_api_key,
)
from convsignal.api.deps import get_read_engine
from convsignal.api.problems import Problem

__all__ = [
    "KeyCache",
    "Principal",
    "Scope",
    "authenticate",
    "create_api_key",
    "hash_key",
    "list_api_keys",
    "require_scope",
    "revoke_api_key",
]

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="`Authorization: Bearer csk_…` (a key from `convsignal apikey create`)",
)

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer realm="convsignal"'}


class KeyCache:
    """Recently seen keys, so most requests authenticate without a database round trip.

    Keyed by the key's hash; only successful lookups are kept, for `ttl` seconds. Revoking
    through the API clears this process's cache at once; a key revoked elsewhere (the CLI,
    another worker) stops working within `ttl` seconds (`CONVSIGNAL_API_KEY_CACHE_SECONDS`,
    0 turns the cache off)."""

    def __init__(self, ttl: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[Principal, float]] = {}

    def get(self, key_hash: str) -> Principal | None:
        hit = self._entries.get(key_hash)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def put(self, key_hash: str, principal: Principal) -> None:
        if self.ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key_hash] = (principal, time.monotonic() + self.ttl)

    def clear(self) -> None:
        self._entries.clear()


def key_cache(request: Request) -> KeyCache:
    return cast(KeyCache, request.app.state.key_cache)


def _lookup(engine: Engine, secret: str) -> Principal | None:
    """One short session of its own: no connection is held while the request waits for
    its next worker thread (holding one across threads deadlocks a saturated pool)."""
    with Session(engine) as session:
        return authenticate(session, secret)


def require_scope(scope: Scope | str) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: the caller's key must hold `scope` (or a larger one)."""
    needed = parse_scope(scope)

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None:
            raise Problem(
                401,
                detail="send an API key as `Authorization: Bearer csk_…`",
                headers=UNAUTHORIZED_HEADERS,
            )
        secret = credentials.credentials
        cache = key_cache(request)
        principal = cache.get(hash_key(secret))
        if principal is None:
            principal = await run_in_threadpool(_lookup, get_read_engine(request), secret)
            if principal is None:
                raise Problem(
                    401, detail="unknown or revoked API key", headers=UNAUTHORIZED_HEADERS
                )
            cache.put(hash_key(secret), principal)
        if not principal.scope.allows(needed):
            raise Problem(
                403,
                detail=f"this key has scope {principal.scope.value}; the route needs "
                f"{needed.value}",
            )
        request.state.api_key = principal
        return principal

    dependency.__name__ = f"require_{needed.value}"
    return dependency
