"""Shared fixtures.

- A network guard: any test that tries to reach a non-loopback address fails. No test may
  talk to a real LLM provider or download a model.
- Database URLs: SQLite in tmp, and the local PostgreSQL in a fresh schema per test. When no
  PostgreSQL answers, PostgreSQL tests skip with the reason (never silently).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from convsignal.store.engine import make_engine, upgrade

POSTGRES_URL = os.environ.get(
    "CONVSIGNAL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_real_connect = socket.socket.connect


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host not in {"127.0.0.1", "::1", "localhost"} and "/" not in host:
        raise RuntimeError(f"test tried to reach the network ({host}); tests must stay offline")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)


@pytest.fixture(autouse=True)
def _private_config_home(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: Any) -> None:
    """Nothing a test does lands in the user's ~/.config (e.g. the jobs queue's key file)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config-home"))
    # Commands run in the test process: a frozen heap would keep every test's garbage.
    monkeypatch.setenv("CONVSIGNAL_FREEZE_HEAP", "0")


def _postgres_reason() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg not installed (pip install 'convsignal[postgres]')"
    dsn = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return f"no PostgreSQL server answers at {POSTGRES_URL} ({str(exc).strip()[:120]})"


_PG_REASON = _postgres_reason()


@pytest.fixture
def sqlite_url(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema on the local server, dropped afterwards."""
    if _PG_REASON:
        pytest.skip(_PG_REASON)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    # A throwaway schema needs no durability: commits return without waiting for the WAL
    # flush (the per-test migrations are hundreds of small commits).
    options = f"-csearch_path%3D{schema}%20-csynchronous_commit%3Doff"
    yield f"{POSTGRES_URL}{separator}options={options}"
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Runs the test once on SQLite and once on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()
