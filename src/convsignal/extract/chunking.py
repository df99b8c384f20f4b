"""Split long conversations into overlapping parts of whole turns.

A two-hour call does not fit one request (and quality drops long before the context limit).
Parts hold whole turns up to `max_chars`; consecutive parts share `overlap_turns` turns so a
signal spoken across a boundary is seen whole at least once. A single turn longer than
`max_chars` is cut into pieces of that size (a 5 MB ticket body).
"""

from __future__ import annotations

from dataclasses import replace

from convsignal.domain import ScrubbedConversation, ScrubbedTurn

DEFAULT_MAX_CHARS = 24_000  # ≈ 6k tokens of conversation per request
DEFAULT_OVERLAP_TURNS = 2


def _split_long_turns(turns: tuple[ScrubbedTurn, ...], max_chars: int) -> list[ScrubbedTurn]:
    out: list[ScrubbedTurn] = []
    for turn in turns:
        if len(turn.text) <= max_chars:
            out.append(turn)
            continue
        for start in range(0, len(turn.text), max_chars):
            out.append(replace(turn, text=turn.text[start : start + max_chars]))
    return out


def chunk_conversation(
    conversation: ScrubbedConversation,
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    overlap_turns: int = DEFAULT_OVERLAP_TURNS,
) -> list[ScrubbedConversation]:
    turns = _split_long_turns(conversation.turns, max_chars)
    if sum(len(t.text) for t in turns) <= max_chars:
        return [replace(conversation, turns=tuple(turns))]
    parts: list[list[ScrubbedTurn]] = []
    start = 0
    while start < len(turns):
        size, end = 0, start
        while end < len(turns) and (end == start or size + len(turns[end].text) <= max_chars):
            size += len(turns[end].text)
            end += 1
        parts.append(turns[start:end])
        if end >= len(turns):
            break
        start = max(start + 1, end - overlap_turns)
    return [replace(conversation, turns=tuple(part)) for part in parts]
