"""Shared set-up of the API tests: an app on the test engine, keys of each scope, seeded data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from convsignal.api.apikeys import create_api_key
from convsignal.api.app import create_app
from convsignal.config import Settings
from convsignal.score.profile import load_profile
from convsignal.score.service import recompute
from convsignal.store.engine import session_scope
from tests.integration.scoring_helpers import (
    CANCEL,
    CHAMPION,
    GOOD,
    POOR,
    RENEW,
    add_account,
    add_conversation,
    add_metrics,
    day,
)


@dataclass(frozen=True)
class Keys:
    read: str
    write: str
    admin: str

    def header(self, scope: str = "read") -> dict[str, str]:
        return {"Authorization": f"Bearer {getattr(self, scope)}"}


def make_keys(engine: Engine) -> Keys:
    with session_scope(engine) as session:
        secrets = {
            scope: create_api_key(session, scope=scope, name=f"test-{scope}")[1]
            for scope in ("read", "write", "admin")
        }
    return Keys(**secrets)


@contextmanager
def api_client(engine: Engine, **settings: object) -> Iterator[TestClient]:
    """The app on the test's engine, without background workers; lifespan runs."""
    config = Settings(database_url=str(engine.url), **settings)  # type: ignore[arg-type]
    app = create_app(config, engine=engine, workers=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def seed_accounts(engine: Engine, *, as_of: datetime | None = None) -> None:
    """Five accounts in three bands, one without data, and one score run."""
    with session_scope(engine) as session:
        for account, segment in [("acme", "smb"), ("globex", "enterprise"), ("initech", "smb")]:
            add_account(session, account, segment=segment, name=account.title())
        add_metrics(session, "acme", day(-2), GOOD)
        add_metrics(session, "globex", day(-2), POOR)
        add_metrics(session, "initech", day(-2), {**GOOD, "active_users": 55.0, "nps": 0.0})
        for offset in (-3, -10, -20):
            add_conversation(session, "acme", day(offset), RENEW, key=f"acme{offset}")
            add_conversation(session, "globex", day(offset), CHAMPION, CANCEL, key=f"gx{offset}")
            add_conversation(session, "initech", day(offset), RENEW, key=f"in{offset}")
        add_account(session, "hooli", segment="smb")  # no data at all
        add_account(session, "umbrella", segment="enterprise")
        recompute(session, load_profile(), as_of or day(0))
