"""Client-side pacing for requests/min and tokens/min, adapting to the provider's answers.

Requests are *paced* (evenly spaced starts) rather than burst and then throttled: a burst
against a per-minute window is what produces 429s. The provider's rate-limit headers and any
429 `retry-after` feed back in: when the provider says the budget is spent, every worker waits
until the reset instead of each one discovering it with its own 429.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """`None` means unlimited. `headroom` keeps pacing a little under the stated limit."""

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    headroom: float = 0.97


class RateLimiter:
    def __init__(
        self,
        limits: Limits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._next_start = 0.0
        self._token_budget = (limits.tokens_per_minute or 0.0) * limits.headroom
        self._token_refilled_at = clock()
        self._blocked_until = 0.0
        self.waited_seconds = 0.0

    async def acquire(self, estimated_tokens: int = 0) -> None:
        """Wait until a request of about `estimated_tokens` may start."""
        async with self._lock:
            now = self._clock()
            start = max(now, self._next_start, self._blocked_until)
            rpm = self._limits.requests_per_minute
            if rpm:
                self._next_start = start + 60.0 / (rpm * self._limits.headroom)
            tpm = self._limits.tokens_per_minute
            if tpm and estimated_tokens:
                start = max(start, self._tokens_ready_at(start, estimated_tokens, tpm))
            delay = start - now
        if delay > 0:
            self.waited_seconds += delay
            await self._sleep(delay)

    def _tokens_ready_at(self, at: float, tokens: int, tpm: float) -> float:
        per_second = tpm * self._limits.headroom / 60.0
        capacity = tpm * self._limits.headroom
        self._token_budget = min(
            capacity, self._token_budget + (at - self._token_refilled_at) * per_second
        )
        self._token_refilled_at = at
        self._token_budget -= min(tokens, capacity)
        if self._token_budget >= 0:
            return at
        return at + (-self._token_budget) / per_second

    def block_for(self, seconds: float) -> None:
        """The provider said stop (429 retry-after, or zero remaining): everyone waits."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)

    def observe_headers(self, headers: Mapping[str, str]) -> None:
        """Read Anthropic's and OpenAI's rate-limit headers; pause when a budget is spent."""
        remaining = _first_number(
            headers,
            "anthropic-ratelimit-requests-remaining",
            "x-ratelimit-remaining-requests",
        )
        if remaining is not None and remaining <= 0:
            reset = _reset_seconds(headers)
            if reset:
                self.block_for(reset)


def _first_number(headers: Mapping[str, str], *names: str) -> float | None:
    for name in names:
        value = headers.get(name)
        if value is not None:
            try:
                return float(value)
            except ValueError:
                continue
    return None


def _reset_seconds(headers: Mapping[str, str]) -> float | None:
    """OpenAI sends durations such as `6m0s` / `1.5s` / `250ms`; Anthropic an RFC 3339 time,
    which we do not parse against a clock we do not share: fall back to retry-after."""
    value = headers.get("x-ratelimit-reset-requests")
    if value:
        return parse_duration(value)
    return _first_number(headers, "retry-after")


def parse_duration(value: str) -> float | None:
    total, number = 0.0, ""
    index = 0
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    while index < len(value):
        char = value[index]
        if char.isdigit() or char == ".":
            number += char
            index += 1
            continue
        unit = "ms" if value.startswith("ms", index) else char
        if unit not in units or not number:
            return None
        total += float(number) * units[unit]
        number = ""
        index += len(unit)
    if number:
        total += float(number)
    return total
