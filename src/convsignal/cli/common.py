"""What every command shares: settings, the store, the console."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from sqlalchemy import Engine

from convsignal.config import Settings
from convsignal.store.engine import make_engine, upgrade


def _width() -> int | None:
    """Terminals report their width; logs and pipes get a wide default, not rich's 80."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return None
    return 160


console = Console(width=_width())
console_err = Console(stderr=True, width=_width())


def settings(database_url: str | None = None, **overrides: object) -> Settings:
    """Settings from the environment, with the command line's non-empty options on top."""
    values = {key: value for key, value in overrides.items() if value is not None}
    if database_url:
        values["database_url"] = database_url
    return Settings(**values)  # type: ignore[arg-type]


@contextmanager
def open_store(settings: Settings) -> Iterator[Engine]:
    """Engine on the configured database, migrated to the newest schema, closed after."""
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
