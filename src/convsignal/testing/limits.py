"""A simulated provider rate limit and the headers both providers send about it.

Token buckets, as the providers describe theirs: capacity refills continuously at limit/60 per
second. The bucket starts full with `burst` (default one second's worth), so a client cannot
beat the limit by a large opening burst, and a client that paces itself evenly at the limit
is never refused.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

UNLIMITED = 1_000_000
"""Reported as limit and remaining when no limit is simulated."""


class TokenBucket:
    def __init__(
        self,
        per_minute: float,
        *,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_minute <= 0:
            raise ValueError(f"a rate limit must be positive, got {per_minute}")
        self.per_minute = per_minute
        self.rate = per_minute / 60.0
        self.capacity = burst if burst is not None else max(1.0, self.rate)
        self._clock = clock
        self._level = self.capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._level = min(self.capacity, self._level + (now - self._updated) * self.rate)
        self._updated = now

    def try_take(self, amount: float = 1.0) -> float:
        """Take `amount` now and return 0, or return the seconds to wait before it would fit.

        An amount larger than the whole bucket is let through when the bucket is full.
        """
        with self._lock:
            self._refill()
            needed = min(amount, self.capacity)
            if self._level >= needed:
                self._level -= amount
                return 0.0
            return (needed - self._level) / self.rate

    def give_back(self, amount: float) -> None:
        with self._lock:
            self._level = min(self.capacity, self._level + amount)

    def remaining(self) -> int:
        with self._lock:
            self._refill()
            return max(0, math.floor(self._level))

    def seconds_to_full(self) -> float:
        with self._lock:
            self._refill()
            return max(0.0, (self.capacity - self._level) / self.rate)


class RateLimiter:
    """Requests/min and (optionally) input tokens/min; either may be absent."""

    def __init__(
        self,
        *,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        burst: float | None = None,
    ) -> None:
        self.requests = (
            TokenBucket(requests_per_minute, burst=burst) if requests_per_minute else None
        )
        self.tokens = TokenBucket(tokens_per_minute) if tokens_per_minute else None

    def admit(self, input_tokens: int) -> float:
        """0 when admitted; otherwise the seconds the caller should wait (for retry-after)."""
        if self.requests is not None:
            wait = self.requests.try_take(1)
            if wait > 0:
                return wait
        if self.tokens is not None:
            wait = self.tokens.try_take(input_tokens)
            if wait > 0:
                if self.requests is not None:  # the refused request keeps its slot
                    self.requests.give_back(1)
                return wait
        return 0.0

    def anthropic_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, bucket in (("requests", self.requests), ("tokens", self.tokens)):
            limit, remaining, reset = _describe(bucket)
            reset_at = datetime.now(UTC) + timedelta(seconds=reset)
            headers[f"anthropic-ratelimit-{name}-limit"] = str(limit)
            headers[f"anthropic-ratelimit-{name}-remaining"] = str(remaining)
            headers[f"anthropic-ratelimit-{name}-reset"] = _rfc3339(reset_at)
        return headers

    def openai_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for name, bucket in (("requests", self.requests), ("tokens", self.tokens)):
            limit, remaining, reset = _describe(bucket)
            headers[f"x-ratelimit-limit-{name}"] = str(limit)
            headers[f"x-ratelimit-remaining-{name}"] = str(remaining)
            headers[f"x-ratelimit-reset-{name}"] = openai_duration(reset)
        return headers


def _describe(bucket: TokenBucket | None) -> tuple[int, int, float]:
    if bucket is None:
        return UNLIMITED, UNLIMITED, 0.0
    return round(bucket.per_minute), bucket.remaining(), bucket.seconds_to_full()


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def openai_duration(seconds: float) -> str:
    """OpenAI's reset format: `120ms`, `1.5s`, `6m0s`."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    minutes, rest = divmod(seconds, 60)
    text = f"{rest:.3f}".rstrip("0").rstrip(".") + "s"
    return f"{int(minutes)}m{text}" if minutes else text
