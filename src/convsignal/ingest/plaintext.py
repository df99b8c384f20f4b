"""Plain-text transcripts: "Speaker: text" lines with a small YAML header.

    ---
    account: northwind-logistics
    account_name: Northwind Logistics      # optional
    channel: call                          # call | email | ticket | chat (default call)
    occurred_at: 2026-10-02T15:00:00Z
    subject: Q3 business review            # optional
    participants:
      - {name: Dana Whitfield, email: dana@northwind.com, title: VP Ops, role: customer}
      - {name: Sam Patel, role: vendor}
    ---
    [00:00:05] Sam Patel: Thanks for joining.
    Dana Whitfield: Happy to.

The header may instead sit in a sidecar file `<name>.meta.yaml` next to `<name>.txt`.
Lines that do not start with a known speaker continue the previous turn. Error messages
name the file and line, never the content.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from convsignal.domain import Conversation, Participant, Role, SourceLocator, Turn
from convsignal.errors import IngestError
from convsignal.ingest.header import (
    load_yaml,
    parse_channel,
    parse_participants,
    parse_time,
    sidecar_for,
)
from convsignal.ingest.options import IngestOptions
from convsignal.ingest.text_io import read_text

FORMAT = "plaintext"
_TURN_RE = re.compile(
    r"^\s*(?:\[?(?:(?P<h>\d{1,2}):)?(?P<m>\d{1,2}):(?P<s>\d{2})\]?\s+)?"
    r"(?P<speaker>[^:\[\]\n]{1,80}?)\s*:\s+(?P<text>\S.*)$"
)
_NAME_LIKE = re.compile(r"^[A-Z][\w.'-]*(?:\s+[A-Z][\w.'-]*){0,3}$")


def looks_like(path: Path, head: str) -> bool:
    """Auto-detection: a .txt file with a front-matter header or a sidecar."""
    if path.suffix.lower() not in {".txt", ".transcript"}:
        return False
    return head.lstrip("\ufeff").startswith("---") or sidecar_for(path) is not None


def read(path: Path, options: IngestOptions) -> Iterator[Conversation]:
    text = read_text(path)
    header, body_lines, body_start = _split_header(path, text)
    yield _build(path, header, body_lines, body_start, options)


def _split_header(path: Path, text: str) -> tuple[dict[str, Any], list[str], int]:
    lines = text.splitlines()
    if lines and lines[0].strip() == "---":
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
        except StopIteration:
            raise IngestError(
                "header opened with '---' on line 1 is never closed",
                path=str(path),
                record="line 1",
            ) from None
        header = load_yaml(path, "\n".join(lines[1:end]), line_offset=1)
        return header, lines[end + 1 :], end + 2
    sidecar = sidecar_for(path)
    if sidecar is None:
        raise IngestError(
            "no header: start the file with a YAML block between '---' lines (account, "
            f"occurred_at, participants) or put it in {path.stem}.meta.yaml",
            path=str(path),
        )
    return load_yaml(sidecar, read_text(sidecar), line_offset=0), lines, 1


def _build(
    path: Path, header: dict[str, Any], lines: list[str], first_line: int, options: IngestOptions
) -> Conversation:
    where = str(path)
    account = header.get("account") or header.get("account_id")
    if not account or not isinstance(account, str | int):
        raise IngestError("header has no 'account'", path=where)
    channel = parse_channel(header.get("channel", "call"), where)
    occurred_at = parse_time(header.get("occurred_at") or header.get("date"), where)
    participants = parse_participants(header.get("participants") or [], where, options)
    turns = _turns(lines, first_line, participants, where)
    if not turns:
        raise IngestError("no 'Speaker: text' lines after the header", path=where)
    return Conversation(
        source_id=str(header.get("id") or path.stem),
        account_id=str(account).strip(),
        channel=channel,
        occurred_at=occurred_at,
        participants=participants,
        turns=turns,
        locator=SourceLocator(format=FORMAT, file=where),
        subject=str(header["subject"]) if header.get("subject") else None,
        account_name=str(header["account_name"]) if header.get("account_name") else None,
    )


def _turns(
    lines: list[str], first_line: int, participants: tuple[Participant, ...], where: str
) -> tuple[Turn, ...]:
    roles = {p.name.lower(): (p.name, p.role) for p in participants}
    turns: list[list[Any]] = []  # [speaker, role, text, start]
    for number, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        match = _TURN_RE.match(line)
        speaker = match.group("speaker").strip() if match else ""
        known = roles.get(speaker.lower())
        if match and (known or (not roles and _NAME_LIKE.match(speaker))):
            name, role = known if known else (speaker, Role.UNKNOWN)
            turns.append([name, role, match.group("text").strip(), _seconds(match)])
        elif turns:
            turns[-1][2] += " " + line.strip()
        else:
            raise IngestError(
                "text before the first 'Speaker: text' line (is the speaker in 'participants'?)",
                path=where,
                record=f"line {number}",
            )
    return tuple(Turn(speaker=s, role=r, text=t, start_seconds=st) for s, r, t, st in turns)


def _seconds(match: re.Match[str]) -> float | None:
    if match.group("m") is None:
        return None
    hours = int(match.group("h") or 0)
    return float(hours * 3600 + int(match.group("m")) * 60 + int(match.group("s")))
