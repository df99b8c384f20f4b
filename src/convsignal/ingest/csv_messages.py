"""Generic CSV: one row per message, grouped into conversations by a conversation id.

Columns are found by common names (case-insensitive) or named with `--csv-column
FIELD=HEADER` (repeatable):

    field            required  guessed from
    conversation_id  yes       conversation_id, conversation, thread_id, ticket_id, call_id
    text             yes       text, body, message, content
    timestamp        yes       timestamp, created_at, sent_at, date, time
    speaker                    speaker, author, sender, from, name
    email                      email, author_email, sender_email, from_email
    role                       role, side, author_type (customer|user|end-user / vendor|
                               agent|admin|staff / unknown)
    internal                   internal, private, is_internal, note (true/yes/1)
    account                    account, account_id
    org_id                     org_id, organization_id, company_id (mapped via --account-map)
    channel                    channel (call|email|ticket|chat; default chat)
    subject                    subject, title

A bad row (no text, unreadable time) fails its whole conversation, named by line: a
conversation is stored whole or not at all, so a fixed file re-runs cleanly.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from convsignal.domain import Conversation, Participant, SourceLocator, Turn
from convsignal.errors import IngestError
from convsignal.ingest.common import parse_instant, participants_of, role_hint
from convsignal.ingest.header import parse_channel
from convsignal.ingest.options import IngestOptions
from convsignal.ingest.text_io import read_text

FORMAT = "csv"
FIELDS: dict[str, tuple[str, ...]] = {
    "conversation_id": ("conversation_id", "conversation", "thread_id", "ticket_id", "call_id"),
    "text": ("text", "body", "message", "content"),
    "timestamp": ("timestamp", "created_at", "sent_at", "date", "time"),
    "speaker": ("speaker", "author", "sender", "from", "name"),
    "email": ("email", "author_email", "sender_email", "from_email"),
    "role": ("role", "side", "author_type"),
    "internal": ("internal", "private", "is_internal", "note"),
    "account": ("account", "account_id"),
    "org_id": ("org_id", "organization_id", "company_id"),
    "channel": ("channel",),
    "subject": ("subject", "title"),
}
REQUIRED = ("conversation_id", "text", "timestamp")
_TRUE = {"true", "yes", "1", "y", "internal", "private"}


@dataclass
class _Thread:
    first_line: int
    rows: list[tuple[datetime, Turn]] = field(default_factory=list)
    people: dict[str, Participant] = field(default_factory=dict)
    error: IngestError | None = None
    account: str = ""
    org_id: str = ""
    channel: str = ""
    subject: str = ""


def resolve_columns(header: list[str], overrides: dict[str, str]) -> dict[str, str]:
    """Field → column header, from --csv-column overrides first, then common names."""
    by_name = {column.strip().lower(): column for column in header}
    columns = {}
    for name, aliases in FIELDS.items():
        wanted = overrides.get(name)
        if wanted is not None:
            if wanted.strip().lower() in by_name:
                columns[name] = by_name[wanted.strip().lower()]
            continue
        found = next((by_name[a] for a in aliases if a in by_name), None)
        if found is not None:
            columns[name] = found
    return columns


def looks_like(path: Path, head: str) -> bool:
    if path.suffix.lower() != ".csv":
        return False
    first = head.lstrip("\ufeff").splitlines()[:1]
    header = next(csv.reader(first), []) if first else []
    columns = resolve_columns(header, {})
    return all(name in columns for name in REQUIRED)


def read(path: Path, options: IngestOptions) -> Iterator[Conversation | IngestError]:
    text = read_text(path)
    reader = csv.DictReader(text.splitlines())
    columns = resolve_columns(list(reader.fieldnames or []), dict(options.csv_columns))
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        raise IngestError(
            f"no column for {', '.join(missing)} (name it with --csv-column FIELD=HEADER)",
            path=str(path),
            record="line 1",
        )
    threads: dict[str, _Thread] = {}
    try:
        for line, row in enumerate(reader, start=2):
            try:
                _add_row(path, line, row, columns, threads, options)
            except IngestError as exc:
                yield exc
    except csv.Error as exc:
        raise IngestError(
            f"not valid CSV ({type(exc).__name__})",
            path=str(path),
            record=f"line {reader.line_num}",
        ) from None
    for conversation_id, thread in threads.items():
        yield thread.error or _conversation(path, conversation_id, thread)


def _add_row(
    path: Path,
    line: int,
    row: dict[str, str],
    columns: dict[str, str],
    threads: dict[str, _Thread],
    options: IngestOptions,
) -> None:
    def cell(name: str) -> str:
        return (row.get(columns[name]) or "").strip() if name in columns else ""

    if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
        return
    conversation_id = cell("conversation_id")
    where = f"line {line}"
    if not conversation_id:
        raise IngestError("row has no conversation id", path=str(path), record=where)
    thread = threads.setdefault(conversation_id, _Thread(first_line=line))
    if thread.error is not None:
        return
    sent = parse_instant(cell("timestamp"))
    text = cell("text")
    problem = "no text" if not text else "timestamp is not ISO 8601 or Unix" if not sent else ""
    if problem or sent is None:
        thread.error = IngestError(
            f"conversation {conversation_id}: {problem}", path=str(path), record=where
        )
        return
    email = cell("email") or None
    hint = role_hint(
        cell("role"),
        {"vendor", "agent", "admin", "staff", "rep"},
        {"customer", "user", "end-user", "contact", "client"},
    )
    person = Participant(cell("speaker") or email or "Unknown", options.side(email, hint), email)
    thread.people.setdefault(person.email or person.name, person)
    internal = cell("internal").lower() in _TRUE
    thread.rows.append((sent, Turn(person.name, text, person.role, None, internal)))
    thread.account = thread.account or cell("account")
    thread.org_id = thread.org_id or cell("org_id")
    thread.channel = thread.channel or cell("channel")
    thread.subject = thread.subject or cell("subject")


def _conversation(path: Path, conversation_id: str, thread: _Thread) -> Conversation | IngestError:
    where = f"line {thread.first_line}"
    try:
        channel = parse_channel(thread.channel or "chat", str(path))
    except IngestError:
        return IngestError(
            f"conversation {conversation_id}: unknown channel", path=str(path), record=where
        )
    rows = sorted(thread.rows, key=lambda pair: pair[0])
    opened = rows[0][0]
    turns = tuple(
        Turn(t.speaker, t.text, t.role, (sent - opened).total_seconds(), t.internal)
        for sent, t in rows
    )
    return Conversation(
        source_id=conversation_id,
        account_id=thread.account,
        channel=channel,
        occurred_at=opened,
        participants=participants_of(list(thread.people.values()), turns),
        turns=turns,
        locator=SourceLocator(format=FORMAT, file=str(path), record=where),
        subject=thread.subject or None,
        org_ids=(f"csv:{thread.org_id}",) if thread.org_id else (),
    )
