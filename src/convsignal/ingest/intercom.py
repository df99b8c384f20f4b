"""Intercom conversations (REST API 2.x): the opening message in `source`, the rest in
`conversation_parts.conversation_parts`; bodies are HTML, times Unix seconds.

    {"type": "conversation", "id", "created_at", "title",
     "source": {"type": "conversation"|"email"…, "subject", "body",
                "author": {"type": "user"|"lead"|"contact"|"admin"|"bot"|"team",
                           "id", "name", "email"}},
     "conversation_parts": {"conversation_parts": [{"part_type": "comment"|"note"|
                            "assignment"|"close"…, "body", "created_at", "author"}]}}

A file holds one conversation, a list, {"conversations": [...]}, or one per line (JSON
Lines). Parts without a body (assignments, state changes) are skipped; `note` parts are
internal. Author types user/lead/contact are the customer, admin/team/bot the vendor.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from convsignal.domain import Channel, Conversation, Participant, SourceLocator, Turn
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

FORMAT = "intercom"
_VENDOR = {"admin", "team", "bot", "operator"}
_CUSTOMER = {"user", "lead", "contact", "visitor"}


def looks_like(path: Path, head: str) -> bool:
    if path.suffix.lower() not in {".json", ".jsonl", ".ndjson"}:
        return False
    return (
        '"conversation_parts"' in head
        or '"conversation.list"' in head
        or ('"type": "conversation"' in head and '"source"' in head)
    )


def read(path: Path, options: IngestOptions) -> Iterator[Conversation | IngestError]:
    for item in load_json_documents(path):
        if isinstance(item, IngestError):
            yield item
            continue
        record, document = item
        for where, conversation in _items(record, document):
            try:
                yield _conversation(path, where, conversation, options)
            except IngestError as exc:
                yield exc


def _items(record: str, document: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(document, list):
        for index, item in enumerate(document):
            yield child(record, index), as_dict(item)
    elif isinstance(document, dict) and isinstance(document.get("conversations"), list):
        for index, item in enumerate(document["conversations"]):
            yield child(child(record, "conversations"), index), as_dict(item)
    else:
        yield record, as_dict(document)


def _conversation(
    path: Path, record: str, conversation: dict[str, Any], options: IngestOptions
) -> Conversation:
    conversation_id = id_of(conversation.get("id"))
    if conversation_id is None:
        raise IngestError("conversation without 'id'", path=str(path), record=record)
    where = f"{record} (conversation {conversation_id})"
    opened = parse_instant(conversation.get("created_at"))
    if opened is None:
        raise IngestError("conversation has no created_at", path=str(path), record=where)
    source = as_dict(conversation.get("source"))
    parts = [source] + [
        as_dict(p)
        for p in as_list(as_dict(conversation.get("conversation_parts")).get("conversation_parts"))
    ]
    turns = []
    people: dict[str, Participant] = {}
    for index, part in enumerate(parts):
        text = _body(part)
        if not text:
            continue
        person = _author(as_dict(part.get("author")), options)
        people.setdefault(person.email or person.name, person)
        sent = parse_instant(part.get("created_at")) if index else opened
        if sent is None and part.get("created_at") is not None:
            raise IngestError(
                f"part #{index} has an unreadable created_at", path=str(path), record=where
            )
        offset = (sent - opened).total_seconds() if sent else None
        internal = str(part.get("part_type", "")).startswith("note")
        turns.append(Turn(person.name, text, person.role, offset, internal))
    if not turns:
        raise IngestError("conversation has no message text", path=str(path), record=where)
    subject = html_to_text(text_of(source.get("subject"))) or text_of(conversation.get("title"))
    channel = Channel.EMAIL if text_of(source.get("type")) == "email" else Channel.CHAT
    return Conversation(
        source_id=conversation_id,
        account_id="",
        channel=channel,
        occurred_at=opened,
        participants=participants_of(list(people.values()), turns),
        turns=tuple(turns),
        locator=SourceLocator(format=FORMAT, file=str(path), record=where),
        subject=subject or None,
        org_ids=_company_ids(conversation),
    )


def _body(part: dict[str, Any]) -> str:
    body = text_of(part.get("body"))
    return html_to_text(body) if body else ""


def _author(author: dict[str, Any], options: IngestOptions) -> Participant:
    email = text_of(author.get("email")) or None
    kind = text_of(author.get("type")).lower()
    hint = role_hint(kind, _VENDOR, _CUSTOMER)
    fallback = f"Intercom {kind or 'author'} {id_of(author.get('id')) or ''}".strip()
    name = text_of(author.get("name")) or email or fallback
    return Participant(name=name, role=options.side(email, hint), email=email)


def _company_ids(conversation: dict[str, Any]) -> tuple[str, ...]:
    """Newer API versions list companies on the conversation; older ones do not."""
    companies = as_dict(conversation.get("companies")).get("companies")
    ids = [id_of(as_dict(c).get("id")) for c in as_list(companies)]
    return tuple(f"intercom:{i}" for i in ids if i)
