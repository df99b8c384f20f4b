"""What `POST /v1/conversations` accepts, how it is checked, and how a job reads it back.

Two shapes, one per request:

- export records: `{"format": "intercom", "account_id": "acme"?, "records": [...]}`, each
  record what one file of that format holds (a JSON object or array for gong, zendesk,
  intercom and freshdesk; a string for plaintext and csv), read by the same readers as files;
- the normalised shape: `{"conversations": [{source_id, account_id, channel, occurred_at,
  subject?, participants: [{name, email?, title?, role}], turns: [{speaker, text,
  start_seconds?, internal?}]}]}`.

The request is checked whole (every record read, every error named by field) before it is
queued; the worker reads it again from the encrypted payload. Error messages name fields,
records and causes, never submitted text.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from convsignal.api.schemas import PLAIN, AccountId, Timestamp
from convsignal.domain import Channel, Conversation, Participant, Role, SourceLocator, Turn
from convsignal.errors import IngestError
from convsignal.ingest import IngestOptions, UnmappedConversation
from convsignal.ingest.common import participants_of
from convsignal.ingest.registry import read_records

RecordFormat = Literal["gong", "zendesk", "intercom", "freshdesk", "plaintext", "csv"]
NORMALISED_FORMAT = "api"
_RECORD_INDEX = re.compile(r"records\[(\d+)\]")

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=PLAIN)]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL refuses NUL in text; evidence quotes the text


class ParticipantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Annotated[str, StringConstraints(max_length=320, pattern=PLAIN)] | None = None
    title: Annotated[str, StringConstraints(max_length=200, pattern=PLAIN)] | None = None
    role: Role = Role.UNKNOWN


class TurnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: Name = Field(description="a participant's name (their role is the turn's side)")
    text: str = Field(min_length=1, max_length=200_000, pattern=NO_NUL)
    start_seconds: float | None = Field(default=None, ge=0, le=1e7, allow_inf_nan=False)
    internal: bool = Field(default=False, description="a note the customer never saw")


class ConversationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_id: Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=PLAIN)]
    account_id: AccountId
    channel: Channel
    occurred_at: Timestamp = Field(description="ISO 8601; without an offset it is UTC")
    subject: Annotated[str, StringConstraints(max_length=1000, pattern=NO_NUL)] | None = None
    participants: list[ParticipantIn] = Field(default_factory=list, max_length=500)
    turns: list[TurnIn] = Field(min_length=1, max_length=20_000)


class Submission(BaseModel):
    """Either `conversations`, or `format` with `records`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "conversations": [
                        {
                            "source_id": "call-4711",
                            "account_id": "northwind-logistics",
                            "channel": "call",
                            "occurred_at": "2026-11-03T15:00:00Z",
                            "participants": [
                                {"name": "Dana Whitfield", "role": "customer"},
                                {"name": "Sam Patel", "role": "vendor"},
                            ],
                            "turns": [
                                {"speaker": "Sam Patel", "text": "How is the rollout going?"},
                                {"speaker": "Dana Whitfield", "text": "Our budget was cut."},
                            ],
                        }
                    ]
                },
                {
                    "format": "intercom",
                    "account_id": "northwind-logistics",
                    "records": [
                        {
                            "type": "conversation",
                            "id": "1911149811",
                            "created_at": 1792508400,
                            "source": {
                                "type": "conversation",
                                "body": "<p>Our budget was cut; we may downgrade.</p>",
                                "author": {"type": "user", "name": "Dana Whitfield"},
                            },
                            "conversation_parts": {"conversation_parts": []},
                        }
                    ],
                },
            ]
        },
    )

    format: RecordFormat | None = Field(default=None, description="the export format")
    account_id: AccountId | None = Field(
        default=None, description="with records: the account of conversations naming none"
    )
    records: list[dict[str, Any] | list[Any] | str] | None = Field(
        default=None, min_length=1, description="with format: one export file's content each"
    )
    conversations: list[ConversationIn] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_shape(self) -> Submission:
        if self.conversations is not None:
            if self.format is not None or self.records is not None:
                raise ValueError("give either `conversations` or `format` with `records`, not both")
        elif self.format is None or self.records is None:
            raise ValueError("give `conversations`, or `format` together with `records`")
        return self

    @property
    def size(self) -> int:
        return len(self.conversations or self.records or [])


class JobPayload(BaseModel):
    """What the queue keeps (encrypted) for the worker: the submission, records as text."""

    format: str | None = None
    account_id: str | None = None
    records: list[str] = Field(default_factory=list)
    conversations: list[ConversationIn] = Field(default_factory=list)

    @classmethod
    def of(cls, submission: Submission) -> JobPayload:
        records = [
            record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)
            for record in submission.records or []
        ]
        return cls(
            format=submission.format,
            account_id=submission.account_id,
            records=records,
            conversations=submission.conversations or [],
        )

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_defaults=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> JobPayload:
        return cls.model_validate_json(data)

    def read(self, options: IngestOptions, *, source: str = "") -> list[Conversation | IngestError]:
        """The conversations (with their accounts) or the error of each record."""
        if self.format is not None:
            return read_records(
                self.format, self.records, options, account_id=self.account_id, folder=source
            )
        return [
            conversation(item, f"{source}/conversations[{i}]" if source else f"conversations[{i}]")
            for i, item in enumerate(self.conversations)
        ]


def conversation(item: ConversationIn, where: str) -> Conversation:
    file, _, record = where.rpartition("/")
    roles = {p.name: p.role for p in item.participants}
    turns = tuple(
        Turn(t.speaker, t.text, roles.get(t.speaker, Role.UNKNOWN), t.start_seconds, t.internal)
        for t in item.turns
    )
    known = [Participant(p.name, p.role, p.email, p.title) for p in item.participants]
    return Conversation(
        source_id=item.source_id,
        account_id=item.account_id,
        channel=item.channel,
        occurred_at=item.occurred_at,
        participants=participants_of(known, turns),
        turns=turns,
        locator=SourceLocator(format=NORMALISED_FORMAT, file=file or "api", record=record),
        subject=item.subject,
    )


def record_errors(items: list[Conversation | IngestError]) -> list[dict[str, str]]:
    """Each unreadable or unmapped record as {field, message}: `body.records[3]`."""
    errors = []
    for item in items:
        if not isinstance(item, IngestError):
            continue
        found = _RECORD_INDEX.search(item.path)
        field = f"body.records[{found.group(1)}]" if found else "body.records"
        if isinstance(item, UnmappedConversation):
            message = (
                f"{item.record}: conversation {item.source_id} maps to no account; "
                "give `account_id`"
            )
        else:
            message = str(item).removeprefix(f"{item.path}:").strip()
        errors.append({"field": field, "message": message})
    return errors
