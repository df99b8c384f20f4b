"""Call transcripts as caption files: Zoom cloud-recording WebVTT ("Name: text" cues),
Microsoft Teams WebVTT (`<v Name>text</v>` voice spans) and generic SRT.

Parsing is webvtt-py's and srt's. Captions carry no account, date or emails: those come
from a `NAME.meta.yaml` sidecar (see `header`), the date also from Zoom's file name
(`GMT20261002-150000_Recording.transcript.vtt`). Consecutive cues of one speaker become one
turn; a cue without a speaker continues the previous one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import srt
import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from convsignal.domain import Channel, Conversation, Participant, Role, SourceLocator, Turn
from convsignal.errors import IngestError
from convsignal.ingest.common import merge_consecutive, participants_of
from convsignal.ingest.header import Header, read_sidecar
from convsignal.ingest.options import IngestOptions
from convsignal.ingest.text_io import read_text

ZOOM, TEAMS, SRT = "zoom-vtt", "teams-vtt", "srt"
_SPEAKER_PREFIX = re.compile(r"^(?P<speaker>[^:\n<>]{1,80}?):\s+(?P<text>\S.*)$", re.DOTALL)
_ZOOM_FILE_DATE = re.compile(r"GMT(\d{8})-(\d{6})")
_VOICE_TAG = re.compile(r"<v[\s.]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Cue:
    """One caption: `speaker` None when the cue names nobody."""

    speaker: str | None
    text: str
    start_seconds: float | None


def looks_like_zoom(path: Path, head: str) -> bool:
    return _is_vtt(path, head) and not _VOICE_TAG.search(head)


def looks_like_teams(path: Path, head: str) -> bool:
    return _is_vtt(path, head) and bool(_VOICE_TAG.search(head))


def looks_like_srt(path: Path, head: str) -> bool:
    return path.suffix.lower() == ".srt" and "-->" in head


def _is_vtt(path: Path, head: str) -> bool:
    return path.suffix.lower() == ".vtt" or head.lstrip("\ufeff").startswith("WEBVTT")


def read_zoom(path: Path, options: IngestOptions) -> Iterator[Conversation]:
    yield build_call(path, ZOOM, _vtt_cues(path), options)


def read_teams(path: Path, options: IngestOptions) -> Iterator[Conversation]:
    yield build_call(path, TEAMS, _vtt_cues(path), options)


def read_srt(path: Path, options: IngestOptions) -> Iterator[Conversation]:
    text = read_text(path)
    try:
        subtitles = list(srt.parse(text))
    except srt.SRTParseError as exc:
        line = text.count("\n", 0, exc.expected_start) + 1
        raise IngestError(
            "not a valid SRT block (index, 'start --> end', text)",
            path=str(path),
            record=f"line {line}",
        ) from None
    cues = [_split_speaker(s.content, s.start.total_seconds()) for s in subtitles]
    yield build_call(path, SRT, cues, options)


def _vtt_cues(path: Path) -> list[Cue]:
    text = read_text(path)
    try:
        captions = webvtt.from_string(text).captions
    except (MalformedFileError, MalformedCaptionError) as exc:
        # webvtt-py's messages may quote the cue; say only where to look.
        raise IngestError(
            f"not valid WebVTT ({type(exc).__name__})", path=str(path), record=_cue_hint(exc)
        ) from None
    cues = []
    for caption in captions:
        start = caption.start_time.in_milliseconds() / 1000.0
        voice = caption.voice
        if voice:
            cues.append(Cue(voice.strip(), " ".join(caption.text.split()), start))
        else:
            cues.append(_split_speaker(caption.text, start))
    return cues


def _cue_hint(exc: Exception) -> str | None:
    found = re.search(r"line (\d+)", str(exc))
    return f"line {found.group(1)}" if found else None


def _split_speaker(text: str, start: float) -> Cue:
    flat = " ".join(text.split())
    match = _SPEAKER_PREFIX.match(flat)
    if match:
        return Cue(match.group("speaker").strip(), match.group("text").strip(), start)
    return Cue(None, flat, start)


def build_call(path: Path, fmt: str, cues: list[Cue], options: IngestOptions) -> Conversation:
    """A conversation from caption cues and the optional sidecar header."""
    where = str(path)
    header = read_sidecar(path, options, channel=Channel.CALL) or Header(
        account_id="", channel=Channel.CALL, occurred_at=None, participants=()
    )
    roles = {p.name.lower(): p for p in header.participants}
    turns = []
    speaker: Participant | None = None
    for cue in cues:
        if cue.speaker is not None:
            speaker = roles.get(cue.speaker.lower()) or Participant(cue.speaker, Role.UNKNOWN)
        current = speaker or Participant("Unknown speaker", Role.UNKNOWN)
        turns.append(Turn(current.name, cue.text, current.role, cue.start_seconds))
    merged = merge_consecutive(turns)
    if not merged:
        raise IngestError("no captions with text", path=where)
    occurred_at = header.occurred_at or date_from_file_name(path)
    if occurred_at is None:
        raise IngestError(
            f"no date: add occurred_at to {path.name.split('.', 1)[0]}.meta.yaml next to it",
            path=where,
        )
    return Conversation(
        source_id=header.source_id or path.name.split(".", 1)[0],
        account_id=header.account_id,
        channel=header.channel,
        occurred_at=occurred_at,
        participants=participants_of(header.participants, merged),
        turns=merged,
        locator=SourceLocator(format=fmt, file=where),
        subject=header.subject,
        account_name=header.account_name,
    )


def date_from_file_name(path: Path) -> datetime | None:
    """Zoom names cloud recordings GMT<yyyymmdd>-<hhmmss>_…: the start in UTC."""
    match = _ZOOM_FILE_DATE.search(path.name)
    if match is None:
        return None
    try:
        return datetime.strptime("".join(match.groups()), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
