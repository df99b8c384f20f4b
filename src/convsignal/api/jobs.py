"""The jobs queue: submissions wait in the `jobs` table until a worker claims them.

A claim takes the oldest queued job with `SELECT … FOR UPDATE SKIP LOCKED` (PostgreSQL: any
number of workers on any number of machines, none waits on another's row) followed by an
update guarded on `status = 'queued'` (all that SQLite needs: it has one writer at a time).
The claimer holds a lease it renews while working; a job whose lease ran out (its worker
was killed) goes back to queued, so a restart, a crash or `kill -9` loses nothing. A job
claimed `queue_max_attempts` times without finishing fails instead of looping for ever.

Running a job reuses the pipeline (scrub → extract → store, idempotent by content hash):
a job run twice stores nothing twice. The payload is decrypted only in the worker and set
NULL when the job ends, whatever the outcome.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from cryptography.fernet import InvalidToken, MultiFernet
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy import CursorResult, Engine, func, select, update
from sqlmodel import Session, col

from convsignal.api.submissions import JobPayload
from convsignal.pipeline import Pipeline, RunSummary, safe_reason
from convsignal.store.engine import session_scope
from convsignal.store.job_tables import Job
from convsignal.store.tables import utcnow

log = logging.getLogger("convsignal.api.jobs")

MAX_REASONS = 100
JOBS_FINISHED = Counter(
    "convsignal_jobs_finished_total", "Jobs that ended, by final status", ["status"]
)
JOBS_RELEASED = Counter(
    "convsignal_jobs_released_total", "Running jobs put back in the queue (shutdown, lease)"
)


def changed_rows(session: Session, statement: Any) -> int:
    """Rows an UPDATE changed (what makes a guarded update a claim)."""
    result = session.execute(statement)
    return int(cast(CursorResult[Any], result).rowcount or 0)


class JobInterrupted(Exception):
    """Raised between two conversations when the worker must stop; the job is re-queued."""


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    id: str
    payload: bytes | None
    attempts: int


class JobQueue:
    def __init__(
        self,
        engine: Engine,
        cipher: MultiFernet,
        *,
        lease_seconds: float = 30.0,
        max_attempts: int = 3,
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self.lease = timedelta(seconds=lease_seconds)
        self.max_attempts = max_attempts

    def enqueue(self, payload: JobPayload, *, conversations: int, api_key_id: int | None) -> Job:
        job = Job(
            id=str(uuid.uuid4()),
            payload=self.cipher.encrypt(payload.to_bytes()),
            conversations=conversations,
            api_key_id=api_key_id,
        )
        with session_scope(self.engine) as session:
            session.add(job)
        log.info("job %s queued: %d conversations", job.id, conversations)
        return job

    def claim(self, worker: str) -> ClaimedJob | None:
        """The oldest queued job, now running under `worker`'s lease; None if none is."""
        now = utcnow()
        with session_scope(self.engine) as session:
            candidate = session.execute(
                select(col(Job.id), col(Job.attempts), col(Job.payload))
                .where(col(Job.status) == "queued")
                .order_by(col(Job.created_at))
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if candidate is None:
                return None
            job_id, attempts, payload = candidate
            claimed = changed_rows(
                session,
                update(Job)
                .where(col(Job.id) == job_id, col(Job.status) == "queued")
                .values(
                    status="running",
                    lease_owner=worker,
                    lease_expires_at=now + self.lease,
                    attempts=col(Job.attempts) + 1,
                    started_at=func.coalesce(col(Job.started_at), now),
                ),
            )
            if claimed != 1:  # another worker was quicker (SQLite)
                return None
        log.info("job %s claimed by %s (attempt %d)", job_id, worker, attempts + 1)
        return ClaimedJob(job_id, payload, attempts + 1)

    def heartbeat(self, job_id: str, worker: str) -> bool:
        """Extend the lease; False when the job is no longer ours."""
        with session_scope(self.engine) as session:
            statement = self._ours(job_id, worker).values(lease_expires_at=utcnow() + self.lease)
            return changed_rows(session, statement) == 1

    def release(self, job_id: str, worker: str) -> None:
        """Back to queued, for this or another worker to run again (a stopping worker)."""
        with session_scope(self.engine) as session:
            released = changed_rows(
                session,
                self._ours(job_id, worker).values(
                    status="queued", lease_owner=None, lease_expires_at=None
                ),
            )
        if released:
            JOBS_RELEASED.inc()
            log.info("job %s released to the queue by %s", job_id, worker)

    def requeue_expired(self) -> int:
        """Running jobs whose worker stopped renewing the lease (killed) go back to queued."""
        with session_scope(self.engine) as session:
            count = changed_rows(
                session,
                update(Job)
                .where(col(Job.status) == "running", col(Job.lease_expires_at) < utcnow())
                .values(status="queued", lease_owner=None, lease_expires_at=None),
            )
        if count:
            JOBS_RELEASED.inc(count)
            log.warning("%d job(s) whose worker stopped renewing its lease re-queued", count)
        return count

    def finish(
        self,
        job_id: str,
        worker: str,
        *,
        summary: RunSummary | None = None,
        error: str | None = None,
    ) -> str:
        """Record the outcome and drop the payload; the final status."""
        values: dict[str, Any] = {
            "payload": None,
            "lease_owner": None,
            "lease_expires_at": None,
            "finished_at": utcnow(),
        }
        if summary is not None:
            values.update(
                stored=summary.processed,
                skipped=summary.skipped,
                dead_lettered=summary.failed,
                extraction_run_id=summary.run_id,
                reasons=[
                    {"record": f.where, "stage": f.stage, "reason": f.reason[:500]}
                    for f in summary.failures[:MAX_REASONS]
                ],
            )
        status = final_status(summary, error)
        values.update(status=status, error=error[:500] if error else None)
        with session_scope(self.engine) as session:
            changed = changed_rows(session, self._ours(job_id, worker).values(**values))
        if changed != 1:
            log.warning("job %s finished by %s after its lease was lost", job_id, worker)
        JOBS_FINISHED.labels(status).inc()
        log.info("job %s %s", job_id, status)
        return status

    def _ours(self, job_id: str, worker: str) -> Any:
        return update(Job).where(
            col(Job.id) == job_id, col(Job.status) == "running", col(Job.lease_owner) == worker
        )


def final_status(summary: RunSummary | None, error: str | None) -> str:
    if error is not None or summary is None:
        return "failed"
    if summary.failed == 0:
        return "succeeded"
    return "partial" if summary.processed + summary.skipped else "failed"


def run_job(
    queue: JobQueue,
    pipeline: Callable[[], Pipeline],
    job: ClaimedJob,
    worker: str,
    *,
    should_stop: Callable[[], bool] = lambda: False,
) -> str:
    """Process one claimed job (blocking: run it in a thread). Returns its status, or
    "queued" when `should_stop` interrupted it between two conversations."""
    if job.attempts > queue.max_attempts:
        return queue.finish(
            job.id,
            worker,
            error=f"gave up after {job.attempts - 1} attempts: the worker stopped each time "
            "while running it",
        )
    if job.payload is None:
        return queue.finish(job.id, worker, error="the job has no payload (already processed)")
    try:
        payload = JobPayload.from_bytes(queue.cipher.decrypt(job.payload))
    except InvalidToken:
        return queue.finish(
            job.id,
            worker,
            error="the payload cannot be decrypted with the current queue key "
            "(CONVSIGNAL_QUEUE_KEY or the key file changed); submit the conversations again",
        )
    except ValidationError:  # its message would quote the payload: not kept
        return queue.finish(
            job.id, worker, error="the payload cannot be read by this version of convsignal"
        )

    def between_items() -> None:
        if should_stop():
            raise JobInterrupted

    try:
        runner = pipeline()
        items = payload.read(runner.options, source=f"job-{job.id}")
        del payload  # the submitted text is now only in `items`
        summary = runner.run_items(items, on_item=between_items)
    except JobInterrupted:
        queue.release(job.id, worker)
        return "queued"
    except Exception as exc:
        log.error("job %s failed: %s", job.id, type(exc).__name__)
        return queue.finish(job.id, worker, error=safe_reason(exc))
    return queue.finish(job.id, worker, summary=summary)
