"""Gong: `/v2/calls/transcript` joined with `/v2/calls/extensive`.

    transcript: {"callTranscripts": [{"callId", "transcript": [{"speakerId", "topic",
                 "sentences": [{"start", "end", "text"}]}]}]}
    extensive:  {"calls": [{"metaData": {"id", "title", "started", "scheduled", "duration"},
                 "parties": [{"speakerId", "name", "emailAddress", "title", "affiliation"}],
                 "context": [{"system": "Salesforce", "objects": [{"objectType": "Account",
                 "objectId", "fields": [{"name": "Name", "value"}]}]}]}]}

Files may be one per call, one per API page, or one merged file holding both keys; they
are joined by call id across all Gong files of a run. Time unit: Gong's API reference
gives `start`/`end` as "milliseconds from the start of the call" (`duration` is in
seconds), so offsets are divided by 1000. Some third-party tools re-export them in
seconds; when every offset fits inside the call's `duration` read as seconds, they are
taken as seconds instead (see `offset_unit`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
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
    merge_consecutive,
    parse_instant,
    parse_json_documents,
    participants_of,
    text_of,
)
from convsignal.ingest.options import IngestOptions
from convsignal.ingest.text_io import read_text

FORMAT = "gong"
MILLISECONDS = 0.001  # Sentence.start/end per Gong's API reference
SECONDS = 1.0
_TRANSCRIPTS_KEY = re.compile(r'"callTranscripts"\s*:')
_CALLS_KEY = re.compile(r'"calls"\s*:')
_AFFILIATION = {"internal": Role.VENDOR, "external": Role.CUSTOMER}


@dataclass(frozen=True, slots=True)
class CallMeta:
    started: datetime | None
    title: str | None
    duration_seconds: float | None
    parties: dict[str, Participant]  # by speakerId
    people: tuple[Participant, ...]
    org_ids: tuple[str, ...]
    account_name: str | None


def looks_like(path: Path, head: str) -> bool:
    if path.suffix.lower() not in {".json", ".jsonl", ".ndjson"}:
        return False
    if _TRANSCRIPTS_KEY.search(head):
        return True
    return bool(_CALLS_KEY.search(head)) and ('"metaData"' in head or '"parties"' in head)


def read_group(
    paths: Sequence[Path], options: IngestOptions
) -> Iterator[Conversation | IngestError]:
    """Pass 1 indexes call metadata from every file (small); pass 2 reads transcripts one
    file at a time and joins them, so memory holds one file's transcripts at most."""
    calls: dict[str, CallMeta] = {}
    transcript_files: list[tuple[Path, bool]] = []  # (file, its errors already reported)
    for path in paths:
        try:
            text = read_text(path)
        except IngestError as exc:
            yield exc
            continue
        has_calls, has_transcripts = _CALLS_KEY.search(text), _TRANSCRIPTS_KEY.search(text)
        if not has_calls and not has_transcripts:
            yield IngestError(
                "neither 'callTranscripts' (/v2/calls/transcript) nor 'calls' "
                "(/v2/calls/extensive)",
                path=str(path),
            )
            continue
        if has_calls:  # transcript-only files are parsed once, in pass 2
            for item in parse_json_documents(path, text):
                if isinstance(item, IngestError):
                    yield item
                else:
                    record, document = item
                    calls_raw = as_dict(document).get("calls")
                    yield from _index_calls(path, record, calls_raw, calls, options)
        if has_transcripts:
            transcript_files.append((path, bool(has_calls)))
        del text
    for path, reported in transcript_files:
        for item in load_json_documents(path):
            if isinstance(item, IngestError):
                if not reported:
                    yield item
                continue
            record, document = item
            items = as_list(as_dict(document).get("callTranscripts"))
            for index, transcript in enumerate(items):
                where = child(child(record, "callTranscripts"), index)
                try:
                    yield _conversation(path, where, as_dict(transcript), calls)
                except IngestError as exc:
                    yield exc


