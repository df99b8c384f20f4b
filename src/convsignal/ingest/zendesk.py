"""Zendesk Support tickets with their comments.

Shapes read (all JSON, or JSON Lines with one ticket per line):
- a Tickets API page or incremental ticket export: {"tickets": [...], "users": [...],
  "organizations": [...]} (side-loads optional); a ticket may carry its "comments";
- one ticket with its comments: {"ticket": {...}, "comments": [...], "users": [...]};
- the incremental ticket events export with comment events:
  {"ticket_events": [{"ticket_id", "child_events": [{"event_type": "Comment", "body",
  "html_body", "public", "author_id", "created_at"}]}]}, joined by ticket id with the
  tickets of the other Zendesk files of the run.

A comment with `public: false` is an internal note: kept, marked `internal`, vendor-side.
Sides: side-loaded users' role (end-user → customer, agent/admin → vendor), else the
requester is the customer, else the email domain. Org id: `zendesk:<organization_id>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
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
    role_hint,
    text_of,
)
from convsignal.ingest.html_text import html_to_text
from convsignal.ingest.options import IngestOptions

FORMAT = "zendesk"
_MARKERS = ('"ticket_events"', '"submitter_id"', '"html_body"', '"requester_id"')
_CHAT_CHANNELS = {"chat", "native_messaging", "messaging", "chat_transcript"}


@dataclass
class _Directory:
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    organizations: dict[str, str] = field(default_factory=dict)
    tickets: dict[str, tuple[Path, str, dict[str, Any]]] = field(default_factory=dict)
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    emitted: set[str] = field(default_factory=set)
    # ticket id → (version, occurrence): an export read twice, or incremental pages that
    # list a ticket again after it changed, yield the newest version once
    newest: dict[str, tuple[float, int, str]] = field(default_factory=dict)
    occurrences: int = 0

    def offer(self, ticket: dict[str, Any], occurrence: str) -> None:
        ticket_id = str(ticket.get("id"))
        changed = parse_instant(ticket.get("updated_at")) or parse_instant(ticket.get("created_at"))
        self.occurrences += 1
        version = (changed.timestamp() if changed else 0.0, self.occurrences, occurrence)
        if ticket_id not in self.newest or version[:2] >= self.newest[ticket_id][:2]:
            self.newest[ticket_id] = version

    def is_newest(self, ticket_id: str, occurrence: str) -> bool:
        return self.newest.get(ticket_id, (0.0, 0, occurrence))[2] == occurrence


def looks_like(path: Path, head: str) -> bool:
    if path.suffix.lower() not in {".json", ".jsonl", ".ndjson"}:
        return False
    if '"ticket_events"' in head:
        return True
    return bool(re.search(r'"tickets?"\s*:|"requester_id"', head)) and any(
        marker in head for marker in _MARKERS[1:]
    )


def read_group(
    paths: Sequence[Path], options: IngestOptions
) -> Iterator[Conversation | IngestError]:
    """Pass 1: users, organizations, comment events and tickets without embedded comments
    (metadata). Pass 2: tickets with their comments, one file at a time."""
    directory = _Directory()
    for path in paths:
        for item in load_json_documents(path):
            if isinstance(item, IngestError):
                yield item
            else:
                yield from _index(path, *item, directory)
    for path in paths:
        for item in load_json_documents(path):
            if not isinstance(item, IngestError):
                yield from _tickets_with_comments(path, *item, directory, options)
    for ticket_id, (path, record, ticket) in directory.tickets.items():
        if ticket_id not in directory.emitted and directory.is_newest(
            ticket_id, f"{path}|{record}"
        ):
            yield _safely(path, record, ticket, [], directory, options)
    for ticket_id, events in directory.events.items():
        if ticket_id not in directory.emitted and ticket_id not in directory.tickets:
            yield _safely(
                Path(events[0]["_file"]),
                events[0]["_record"],
                {"id": ticket_id},
                [],
                directory,
                options,
            )


def _index(path: Path, record: str, document: Any, directory: _Directory) -> Iterator[IngestError]:
    body = as_dict(document)
    known = {"tickets", "ticket", "ticket_events", "users", "organizations", "comments"}
    if not known & body.keys() and "requester_id" not in body:
        yield IngestError(
            "no 'tickets', 'ticket' or 'ticket_events'", path=str(path), record=record
        )
        return
    for user in as_list(body.get("users")):
        if id_of(as_dict(user).get("id")):
            directory.users[str(user["id"])] = user
    for org in as_list(body.get("organizations")):
        if id_of(as_dict(org).get("id")):
            directory.organizations[str(org["id"])] = text_of(org.get("name"))
    for index, event in enumerate(as_list(body.get("ticket_events"))):
        ticket_id = id_of(as_dict(event).get("ticket_id"))
        where = child(child(record, "ticket_events"), index)
        for child_event in as_list(as_dict(event).get("child_events")):
            comment = as_dict(child_event)
            if comment.get("event_type") == "Comment" and ticket_id:
                comment = {**comment, "_file": str(path), "_record": where}
                comment.setdefault("created_at", event.get("created_at") or event.get("timestamp"))
                directory.events.setdefault(ticket_id, []).append(comment)
    for where, ticket, comments in _ticket_items(record, body):
        ticket_id = id_of(ticket.get("id"))
        if ticket_id is None:
            continue
        directory.offer(ticket, f"{path}|{where}")
        if not comments and directory.is_newest(ticket_id, f"{path}|{where}"):
            directory.tickets[ticket_id] = (path, where, ticket)


def _ticket_items(
    record: str, body: dict[str, Any]
) -> Iterator[tuple[str, dict[str, Any], list[Any]]]:
    if "requester_id" in body and "id" in body:  # a JSON Lines ticket
        yield record, body, as_list(body.get("comments"))
    if isinstance(body.get("ticket"), dict):
        yield child(record, "ticket"), body["ticket"], as_list(body.get("comments"))
    for index, ticket in enumerate(as_list(body.get("tickets"))):
        ticket = as_dict(ticket)
        yield child(child(record, "tickets"), index), ticket, as_list(ticket.get("comments"))


def _tickets_with_comments(
    path: Path, record: str, document: Any, directory: _Directory, options: IngestOptions
) -> Iterator[Conversation | IngestError]:
    for where, ticket, comments in _ticket_items(record, as_dict(document)):
        ticket_id = id_of(ticket.get("id"))
        if comments and ticket_id and directory.is_newest(ticket_id, f"{path}|{where}"):
            yield _safely(path, where, ticket, comments, directory, options)


def _safely(
    path: Path,
    record: str,
    ticket: dict[str, Any],
    comments: list[Any],
    directory: _Directory,
    options: IngestOptions,
) -> Conversation | IngestError:
    ticket_id = str(ticket.get("id"))
    directory.emitted.add(ticket_id)
    try:
        return _conversation(path, record, ticket, comments, directory, options)
    except IngestError as exc:
        return exc


def _conversation(
    path: Path,
    record: str,
    ticket: dict[str, Any],
    comments: list[Any],
    directory: _Directory,
    options: IngestOptions,
) -> Conversation:
    ticket_id = str(ticket.get("id"))
    where = f"{record} (ticket {ticket_id})"
    all_comments = [as_dict(c) for c in comments] + directory.events.get(ticket_id, [])
    if not all_comments and text_of(ticket.get("description")):
        opening = {
            "author_id": ticket.get("requester_id"),
            "public": True,
            "body": ticket["description"],
            "created_at": ticket.get("created_at"),
        }
        all_comments = [opening]
    agents = {id_of(c.get("author_id")) for c in all_comments if c.get("public") is False}
    agents.add(id_of(ticket.get("assignee_id")))
    seen: set[str] = set()
    turns: list[tuple[Any, Turn]] = []
    for index, comment in enumerate(all_comments):
        comment_id = id_of(comment.get("id"))
        if comment_id is not None and comment_id in seen:
            continue  # the same comment in the ticket file and in the events export
        if comment_id is not None:
            seen.add(comment_id)
        created = parse_instant(comment.get("created_at"))
        if created is None and comment.get("created_at") is not None:
            raise IngestError(
                f"comment #{index + 1} has an unreadable created_at", path=str(path), record=where
            )
        turns.append((created, _turn(comment, ticket, directory, options, agents)))
    turns.sort(key=lambda pair: pair[0].timestamp() if pair[0] else float("inf"))
    opened = parse_instant(ticket.get("created_at")) or next((c for c, _ in turns if c), None)
    if opened is None:
        raise IngestError("ticket has no created_at", path=str(path), record=where)
    kept = tuple(
        Turn(t.speaker, t.text, t.role, (c - opened).total_seconds() if c else None, t.internal)
        for c, t in turns
        if t.text
    )
    if not kept:
        raise IngestError("ticket has no comment text", path=str(path), record=where)
    org = id_of(ticket.get("organization_id"))
    via = text_of(as_dict(ticket.get("via")).get("channel")).lower()
    return Conversation(
        source_id=ticket_id,
        account_id="",
        channel=Channel.CHAT if via in _CHAT_CHANNELS else Channel.TICKET,
        occurred_at=opened,
        participants=participants_of(_people(ticket, directory, options), kept),
        turns=kept,
        locator=SourceLocator(format=FORMAT, file=str(path), record=where),
        subject=text_of(ticket.get("subject")) or text_of(ticket.get("raw_subject")) or None,
        account_name=directory.organizations.get(org) if org else None,
        org_ids=(f"zendesk:{org}",) if org else (),
    )


def _turn(
    comment: dict[str, Any],
    ticket: dict[str, Any],
    directory: _Directory,
    options: IngestOptions,
    agents: set[str | None],
) -> Turn:
    author = id_of(comment.get("author_id")) or "unknown"
    internal = comment.get("public") is False
    person = _person(author, ticket, directory, options, agent=author in agents)
    text = text_of(comment.get("plain_body")) or text_of(comment.get("body"))
    if not text and text_of(comment.get("html_body")):
        text = html_to_text(comment["html_body"])
    return Turn(person.name, text, person.role, None, internal)


def _person(
    user_id: str,
    ticket: dict[str, Any],
    directory: _Directory,
    options: IngestOptions,
    *,
    agent: bool = False,
) -> Participant:
    user = directory.users.get(user_id, {})
    email = text_of(user.get("email")) or None
    hint = role_hint(user.get("role"), {"agent", "admin"}, {"end-user", "end_user"})
    if hint is None and user_id == id_of(ticket.get("requester_id")):
        hint = Role.CUSTOMER
    if hint is None and agent:
        hint = Role.VENDOR  # the assignee, or someone who wrote an internal note
    name = text_of(user.get("name")) or f"Zendesk user {user_id}"
    return Participant(name=name, role=options.side(email, hint), email=email)


def _people(
    ticket: dict[str, Any], directory: _Directory, options: IngestOptions
) -> list[Participant]:
    ids = [ticket.get("requester_id"), ticket.get("submitter_id"), ticket.get("assignee_id")]
    ids += as_list(ticket.get("collaborator_ids"))
    people = {}
    for raw in ids:
        user_id = id_of(raw)
        if user_id and user_id in directory.users:
            person = _person(user_id, ticket, directory, options)
            people[person.name] = person
    return list(people.values())
