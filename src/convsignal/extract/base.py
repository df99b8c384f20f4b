"""The extractor protocol every provider implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from convsignal.domain import ExtractionResult, ScrubbedConversation


class Extractor(Protocol):
    """Turns one scrubbed conversation into signals.

    `extractor_id` names provider and model (`lexicon`, `anthropic/claude-…`);
    `prompt_version` is the content hash of the prompt or pattern files behind it. Together
    with the conversation's content hash they key idempotency.
    """

    @property
    def extractor_id(self) -> str: ...

    @property
    def prompt_version(self) -> str: ...

    @property
    def is_llm(self) -> bool: ...

    def extract(self, conversation: ScrubbedConversation) -> ExtractionResult: ...


@runtime_checkable
class AsyncExtractor(Protocol):
    """An extractor that calls a remote model: many conversations in flight at once."""

    @property
    def extractor_id(self) -> str: ...

    @property
    def prompt_version(self) -> str: ...

    @property
    def concurrency(self) -> int: ...

    async def aextract(self, conversation: ScrubbedConversation) -> ExtractionResult: ...

    async def aclose(self) -> None: ...
