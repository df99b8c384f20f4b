"""Scrub big batches on several cores: a process pool, one `Scrubber` (and one spaCy model)
per worker, conversations sent in chunks of about `chunk_chars` characters.

spaCy's own `n_process` would parallelise NER only; a pool over conversations parallelises
everything the scrubber does. Raw text crosses the process boundary through the pool's pipe
(memory only, as everywhere in the scrubber), never through a file or a log. Results come
back in input order, a failure as a `ScrubError` in place of its conversation.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterable, Iterator
from typing import Any

from convsignal.domain import Conversation, ScrubbedConversation
from convsignal.errors import ScrubError
from convsignal.scrub.scrubber import Scrubber

_worker: Scrubber | None = None


def _start_worker(spacy_model: str, allow_list: tuple[str, ...]) -> None:
    global _worker
    _worker = Scrubber(spacy_model=spacy_model, allow_list=allow_list)


def _scrub_chunk(chunk: list[Conversation]) -> list[ScrubbedConversation | ScrubError]:
    assert _worker is not None, "pool worker started without its scrubber"
    return list(_worker.scrub_many(chunk))


def _chunks(conversations: Iterable[Conversation], chunk_chars: int) -> Iterator[list[Any]]:
    chunk: list[Conversation] = []
    size = 0
    for conversation in conversations:
        chunk.append(conversation)
        size += sum(len(turn.text) for turn in conversation.turns)
        if size >= chunk_chars:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def scrub_in_processes(
    conversations: Iterable[Conversation],
    *,
    spacy_model: str,
    allow_list: Iterable[str] = (),
    processes: int = 2,
    chunk_chars: int = 50_000,
) -> Iterator[ScrubbedConversation | ScrubError]:
    """Like `Scrubber.scrub_many`, on `processes` worker processes (1: in this process)."""
    allowed = tuple(allow_list)
    if processes <= 1:
        yield from Scrubber(spacy_model=spacy_model, allow_list=allowed).scrub_many(conversations)
        return
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
    with context.Pool(processes, _start_worker, (spacy_model, allowed)) as pool:
        for results in pool.imap(_scrub_chunk, _chunks(conversations, chunk_chars)):
            yield from results
