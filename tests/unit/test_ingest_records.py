"""Export records submitted in memory (the API) read exactly as the same files on disk:
the same conversations, the same content hashes, errors named by record."""

from __future__ import annotations

from pathlib import Path

import pytest

from convsignal.api.submissions import JobPayload, RecordFormat, Submission, record_errors
from convsignal.domain import Conversation
from convsignal.errors import IngestError
from convsignal.ingest import UnmappedConversation
from convsignal.ingest.registry import in_memory_formats, read_records
from convsignal.ingest.text_io import read_text
from tests.unit.ingest_helpers import FIXTURES, options, read

CASES = [
    ("gong", ["gong/transcripts-page1.json", "gong/calls-extensive-page1.json"]),
    ("gong", ["gong_merged/call-7782342274025937950.json"]),
    ("zendesk", ["zendesk/tickets.json", "zendesk/ticket_events.json"]),
    ("zendesk", ["zendesk_export/tickets.jsonl"]),
    ("intercom", ["intercom/conversations.json"]),
    ("freshdesk", ["freshdesk/ticket-48213.json"]),
    ("csv", ["csv/messages.csv"]),
]


def hashes(items: list[Conversation | IngestError]) -> list[tuple[str, str, str]]:
    return sorted(
        (i.source_id, i.account_id, i.content_hash) for i in items if isinstance(i, Conversation)
    )


@pytest.mark.parametrize(("format_name", "files"), CASES)
def test_records_in_memory_read_like_the_files(format_name: str, files: list[str]) -> None:
    paths = [FIXTURES / f for f in files]
    from_files, file_errors = read(*paths, format_name=format_name)
    records = [read_text(p) for p in paths]
    in_memory = read_records(format_name, records, options())
    assert from_files  # the fixture really holds conversations
    assert hashes(in_memory) == hashes(list(from_files))
    assert len([i for i in in_memory if isinstance(i, IngestError)]) == len(file_errors)
    locators = {i.locator.file for i in in_memory if isinstance(i, Conversation)}
    suffix = ".csv" if format_name == "csv" else ".json"  # JSON Lines arrive as one string
    assert locators <= {f"records[{n}]{suffix}" for n in range(len(files))}


def test_errors_name_the_record_and_the_account_fallback_applies() -> None:
    good = read_text(FIXTURES / "freshdesk" / "ticket-48213.json")
    items = read_records("freshdesk", ["{not json", good], options(account_map=None))
    errors = record_errors(items)
    assert [e["field"] for e in errors] == ["body.records[0]", "body.records[1]"]
    assert "not valid JSON" in errors[0]["message"]
    assert isinstance(items[1], UnmappedConversation)
    assert "give `account_id`" in errors[1]["message"]
    named = read_records("freshdesk", [good], options(account_map=None), account_id="acme")
    assert [i.account_id for i in named if isinstance(i, Conversation)] == ["acme"]


def test_formats_that_need_more_than_the_record_are_refused() -> None:
    with pytest.raises(IngestError, match="cannot be submitted as records"):
        read_records("email", ["From: a@b.c"], options())


def test_the_api_schema_lists_exactly_the_in_memory_formats() -> None:
    assert set(RecordFormat.__args__) == set(in_memory_formats())  # type: ignore[attr-defined]


def test_nothing_is_read_from_disk_for_a_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file on disk with a record's name is not what gets read."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "records[0].json").write_text('{"id": 1, "created_at": 0}')
    good = read_text(FIXTURES / "intercom" / "conversations.json")
    items = read_records("intercom", [good], options())
    assert hashes(items) == hashes(read(FIXTURES / "intercom" / "conversations.json")[0])


def test_the_documented_request_examples_are_accepted() -> None:
    examples = Submission.model_config.get("json_schema_extra", {})["examples"]  # type: ignore[index]
    assert len(examples) == 2
    for example in examples:
        items = JobPayload.of(Submission.model_validate(example)).read(options(account_map=None))
        assert record_errors(items) == []
        assert [type(i) for i in items] == [Conversation]
