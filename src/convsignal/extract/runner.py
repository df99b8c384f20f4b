"""Run an async extractor over many conversations with bounded concurrency.

At most `extractor.concurrency` requests are in flight; the rate limiter inside the extractor
paces their starts. Each outcome is handed to `handle` as soon as it arrives (the pipeline
stores it right away, so a killed run loses only what was in flight). A fatal error (bad key,
unknown model) stops the intake and is raised after the in-flight requests settle.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from convsignal.domain import ExtractionResult, ScrubbedConversation
from convsignal.errors import ExtractionError
from convsignal.extract.base import AsyncExtractor

Handler = Callable[[ScrubbedConversation, ExtractionResult | Exception], Awaitable[None]]


async def extract_many(
    extractor: AsyncExtractor,
    conversations: AsyncIterator[ScrubbedConversation],
    handle: Handler,
) -> None:
    slots = asyncio.Semaphore(extractor.concurrency)
    tasks: set[asyncio.Task[None]] = set()
    fatal: list[ExtractionError] = []

    async def one(conversation: ScrubbedConversation) -> None:
        try:
            try:
                outcome: ExtractionResult | Exception = await extractor.aextract(conversation)
            except ExtractionError as exc:
                if exc.fatal:
                    fatal.append(exc)
                    return
                outcome = exc
            except Exception as exc:
                outcome = exc
            await handle(conversation, outcome)
        finally:
            slots.release()

    try:
        async for conversation in conversations:
            if fatal:
                break
            await slots.acquire()
            task = asyncio.create_task(one(conversation))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await extractor.aclose()
    if fatal:
        raise fatal[0]
