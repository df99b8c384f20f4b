"""Freshdesk tickets with their conversations (`GET /api/v2/tickets/{id}?include=
conversations,requester`, or the ticket plus `GET /tickets/{id}/conversations`).

    {"id", "subject", "description", "description_text", "created_at", "requester_id",
     "responder_id", "company_id", "requester": {"id", "name", "email"},
     "conversations": [{"id", "body", "body_text", "incoming", "private", "user_id",
                        "from_email", "created_at"}]}

A file holds one ticket, a list, {"ticket": {...}, "conversations": [...]}, or one per
line. The description is the requester's opening message. `incoming: true` came from the
customer; `private: true` is an internal note (vendor-side, marked `internal`). Org id:
`freshdesk:<company_id>`.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from convsignal.domain import Channel, Conversation, Participant, Role, SourceLocator, Turn
from convsignal.errors import IngestError
from convsignal.ingest.common import (
    as_dict,
    as_list,
    child,
    id_of,
    load_json_documents,
    parse_instant,
    participants_of,
    text_of,
)
from convsignal.ingest.html_text import html_to_text
from convsignal.ingest.options import IngestOptions

FORMAT = "freshdesk"
_MARKERS = ('"fr_due_by"', '"responder_id"', '"incoming"', '"fr_escalated"', '"support_email"')


def looks_like(path: Path, head: str) -> bool:
    if path.suffix.lower() not in {".json", ".jsonl", ".ndjson"}:
        return False
    return sum(marker in head for marker in _MARKERS) >= 2


def read(path: Path, options: IngestOptions) -> Iterator[Conversation | IngestError]:
    for item in load_json_documents(path):
        if isinstance(item, IngestError):
            yield item
            continue
        record, document = item
        for where, ticket, conversations in _items(record, document):
            try:
                yield _conversation(path, where, ticket, conversations, options)
            except IngestError as exc:
                yield exc


def _items(record: str, document: Any) -> Iterator[tuple[str, dict[str, Any], list[Any]]]:
    if isinstance(document, list):
        for index, ticket in enumerate(document):
            ticket = as_dict(ticket)
            yield child(record, index), ticket, as_list(ticket.get("conversations"))
    elif isinstance(document, dict) and isinstance(document.get("ticket"), dict):
        ticket = document["ticket"]
        conversations = document.get("conversations") or ticket.get("conversations")
        yield child(record, "ticket"), ticket, as_list(conversations)
    else:
        ticket = as_dict(document)
        yield record, ticket, as_list(ticket.get("conversations"))


def _conversation(
    path: Path,
    record: str,
    ticket: dict[str, Any],
    conversations: list[Any],
    options: IngestOptions,
) -> Conversation:
    ticket_id = id_of(ticket.get("id"))
    if ticket_id is None:
        raise IngestError("ticket without 'id'", path=str(path), record=record)
    where = f"{record} (ticket {ticket_id})"
    opened = parse_instant(ticket.get("created_at"))
    if opened is None:
        raise IngestError("ticket has no created_at", path=str(path), record=where)
    requester = as_dict(ticket.get("requester"))
    requester_id = id_of(ticket.get("requester_id")) or id_of(requester.get("id"))
    customer = Participant(
        name=text_of(requester.get("name"))
        or text_of(requester.get("email"))
        or f"Freshdesk requester {requester_id}",
        role=options.side(text_of(requester.get("email")) or None, Role.CUSTOMER),
        email=text_of(requester.get("email")) or None,
    )
    turns = []
    opening = text_of(ticket.get("description_text")) or html_to_text(
        text_of(ticket.get("description"))
    )
    if opening:
        turns.append(Turn(customer.name, opening, customer.role, 0.0))
    for index, raw in enumerate(conversations):
        message = as_dict(raw)
        sent = parse_instant(message.get("created_at"))
        if sent is None:
            raise IngestError(
                f"conversation #{index + 1} has no readable created_at",
                path=str(path),
                record=where,
            )
        text = text_of(message.get("body_text")) or html_to_text(text_of(message.get("body")))
        if not text:
            continue
        person = _author(message, requester_id, customer, options)
        internal = message.get("private") is True
        turns.append(
            Turn(person.name, text, person.role, (sent - opened).total_seconds(), internal)
        )
    if not turns:
        raise IngestError("ticket has no message text", path=str(path), record=where)
    company = id_of(ticket.get("company_id"))
    return Conversation(
        source_id=ticket_id,
        account_id="",
        channel=Channel.TICKET,
        occurred_at=opened,
        participants=participants_of([customer], turns),
        turns=tuple(sorted(turns, key=lambda t: t.start_seconds or 0.0)),
        locator=SourceLocator(format=FORMAT, file=str(path), record=where),
        subject=text_of(ticket.get("subject")) or None,
        org_ids=(f"freshdesk:{company}",) if company else (),
    )


def _author(
    message: dict[str, Any],
    requester_id: str | None,
    customer: Participant,
    options: IngestOptions,
) -> Participant:
    user_id = id_of(message.get("user_id"))
    if requester_id is not None and user_id == requester_id:
        return customer
    display, address = parseaddr(text_of(message.get("from_email")))
    email = address or None
    incoming = message.get("incoming")
    hint = Role.CUSTOMER if incoming is True else Role.VENDOR
    if message.get("private") is True:
        hint = Role.VENDOR
    fallback = f"Freshdesk {'contact' if incoming else 'agent'} {user_id or ''}".strip()
    name = display.strip() or email or fallback
    return Participant(name=name, role=options.side(email, hint), email=email)
