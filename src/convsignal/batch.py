"""Backfills through the providers' batch APIs: submit, poll, reconcile; resumable.

Submit: read and scrub like `ingest`, skip what is done or already pending, send one request
per conversation part with `custom_id` = content hash (+ part), and record a `batch_jobs`
row with one `batch_items` row per request. Conversation *metadata* rows are written at
submission; no text is kept anywhere (the provider holds the scrubbed request until it
answers). Reconcile: every custom_id is accounted for: succeeded → events (evidence
re-scanned); errored, expired, canceled, invalid or missing → a dead letter with the reason.
Stopping the CLI while a batch runs loses nothing: the next `extract --batch` polls it again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from convsignal.domain import ExtractionResult, ScrubbedConversation, TokenUsage
from convsignal.errors import IngestError
from convsignal.extract.chunking import chunk_conversation
from convsignal.extract.merge import merge_chunks, signals_from_model
from convsignal.extract.prompts import PromptSet
from convsignal.extract.providers.batch import BatchOutcome, BatchRequest, BatchStatus
from convsignal.ingest import read_paths
from convsignal.pipeline import Pipeline, RunSummary
from convsignal.store import repository
from convsignal.store.engine import session_scope
from convsignal.store.tables import BatchItem, BatchJob, ConversationRecord, utcnow

log = logging.getLogger("convsignal.batch")
MAX_REQUESTS_PER_BATCH = 10_000
PART_SEPARATOR = "-"


class BatchAPI(Protocol):
    def submit(self, requests: list[BatchRequest]) -> str: ...
    def status(self, batch_id: str) -> BatchStatus: ...
    def results(self, batch_id: str) -> Iterable[BatchOutcome]: ...


@dataclass
class BatchSummary:
    submitted_batches: list[str] = field(default_factory=list)
    submitted_conversations: int = 0
    skipped: int = 0
    pending_batches: int = 0
    reconciled_batches: int = 0
    succeeded: int = 0
    failed: int = 0
    usage: TokenUsage = field(default_factory=TokenUsage)
    cost_usd: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)


def custom_id(content_hash: str, part: int) -> str:
    """≤ 64 characters of [A-Za-z0-9_-] (Anthropic's rule); rows map it back to the hash."""
    return f"{content_hash[:48]}{PART_SEPARATOR}{part}"


class BatchRunner:
    def __init__(
        self,
        pipeline: Pipeline,
        api: BatchAPI,
        *,
        provider: str,
        extractor_id: str,
        prompt: PromptSet,
        max_chunk_chars: int,
        batch_discount_cost: Callable[[TokenUsage], float | None],
    ) -> None:
        self._pipeline = pipeline
        self._api = api
        self._provider = provider
        self._extractor_id = extractor_id
        self._prompt = prompt
        self._max_chunk_chars = max_chunk_chars
        self._cost = batch_discount_cost

    @property
    def engine(self) -> Engine:
        return self._pipeline.engine

    # ------------------------------------------------------------------ submit

    def submit(self, paths: list[Path], summary: BatchSummary) -> None:
        pending = self._pending_hashes()
        requests: list[BatchRequest] = []
        records: list[tuple[ScrubbedConversation, list[str]]] = []
        for item in read_paths(paths, self._pipeline.options):
            if isinstance(item, IngestError):
                self._dead_letter("ingest", item, item.path, item.record, None, summary)
                continue
            if item.content_hash in pending or self._pipeline.is_done(item):
                summary.skipped += 1
                continue
            try:
                scrubbed = self._pipeline.scrubber.scrub(item)
            except Exception as exc:
                locator = item.locator
                self._dead_letter(
                    "scrub", exc, locator.file, locator.record, item.content_hash, summary
                )
                continue
            del item  # raw text goes no further
            parts = chunk_conversation(scrubbed, max_chars=self._max_chunk_chars)
            ids = []
            for index, part in enumerate(parts, start=1):
                numbering = {"part": index, "parts": len(parts)} if len(parts) > 1 else {}
                ids.append(custom_id(scrubbed.content_hash, index))
                requests.append(
                    BatchRequest(
                        ids[-1], self._prompt.system, self._prompt.user_message(part, **numbering)
                    )
                )
            records.append((scrubbed, ids))
            pending.add(scrubbed.content_hash)
            if len(requests) >= MAX_REQUESTS_PER_BATCH:
                self._send(requests, records, summary)
                requests, records = [], []
        if requests:
            self._send(requests, records, summary)

    def _send(
        self,
        requests: list[BatchRequest],
        records: list[tuple[ScrubbedConversation, list[str]]],
        summary: BatchSummary,
    ) -> None:
        batch_id = self._api.submit(requests)
        with session_scope(self.engine) as session:
            job = BatchJob(
                provider=self._provider,
                provider_batch_id=batch_id,
                extractor_id=self._extractor_id,
                prompt_version=self._prompt.version,
                request_count=len(requests),
            )
            session.add(job)
            session.flush()
            assert job.id is not None
            for scrubbed, ids in records:
                record = repository.conversation_record(session, scrubbed)
                repository.ensure_account(session, scrubbed.account_id, name=scrubbed.account_name)
                assert record.id is not None
                for one in ids:
                    session.add(
                        BatchItem(batch_job_id=job.id, conversation_id=record.id, custom_id=one)
                    )
        summary.submitted_batches.append(batch_id)
        summary.submitted_conversations += len(records)
        log.info("submitted batch %s with %d requests", batch_id, len(requests))

    def _pending_hashes(self) -> set[str]:
        with session_scope(self.engine) as session:
            rows = session.exec(
                select(ConversationRecord.content_hash)
                .join(BatchItem, col(BatchItem.conversation_id) == ConversationRecord.id)
                .join(BatchJob, col(BatchJob.id) == BatchItem.batch_job_id)
                .where(BatchJob.status == "submitted", BatchItem.status == "pending")
            ).all()
        return set(rows)

    # ------------------------------------------------------------------ poll and reconcile

    def open_jobs(self) -> list[BatchJob]:
        with session_scope(self.engine) as session:
            return list(
                session.exec(
                    select(BatchJob)
                    .where(BatchJob.status == "submitted", BatchJob.provider == self._provider)
                    .order_by(col(BatchJob.id))
                ).all()
            )

    def poll(self, job: BatchJob) -> BatchStatus:
        return self._api.status(job.provider_batch_id)

    def reconcile(self, job: BatchJob, summary: BatchSummary) -> None:
        """Account for every custom_id of an ended batch, exactly once."""
        outcomes = {
            outcome.custom_id: outcome for outcome in self._api.results(job.provider_batch_id)
        }
        with session_scope(self.engine) as session:
            items = session.exec(
                select(BatchItem).where(
                    BatchItem.batch_job_id == job.id, BatchItem.status == "pending"
                )
            ).all()
            by_conversation: dict[int, list[BatchItem]] = defaultdict(list)
            for item in items:
                by_conversation[item.conversation_id].append(item)
        for conversation_id, parts in by_conversation.items():
            self._reconcile_conversation(job, conversation_id, parts, outcomes, summary)
        with session_scope(self.engine) as session:
            stored = session.get(BatchJob, job.id)
            if stored is not None:
                stored.status, stored.reconciled_at = "reconciled", utcnow()
                session.add(stored)
        summary.reconciled_batches += 1

    def _reconcile_conversation(
        self,
        job: BatchJob,
        conversation_id: int,
        parts: list[BatchItem],
        outcomes: dict[str, BatchOutcome],
        summary: BatchSummary,
    ) -> None:
        parts.sort(key=lambda item: int(item.custom_id.rsplit(PART_SEPARATOR, 1)[1]))
        found = [outcomes.get(item.custom_id) for item in parts]
        usage = sum((o.usage for o in found if o is not None), TokenUsage())
        problem = next(
            (
                (o.error or "invalid") if o is not None else "missing from the batch results"
                for o in found
                if o is None or o.signals is None
            ),
            None,
        )
        with session_scope(self.engine) as session:
            record = session.get(ConversationRecord, conversation_id)
            assert record is not None
            if problem is None:
                answers = [signals_from_model(o.signals) for o in found if o and o.signals]
                result = ExtractionResult(
                    self._extractor_id, job.prompt_version, merge_chunks(answers), usage
                )
                result, redacted = self._pipeline.rescanned(result)
                cost = self._cost(usage)
                if not repository.is_extracted(
                    session, record.content_hash, self._extractor_id, job.prompt_version
                ):
                    repository.save_events(
                        session, record, result, run_id=None,
                        pii_redacted_in_output=redacted, cost_usd=cost or 0.0,
                    )  # fmt: skip
                    repository.resolve_dead_letters(session, record.content_hash)
                summary.succeeded += 1
                summary.cost_usd += cost or 0.0
            else:
                self._letter_for_record(
                    session, record, f"batch {job.provider_batch_id}: {problem}"
                )
                summary.failed += 1
                summary.failures.append((record.source_file, problem))
            summary.usage += usage
            for item in parts:
                item.status = "succeeded" if problem is None else "failed"
                session.add(item)

    def _letter_for_record(self, session: Session, record: ConversationRecord, reason: str) -> None:
        repository.add_dead_letter(
            session,
            repository.DeadLetterInput(
                stage="extract",
                source_file=record.source_file,
                source_record=record.source_record,
                error_type="BatchResult",
                reason=reason,
                content_hash=record.content_hash,
            ),
            run_id=None,
        )

    def _dead_letter(
        self,
        stage: str,
        exc: BaseException,
        file: str,
        record: str | None,
        content_hash: str | None,
        summary: BatchSummary,
    ) -> None:
        reason = self._pipeline.dead_letter(stage, exc, file, record, content_hash, run_id=None)
        summary.failed += 1
        summary.failures.append((f"{file}:{record}" if record else file, reason))


__all__ = ["BatchRunner", "BatchSummary", "RunSummary", "custom_id"]