def _index_calls(
    path: Path, record: str, raw: Any, calls: dict[str, CallMeta], options: IngestOptions
) -> Iterator[IngestError]:
    for index, call in enumerate(as_list(raw)):
        where = child(child(record, "calls"), index)
        meta = as_dict(as_dict(call).get("metaData"))
        call_id = id_of(meta.get("id"))
        if call_id is None:
            yield IngestError("call without metaData.id", path=str(path), record=where)
            continue
        parties: dict[str, Participant] = {}
        people = []
        for party in as_list(as_dict(call).get("parties")):
            person = _participant(as_dict(party), options)
            if person is None:
                continue
            people.append(person)
            speaker_id = id_of(as_dict(party).get("speakerId"))
            if speaker_id:
                parties[speaker_id] = person
        org_ids, account_name = _crm_accounts(as_dict(call).get("context"))
        duration = meta.get("duration")
        calls[call_id] = CallMeta(
            started=parse_instant(meta.get("started")) or parse_instant(meta.get("scheduled")),
            title=text_of(meta.get("title")) or None,
            duration_seconds=float(duration) if isinstance(duration, int | float) else None,
            parties=parties,
            people=tuple(people),
            org_ids=org_ids,
            account_name=account_name,
        )


def _participant(party: dict[str, Any], options: IngestOptions) -> Participant | None:
    email = text_of(party.get("emailAddress")) or None
    name = text_of(party.get("name")) or email
    if not name:
        return None
    hint = _AFFILIATION.get(text_of(party.get("affiliation")).lower())
    return Participant(
        name=name,
        role=options.side(email, hint),
        email=email,
        title=text_of(party.get("title")) or None,
    )


def _crm_accounts(context: Any) -> tuple[tuple[str, ...], str | None]:
    ids: list[str] = []
    name = None
    for system in as_list(context):
        system_name = text_of(as_dict(system).get("system")).lower() or "crm"
        for obj in as_list(as_dict(system).get("objects")):
            obj = as_dict(obj)
            object_id = id_of(obj.get("objectId"))
            if text_of(obj.get("objectType")).lower() != "account" or object_id is None:
                continue
            ids.append(f"{system_name}:{object_id}")
            for field in as_list(obj.get("fields")):
                if text_of(as_dict(field).get("name")).lower() == "name" and name is None:
                    name = text_of(as_dict(field).get("value")) or None
    return tuple(dict.fromkeys(ids)), name


def offset_unit(sentence_ends: Sequence[float], duration_seconds: float | None) -> float:
    """Seconds per unit of `start`/`end`: Gong documents milliseconds. Only when the call's
    duration is known, is at least a minute, and the last offset still fits inside it read
    as seconds (a millisecond export would overshoot it a thousandfold) are they seconds."""
    if not sentence_ends or not duration_seconds or duration_seconds < 60:
        return MILLISECONDS
    return SECONDS if max(sentence_ends) <= duration_seconds * 1.05 else MILLISECONDS


def _conversation(
    path: Path, where: str, transcript: dict[str, Any], calls: dict[str, CallMeta]
) -> Conversation:
    call_id = id_of(transcript.get("callId"))
    if call_id is None:
        raise IngestError("transcript without callId", path=str(path), record=where)
    record = f"{where} (call {call_id})"
    meta = calls.get(call_id)
    if meta is None:
        raise IngestError(
            "no /v2/calls/extensive record for this call (date, parties): export it too",
            path=str(path),
            record=record,
        )
    if meta.started is None:
        raise IngestError("call has no metaData.started", path=str(path), record=record)
    monologues = [as_dict(m) for m in as_list(transcript.get("transcript"))]
    ends = [
        float(s["end"])
        for m in monologues
        for s in (as_dict(x) for x in as_list(m.get("sentences")))
        if isinstance(s.get("end"), int | float)
    ]
    unit = offset_unit(ends, meta.duration_seconds)
    turns = []
    for monologue in monologues:
        speaker_id = id_of(monologue.get("speakerId")) or "unknown"
        person = meta.parties.get(speaker_id) or Participant(f"Speaker {speaker_id}")
        sentences = [as_dict(s) for s in as_list(monologue.get("sentences"))]
        text = " ".join(text_of(s.get("text")) for s in sentences if text_of(s.get("text")))
        first = sentences[0].get("start") if sentences else None
        start = float(first) * unit if isinstance(first, int | float) else None
        turns.append(Turn(person.name, text, person.role, start))
    merged = merge_consecutive(turns)
    if not merged:
        raise IngestError("transcript has no sentences", path=str(path), record=record)
    return Conversation(
        source_id=call_id,
        account_id="",
        channel=Channel.CALL,
        occurred_at=meta.started,
        participants=participants_of(meta.people, merged),
        turns=merged,
        locator=SourceLocator(format=FORMAT, file=str(path), record=record),
        subject=meta.title,
        account_name=meta.account_name,
        org_ids=meta.org_ids,
    )
