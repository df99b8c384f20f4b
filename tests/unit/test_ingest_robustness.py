"""What real export folders throw at the reader: broken records, empty files, odd
encodings, duplicates, mixed formats. Errors name file and record, never the content."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from convsignal.errors import IngestError
from convsignal.ingest import UnmappedConversation
from convsignal.ingest.registry import detect
from tests.unit.ingest_helpers import FIXTURES, read

CANARY = "Zebediah Quartermaine"  # must never appear in an error message

SIDECAR = "occurred_at: 2026-10-01T10:00:00Z\naccount: acme\n"


@pytest.mark.parametrize(
    ("name", "content", "message", "record"),
    [
        ("t.json", '{"callTranscripts": [{"callId": "1", "transcript": []}', "not valid JSON",
         "line 1"),
        ("t.json", '{"callTranscripts": [{"callId": "42", "transcript": '
         f'[{{"speakerId": "1", "sentences": [{{"start": 0, "text": "{CANARY}"}}]}}]}}]}}',
         "no /v2/calls/extensive record", "$.callTranscripts[0] (call 42)"),
        ("c.json", '{"calls": [{"metaData": {"title": "' + CANARY + '"}, "parties": []}]}',
         "call without metaData.id", "$.calls[0]"),
        ("z.json", '{"tickets": [{"id": 7, "requester_id": 1, "submitter_id": 1, '
         f'"comments": [{{"body": "{CANARY}", "created_at": "yesterday"}}]}}]}}',
         "comment #1 has an unreadable created_at", "$.tickets[0] (ticket 7)"),
        ("i.json", '{"type": "conversation", "id": "9", "source": {"body": "<p>' + CANARY
         + '</p>"}, "conversation_parts": {"conversation_parts": []}}',
         "conversation has no created_at", "$ (conversation 9)"),
        ("f.json", '[{"id": 5, "responder_id": 1, "fr_due_by": "x", "created_at": '
         '"2026-10-01T00:00:00Z", "conversations": [{"body_text": "' + CANARY
         + '", "incoming": true}]}]', "conversation #1 has no readable created_at",
         "$[0] (ticket 5)"),
        ("m.csv", "conversation_id,timestamp,text\nc1,2026-10-01T00:00:00Z,ok\n"
         f",2026-10-01T00:00:00Z,{CANARY}\n", "row has no conversation id", "line 3"),
        ("z.vtt", f"00:00:01.000 --> 00:00:02.000\n{CANARY}: hi\n", "not valid WebVTT", None),
        ("e.vtt", f"WEBVTT\n\nNOTE {CANARY}\n", "no captions with text", None),
        ("s.srt", f"{CANARY}\n\n1\n00:00:01,000 --> 00:00:02,000\nhi\n",
         "not a valid SRT block", "line 1"),
        ("o.txt", f"{CANARY}  0:01\nhello\n", "no date", None),
    ],
)  # fmt: skip
def test_malformed_input_names_file_and_record_never_content(
    tmp_path: Path, name: str, content: str, message: str, record: str | None
) -> None:
    path = tmp_path / name
    path.write_text(content)
    conversations, errors = read(path)
    assert errors, conversations
    error = next(e for e in errors if message in str(e))
    assert error.path == str(path)
    if record is not None:
        assert error.record == record
    for item in errors:
        assert CANARY not in str(item)
        assert "Zebediah" not in str(item)


def test_one_bad_record_does_not_stop_the_file_or_the_batch(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "zendesk_export", tmp_path / "zendesk")
    shutil.copytree(FIXTURES / "freshdesk", tmp_path / "freshdesk")
    conversations, errors = read(tmp_path)
    assert {c.source_id for c in conversations} == {"4600", "48213"}
    broken = [e for e in errors if not isinstance(e, UnmappedConversation)]
    assert [e.record for e in broken] == ["line 2"]


@pytest.mark.parametrize(
    "name", ["call.vtt", "call.srt", "call.txt", "tickets.json", "mail.eml", "export.csv"]
)
def test_empty_files_are_reported(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"")
    _, (error,) = read(tmp_path)
    assert error.path == str(tmp_path / name)
    assert "empty file" in str(error)


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""),
                          ("latin-1", b""), ("cp1252", b"")],
)  # fmt: skip
@pytest.mark.parametrize(
    ("fixture", "name"),
    [("teams/quarterly-sync.vtt", "Sam Patel"), ("srt/onboarding.srt", "Sam Patel"),
     ("otter/renewal-call.txt", "Sam Patel"), ("csv/messages.csv", "Riley Chen"),
     ("freshdesk/ticket-48213.json", "Lee Ortiz"), ("zoom/GMT20261014-153000_Recording"
     ".transcript.vtt", "Sam Patel")],
)  # fmt: skip
def test_encodings(tmp_path: Path, fixture: str, name: str, encoding: str, bom: bytes) -> None:
    source = FIXTURES / fixture
    text = source.read_text(encoding="utf-8").replace(name, "Sam Pätel Café")
    target = tmp_path / source.name
    target.write_bytes(bom + text.encode(encoding))  # utf-16 writes its own BOM
    for sidecar in source.parent.glob("*.meta.yaml"):
        shutil.copy(sidecar, tmp_path / sidecar.name)
    conversations, errors = read(target)
    assert conversations, errors
    assert any(t.speaker == "Sam Pätel Café" or "Sam Pätel Café" in t.speaker
               for c in conversations for t in c.turns)  # fmt: skip


def test_the_same_call_exported_twice_is_one_conversation(tmp_path: Path) -> None:
    for copy in ("a", "b"):
        shutil.copytree(FIXTURES / "gong", tmp_path / copy)
    shutil.copy(FIXTURES / "zoom" / "GMT20261014-153000_Recording.transcript.vtt", tmp_path)
    shutil.copy(FIXTURES / "zoom" / "GMT20261014-153000_Recording.meta.yaml", tmp_path)
    shutil.copy(
        FIXTURES / "zoom" / "GMT20261014-153000_Recording.transcript.vtt", tmp_path / "again.vtt"
    )
    (tmp_path / "again.meta.yaml").write_text(
        (FIXTURES / "zoom" / "GMT20261014-153000_Recording.meta.yaml").read_text()
        + "occurred_at: 2026-10-14T15:30:00Z\nid: GMT20261014-153000_Recording\n"
    )
    conversations, errors = read(tmp_path)
    assert not errors
    assert len(conversations) == 6
    assert len({c.content_hash for c in conversations}) == 3  # the pipeline keeps one each


def test_mixed_folder_every_file_accounted_for(tmp_path: Path) -> None:
    for folder in ("gong", "zoom", "teams", "email", "zendesk", "intercom", "csv", "otter"):
        shutil.copytree(FIXTURES / folder, tmp_path / folder)
    (tmp_path / "notes.bin").write_bytes(b"\x00\x01\x02")
    (tmp_path / "empty.vtt").write_bytes(b"")
    conversations, errors = read(tmp_path)
    formats = {c.locator.format for c in conversations}
    assert formats == {"gong", "zoom-vtt", "teams-vtt", "email", "zendesk", "intercom", "csv",
                       "otter"}  # fmt: skip
    failed = {Path(e.path).name for e in errors if not isinstance(e, UnmappedConversation)}
    assert {"notes.bin", "empty.vtt", "messages.csv"} == failed


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("gong/transcripts-page1.json", "gong"),
        ("gong/calls-extensive-page1.json", "gong"),
        ("gong_merged/call-7782342274025937950.json", "gong"),
        ("zoom/GMT20261014-153000_Recording.transcript.vtt", "zoom-vtt"),
        ("teams/quarterly-sync.vtt", "teams-vtt"),
        ("srt/onboarding.srt", "srt"),
        ("otter/renewal-call.txt", "otter"),
        ("email/01-seat-count.eml", "email"),
        ("email/takeout.mbox", "email"),
        ("zendesk/tickets.json", "zendesk"),
        ("zendesk/ticket_events.json", "zendesk"),
        ("zendesk_export/tickets.jsonl", "zendesk"),
        ("intercom/conversations.json", "intercom"),
        ("freshdesk/ticket-48213.json", "freshdesk"),
        ("csv/messages.csv", "csv"),
        ("maps/account-map.csv", None),  # no text column: not a message export
    ],
)
def test_auto_detection(fixture: str, expected: str | None) -> None:
    found = detect(FIXTURES / fixture)
    assert (found.name if found else None) == expected


def test_mbox_without_extension_and_eml_without_extension_are_detected(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "email" / "takeout.mbox", tmp_path / "All mail Including Spam")
    shutil.copy(FIXTURES / "email" / "01-seat-count.eml", tmp_path / "message")
    assert {detect(p).name for p in tmp_path.iterdir()} == {"email"}  # type: ignore[union-attr]


def test_format_flag_overrides_detection(tmp_path: Path) -> None:
    path = tmp_path / "transcript.data"
    shutil.copy(FIXTURES / "srt" / "onboarding.srt", path)
    shutil.copy(FIXTURES / "srt" / "onboarding.meta.yaml", tmp_path / "transcript.meta.yaml")
    _, (error,) = read(path)
    assert "not recognised" in str(error)
    (conversation,), errors = read(path, format_name="srt")
    assert not errors
    assert conversation.locator.format == "srt"
    with pytest.raises(IngestError, match="known formats: csv, email, freshdesk, gong"):
        read(path, format_name="gong-csv")
