"""The YAML header of plain-text transcripts, also read from `NAME.meta.yaml` sidecars next
to caption files (VTT, SRT, Otter) that carry no account, date or participants themselves.

    account: northwind-logistics           # optional for captions: --account-map decides
    account_name: Northwind Logistics
    channel: call
    occurred_at: 2026-10-02T15:00:00Z
    subject: Q3 business review
    participants:
      - {name: Dana Whitfield, email: dana@northwind.com, title: VP Ops, role: customer}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml

from convsignal.domain import Channel, Participant, Role
from convsignal.errors import IngestError
from convsignal.ingest.options import IngestOptions
from convsignal.ingest.text_io import read_text


@dataclass(frozen=True, slots=True)
class Header:
    account_id: str  # "" when the header names none
    channel: Channel
    occurred_at: datetime | None
    participants: tuple[Participant, ...]
    source_id: str | None = None
    subject: str | None = None
    account_name: str | None = None


def sidecar_for(path: Path) -> Path | None:
    for suffix in (".meta.yaml", ".meta.yml"):
        candidate = path.with_name(path.stem + suffix)
        if candidate.is_file():
            return candidate
    # caption files often have double suffixes: GMT…_Recording.transcript.vtt
    stem = path.name.split(".", 1)[0]
    for suffix in (".meta.yaml", ".meta.yml"):
        candidate = path.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def load_yaml(path: Path, text: str, *, line_offset: int) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        # PyYAML's message quotes the offending text; keep only the position.
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1 + line_offset}" if mark is not None else None
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise IngestError(
            f"header is not valid YAML ({problem})", path=str(path), record=where
        ) from None
    if not isinstance(data, dict):
        raise IngestError("header must be a YAML mapping", path=str(path))
    return data


def read_sidecar(path: Path, options: IngestOptions, *, channel: Channel) -> Header | None:
    sidecar = sidecar_for(path)
    if sidecar is None:
        return None
    data = load_yaml(sidecar, read_text(sidecar), line_offset=0)
    return parse_header(data, str(sidecar), options, default_channel=channel)


def parse_header(
    data: dict[str, Any], where: str, options: IngestOptions, *, default_channel: Channel
) -> Header:
    account = data.get("account") or data.get("account_id") or ""
    if not isinstance(account, str | int):
        raise IngestError("'account' must be a name or id", path=where)
    channel = parse_channel(data.get("channel", default_channel.value), where)
    raw_time = data.get("occurred_at") or data.get("date")
    return Header(
        account_id=str(account).strip(),
        channel=channel,
        occurred_at=parse_time(raw_time, where) if raw_time is not None else None,
        participants=parse_participants(data.get("participants") or [], where, options),
        source_id=str(data["id"]) if data.get("id") else None,
        subject=str(data["subject"]) if data.get("subject") else None,
        account_name=str(data["account_name"]) if data.get("account_name") else None,
    )


def parse_channel(value: Any, where: str) -> Channel:
    text = str(value).lower()
    try:
        return Channel(text)
    except ValueError:
        known = ", ".join(c.value for c in Channel)
        raise IngestError(f"channel {text!r} is not one of {known}", path=where) from None


def parse_time(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise IngestError(
                "occurred_at is not an ISO date such as 2026-10-02T15:00:00Z", path=where
            ) from None
    else:
        raise IngestError("header has no 'occurred_at' (ISO date or date-time)", path=where)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_participants(raw: Any, where: str, options: IngestOptions) -> tuple[Participant, ...]:
    if not isinstance(raw, list):
        raise IngestError("'participants' must be a list", path=where)
    people = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not item.get("name"):
            raise IngestError(f"participant #{index + 1} needs a 'name'", path=where)
        email = str(item["email"]).strip() if item.get("email") else None
        role_value = str(item.get("role", "")).lower()
        try:
            role = Role(role_value) if role_value else options.role_for_email(email)
        except ValueError:
            raise IngestError(
                f"participant #{index + 1} has role {role_value!r}; "
                "use customer, vendor or unknown",
                path=where,
            ) from None
        people.append(
            Participant(
                name=str(item["name"]).strip(),
                role=role,
                email=email,
                title=str(item["title"]) if item.get("title") else None,
            )
        )
    return tuple(people)
