"""Otter.ai TXT export: blocks of "Name  m:ss" (two spaces, then the offset), the words
on the next lines, a blank line between blocks; free plans end with "Transcribed by
https://otter.ai". Unidentified speakers appear as "Speaker 1" or with no name at all.

Date, account and participants come from a `NAME.meta.yaml` sidecar, as for captions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from convsignal.domain import Conversation
from convsignal.errors import IngestError
from convsignal.ingest.captions import Cue, build_call
from convsignal.ingest.options import IngestOptions
from convsignal.ingest.text_io import read_text

FORMAT = "otter"
_BLOCK_HEAD = re.compile(
    r"^(?:(?P<speaker>\S.{0,79}?)\s{2,})?(?P<time>(?:\d{1,2}:)?\d{1,2}:\d{2})\s*$"
)
_FOOTER = re.compile(r"^\s*Transcribed by https?://otter\.ai\s*$", re.IGNORECASE)


def looks_like(path: Path, head: str) -> bool:
    if path.suffix.lower() != ".txt" or head.lstrip("\ufeff").startswith("---"):
        return False
    if "otter.ai" in head.lower():
        return True
    lines = [line for line in head.lstrip("\ufeff").splitlines() if line.strip()][:2]
    return bool(lines) and _BLOCK_HEAD.match(lines[0].rstrip()) is not None and len(lines) > 1


def read(path: Path, options: IngestOptions) -> Iterator[Conversation]:
    yield build_call(path, FORMAT, _cues(path), options)


def _cues(path: Path) -> list[Cue]:
    cues: list[Cue] = []
    speaker: str | None = None
    start: float | None = None
    words: list[str] = []
    for number, raw in enumerate(read_text(path).splitlines(), start=1):
        line = raw.strip("\ufeff").rstrip()
        head = _BLOCK_HEAD.match(line)
        if head:
            if words:
                cues.append(Cue(speaker, " ".join(words), start))
            speaker = head.group("speaker") or "Unknown speaker"
            start, words = _seconds(head.group("time")), []
        elif _FOOTER.match(line) or not line.strip():
            continue
        elif start is None:
            raise IngestError(
                "text before the first 'Name  m:ss' line", path=str(path), record=f"line {number}"
            )
        else:
            words.append(line.strip())
    if words:
        cues.append(Cue(speaker, " ".join(words), start))
    return cues


def _seconds(stamp: str) -> float:
    total = 0
    for part in stamp.split(":"):
        total = total * 60 + int(part)
    return float(total)
