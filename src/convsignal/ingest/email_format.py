"""Email: .eml files and mbox mailboxes (Gmail Takeout included), one conversation per
thread. Parsing is the standard library's (`email`, `mailbox`); quoted replies and
signatures are cut by mail-parser-reply; HTML-only bodies go through `html_text`.

All email files of a run are threaded together (pass 1, `email_threads`); then each
thread's messages are parsed one thread at a time (pass 2). A message's turn is only what
it adds: the quoted history below it is dropped, so a message quoted in ten replies is
still read once.
"""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from convsignal.domain import Channel, Conversation, Participant, SourceLocator, Turn
from convsignal.errors import IngestError
from convsignal.ingest.email_body import body_text
from convsignal.ingest.email_threads import (
    MessageRef,
    ThreadIndex,
    index_messages,
    is_mbox,
    open_mbox,
)
from convsignal.ingest.options import IngestOptions
from convsignal.ingest.text_io import decode

FORMAT = "email"
_HEADER_START = re.compile(
    r"^(Return-Path|Received|From|To|Message-ID|Delivered-To|MIME-Version|Date|Subject|"
    r"X-[\w-]+|DKIM-Signature|ARC-[\w-]+):",
    re.IGNORECASE,
)
_SUBJECT_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|tr)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_PARSER = BytesParser(policy=compat32)


def looks_like(path: Path, head: str) -> bool:
    suffix = path.suffix.lower()
    if suffix in {".eml", ".mbox"}:
        return True
    if suffix in {".json", ".csv", ".vtt", ".srt", ".yaml", ".yml"}:
        return False
    text = head.lstrip("\ufeff")
    if text.startswith("From ") and "\n" in text:
        return _HEADER_START.match(text.split("\n", 1)[1]) is not None
    return _HEADER_START.match(text) is not None and bool(
        re.search(r"^(message-id|from):", text, re.IGNORECASE | re.MULTILINE)
    )


def read_group(
    paths: Sequence[Path], options: IngestOptions
) -> Iterator[Conversation | IngestError]:
    heads = {path: _head(path) for path in paths}
    readable = []
    for path in paths:
        if path.stat().st_size == 0:
            yield IngestError("empty file", path=str(path))
        else:
            readable.append(path)
    index = ThreadIndex()
    yield from index_messages(readable, heads, index)
    loader = _Loader(heads)
    try:
        for thread in index.threads():
            try:
                yield _conversation(thread, loader, options)
            except IngestError as exc:
                yield exc
    finally:
        loader.close()


def _head(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return decode(handle.read(512))
    except OSError:
        return ""


class _Loader:
    """Reads one message's bytes again; mbox files stay open for the whole pass."""

    def __init__(self, heads: dict[Path, str]) -> None:
        self._heads = heads
        self._boxes: dict[Path, mailbox.mbox] = {}

    def message(self, ref: MessageRef) -> Message:
        if ref.key is None or not is_mbox(ref.path, self._heads.get(ref.path, "")):
            data = ref.path.read_bytes()
        else:
            box = self._boxes.get(ref.path)
            if box is None:
                box = self._boxes[ref.path] = open_mbox(ref.path)
            data = box.get_bytes(ref.key)  # type: ignore[arg-type]  # mbox keys are ints
        return _PARSER.parsebytes(data)

    def close(self) -> None:
        for box in self._boxes.values():
            box.close()


def _conversation(
    thread: list[MessageRef], loader: _Loader, options: IngestOptions
) -> Conversation:
    first = thread[0]
    entries: list[tuple[datetime | None, int, Turn, list[Participant], str, MessageRef]] = []
    for position, ref in enumerate(thread):
        try:
            message = loader.message(ref)
            entry = _entry(message, options)
        except IngestError:
            raise
        except Exception as exc:  # the email package raises many kinds on broken input
            raise IngestError(
                f"message could not be parsed ({type(exc).__name__})",
                path=str(ref.path),
                record=ref.record,
            ) from None
        entries.append((entry[0], position, entry[1], entry[2], entry[3], ref))
    dated = [e for e in entries if e[0] is not None]
    if not dated:
        raise IngestError(
            "no message in the thread has a valid Date", path=str(first.path), record=first.record
        )
    entries.sort(key=lambda e: (e[0] or datetime.max.replace(tzinfo=UTC), e[1]))
    started = min(e[0] for e in dated if e[0] is not None)
    turns = []
    people: dict[str, Participant] = {}
    for sent, _, turn, persons, _, _ in entries:
        offset = (sent - started).total_seconds() if sent is not None else None
        if turn.text:
            turns.append(Turn(turn.speaker, turn.text, turn.role, offset))
        for person in persons:
            people.setdefault((person.email or person.name).lower(), person)
    if not turns:
        raise IngestError(
            "no message text in the thread", path=str(first.path), record=first.record
        )
    subject = next((e[4] for e in entries if e[4]), None) or None
    first = entries[0][5]  # the earliest message names the thread, whatever the file order
    return Conversation(
        source_id=first.message_id or f"{first.path.name}#{first.ordinal}",
        account_id="",
        channel=Channel.EMAIL,
        occurred_at=started,
        participants=tuple(people.values()),
        turns=tuple(turns),
        locator=SourceLocator(format=FORMAT, file=str(first.path), record=first.record),
        subject=subject,
    )


def _entry(
    message: Message, options: IngestOptions
) -> tuple[datetime | None, Turn, list[Participant], str]:
    senders = _addresses(message, "From")
    name, address = senders[0] if senders else ("", "")
    people = [
        Participant(
            name=person_name.strip() or person_address,
            role=options.role_for_email(person_address),
            email=person_address or None,
        )
        for field in ("From", "To", "Cc")
        for person_name, person_address in _addresses(message, field)
        if person_address or person_name
    ]
    speaker = name.strip() or address or "Unknown sender"
    turn = Turn(speaker, body_text(message), options.role_for_email(address))
    subject = _SUBJECT_PREFIX.sub("", _header(message, "Subject")).strip()
    return _sent(message), turn, people, subject


def _header(message: Message, name: str) -> str:
    """A header decoded from RFC 2047 (=?utf-8?q?…?=); undecodable parts stay as sent."""
    raw = message.get(name)
    if raw is None:
        return ""
    try:
        return str(make_header(decode_header(str(raw))))
    except (LookupError, UnicodeError, ValueError):
        return str(raw)


def _addresses(message: Message, name: str) -> list[tuple[str, str]]:
    values = message.get_all(name, [])
    decoded = []
    for value in values:
        try:
            decoded.append(str(make_header(decode_header(str(value)))))
        except (LookupError, UnicodeError, ValueError):
            decoded.append(str(value))
    return getaddresses(decoded)


def _sent(message: Message) -> datetime | None:
    raw = message.get("Date")
    if not raw:
        return None
    try:
        parsed = parsedate_to_datetime(str(raw))
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
