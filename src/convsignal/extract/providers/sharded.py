"""One LLM run over several worker processes, for when one event loop runs out of CPU.

Each request costs the client CPU: the SDK builds and encodes it, instructor parses and
validates the answer (eval/bench_llm.py: 1.2-5 ms per conversation, by machine). Against a
fast endpoint (a local vLLM, a gateway, the fake server at 200 ms) 64 requests in flight
can need more than one core, and one event loop then queues the answers: at concurrency 64
it reached 60-66% of the ideal on a slow machine, against 72-78% on two processes (on a
fast one, 92-96% either way).

`ShardedExtractor` is an `InstructorExtractor` whose `aextract` hands the conversation to
the least busy of `config.processes` worker processes and awaits its answer. Each worker
runs its own `InstructorExtractor` (its own event loop, SDK client and connection pool) with
its share of the concurrency and of the rate limits; retries, re-asks, chunking and the
rate-limit headers are handled inside the worker exactly as in one process. The parent
keeps everything else: the intake, `extract.runner`'s bound on requests in flight, and the
store. What crosses the pipes is the scrubbed conversation going out and the
`ExtractionResult` (or the error) coming back, in memory only.

A worker that dies (killed, out of memory) fails its requests in flight with a fatal
`ExtractionError`: the run stops and a re-run resumes where it stopped, as after a crash.
Workers start with the first request (so `--batch` and the sync `extract` of one
conversation start none) and stop in `aclose`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import multiprocessing
import threading
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from convsignal.domain import ExtractionResult, ScrubbedConversation
from convsignal.errors import ConvSignalError, ExtractionError
from convsignal.extract.prompts import PromptSet, load_prompt
from convsignal.extract.providers.llm import InstructorExtractor, LLMConfig
from convsignal.runtime import freeze_long_lived

_READY = "ready"
_START_SECONDS = 120.0  # spawning imports the SDKs: seconds on a slow machine


def share_of(config: LLMConfig, processes: int) -> LLMConfig:
    """One worker's part of `config`: the concurrency and the rate limits divided."""

    def part(limit: float | None) -> float | None:
        return None if limit is None else limit / processes

    limits = replace(
        config.limits,
        requests_per_minute=part(config.limits.requests_per_minute),
        tokens_per_minute=part(config.limits.tokens_per_minute),
    )
    concurrency = max(1, math.ceil(config.concurrency / processes))
    return replace(config, processes=1, concurrency=concurrency, limits=limits)


@dataclass(eq=False)
class _Worker:
    index: int
    process: Any  # multiprocessing's SpawnProcess
    requests: Connection  # parent → worker: (key, conversation) or None to stop
    results: Connection  # worker → parent: (key, result or error)
    ready: asyncio.Future[None]
    in_flight: set[int] = field(default_factory=set)


