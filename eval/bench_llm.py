"""LLM extraction throughput against the fake server, measured side by side in one run.

    .venv/bin/python eval/bench_llm.py [--latency-ms 200] [--per-slot 16]

1. Concurrency: convsignal's runner (real SDK + instructor, async, bounded concurrency) at
   concurrency 1, 8, 32 and 64 against the ideal (concurrency ÷ latency), and a naive
   sequential instructor loop (sync client, one request after the other); then at 32 and 64
   sharded over `--processes` worker processes (CONVSIGNAL_LLM_PROCESSES).
2. Rate limit: the server allows 600 requests/min (429 beyond); the client is told the same
   limit. Reported: achieved rate as a share of the limit, and how many calls got a 429.
The machine is shared and noisy: read the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from convsignal.domain import (
    Channel,
    ExtractionResult,
    Role,
    ScrubbedConversation,
    ScrubbedTurn,
    SourceLocator,
)
from convsignal.extract.prompts import load_prompt
from convsignal.extract.providers.llm import InstructorExtractor, LLMConfig
from convsignal.extract.providers.sharded import ShardedExtractor
from convsignal.extract.providers.transport import TransportRetry
from convsignal.extract.ratelimit import Limits
from convsignal.extract.runner import extract_many
from convsignal.extract.schema import ConversationSignals
from convsignal.runtime import freeze_long_lived
from convsignal.testing import FakeLLMServer

MODEL = "claude-sonnet-4-test"


def conversations(count: int) -> list[ScrubbedConversation]:
    return [
        ScrubbedConversation(
            source_id=f"c{i}",
            account_id="bench",
            channel=Channel.CALL,
            occurred_at=datetime(2026, 10, 1, tzinfo=UTC),
            content_hash=f"{i:064d}",
            turns=(
                ScrubbedTurn("<VENDOR_1>", "How is the rollout going?", Role.VENDOR),
                ScrubbedTurn(
                    "<CUSTOMER_1>", f"conversation-key: c{i} Budget was cut.", Role.CUSTOMER
                ),
            ),
            locator=SourceLocator("bench", "memory"),
            participant_roles=(Role.CUSTOMER, Role.VENDOR),
        )
        for i in range(count)
    ]


def extractor(
    base_url: str, concurrency: int, limits: Limits | None = None, processes: int = 1
) -> InstructorExtractor:
    config = LLMConfig(
        provider="anthropic",
        model=MODEL,
        api_key="bench",
        base_url=base_url,
        concurrency=concurrency,
        processes=processes,
        limits=limits or Limits(),
        transport=TransportRetry(max_attempts=8),
    )
    return ShardedExtractor(config) if processes > 1 else InstructorExtractor(config)


async def run(ex: InstructorExtractor, items: list[ScrubbedConversation]) -> tuple[float, int]:
    done = 0

    async def source():  # type: ignore[no-untyped-def]
        for item in items:
            yield item

    async def handle(_c: ScrubbedConversation, outcome: ExtractionResult | Exception) -> None:
        nonlocal done
        done += not isinstance(outcome, Exception)

    # Steady state: one wave first opens the connections (and starts the worker processes of
    # a sharded run), on this event loop, outside the timed part.
    await asyncio.gather(*(ex.aextract(c) for c in conversations(ex.concurrency)))
    started, cpu = time.perf_counter(), time.process_time()
    await extract_many(ex, source(), handle)
    run.cpu_ms = (time.process_time() - cpu) * 1000 / max(done, 1)  # type: ignore[attr-defined]
    return time.perf_counter() - started, done


def naive_sequential(base_url: str, items: list[ScrubbedConversation]) -> float:
    import anthropic
    import instructor

    prompt = load_prompt()
    client = instructor.from_anthropic(anthropic.Anthropic(base_url=base_url, api_key="bench"))
    started = time.perf_counter()
    for item in items:
        client.create(
            response_model=ConversationSignals,
            model=MODEL,
            max_tokens=2048,
            system=prompt.system,
            messages=[{"role": "user", "content": prompt.user_message(item)}],
        )
    return time.perf_counter() - started


class ServerProcess:
    """The fake server in its own process, so its CPU time does not compete with the
    client's for one interpreter lock: we measure convsignal, not the fake."""

    def __init__(self, **options: object) -> None:
        self._options = options

    def __enter__(self) -> ServerProcess:
        context = multiprocessing.get_context("spawn")
        self._parent, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self._options), daemon=True)
        self._process.start()
        self.base_url, self.stats_ready = self._parent.recv(), True
        return self

    def stats(self) -> tuple[int, int]:
        """(calls, 429s) so far."""
        self._parent.send("stats")
        return self._parent.recv()  # type: ignore[no-any-return]

    def __exit__(self, *_exc: object) -> None:
        self._parent.send("stop")
        self._process.join(timeout=10)


