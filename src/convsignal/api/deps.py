"""What routes receive: the app's settings, its shared engine, a session per request.

The engine is made once per app (a sized pool; see `create_app`), never per request. A
session is opened per request and closed after; routes that write commit themselves, so a
failed commit is an error response, not a silent loss after the client got its 2xx. A
connection is never held while a request waits for a worker thread (see `get_session`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Annotated, cast

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from convsignal.config import Settings
from convsignal.score.profile_model import Profile


def get_settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


def get_engine(request: Request) -> Engine:
    return cast(Engine, request.app.state.engine)


def get_profile(request: Request) -> Profile:
    return cast(Profile, request.app.state.profile)


def get_read_engine(request: Request) -> Engine:
    """The same pool in autocommit mode: a read needs no BEGIN/ROLLBACK round trips, and
    psycopg keeps its prepared statements (a ROLLBACK drops them)."""
    return cast(Engine, request.app.state.read_engine)


READ_METHODS = frozenset({"GET", "HEAD"})


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for the request: autocommit for GET/HEAD, one transaction otherwise.

    Made here (no I/O: the connection is checked out on the first query, in the route's
    worker thread). A write session is closed in a thread of its own, never one of the
    shared worker threads: waiting for one while holding a connection would deadlock a
    saturated pool (FastAPI closes sync dependencies the same way). A read session holds
    no transaction, so closing it only hands the connection back to the pool."""
    read = request.method in READ_METHODS
    engine = get_read_engine(request) if read else get_engine(request)
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if read:
            session.close()
        else:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))


@contextmanager
def read_session(request: Request) -> Iterator[Session]:
    """A read-only (autocommit) session opened and closed inside a route's own worker
    thread: the hot read routes use it instead of `SessionDep`, whose per-request
    dependency set-up and teardown cost more than their queries."""
    with Session(get_read_engine(request), expire_on_commit=False) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
EngineDep = Annotated[Engine, Depends(get_engine)]
ProfileDep = Annotated[Profile, Depends(get_profile)]
SessionDep = Annotated[Session, Depends(get_session)]