class ShardedExtractor(InstructorExtractor):
    def __init__(self, config: LLMConfig, prompt: PromptSet | None = None) -> None:
        if config.processes < 2:
            raise ValueError("ShardedExtractor needs processes ≥ 2; use InstructorExtractor")
        super().__init__(config, prompt)
        self._workers: list[_Worker] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._up = False  # every worker of `_workers` said it is ready
        self._pending: dict[int, asyncio.Future[ExtractionResult]] = {}
        self._keys = itertools.count()

    async def aextract(self, conversation: ScrubbedConversation) -> ExtractionResult:
        workers = await self._started()
        worker = min(workers, key=lambda w: len(w.in_flight))
        key = next(self._keys)
        answer: asyncio.Future[ExtractionResult] = asyncio.get_running_loop().create_future()
        self._pending[key] = answer
        worker.in_flight.add(key)
        try:
            worker.requests.send((key, conversation))
        except OSError:
            worker.in_flight.discard(key)
            del self._pending[key]
            raise self._died(worker) from None
        return await answer

    async def aclose(self) -> None:
        workers, self._workers = self._workers, None
        if workers:
            for worker in workers:
                with contextlib.suppress(OSError):  # already gone
                    worker.requests.send(None)
            for worker in workers:
                await asyncio.to_thread(worker.process.join, 30)
                if worker.process.is_alive():
                    worker.process.kill()
                worker.requests.close()
        await super().aclose()

    async def _started(self) -> list[_Worker]:
        """The workers of this event loop, started on first use; every caller waits until
        all of them are ready (a request sent earlier would wait in the pipe)."""
        loop = asyncio.get_running_loop()
        if self._workers is None or self._loop is not loop:
            if self._workers is not None:  # a new event loop: the old workers answer the old one
                await self.aclose()
            self._workers, self._loop, self._up = self._launch(loop), loop, False
        workers = self._workers
        if not self._up:
            try:
                async with asyncio.timeout(_START_SECONDS):
                    await asyncio.gather(*(worker.ready for worker in workers))
            except TimeoutError:
                await self.aclose()
                raise ExtractionError(
                    f"LLM worker processes did not start within {_START_SECONDS:.0f} s",
                    provider=self.extractor_id,
                    fatal=True,
                ) from None
            except BaseException:
                await self.aclose()
                raise
            self._up = True
        return workers

    def _launch(self, loop: asyncio.AbstractEventLoop) -> list[_Worker]:
        context = multiprocessing.get_context("spawn")
        share = share_of(self.config, self.config.processes)
        workers = []
        for index in range(self.config.processes):
            requests_out, requests_in = context.Pipe(duplex=False)
            results_out, results_in = context.Pipe(duplex=False)
            process = context.Process(
                target=_work,
                args=(requests_out, results_in, share, self.prompt.folder, self.prompt_version),
                name=f"convsignal-llm-{index + 1}",
                daemon=True,
            )
            process.start()
            requests_out.close()
            results_in.close()
            worker = _Worker(index + 1, process, requests_in, results_out, loop.create_future())
            threading.Thread(
                target=self._read, args=(worker, loop), name=f"{process.name}-reader", daemon=True
            ).start()
            workers.append(worker)
        return workers

    def _read(self, worker: _Worker, loop: asyncio.AbstractEventLoop) -> None:
        """Reader thread: every answer from `worker`, handed to the event loop."""
        while True:
            try:
                message = worker.results.recv()
            except (EOFError, OSError):
                message = None
            try:
                if message is None:
                    loop.call_soon_threadsafe(self._lost, worker)
                    return
                loop.call_soon_threadsafe(self._answer, worker, message)
            except RuntimeError:  # the event loop is closed: nobody is waiting any more
                return

    def _answer(self, worker: _Worker, message: tuple[Any, Any]) -> None:
        key, outcome = message
        if key == _READY:
            if not worker.ready.done():
                if outcome is None:
                    worker.ready.set_result(None)
                else:
                    worker.ready.set_exception(outcome)
            return
        worker.in_flight.discard(key)
        answer = self._pending.pop(key, None)
        if answer is None or answer.done():
            return
        if isinstance(outcome, BaseException):
            answer.set_exception(outcome)
        else:
            answer.set_result(outcome)

    def _lost(self, worker: _Worker) -> None:
        worker.results.close()
        if worker.ready.done() and not worker.in_flight:
            return  # stopped by `aclose`, or already failed: nobody waits on it
        error = self._died(worker)
        if not worker.ready.done():
            worker.ready.set_exception(error)
        for key in list(worker.in_flight):
            answer = self._pending.pop(key, None)
            if answer is not None and not answer.done():
                answer.set_exception(error)
        worker.in_flight.clear()

    def _died(self, worker: _Worker) -> ExtractionError:
        worker.process.join(0.5)
        code = worker.process.exitcode
        how = "is still running" if code is None else f"exited with code {code}"
        return ExtractionError(
            f"LLM worker process {worker.index} of {self.config.processes} {how}; "
            "its requests in flight are lost (a re-run resumes)",
            provider=self.extractor_id,
            fatal=True,
        )


def _work(
    requests: Connection,
    results: Connection,
    config: LLMConfig,
    prompt_folder: Path | None,
    prompt_version: str,
) -> None:
    """A worker process: one `InstructorExtractor`, requests in, answers out."""
    try:
        prompt = load_prompt(prompt_folder)
        if prompt.version != prompt_version:
            raise ExtractionError(
                f"the prompt files changed while the run started ({prompt_version} → "
                f"{prompt.version}); run again",
                provider=f"{config.provider}/{config.model}",
                fatal=True,
            )
        extractor = InstructorExtractor(config, prompt)
    except ConvSignalError as exc:
        results.send((_READY, exc))
        return
    freeze_long_lived()  # this process's models and SDK, as a command does
    asyncio.run(_serve(extractor, requests, results))


async def _serve(extractor: InstructorExtractor, requests: Connection, results: Connection) -> None:
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[int, ScrubbedConversation] | None] = asyncio.Queue()

    def read() -> None:
        while True:
            try:
                message = requests.recv()
            except (EOFError, OSError):
                message = None  # the parent is gone: finish what is in flight, then stop
            loop.call_soon_threadsafe(inbox.put_nowait, message)
            if message is None:
                return

    threading.Thread(target=read, name="requests-reader", daemon=True).start()
    results.send((_READY, None))
    tasks: set[asyncio.Task[None]] = set()

    async def one(key: int, conversation: ScrubbedConversation) -> None:
        outcome: ExtractionResult | ConvSignalError
        try:
            outcome = await extractor.aextract(conversation)
        except ConvSignalError as exc:
            outcome = exc
        except Exception as exc:  # its message may quote the input: send the type only
            outcome = ExtractionError(
                f"unexpected {type(exc).__name__} in a worker process (details withheld: "
                "they may quote the input)",
                provider=extractor.extractor_id,
            )
        with contextlib.suppress(OSError):  # the parent is gone
            results.send((key, outcome))

    while (message := await inbox.get()) is not None:
        task = asyncio.create_task(one(*message))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.gather(*tasks)
    await extractor.aclose()
