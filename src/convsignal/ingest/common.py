"""Helpers the export readers share: instants, JSON with located errors, merged turns.

Every error raised here names the file and the record (line or JSON path) and the cause,
never a value from the input: values may be conversation text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from convsignal.domain import Participant, Role, Turn
from convsignal.errors import IngestError
from convsignal.ingest.text_io import read_text

_NDJSON_SUFFIXES = {".jsonl", ".ndjson"}


def parse_instant(value: Any, *, epoch_unit: float = 1.0) -> datetime | None:
    """ISO 8601 text (`Z` or an offset; naive means UTC) or a Unix epoch number in units of
    `epoch_unit` seconds. None when the value is none of those."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, bool) or value is None:
        return None
    elif isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value) * epoch_unit, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.lstrip("-").replace(".", "", 1).isdigit():
            return parse_instant(float(text), epoch_unit=epoch_unit)
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def load_json_documents(path: Path) -> Iterator[tuple[str, Any] | IngestError]:
    """One document for a JSON file, one per line for JSON Lines (`.jsonl`, `.ndjson`, or a
    `.json` file holding one object per line). Yields (record, document) or an error per
    bad line, so one bad line does not hide the others."""
    return parse_json_documents(path, read_text(path))


def parse_json_documents(path: Path, text: str) -> Iterator[tuple[str, Any] | IngestError]:
    """`load_json_documents` on text already read."""
    if not text.strip():
        yield IngestError("empty file", path=str(path))
        return
    if path.suffix.lower() not in _NDJSON_SUFFIXES:
        try:
            yield "$", json.loads(text)
            return
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":
                yield _json_error(path, exc)
                return
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {number}", json.loads(line)
        except json.JSONDecodeError as exc:
            yield IngestError(
                f"not valid JSON ({exc.msg} at column {exc.colno})",
                path=str(path),
                record=f"line {number}",
            )


def _json_error(path: Path, exc: json.JSONDecodeError) -> IngestError:
    return IngestError(
        f"not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})",
        path=str(path),
        record=f"line {exc.lineno}",
    )


def child(record: str, key: str | int) -> str:
    """JSON path of a child: `$` + `tickets` → `$.tickets`, + 3 → `$.tickets[3]`."""
    if isinstance(key, int):
        return f"{record}[{key}]"
    return f"{record}.{key}" if "$" in record else f"{record} $.{key}"


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def text_of(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def id_of(value: Any) -> str | None:
    """Ids arrive as numbers or strings; None when absent."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def merge_consecutive(turns: Sequence[Turn]) -> tuple[Turn, ...]:
    """Join consecutive turns of the same speaker and visibility (caption cues, Gong
    monologues split by topic) into one, keeping the first start offset."""
    merged: list[Turn] = []
    for turn in turns:
        if not turn.text:
            continue
        last = merged[-1] if merged else None
        if last and last.speaker == turn.speaker and last.internal == turn.internal:
            merged[-1] = Turn(
                speaker=last.speaker,
                text=f"{last.text} {turn.text}",
                role=last.role,
                start_seconds=last.start_seconds,
                internal=last.internal,
            )
        else:
            merged.append(turn)
    return tuple(merged)


def participants_of(known: Sequence[Participant], turns: Sequence[Turn]) -> tuple[Participant, ...]:
    """The known people, then every other speaker once (so the scrubber knows each name)."""
    people = list(known)
    names = {p.name for p in people}
    for turn in turns:
        if turn.speaker not in names:
            names.add(turn.speaker)
            people.append(Participant(name=turn.speaker, role=turn.role))
    return tuple(people)


def role_hint(value: Any, vendor: set[str], customer: set[str]) -> Role | None:
    text = str(value).strip().lower() if value is not None else ""
    if text in vendor:
        return Role.VENDOR
    if text in customer:
        return Role.CUSTOMER
    return None
