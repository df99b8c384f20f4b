"""ingest → scrub → extract → store, idempotent and resumable.

Every input item ends as exactly one of: events stored (with a `conversation_extractions`
marker, in one transaction), skipped because that marker already exists for this content
hash + extractor + prompt version, or a dead-letter row with the reason. A killed run
leaves only whole transactions behind, so running it again finishes the rest.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from sqlalchemy import Engine

from convsignal.config import Settings
from convsignal.domain import Conversation, ExtractionResult, ScrubbedConversation, TokenUsage
from convsignal.errors import (
    ConvSignalError,
    ExtractionError,
    IngestError,
    RetriesExhausted,
    ScrubError,
    StoreError,
)
from convsignal.extract.base import AsyncExtractor, Extractor
from convsignal.extract.pricing import PriceTable, load_prices
from convsignal.extract.runner import extract_many
from convsignal.ingest import IngestOptions, UnmappedConversation, read_paths, retry_key
from convsignal.runtime import freeze_long_lived
from convsignal.scrub import Scrubber
from convsignal.store import repository
from convsignal.store.engine import session_scope

log = logging.getLogger("convsignal.pipeline")
_USAGE_FIELDS = frozenset(f.name for f in fields(TokenUsage))

# Conversations scrubbed together (one `nlp.pipe` pass); bounded so memory stays flat and a
# kill loses little work: whichever limit is reached first.
SCRUB_BATCH_ITEMS = 32
SCRUB_BATCH_CHARS = 200_000


@dataclass
class Failure:
    where: str
    stage: str
    reason: str
    file: str = ""


@dataclass
class RunSummary:
    run_id: int
    extractor_id: str
    prompt_version: str
    processed: int = 0
    skipped: int = 0
    failed: int = 0
    events: int = 0
    pii_redacted_in_output: int = 0
    failures: list[Failure] = field(default_factory=list)
    seconds: float = 0.0
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    unpriced: bool = False  # the model is not in the price table


def safe_reason(exc: BaseException) -> str:
    """A reason safe to store and print: our own messages carry no conversation text by
    contract; anything else is reduced to its type (its message might quote input)."""
    if isinstance(exc, ConvSignalError):
        return str(exc)
    return f"unexpected {type(exc).__name__} (details withheld: they may quote the input)"


def count_inputs(paths: Iterable[Path]) -> int:
    total = 0
    for path in paths:
        if path.is_dir():
            total += sum(
                1
                for p in path.rglob("*")
                if p.is_file() and not p.name.startswith(".") and ".meta.y" not in p.name
            )
        else:
            total += 1
    return total


def scrubber_factory(settings: Settings) -> Callable[[], Scrubber]:
    """The settings' scrubber, built when a pipeline first needs it. Loading it is the last
    big allocation of a long run (the spaCy model), so with `settings.freeze_heap` what is
    alive then is frozen (`convsignal.runtime`): the commands and the API's jobs worker
    share this instead of each wrapping the constructor."""

    def build() -> Scrubber:
        scrubber = Scrubber(
            spacy_model=settings.spacy_model, allow_list=settings.effective_allow_list
        )
        if settings.freeze_heap:
            freeze_long_lived()
        return scrubber

    return build


class Pipeline:
    def __init__(
        self,
        engine: Engine,
        extractor: Extractor,
        scrubber_factory: Callable[[], Scrubber],
        options: IngestOptions | None = None,
        prices: PriceTable | None = None,
    ) -> None:
        self._engine = engine
        self._extractor = extractor
        self._scrubber_factory = scrubber_factory
        self._scrubber: Scrubber | None = None
        self._options = options or IngestOptions()
        self._prices = prices or load_prices()
        self._store_lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def options(self) -> IngestOptions:
        return self._options

    def is_done(self, conversation: Conversation) -> bool:
        return self._is_done(conversation)

    def rescanned(self, result: ExtractionResult) -> tuple[ExtractionResult, int]:
        return self._rescanned(result)

    @property
    def scrubber(self) -> Scrubber:
        if self._scrubber is None:  # the spaCy model loads only when something needs it
            self._scrubber = self._scrubber_factory()
        return self._scrubber

    def run(
        self,
        paths: Iterable[Path],
        *,
        format_name: str = "auto",
        on_item: Callable[[], None] | None = None,
    ) -> RunSummary:
        items = read_paths(paths, self._options, format_name=format_name)
        return self.run_items(items, on_item=on_item)

    def run_items(
        self,
        conversations: Iterable[Conversation | IngestError],
        *,
        on_item: Callable[[], None] | None = None,
    ) -> RunSummary:
        """`run` on conversations already read (the API's submissions), errors included."""
        started = time.monotonic()
        extractor = self._extractor
        with session_scope(self._engine) as session:
            run = repository.start_run(session, extractor.extractor_id, extractor.prompt_version)
            assert run.id is not None
        summary = RunSummary(run.id, extractor.extractor_id, extractor.prompt_version)
        status = "failed"
        items = self._resolving_remapped(iter(conversations))
        try:
            if isinstance(extractor, AsyncExtractor):
                asyncio.run(self._run_async(items, summary, extractor, on_item))
            else:
                for batch in _batches(items, SCRUB_BATCH_ITEMS, SCRUB_BATCH_CHARS):
                    self._process_batch(summary, batch, on_item)
            status = "finished"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            summary.seconds = time.monotonic() - started
            with session_scope(self._engine) as session:
                repository.finish_run(
                    session,
                    summary.run_id,
                    processed=summary.processed,
                    skipped=summary.skipped,
                    failed=summary.failed,
                    status=status,
                    usage=summary.usage,
                    cost_usd=summary.cost_usd,
                )
            log.info(
                "run %s %s: processed=%d skipped=%d failed=%d events=%d",
                summary.run_id, status, summary.processed, summary.skipped,
                summary.failed, summary.events,
            )  # fmt: skip
        return summary

    def _resolving_remapped(
        self, items: Iterator[Conversation | IngestError]
    ) -> Iterator[Conversation | IngestError]:
        """A conversation that maps to an account now resolves its earlier "unmapped" dead
        letter (keyed by its account-free hash, `retry_key`)."""
        for item in items:
            if not isinstance(item, IngestError):
                with self._store_lock, session_scope(self._engine) as session:
                    repository.resolve_dead_letters(session, retry_key(item))
            yield item

    def _is_done(self, conversation: Conversation) -> bool:
        extractor = self._extractor
        with session_scope(self._engine) as session:
            return repository.is_extracted(
                session,
                conversation.content_hash,
                extractor.extractor_id,
                extractor.prompt_version,
            )

    def _process_batch(
        self,
        summary: RunSummary,
        batch: list[Conversation | IngestError],
        on_item: Callable[[], None] | None,
    ) -> None:
        """A batch is scrubbed in one `scrub_many` call (spaCy's `nlp.pipe` over all its
        texts), then each conversation is extracted and stored in its own transaction."""
        todo: list[Conversation] = []
        seen: set[str] = set()
        for item in batch:
            if isinstance(item, IngestError):
                self._dead_letter(summary, "ingest", item, item.path, item.record, None)
            elif item.content_hash in seen or self._is_done(item):
                summary.skipped += 1  # done before, or a duplicate within this batch
            else:
                seen.add(item.content_hash)
                todo.append(item)
                continue
            if on_item is not None:
                on_item()
        del batch
        locators = [(c.locator, c.content_hash) for c in todo]
        scrubbed_all = list(self.scrubber.scrub_many(todo)) if todo else []
        todo.clear()  # raw text goes no further than this line
        for (locator, content_hash), scrubbed in zip(locators, scrubbed_all, strict=True):
            if isinstance(scrubbed, ScrubError):
                self._dead_letter(
                    summary, "scrub", scrubbed, locator.file, locator.record, content_hash
                )
            else:
                self._extract_and_store(summary, scrubbed)
            if on_item is not None:
                on_item()

    def _extract_and_store(self, summary: RunSummary, scrubbed: ScrubbedConversation) -> None:
        locator = scrubbed.locator
        stage = "extract"
        try:
            result = self._extractor.extract(scrubbed)
            stage = "store"
            self._store(summary, scrubbed, result)
        except Exception as exc:
            if isinstance(exc, ExtractionError) and exc.fatal:
                raise
            self._dead_letter(
                summary, stage, exc, locator.file, locator.record, scrubbed.content_hash
            )

    def _store(
        self, summary: RunSummary, scrubbed: ScrubbedConversation, result: ExtractionResult
    ) -> None:
        """Re-scan the extractor's strings for PII, price the call, store it all at once.

        Serialised: LLM results arrive on several worker threads."""
        with self._store_lock:
            self._store_locked(summary, scrubbed, result)

    def _store_locked(
        self, summary: RunSummary, scrubbed: ScrubbedConversation, result: ExtractionResult
    ) -> None:
        result, redacted = self._rescanned(result)
        usage = result.usage or TokenUsage()
        cost = self._prices.cost(result.extractor_id, usage) if result.usage else 0.0
        with session_scope(self._engine) as session:
            repository.ensure_account(session, scrubbed.account_id, name=scrubbed.account_name)
            summary.events += repository.save_extraction(
                session, scrubbed, result, run_id=summary.run_id,
                pii_redacted_in_output=redacted, cost_usd=cost or 0.0,
            )  # fmt: skip
            repository.resolve_dead_letters(session, scrubbed.content_hash)
        summary.processed += 1
        summary.pii_redacted_in_output += redacted
        summary.usage += usage
        summary.cost_usd += cost or 0.0
        summary.unpriced = summary.unpriced or cost is None
        log.debug("stored %s (%s)", scrubbed.content_hash[:12], scrubbed.locator.file)

    async def _run_async(
        self,
        items: Iterator[Conversation | IngestError],
        summary: RunSummary,
        extractor: AsyncExtractor,
        on_item: Callable[[], None] | None,
    ) -> None:
        """LLM extraction with bounded concurrency (`extract.runner`). Reading and scrubbing
        run in a worker thread so responses keep flowing; each result is stored as soon as it
        arrives."""

        def tick() -> None:
            if on_item is not None:
                on_item()

        async def scrubbed_conversations() -> AsyncIterator[ScrubbedConversation]:
            while True:
                item = await asyncio.to_thread(next, items, None)
                if item is None:
                    return
                if isinstance(item, IngestError):
                    self._dead_letter(summary, "ingest", item, item.path, item.record, None)
                elif await asyncio.to_thread(self._is_done, item):
                    summary.skipped += 1
                else:
                    scrubbed = await asyncio.to_thread(self._scrub_or_dead_letter, summary, item)
                    if scrubbed is not None:
                        yield scrubbed
                        continue  # ticked when its result is handled
                tick()

        async def handle(
            scrubbed: ScrubbedConversation, outcome: ExtractionResult | Exception
        ) -> None:
            try:
                if isinstance(outcome, Exception):
                    raise outcome
                await asyncio.to_thread(self._store, summary, scrubbed, outcome)
            except Exception as exc:
                locator = scrubbed.locator
                stage = "store" if isinstance(exc, StoreError) else "extract"
                if isinstance(exc, RetriesExhausted):
                    self._bill_failure(summary, exc)
                self._dead_letter(
                    summary, stage, exc, locator.file, locator.record, scrubbed.content_hash
                )
            finally:
                tick()

        await extract_many(extractor, scrubbed_conversations(), handle)

    def _bill_failure(self, summary: RunSummary, exc: RetriesExhausted) -> None:
        """A conversation that failed after retries was still billed for every answered
        attempt: its tokens count on the run and in its cost."""
        usage = TokenUsage(**{k: int(v) for k, v in exc.usage.items() if k in _USAGE_FIELDS})
        if not usage.requests:
            return
        cost = self._prices.cost(self._extractor.extractor_id, usage)
        with self._store_lock:
            summary.usage += usage
            summary.cost_usd += cost or 0.0
            summary.unpriced = summary.unpriced or cost is None

    def _scrub_or_dead_letter(
        self, summary: RunSummary, conversation: Conversation
    ) -> ScrubbedConversation | None:
        locator = conversation.locator
        try:
            return self.scrubber.scrub(conversation)
        except Exception as exc:
            self._dead_letter(
                summary, "scrub", exc, locator.file, locator.record, conversation.content_hash
            )
            return None

    def _rescanned(self, result: ExtractionResult) -> tuple[ExtractionResult, int]:
        """Every string an extractor returned is scanned for PII again before storage."""
        redacted = 0
        signals = []
        for signal in result.signals:
            evidence, found = self.scrubber.rescan(signal.evidence[:200])
            redacted += found
            signals.append(replace(signal, evidence=evidence[:200]))
        return replace(result, signals=tuple(signals)), redacted

    def _dead_letter(
        self,
        summary: RunSummary,
        stage: str,
        exc: BaseException,
        file: str,
        record: str | None,
        content_hash: str | None,
    ) -> None:
        if isinstance(exc, UnmappedConversation):  # read fine, but maps to no account
            stage, content_hash = "unmapped", exc.content_hash
        reason = self.dead_letter(stage, exc, file, record, content_hash, run_id=summary.run_id)
        summary.failed += 1
        where = f"{file}:{record}" if record else file
        summary.failures.append(Failure(where, stage, reason, file))

    def dead_letter(
        self,
        stage: str,
        exc: BaseException,
        file: str,
        record: str | None,
        content_hash: str | None,
        *,
        run_id: int | None,
    ) -> str:
        """Store why an item could not become events; returns the (text-free) reason."""
        reason = safe_reason(exc)
        where = f"{file}:{record}" if record else file
        log.info("dead letter at %s stage for %s: %s", stage, where, type(exc).__name__)
        with session_scope(self._engine) as session:
            repository.add_dead_letter(
                session,
                repository.DeadLetterInput(
                    stage=stage,
                    source_file=file,
                    source_record=record,
                    error_type=type(exc).__name__,
                    reason=reason,
                    content_hash=content_hash,
                ),
                run_id=run_id,
            )
        return reason


@dataclass
class MetricsImport:
    rows: int
    values: int
    accounts: int
    errors: list[IngestError]


def import_metrics(engine: Engine, path: Path) -> MetricsImport:
    """Load a metrics CSV or JSON file; good rows are stored, bad ones are reported (file and
    line or JSON path)."""
    from convsignal.ingest.metrics_csv import read_metrics_file

    parsed = read_metrics_file(path)
    values = 0
    with session_scope(engine) as session:
        for row in parsed.rows:
            repository.ensure_account(
                session,
                row.account_id,
                name=row.account_name,
                segment=row.segment,
                attributes=row.attributes,
            )
            values += repository.upsert_metrics(
                session,
                ((row.account_id, m, row.as_of, v) for m, v in row.measures.items()),
                source=path.name,
            )
    accounts = len({row.account_id for row in parsed.rows})
    return MetricsImport(len(parsed.rows), values, accounts, parsed.errors)


def retry_failed(pipeline: Pipeline, *, on_item: Callable[[], None] | None = None) -> RunSummary:
    """Run again over the files behind open dead letters (raw text is never kept, so the
    source files are read again). Items that now succeed resolve their letters; files that
    now read cleanly resolve their ingest-stage letters."""
    with session_scope(pipeline.engine) as session:
        letters = repository.open_dead_letters(session)
        files = sorted({letter.source_file for letter in letters})
    paths = [Path(f) for f in files if f != "-"]
    summary = pipeline.run(paths, on_item=on_item)
    failed_now = {failure.file for failure in summary.failures}
    with session_scope(pipeline.engine) as session:
        for file in files:
            if file not in failed_now:
                repository.resolve_ingest_letters(session, file, except_run=summary.run_id)
    return summary


def _batches(
    items: Iterator[Conversation | IngestError], max_items: int, max_chars: int
) -> Iterator[list[Conversation | IngestError]]:
    batch: list[Conversation | IngestError] = []
    size = 0
    for item in items:
        batch.append(item)
        if isinstance(item, Conversation):
            size += sum(len(turn.text) for turn in item.turns)
        if len(batch) >= max_items or size >= max_chars:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch
