"""Reading text files whatever their encoding, or text handed over in memory."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from convsignal.errors import IngestError

_in_memory = threading.local()


@contextmanager
def files_in_memory(files: Mapping[Path, str]) -> Iterator[None]:
    """While inside, `read_text` in this thread answers these paths with these texts.

    How export records submitted to the API go through the same readers as files, without
    their text ever being written to disk."""
    previous: Mapping[Path, str] | None = getattr(_in_memory, "files", None)
    _in_memory.files = files
    try:
        yield
    finally:
        _in_memory.files = previous


def read_text(path: Path) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252/latin-1."""
    files: Mapping[Path, str] | None = getattr(_in_memory, "files", None)
    if files is not None and path in files:
        return files[path]
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read file ({exc.strerror})", path=str(path)) from None
    return decode(data)


def decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")
