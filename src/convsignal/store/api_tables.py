"""The scorer API's keys (only a SHA-256 of each key is kept, and a short prefix to list it
by), and the indexes its account list reads through.

A key is 32 random bytes: a plain (unsalted) SHA-256 is the right hash for a secret with
that much entropy (no dictionary to guess from), and it lets a request find its key with one
indexed lookup.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from convsignal.store.tables import ScoreSnapshot, utcnow


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    prefix: str = Field(max_length=16, index=True)  # the key's first characters, for listing
    key_hash: str = Field(max_length=64, unique=True)  # sha256 hex of the whole key
    scope: str = Field(max_length=10)  # read | write | admin
    name: str = Field(max_length=200)  # who holds it: "gainsight-prod"
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


# The account list's band filter (GET /v1/accounts?band=…): one index range scan per band,
# already in account order, for snapshots without an override and for those with one.
_snapshots: Any = ScoreSnapshot.__table__  # type: ignore[attr-defined]
Index("ix_score_snapshots_run_band_account", _snapshots.c.run_id, _snapshots.c.band,
      _snapshots.c.account_id)  # fmt: skip
Index("ix_score_snapshots_run_override_account", _snapshots.c.run_id,
      _snapshots.c.override_band, _snapshots.c.account_id)  # fmt: skip
