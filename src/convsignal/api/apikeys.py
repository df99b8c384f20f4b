"""API keys without the web framework: scopes, hashing, create/list/revoke, lookup.

The CLI (`convsignal apikey`) uses this module without importing FastAPI; `auth` builds the
request dependency on it. A key looks like `csk_<43 url-safe characters>` (32 random bytes);
the database keeps its SHA-256 and its first characters, never the key.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlmodel import Session, col

from convsignal.errors import ConfigError
from convsignal.store.api_tables import ApiKey
from convsignal.store.tables import utcnow

KEY_PREFIX = "csk_"
VISIBLE_CHARS = len(KEY_PREFIX) + 8
MAX_NAME = 200


class Scope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def allows(self, needed: Scope) -> bool:
        return self.rank >= needed.rank


_RANK = {Scope.READ: 0, Scope.WRITE: 1, Scope.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the key's id, name and scope (never the key)."""

    key_id: int
    name: str
    scope: Scope
    prefix: str


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_key(
    session: Session, *, scope: Scope | str, name: str, now: datetime | None = None
) -> tuple[ApiKey, str]:
    """A new key row and the secret (show it once; only its hash is stored)."""
    scope = parse_scope(scope)
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise ConfigError(f"an API key needs a --name of 1..{MAX_NAME} characters (who holds it)")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        prefix=secret[:VISIBLE_CHARS],
        key_hash=hash_key(secret),
        scope=scope.value,
        name=name,
        created_at=now or utcnow(),
    )
    session.add(key)
    session.flush()
    return key, secret


def list_api_keys(session: Session, *, include_revoked: bool = False) -> Sequence[ApiKey]:
    statement = select(ApiKey).order_by(col(ApiKey.id))
    if not include_revoked:
        statement = statement.where(col(ApiKey.revoked_at).is_(None))
    return session.scalars(statement).all()


def revoke_api_key(session: Session, key: int | str, *, now: datetime | None = None) -> ApiKey:
    """Revoke by id or by the listed prefix; an error names what was not found."""
    statement = select(ApiKey).where(col(ApiKey.revoked_at).is_(None))
    if isinstance(key, int) or key.isdigit():
        statement = statement.where(col(ApiKey.id) == int(key))
    else:
        statement = statement.where(col(ApiKey.prefix) == key[:VISIBLE_CHARS])
    found = session.scalars(statement).all()
    if not found:
        raise ConfigError(f"no active API key {key!r}; `convsignal apikey list` shows them")
    if len(found) > 1:
        raise ConfigError(f"{key!r} matches {len(found)} keys; revoke by id")
    session.execute(
        update(ApiKey).where(col(ApiKey.id) == found[0].id).values(revoked_at=now or utcnow())
    )
    session.refresh(found[0])
    return found[0]


def authenticate(session: Session, secret: str) -> Principal | None:
    """The active key matching `secret`, or None. One indexed lookup on the hash."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    row = session.execute(
        select(col(ApiKey.id), col(ApiKey.name), col(ApiKey.scope), col(ApiKey.prefix)).where(
            col(ApiKey.key_hash) == hash_key(secret), col(ApiKey.revoked_at).is_(None)
        )
    ).first()
    if row is None:
        return None
    return Principal(key_id=row[0], name=row[1], scope=Scope(row[2]), prefix=row[3])


def parse_scope(value: Scope | str) -> Scope:
    try:
        return Scope(value)
    except ValueError:
        known = ", ".join(s.value for s in Scope)
        raise ConfigError(f"unknown scope {value!r}; use one of {known}") from None
