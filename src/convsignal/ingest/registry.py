"""Format registry and the file walker.

A format is a module with `FORMAT`, `looks_like(path, head)` and `read(path, options)`.
`read_paths` yields a `Conversation` per record or an `IngestError` per bad file/record, so
the caller decides (dead letter) and the batch goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from convsignal.domain import Conversation
from convsignal.errors import IngestError
from convsignal.ingest import plaintext
from convsignal.ingest.options import IngestOptions
from convsignal.ingest.text_io import decode

__all__ = ["IngestOptions", "known_formats", "read_paths"]

_HEAD_BYTES = 4096
_SIDECAR_SUFFIXES = (".meta.yaml", ".meta.yml")


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    description: str
    looks_like: Callable[[Path, str], bool]
    read: Callable[[Path, IngestOptions], Iterator[Conversation]]


_FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> None:
    _FORMATS[fmt.name] = fmt


register(
    Format(
        name=plaintext.FORMAT,
        description='"Speaker: text" lines with a YAML header or .meta.yaml sidecar',
        looks_like=plaintext.looks_like,
        read=plaintext.read,
    )
)


def known_formats() -> dict[str, str]:
    return {name: fmt.description for name, fmt in _FORMATS.items()}


def resolve(name: str) -> Format:
    try:
        return _FORMATS[name]
    except KeyError:
        known = ", ".join(sorted(_FORMATS))
        raise IngestError(f"unknown format {name!r}; known formats: {known}", path="-") from None


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if (
                    child.is_file()
                    and not child.name.startswith(".")
                    and not child.name.endswith(_SIDECAR_SUFFIXES)
                ):
                    yield child
        else:
            yield path


def detect(path: Path) -> Format | None:
    try:
        with path.open("rb") as handle:
            head = decode(handle.read(_HEAD_BYTES))
    except OSError:
        return None
    return next((fmt for fmt in _FORMATS.values() if fmt.looks_like(path, head)), None)


def read_paths(
    paths: Iterable[Path], options: IngestOptions, *, format_name: str = "auto"
) -> Iterator[Conversation | IngestError]:
    """Every conversation in `paths` (files or folders, recursively), or the error of each
    file/record that could not be read."""
    forced = None if format_name == "auto" else resolve(format_name)
    for path in _files(paths):
        if not path.exists():
            yield IngestError("no such file or folder", path=str(path))
            continue
        fmt = forced or detect(path)
        if fmt is None:
            yield IngestError(
                "format not recognised (see `convsignal formats`; pass --format to force one)",
                path=str(path),
            )
            continue
        try:
            yield from fmt.read(path, options)
        except IngestError as exc:
            yield exc
