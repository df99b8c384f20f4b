"""Fault rules for the fake LLM server: which request fails, and how.

A rule picks requests by endpoint, by conversation key, by the first N matches, at most N times
per key, or with a probability. Probabilities are drawn from a seeded RNG; when the request
carries a conversation key the draw depends only on (seed, rule, key, attempt for that key),
so the same conversation fails the same way whatever order concurrent requests arrive in.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    """What goes wrong. Each one maps to a real SDK behaviour (see the tests)."""

    RATE_LIMIT = "rate_limit"
    """429 with `retry-after` (seconds) and `retry-after-ms`."""
    SERVER_ERROR = "server_error"
    """500 `api_error` (or `status` from the rule)."""
    OVERLOADED = "overloaded"
    """529 `overloaded_error` on Anthropic, 503 on OpenAI."""
    SLOW = "slow"
    """Answer normally after `delay_ms` (default 500 ms)."""
    TIMEOUT = "timeout"
    """Sleep `delay_ms` (default 30 s, meant to be longer than the client timeout)."""
    MALFORMED_JSON = "malformed_json"
    """200 with `content-type: application/json` and a body cut in half."""
    SCHEMA_VIOLATION = "schema_violation"
    """A well-formed answer whose tool input breaks the response model."""
    TRUNCATED = "truncated"
    """Output cut at the token limit: `stop_reason: max_tokens` / `finish_reason: length`."""


class Endpoint(StrEnum):
    """Where a rule applies. Batch items are faulted one by one, inside a batch."""

    ANTHROPIC_MESSAGES = "anthropic.messages"
    OPENAI_CHAT = "openai.chat"
    ANTHROPIC_BATCHES = "anthropic.batches"
    OPENAI_BATCHES = "openai.batches"
    OPENAI_FILES = "openai.files"
    ANTHROPIC_BATCH_ITEMS = "anthropic.batch_items"
    OPENAI_BATCH_ITEMS = "openai.batch_items"


INFERENCE_ENDPOINTS = frozenset({Endpoint.ANTHROPIC_MESSAGES, Endpoint.OPENAI_CHAT})
DEFAULT_DELAY_MS = {FaultKind.SLOW: 500, FaultKind.TIMEOUT: 30_000}

# A ConversationSignals answer that breaks the schema twice over: a risk flag outside the
# closed enum and a confidence above 1.
SCHEMA_VIOLATING_SIGNALS: Mapping[str, Any] = {
    "sentiment": {"label": "neutral", "score": 0.0, "trajectory": "stable"},
    "intents": [],
    "risk_flags": [
        {
            "type": "ignore_previous_instructions",
            "confidence": 1.7,
            "speaker_role": "customer",
            "evidence": "not a real flag",
        }
    ],
    "expansion_signals": [],
}


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One way to fail, and which requests it hits.

    All filters must hold: the endpoint is in `endpoints`; the key is in `keys` (when given);
    the request is among the first `first_n` that matched the filters so far; the rule has fired
    fewer than `per_key_limit` times for this key; the probability draw succeeds.
    """

    kind: FaultKind
    probability: float = 1.0
    first_n: int | None = None
    keys: AbstractSet[str] | None = None
    per_key_limit: int | None = None
    endpoints: AbstractSet[Endpoint] = INFERENCE_ENDPOINTS
    delay_ms: int | None = None
    retry_after_s: float = 1.0
    status: int | None = None
    payload: Mapping[str, Any] | None = None
    """For SCHEMA_VIOLATION: the exact tool input to send (default: SCHEMA_VIOLATING_SIGNALS)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"probability must be within 0..1, got {self.probability}")
        if self.keys is not None and not isinstance(self.keys, frozenset):
            object.__setattr__(self, "keys", frozenset(self.keys))
        if not isinstance(self.endpoints, frozenset):
            object.__setattr__(self, "endpoints", frozenset(Endpoint(e) for e in self.endpoints))

    @property
    def delay_seconds(self) -> float:
        delay = self.delay_ms if self.delay_ms is not None else DEFAULT_DELAY_MS.get(self.kind, 0)
        return delay / 1000.0


@dataclass
class _RuleState:
    matched: int = 0
    seen_per_key: Counter[str | None] = field(default_factory=Counter)
    fired_per_key: Counter[str | None] = field(default_factory=Counter)


class FaultInjector:
    """Thread-safe rule matching; the first rule that fires wins."""

    def __init__(self, rules: Iterable[FaultRule] = (), *, seed: int = 0) -> None:
        self._seed = seed
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._rules: list[tuple[FaultRule, _RuleState]] = [(r, _RuleState()) for r in rules]

    def add(self, rule: FaultRule) -> None:
        with self._lock:
            self._rules.append((rule, _RuleState()))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def pick(self, endpoint: Endpoint, key: str | None) -> FaultRule | None:
        with self._lock:
            for index, (rule, state) in enumerate(self._rules):
                if endpoint not in rule.endpoints:
                    continue
                if rule.keys is not None and key not in rule.keys:
                    continue
                state.matched += 1
                state.seen_per_key[key] += 1
                if rule.first_n is not None and state.matched > rule.first_n:
                    continue
                if rule.per_key_limit is not None and (
                    state.fired_per_key[key] >= rule.per_key_limit
                ):
                    continue
                if rule.probability < 1.0:
                    draw = self._draw(index, key, state.seen_per_key[key])
                    if draw >= rule.probability:
                        continue
                state.fired_per_key[key] += 1
                return rule
        return None

    def _draw(self, index: int, key: str | None, attempt: int) -> float:
        if key is None:
            return self._rng.random()
        return random.Random(f"{self._seed}/{index}/{key}/{attempt}").random()
