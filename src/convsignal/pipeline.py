"""ingest → scrub → extract → store, idempotent and resumable.

Every input item ends as exactly one of: events stored (with a `conversation_extractions`
marker, in one transaction), skipped because that marker already exists for this content
hash + extractor + prompt version, or a dead-letter row with the reason. A killed run
leaves only whole transactions behind, so running it again finishes the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sqlalchemy import Engine

from convsignal.domain import Conversation, ExtractionResult, ScrubbedConversation
from convsignal.errors import ConvSignalError, IngestError
from convsignal.extract.base import Extractor
from convsignal.ingest import IngestOptions, read_paths
from convsignal.scrub import Scrubber
from convsignal.store import repository
from convsignal.store.engine import session_scope

log = logging.getLogger("convsignal.pipeline")


@dataclass
class Failure:
    where: str
    stage: str
    reason: str


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


class Pipeline:
    def __init__(
        self,
        engine: Engine,
        extractor: Extractor,
        scrubber_factory: Callable[[], Scrubber],
        options: IngestOptions | None = None,
    ) -> None:
        self._engine = engine
        self._extractor = extractor
        self._scrubber_factory = scrubber_factory
        self._scrubber: Scrubber | None = None
        self._options = options or IngestOptions()

    @property
    def engine(self) -> Engine:
        return self._engine

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
        started = time.monotonic()
        extractor = self._extractor
        with session_scope(self._engine) as session:
            run = repository.start_run(session, extractor.extractor_id, extractor.prompt_version)
            assert run.id is not None
        summary = RunSummary(run.id, extractor.extractor_id, extractor.prompt_version)
        status = "failed"
        try:
            for item in read_paths(paths, self._options, format_name=format_name):
                if isinstance(item, IngestError):
                    self._dead_letter(summary, "ingest", item, item.path, item.record, None)
                else:
                    self._process(summary, item)
                if on_item is not None:
                    on_item()
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
                )
            log.info(
                "run %s %s: processed=%d skipped=%d failed=%d events=%d",
                summary.run_id, status, summary.processed, summary.skipped,
                summary.failed, summary.events,
            )  # fmt: skip
        return summary

    def _process(self, summary: RunSummary, conversation: Conversation) -> None:
        extractor = self._extractor
        content_hash = conversation.content_hash
        locator = conversation.locator
        with session_scope(self._engine) as session:
            done = repository.is_extracted(
                session, content_hash, extractor.extractor_id, extractor.prompt_version
            )
        if done:
            summary.skipped += 1
            return
        stage = "scrub"
        try:
            scrubbed = self.scrubber.scrub(conversation)
            del conversation  # raw text goes no further than this line
            stage = "extract"
            result, redacted = self._extract_checked(scrubbed)
            stage = "store"
            with session_scope(self._engine) as session:
                repository.ensure_account(session, scrubbed.account_id, name=scrubbed.account_name)
                summary.events += repository.save_extraction(
                    session, scrubbed, result, run_id=summary.run_id,
                    pii_redacted_in_output=redacted,
                )  # fmt: skip
                repository.resolve_dead_letters(session, content_hash)
        except Exception as exc:
            self._dead_letter(summary, stage, exc, locator.file, locator.record, content_hash)
            return
        summary.processed += 1
        summary.pii_redacted_in_output += redacted
        log.debug("stored %s (%s)", content_hash[:12], locator.file)

    def _extract_checked(self, scrubbed: ScrubbedConversation) -> tuple[ExtractionResult, int]:
        """Extract, then re-scan every string the extractor returned before it is stored."""
        result = self._extractor.extract(scrubbed)
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
        reason = safe_reason(exc)
        summary.failed += 1
        where = f"{file}:{record}" if record else file
        summary.failures.append(Failure(where, stage, reason))
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
                run_id=summary.run_id,
            )


@dataclass
class MetricsImport:
    rows: int
    values: int
    accounts: int
    errors: list[IngestError]


def import_metrics(engine: Engine, path: Path) -> MetricsImport:
    """Load a metrics CSV; good rows are stored, bad rows are reported (file and line)."""
    from convsignal.ingest.metrics_csv import read_metrics_csv

    parsed = read_metrics_csv(path)
    values = 0
    with session_scope(engine) as session:
        for row in parsed.rows:
            repository.ensure_account(
                session, row.account_id, name=row.account_name, segment=row.segment
            )
            values += repository.upsert_metrics(
                session,
                ((row.account_id, m, row.as_of, v) for m, v in row.measures.items()),
                source=path.name,
            )
    accounts = len({row.account_id for row in parsed.rows})
    return MetricsImport(len(parsed.rows), values, accounts, parsed.errors)
