"""The key that keeps submitted conversations (and webhook secrets) encrypted at rest.

Where the key comes from, first match wins:

1. `CONVSIGNAL_QUEUE_KEY`: one or more Fernet keys, comma-separated, newest first. The
   first encrypts; all decrypt (rotation: put the new key in front, keep the old one until
   the queue has drained). Required when several machines share one PostgreSQL queue.
2. A key file created on first use with mode 0600: `<database>.queue-key` next to a SQLite
   file, else `queue.key` in the user's config folder (`$XDG_CONFIG_HOME/convsignal`, by
   default `~/.config/convsignal`).

Make a key with `python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from convsignal.config import Settings
from convsignal.errors import ConfigError

__all__ = ["InvalidToken", "key_file_for", "load_cipher"]


def load_cipher(settings: Settings) -> MultiFernet:
    if settings.queue_key:
        keys = [part.strip() for part in settings.queue_key.split(",") if part.strip()]
        try:
            return MultiFernet([Fernet(key) for key in keys])
        except ValueError:
            raise ConfigError(
                "CONVSIGNAL_QUEUE_KEY must hold Fernet keys (32 url-safe base64-encoded "
                "bytes), comma-separated; make one with Fernet.generate_key()"
            ) from None
    return MultiFernet([Fernet(_key_from_file(key_file_for(settings.database_url)))])


def key_file_for(database_url: str) -> Path:
    if database_url.startswith("sqlite") and "///" in database_url:
        database = database_url.split("///", 1)[1].split("?", 1)[0]
        if database and database != ":memory:":
            path = Path(database).expanduser().resolve()
            return path.with_name(path.name + ".queue-key")
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config_home) / "convsignal" / "queue.key"


def _key_from_file(path: Path) -> bytes:
    """Read the key, or create it. Written to a private temporary file, then linked into
    place: two workers starting at once agree on one key, and none reads a half-written one."""
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".queue-key-")
    try:
        with os.fdopen(descriptor, "wb") as handle:  # mkstemp creates it 0600
            handle.write(Fernet.generate_key())
        with contextlib.suppress(FileExistsError):  # another worker's key won
            os.link(temporary, path)
    finally:
        os.unlink(temporary)
    return _read_key(path)


def _read_key(path: Path) -> bytes:
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError:
        raise ConfigError(
            f"{path} does not hold a Fernet key; delete it (queued jobs are then lost) or "
            "set CONVSIGNAL_QUEUE_KEY"
        ) from None
    return key
