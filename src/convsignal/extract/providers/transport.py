"""Transport retries: 429, 5xx, timeouts and dropped connections, kept apart from validation.

Instructor re-asks the model when its answer does not validate (bounded by
`validation_retries`); this layer retries the *transport* around it, honouring the provider's
`retry-after`, with jittered exponential backoff otherwise, and a bounded number of attempts.
The SDKs' own retries are switched off so there is exactly one policy, and it is a value.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import anthropic
import openai
from tenacity import RetryCallState

TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})
FATAL_STATUS = frozenset({401, 403, 404})


@dataclass(frozen=True, slots=True)
class TransportRetry:
    max_attempts: int = 6
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0


def root_cause(exc: BaseException) -> BaseException:
    """Instructor wraps SDK errors in InstructorRetryException; the SDK error is the cause."""
    seen = 0
    while exc.__cause__ is not None and seen < 5:
        if isinstance(exc, anthropic.APIError | openai.APIError):
            return exc
        exc = exc.__cause__
        seen += 1
    return exc


def status_of(exc: BaseException) -> int | None:
    cause = root_cause(exc)
    if isinstance(cause, anthropic.APIStatusError | openai.APIStatusError):
        return int(cause.status_code)
    return None


def is_transient(exc: BaseException) -> bool:
    cause = root_cause(exc)
    if isinstance(cause, anthropic.APIConnectionError | openai.APIConnectionError):
        return True  # includes timeouts
    status = status_of(exc)
    return status is not None and status in TRANSIENT_STATUS


def is_fatal(exc: BaseException) -> bool:
    """Wrong key, no permission, unknown model: every further call would fail the same way."""
    status = status_of(exc)
    return status is not None and status in FATAL_STATUS


def retry_after_seconds(exc: BaseException) -> float | None:
    cause = root_cause(exc)
    if not isinstance(cause, anthropic.APIStatusError | openai.APIStatusError):
        return None
    headers = cause.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return None


def describe(exc: BaseException) -> str:
    """Type and status only: provider messages may quote the request."""
    cause = root_cause(exc)
    status = status_of(exc)
    return f"{type(cause).__name__}" + (f" (HTTP {status})" if status else "")


class Backoff:
    """tenacity `wait=`: the provider's retry-after when it gives one, else full jitter."""

    def __init__(self, policy: TransportRetry, rng: random.Random | None = None) -> None:
        self._policy = policy
        self._rng = rng or random.Random()

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = retry_after_seconds(exc) if exc else None
        if hinted is not None:
            return min(hinted, self._policy.max_retry_after) + self._rng.uniform(0, 0.1)
        ceiling = min(
            self._policy.max_backoff,
            self._policy.initial_backoff * 2 ** (state.attempt_number - 1),
        )
        return self._rng.uniform(0, ceiling)
