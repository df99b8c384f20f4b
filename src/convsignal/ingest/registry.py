"""Format registry and the file walker.

A format is a module with `looks_like(path, head)` and either `read(path, options)` (one
file at a time) or `read_group(paths, options)` (all files of that format in the run at
once: email threads span files, Gong joins transcripts with call metadata, Zendesk joins
tickets with comment events). `read_paths` yields a `Conversation` per record, an
`IngestError` per bad file or record, and an `UnmappedConversation` per conversation that
maps to no account, so the caller decides (dead letter) and the batch goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from convsignal.domain import Conversation
from convsignal.errors import IngestError
from convsignal.ingest import (
    captions,
    csv_messages,
    email_format,
    freshdesk,
    gong,
    intercom,
    otter,
    plaintext,
    zendesk,
)
from convsignal.ingest.accounts import UnmappedConversation, assign_account
from convsignal.ingest.options import IngestOptions
from convsignal.ingest.text_io import decode, files_in_memory

__all__ = ["Format", "IngestOptions", "detect", "known_formats", "read_paths", "resolve"]

_HEAD_BYTES = 4096
_SIDECAR_SUFFIXES = (".meta.yaml", ".meta.yml")

Items = Iterator[Conversation | IngestError]


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    description: str
    example: str
    looks_like: Callable[[Path, str], bool]
    read: Callable[[Path, IngestOptions], Items] | None = None
    read_group: Callable[[Sequence[Path], IngestOptions], Items] | None = None


_FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> None:
    if (fmt.read is None) == (fmt.read_group is None):
        raise ValueError(f"format {fmt.name!r} needs exactly one of read / read_group")
    _FORMATS[fmt.name] = fmt


# Detection tries formats in this order: the most specific markers first.
for _format in (
    Format(
        "gong", "Gong /v2/calls/transcript + /v2/calls/extensive JSON (per call, page or merged)",
        'transcripts.json {"callTranscripts": [...]} + calls.json {"calls": [...]}',
        gong.looks_like, read_group=gong.read_group,
    ),
    Format(
        "freshdesk", "Freshdesk tickets with conversations (incoming, private notes)",
        'ticket-4711.json {"id": 4711, "conversations": [{"incoming": true, ...}]}',
        freshdesk.looks_like, read=freshdesk.read,
    ),
    Format(
        "zendesk", "Zendesk tickets + comments, incremental ticket(-event) exports, JSON Lines",
        'tickets.json {"tickets": [...], "users": [...]} / {"ticket_events": [...]}',
        zendesk.looks_like, read_group=zendesk.read_group,
    ),
    Format(
        "intercom", "Intercom conversations: source + conversation_parts, HTML bodies, notes",
        'conversations.json {"conversations": [{"source": {...}, "conversation_parts": ...}]}',
        intercom.looks_like, read=intercom.read,
    ),
    Format(
        "teams-vtt", "Microsoft Teams transcript, WebVTT with <v Name> voice tags",
        "meeting.vtt  00:00:01.000 --> 00:00:04.000 / <v Dana Whitfield>Hello</v>",
        captions.looks_like_teams, read=captions.read_teams,
    ),
    Format(
        "zoom-vtt", 'Zoom cloud-recording transcript, WebVTT cues "Name: text"',
        "GMT20261002-150000_Recording.transcript.vtt  Dana Whitfield: Hello",
        captions.looks_like_zoom, read=captions.read_zoom,
    ),
    Format(
        "srt", 'SubRip captions, optional "Name: text" speakers',
        "call.srt  1 / 00:00:01,000 --> 00:00:04,000 / Dana Whitfield: Hello",
        captions.looks_like_srt, read=captions.read_srt,
    ),
    Format(
        "email", ".eml files and mbox (Gmail Takeout too), threaded, quotes/signatures cut",
        "mail.eml, All mail Including Spam and Trash.mbox",
        email_format.looks_like, read_group=email_format.read_group,
    ),
    Format(
        "otter", 'Otter.ai TXT export: "Name  m:ss" then the words',
        "call.txt  Dana Whitfield  0:05 / Thanks for joining.",
        otter.looks_like, read=otter.read,
    ),
    Format(
        plaintext.FORMAT, '"Speaker: text" lines with a YAML header or .meta.yaml sidecar',
        "call.txt  ---/account: acme/occurred_at: 2026-10-02/---/Dana: Hello",
        plaintext.looks_like, read=plaintext.read,
    ),
    Format(
        "csv", "generic CSV, one row per message (columns guessed or set by --csv-column)",
        "messages.csv  conversation_id,timestamp,speaker,email,role,text",
        csv_messages.looks_like, read=csv_messages.read,
    ),
):  # fmt: skip
    register(_format)


def known_formats() -> dict[str, str]:
    return {name: fmt.description for name, fmt in _FORMATS.items()}


def format_examples() -> dict[str, str]:
    return {name: fmt.example for name, fmt in _FORMATS.items()}


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
    """Every conversation in `paths` (files or folders, recursively) with its account, or
    the error of each file/record that could not be read or mapped."""
    for item in _read_all(paths, options, format_name):
        if isinstance(item, IngestError):
            yield item
        else:
            yield assign_account(item, options.account_map, options.is_internal)


def _read_all(paths: Iterable[Path], options: IngestOptions, format_name: str) -> Items:
    forced = None if format_name == "auto" else resolve(format_name)
    groups: dict[str, list[Path]] = {}
    for path in _files(paths):
        if not path.exists():
            yield IngestError("no such file or folder", path=str(path))
            continue
        if path.stat().st_size == 0:
            yield IngestError("empty file", path=str(path))
            continue
        fmt = forced or detect(path)
        if fmt is None:
            yield IngestError(
                "format not recognised (see `convsignal formats`; pass --format to force one)",
                path=str(path),
            )
        elif fmt.read_group is not None:
            groups.setdefault(fmt.name, []).append(path)
        else:
            yield from _guarded(fmt.read, path, options)
    for name, members in groups.items():
        group_reader = _FORMATS[name].read_group
        assert group_reader is not None
        yield from _guarded_group(group_reader, members, options)


def _guarded(
    read: Callable[[Path, IngestOptions], Items] | None, path: Path, options: IngestOptions
) -> Items:
    assert read is not None
    try:
        yield from read(path, options)
    except IngestError as exc:
        yield exc


def _guarded_group(
    read_group: Callable[[Sequence[Path], IngestOptions], Items],
    paths: Sequence[Path],
    options: IngestOptions,
) -> Items:
    """A group reader's failure (e.g. a merged file that cannot be parsed) is one error item;
    the items it yielded before stay."""
    try:
        yield from read_group(paths, options)
    except IngestError as exc:
        yield exc


# Formats whose readers need nothing but the record's own text (no sidecar, no mailbox file),
# so a record can arrive in memory (the API); the suffix is the one their readers expect.
_IN_MEMORY_SUFFIX = {
    "gong": ".json",
    "zendesk": ".json",
    "intercom": ".json",
    "freshdesk": ".json",
    plaintext.FORMAT: ".txt",
    "csv": ".csv",
}


def in_memory_formats() -> tuple[str, ...]:
    return tuple(_IN_MEMORY_SUFFIX)


def record_path(index: int, format_name: str, *, folder: str = "") -> Path:
    """The name record `index` goes by in locators and errors: `records[3].json`."""
    name = f"records[{index}]{_IN_MEMORY_SUFFIX.get(format_name, '')}"
    return Path(folder, name) if folder else Path(name)


def read_records(
    format_name: str,
    records: Sequence[str],
    options: IngestOptions,
    *,
    account_id: str | None = None,
    folder: str = "",
) -> list[Conversation | IngestError]:
    """Conversations from export records held in memory, each what one file of the format
    would hold, read by the same readers as files (`records[i].json` names record i in
    errors; `folder` goes in front). `account_id`: the account of every conversation whose
    record names none. A list, not an iterator: the records are only readable inside."""
    if format_name not in _IN_MEMORY_SUFFIX:
        known = ", ".join(_IN_MEMORY_SUFFIX)
        raise IngestError(
            f"format {format_name!r} cannot be submitted as records; use one of: {known}",
            path="-",
        )
    fmt = resolve(format_name)
    files = {record_path(i, format_name, folder=folder): text for i, text in enumerate(records)}
    items: list[Conversation | IngestError] = []
    with files_in_memory(files):
        if fmt.read_group is not None:
            raw: Iterable[Conversation | IngestError] = _guarded_group(
                fmt.read_group, list(files), options
            )
        else:
            raw = (item for path in files for item in _guarded(fmt.read, path, options))
        for item in raw:
            if isinstance(item, IngestError):
                items.append(item)
                continue
            if account_id and not item.account_id:
                item = replace(item, account_id=account_id)
            items.append(assign_account(item, options.account_map, options.is_internal))
    return items


__all__ += ["UnmappedConversation", "format_examples", "in_memory_formats", "read_records"]