def _serve(connection, options):  # type: ignore[no-untyped-def]
    with FakeLLMServer(**options) as server:
        connection.send(server.base_url)
        while True:
            message = connection.recv()
            if message == "stats":
                refused = sum(1 for r in server.requests if r.status == 429)
                connection.send((len(server.requests), refused))
            else:
                return


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latency-ms", type=float, default=200)
    parser.add_argument(
        "--per-slot", type=int, default=16, help="conversations per concurrency slot"
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="worker processes for the sharded rows (CONVSIGNAL_LLM_PROCESSES); 1: none",
    )
    parser.add_argument(
        "--limit-seconds", type=float, default=30, help="length of the rate-limit run"
    )
    args = parser.parse_args()
    latency = args.latency_ms / 1000

    print(f"fake server latency {args.latency_ms:.0f} ms; {args.per_slot} conversations per slot\n")
    print(f"{'runner':<26}{'conv':>6}{'seconds':>9}{'conv/s':>9}{'ideal/s':>9}{'of ideal':>10}")
    with ServerProcess(latency_ms=args.latency_ms) as server:
        asyncio.run(run(extractor(server.base_url, 4), conversations(8)))  # warm-up
        freeze_long_lived()  # as `convsignal extract` does once its models are loaded
        naive_items = conversations(10)
        seconds = naive_sequential(server.base_url, naive_items)
        naive_rate = len(naive_items) / seconds
        print(
            f"{'naive sequential loop':<26}{10:>6}{seconds:>9.2f}{naive_rate:>9.1f}"
            f"{1 / latency:>9.1f}{naive_rate * latency:>10.0%}"
        )
        runs = [(c, 1) for c in (1, 8, 32, 64)]
        runs += [(c, args.processes) for c in (32, 64) if args.processes > 1]
        for concurrency, processes in runs:
            items = conversations(concurrency * args.per_slot)
            ex = extractor(server.base_url, concurrency, processes=processes)
            seconds, done = asyncio.run(run(ex, items))
            rate, ideal = done / seconds, concurrency / latency
            label = f"convsignal c={concurrency}" + (f", {processes} proc" if processes > 1 else "")
            print(
                f"{label:<26}{done:>6}{seconds:>9.2f}{rate:>9.1f}"
                f"{ideal:>9.1f}{rate / ideal:>10.0%}   ({rate / naive_rate:.1f}× naive; "
                f"{'parent' if processes > 1 else 'client'} CPU "
                f"{run.cpu_ms:.1f} ms/conversation)"  # type: ignore[attr-defined]
            )

    limit = 600
    count = int(limit / 60 * args.limit_seconds)
    print()
    for processes in sorted({1, args.processes}):
        with ServerProcess(latency_ms=args.latency_ms, requests_per_minute=limit) as server:
            ex = extractor(server.base_url, 32, Limits(requests_per_minute=limit), processes)
            seconds, done = asyncio.run(run(ex, conversations(count)))
            calls, refused = server.stats()
        rate = done / seconds * 60
        print(
            f"rate limit {limit}/min, concurrency 32, {processes} process(es), {count} "
            f"conversations: achieved {rate:.0f}/min = {rate / limit:.0%} of the limit; "
            f"{refused} of {calls} calls answered 429 ({refused / max(calls, 1):.2%})"
        )


if __name__ == "__main__":
    main()
