"""Plain-text transcripts: the header, turns, roles and every error naming file and line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from convsignal.domain import Channel, Role
from convsignal.errors import IngestError
from convsignal.ingest import IngestOptions, read_paths

HEADER = """---
account: acme
account_name: Acme Corp
channel: {channel}
occurred_at: 2026-10-02T15:00:00Z
participants:
  - {{name: Dana Whitfield, email: dana@acme.example, role: customer}}
  - {{name: Sam Patel, email: sam@vendor.example}}
---
"""


def read_one(path: Path, options: IngestOptions | None = None):  # type: ignore[no-untyped-def]
    items = list(read_paths([path], options or IngestOptions()))
    assert len(items) == 1
    return items[0]


def test_header_turns_timestamps_and_continuations(tmp_path: Path) -> None:
    path = tmp_path / "call.txt"
    path.write_text(
        HEADER.format(channel="call")
        + "[00:00:05] Sam Patel: Thanks for joining.\n"
        + "[01:02:03] Dana Whitfield: Happy to: it has been a busy month.\n"
        + "and this line continues Dana's turn\n\n"
        + "Sam Patel: Great.\n"
    )
    conversation = read_one(path, IngestOptions(internal_domains=("vendor.example",)))
    assert conversation.account_id == "acme"
    assert conversation.account_name == "Acme Corp"
    assert conversation.channel is Channel.CALL
    assert conversation.occurred_at == datetime(2026, 10, 2, 15, tzinfo=UTC)
    assert [t.speaker for t in conversation.turns] == ["Sam Patel", "Dana Whitfield", "Sam Patel"]
    assert [t.role for t in conversation.turns] == [Role.VENDOR, Role.CUSTOMER, Role.VENDOR]
    assert conversation.turns[1].start_seconds == 3723
    assert conversation.turns[1].text.endswith("continues Dana's turn")
    assert "busy month" in conversation.turns[1].text  # a colon inside the text is kept


def test_role_from_email_domain_without_internal_domains_is_customer(tmp_path: Path) -> None:
    path = tmp_path / "call.txt"
    path.write_text(HEADER.format(channel="email") + "Sam Patel: hello\n")
    conversation = read_one(path)
    assert conversation.participants[1].role is Role.CUSTOMER
    assert conversation.channel is Channel.EMAIL


def test_sidecar_header(tmp_path: Path) -> None:
    (tmp_path / "t.meta.yaml").write_text(
        "account: acme\noccurred_at: 2026-10-02\nchannel: ticket\n"
    )
    (tmp_path / "t.txt").write_text("Customer: the export is broken\nAgent: looking now\n")
    conversation = read_one(tmp_path)  # the folder: the sidecar itself is not an input
    assert conversation.channel is Channel.TICKET
    assert [t.speaker for t in conversation.turns] == ["Customer", "Agent"]
    assert all(t.role is Role.UNKNOWN for t in conversation.turns)


def test_same_content_same_hash_different_content_different_hash(tmp_path: Path) -> None:
    body = HEADER.format(channel="call") + "Dana Whitfield: hello\n"
    (tmp_path / "a.txt").write_text(body)
    (tmp_path / "b.txt").write_text(body)
    (tmp_path / "c.txt").write_text(body.replace("hello", "hello!"))
    hashes = [c.content_hash for c in read_paths([tmp_path], IngestOptions())]
    assert hashes[0] == hashes[1] != hashes[2]


@pytest.mark.parametrize(
    ("content", "message", "record"),
    [
        ("Dana: hi\n", "no header", None),
        ("---\naccount: acme\n", "never closed", "line 1"),
        ("---\naccount: [unclosed\n---\nA: b\n", "not valid YAML", "line 2"),
        ("---\nchannel: call\noccurred_at: 2026-01-01\n---\nA: b\n", "no 'account'", None),
        ("---\naccount: a\noccurred_at: yesterday\n---\nA: b\n", "occurred_at", None),
        ("---\naccount: a\n---\nA: b\n", "no 'occurred_at'", None),
        ("---\naccount: a\noccurred_at: 2026-01-01\nchannel: fax\n---\nA: b\n", "channel", None),
        ("---\naccount: a\noccurred_at: 2026-01-01\n---\n\n", "no 'Speaker: text'", None),
        (
            "---\naccount: a\noccurred_at: 2026-01-01\nparticipants:\n  - {name: Ann, role: boss}\n"
            "---\nAnn: hi\n",
            "role 'boss'",
            None,
        ),
        (
            "---\naccount: a\noccurred_at: 2026-01-01\nparticipants:\n  - {name: Ann}\n---\n"
            "Bob: hi\n",
            "text before the first",
            "line 7",
        ),
    ],
)
def test_errors_name_file_and_record(
    tmp_path: Path, content: str, message: str, record: str | None
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    error = (
        read_one(path) if content.startswith("---") else list(read_paths([path], IngestOptions()))
    )
    if isinstance(error, list):  # a file without a header is not recognised as plaintext
        error = next(iter(read_paths([path], IngestOptions(), format_name="plaintext")))
    assert isinstance(error, IngestError)
    assert message in str(error)
    assert error.path == str(path)
    assert error.record == record


def test_error_messages_never_quote_the_content(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("---\naccount: [SECRET-NAME Jane Roe\n---\nA: b\n")
    error = read_one(path)
    assert isinstance(error, IngestError)
    assert "SECRET" not in str(error)
    assert "Jane" not in str(error)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16", b""), ("cp1252", b"")],
)
def test_encodings(tmp_path: Path, encoding: str, bom: bytes) -> None:
    path = tmp_path / "enc.txt"
    text = HEADER.format(channel="call") + "Dana Whitfield: café déjà vu\n"
    path.write_bytes(bom + text.encode(encoding))
    conversation = read_one(path, IngestOptions())
    assert conversation.turns[0].text == "café déjà vu"


def test_unknown_file_in_a_folder_is_reported_not_dropped(tmp_path: Path) -> None:
    (tmp_path / "notes.bin").write_bytes(b"\x00\x01")
    (tmp_path / ".hidden").write_text("ignored")
    items = list(read_paths([tmp_path], IngestOptions()))
    assert len(items) == 1
    assert isinstance(items[0], IngestError)
    assert "not recognised" in str(items[0])


def test_missing_path_and_unknown_format(tmp_path: Path) -> None:
    (missing,) = read_paths([tmp_path / "nope.txt"], IngestOptions())
    assert isinstance(missing, IngestError)
    assert "no such file" in str(missing)
    with pytest.raises(IngestError, match=r"known formats: .*plaintext"):
        list(read_paths([tmp_path], IngestOptions(), format_name="fax"))
