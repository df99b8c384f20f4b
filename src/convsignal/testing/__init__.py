"""Test doubles that ship with convsignal, so tests, eval benchmarks and users share them.

`FakeLLMServer` is a real HTTP server that speaks the Anthropic Messages and OpenAI Chat
Completions wire formats (plus both batch APIs); point the real SDKs at it with `base_url`.
Nothing here imports instructor, anthropic or openai.
"""

from __future__ import annotations

from convsignal.testing.answers import NEUTRAL_SIGNALS, neutral_responder, signals_answer
from convsignal.testing.batches import BatchOutcome
from convsignal.testing.fake_llm import FakeLLMServer, LoggedRequest, Responder
from convsignal.testing.faults import SCHEMA_VIOLATING_SIGNALS, Endpoint, FaultKind, FaultRule
from convsignal.testing.wire import DEFAULT_KEY_PATTERN, RequestInfo, estimate_tokens

__all__ = [
    "DEFAULT_KEY_PATTERN",
    "NEUTRAL_SIGNALS",
    "SCHEMA_VIOLATING_SIGNALS",
    "BatchOutcome",
    "Endpoint",
    "FakeLLMServer",
    "FaultKind",
    "FaultRule",
    "LoggedRequest",
    "RequestInfo",
    "Responder",
    "estimate_tokens",
    "neutral_responder",
    "signals_answer",
]
