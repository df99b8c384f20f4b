"""Background workers the app runs during its lifespan: the jobs queue and webhook deliveries.

Both are asyncio tasks that hand blocking work (the pipeline, database calls) to threads.
Shutdown is graceful: stop claiming; a running job gets `queue_shutdown_seconds` to finish,
then is interrupted between two conversations and released to the queue (a new server picks
it up; what it stored already is skipped as done). Webhook attempts in flight finish (they
are bounded by their timeout); leased but unsent deliveries fall back to pending when their
lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from functools import partial
from typing import cast

import httpx
from fastapi import FastAPI

from convsignal.api.encryption import load_cipher
from convsignal.api.jobs import ClaimedJob, JobQueue, run_job
from convsignal.api.webhooks import DeliveryPolicy, Outbox, fan_out
from convsignal.config import Settings
from convsignal.extract.registry import resolve
from convsignal.ingest import IngestOptions
from convsignal.pipeline import Pipeline, scrubber_factory

log = logging.getLogger("convsignal.api.background")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def queue_for(app: FastAPI) -> JobQueue:
    """The app's jobs queue (made on first use: the routes enqueue, the worker claims)."""
    queue = getattr(app.state, "job_queue", None)
    if queue is None:
        settings = cast(Settings, app.state.settings)
        queue = JobQueue(
            app.state.engine,
            load_cipher(settings),
            lease_seconds=settings.queue_lease_seconds,
            max_attempts=settings.queue_max_attempts,
        )
        app.state.job_queue = queue
    return cast(JobQueue, queue)


def pipeline_factory(app: FastAPI) -> Callable[[], Pipeline]:
    """One pipeline per app, built by the first job: the extractor from settings, the spaCy
    model loaded when the first conversation is scrubbed, then kept."""
    lock = threading.Lock()

    def pipeline() -> Pipeline:
        with lock:
            existing = getattr(app.state, "pipeline", None)
            if existing is None:
                settings = cast(Settings, app.state.settings)
                existing = Pipeline(
                    app.state.engine,
                    resolve(settings.extractor, settings),
                    scrubber_factory=scrubber_factory(settings),
                    options=IngestOptions(internal_domains=settings.internal_domains),
                )
                app.state.pipeline = existing
            return cast(Pipeline, existing)

    return pipeline


@asynccontextmanager
async def run_workers(app: FastAPI) -> AsyncIterator[None]:
    settings = cast(Settings, app.state.settings)
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(_job_worker(app, settings, stop), name="convsignal-jobs"),
        asyncio.create_task(_webhook_worker(app, settings, stop), name="convsignal-webhooks"),
    ]
    try:
        yield
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for task, result in zip(tasks, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("%s stopped with %s", task.get_name(), type(result).__name__)


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


async def _job_worker(app: FastAPI, settings: Settings, stop: asyncio.Event) -> None:
    queue = queue_for(app)
    worker = worker_name()
    pipeline = pipeline_factory(app)
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="convsignal-job")
    last_scan = float("-inf")
    try:
        while not stop.is_set():
            try:
                if loop.time() - last_scan >= settings.queue_lease_seconds:
                    await loop.run_in_executor(executor, queue.requeue_expired)
                    last_scan = loop.time()
                job = await loop.run_in_executor(executor, queue.claim, worker)
            except Exception as exc:
                log.error("job queue unavailable: %s", type(exc).__name__)
                job = None
            if job is None:
                await _sleep_unless(stop, settings.queue_poll_seconds)
                continue
            await _run_claimed(queue, pipeline, job, worker, executor, settings, stop)
    finally:
        executor.shutdown(wait=False)


async def _run_claimed(
    queue: JobQueue,
    pipeline: Callable[[], Pipeline],
    job: ClaimedJob,
    worker: str,
    executor: ThreadPoolExecutor,
    settings: Settings,
    stop: asyncio.Event,
) -> None:
    """Run the job in the worker thread, renewing its lease; on shutdown give it
    `queue_shutdown_seconds`, then interrupt it between two conversations."""
    loop = asyncio.get_running_loop()
    interrupt = threading.Event()
    work: asyncio.Future[object] = loop.run_in_executor(
        executor, partial(run_job, queue, pipeline, job, worker, should_stop=interrupt.is_set)
    )
    beat = asyncio.create_task(_heartbeat(queue, job.id, worker, settings.queue_lease_seconds))
    stopping: asyncio.Future[object] = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            log.info("shutting down: waiting up to %.0fs for job %s",
                     settings.queue_shutdown_seconds, job.id)  # fmt: skip
            await asyncio.wait({work}, timeout=settings.queue_shutdown_seconds)
        if not work.done():
            interrupt.set()
            await asyncio.wait({work}, timeout=settings.queue_lease_seconds)
        if not work.done():  # stuck inside one conversation: let another worker have it
            await asyncio.to_thread(queue.release, job.id, worker)
        elif work.exception() is not None:
            log.error("job %s: worker error %s", job.id, type(work.exception()).__name__)
    finally:
        beat.cancel()
        stopping.cancel()


async def _heartbeat(queue: JobQueue, job_id: str, worker: str, lease_seconds: float) -> None:
    while True:
        await asyncio.sleep(lease_seconds / 3)
        try:
            if not await asyncio.to_thread(queue.heartbeat, job_id, worker):
                log.warning("job %s: lease lost", job_id)
                return
        except Exception as exc:
            log.error("job %s: heartbeat failed: %s", job_id, type(exc).__name__)


async def _webhook_worker(app: FastAPI, settings: Settings, stop: asyncio.Event) -> None:
    outbox = Outbox(
        app.state.engine,
        queue_for(app).cipher,
        DeliveryPolicy(
            max_attempts=settings.webhook_max_attempts,
            timeout_seconds=settings.webhook_timeout_seconds,
            backoff_seconds=settings.webhook_backoff_seconds,
            backoff_max_seconds=settings.webhook_backoff_max_seconds,
            lease_seconds=max(60.0, settings.webhook_timeout_seconds * 3),
        ),
    )
    # Redirects are not followed (a 3xx is a failed attempt); HTTPS_PROXY and friends apply.
    async with httpx.AsyncClient(follow_redirects=False) as client:
        while not stop.is_set():
            try:
                await asyncio.to_thread(fan_out, outbox.engine)
                due = await asyncio.to_thread(outbox.claim_due)
                if due:
                    await asyncio.gather(*(outbox.deliver(client, d) for d in due))
            except Exception as exc:
                log.error("webhook worker: %s", type(exc).__name__)
                due = []
            if not due:
                await _sleep_unless(stop, settings.webhook_poll_seconds)
