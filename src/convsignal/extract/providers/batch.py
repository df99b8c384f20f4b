"""The providers' batch APIs (half price, answers within 24 h) behind one small interface.

`BatchAPI.submit(requests)` sends `(custom_id, system, user)` triples and returns the
provider's batch id; `status(id)` says whether it has ended and how many requests are in which
state; `results(id)` yields one `BatchOutcome` per custom_id the provider reports. Requests
carry the same tool schema instructor uses for live calls, so a batch answer is validated
against the same `ConversationSignals` model.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from convsignal.domain import TokenUsage
from convsignal.errors import ConfigError
from convsignal.extract.providers.llm import LLMConfig, _usage_of
from convsignal.extract.schema import ConversationSignals


@dataclass(frozen=True, slots=True)
class BatchRequest:
    custom_id: str
    system: str
    user: str


@dataclass(frozen=True, slots=True)
class BatchStatus:
    ended: bool
    counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    custom_id: str
    signals: ConversationSignals | None  # None: failed, see `error`
    error: str | None
    usage: TokenUsage


def _tool_schema() -> dict[str, Any]:
    from instructor import generate_anthropic_schema

    return generate_anthropic_schema(ConversationSignals)


def _parse(custom_id: str, arguments: Any, usage: TokenUsage) -> BatchOutcome:
    try:
        data = json.loads(arguments) if isinstance(arguments, str) else arguments
        signals = ConversationSignals.model_validate(data)
    except (ValidationError, ValueError, TypeError) as exc:
        # type only: a validation message quotes the model's output
        return BatchOutcome(custom_id, None, f"answer invalid ({type(exc).__name__})", usage)
    return BatchOutcome(custom_id, signals, None, usage)


class AnthropicBatches:
    def __init__(self, config: LLMConfig) -> None:
        import anthropic

        self._config = config
        self._client = anthropic.Anthropic(
            api_key=config.api_key, base_url=config.base_url, max_retries=3
        )

    def submit(self, requests: Sequence[BatchRequest]) -> str:
        tool = _tool_schema()
        batch = self._client.messages.batches.create(
            requests=[
                {
                    "custom_id": request.custom_id,
                    "params": {
                        "model": self._config.model,
                        "max_tokens": self._config.max_tokens,
                        "system": [
                            {
                                "type": "text",
                                "text": request.system,
                                "cache_control": {"type": "ephemeral"},
                            }
                        ],
                        "messages": [{"role": "user", "content": request.user}],
                        "tools": [tool],  # type: ignore[list-item]
                        "tool_choice": {"type": "tool", "name": tool["name"]},
                    },
                }
                for request in requests
            ]
        )
        return str(batch.id)

    def status(self, batch_id: str) -> BatchStatus:
        batch = self._client.messages.batches.retrieve(batch_id)
        counts = batch.request_counts
        return BatchStatus(
            ended=batch.processing_status == "ended",
            counts={
                "processing": counts.processing,
                "succeeded": counts.succeeded,
                "errored": counts.errored,
                "canceled": counts.canceled,
                "expired": counts.expired,
            },
        )

    def results(self, batch_id: str) -> Iterator[BatchOutcome]:
        for entry in self._client.messages.batches.results(batch_id):
            result = entry.result
            if result.type != "succeeded":
                yield BatchOutcome(
                    entry.custom_id, None, f"batch result {result.type}", TokenUsage()
                )
                continue
            message = result.message
            usage = _usage_of(message.usage, requests=1)
            tool_input = next(
                (block.input for block in message.content if block.type == "tool_use"), None
            )
            if tool_input is None:
                yield BatchOutcome(entry.custom_id, None, "answer had no tool call", usage)
                continue
            yield _parse(entry.custom_id, tool_input, usage)


class OpenAIBatches:
    def __init__(self, config: LLMConfig) -> None:
        import openai

        self._config = config
        self._client = openai.OpenAI(
            api_key=config.api_key, base_url=config.base_url, max_retries=3
        )

    def submit(self, requests: Sequence[BatchRequest]) -> str:
        from instructor import generate_openai_schema

        function = generate_openai_schema(ConversationSignals)
        lines = [
            json.dumps(
                {
                    "custom_id": request.custom_id,
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": {
                        "model": self._config.model,
                        "max_tokens": self._config.max_tokens,
                        "messages": [
                            {"role": "system", "content": request.system},
                            {"role": "user", "content": request.user},
                        ],
                        "tools": [{"type": "function", "function": function}],
                        "tool_choice": {"type": "function", "function": {"name": function["name"]}},
                    },
                }
            )
            for request in requests
        ]
        upload = self._client.files.create(
            file=("batch.jsonl", io.BytesIO("\n".join(lines).encode())), purpose="batch"
        )
        batch = self._client.batches.create(
            input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
        )
        return str(batch.id)

    def status(self, batch_id: str) -> BatchStatus:
        batch = self._client.batches.retrieve(batch_id)
        counts = batch.request_counts
        return BatchStatus(
            ended=batch.status in {"completed", "failed", "expired", "cancelled"},
            counts={
                "total": counts.total if counts else 0,
                "completed": counts.completed if counts else 0,
                "failed": counts.failed if counts else 0,
            },
        )

    def results(self, batch_id: str) -> Iterator[BatchOutcome]:
        batch = self._client.batches.retrieve(batch_id)
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            content = self._client.files.content(file_id).text
            for line in content.splitlines():
                if line.strip():
                    yield self._outcome(json.loads(line))

    def _outcome(self, entry: dict[str, Any]) -> BatchOutcome:
        custom_id = str(entry.get("custom_id"))
        response = entry.get("response") or {}
        error = entry.get("error")
        if error or response.get("status_code") != 200:
            code = error.get("code") if isinstance(error, dict) else None
            why = code or f"HTTP {response.get('status_code')}"
            return BatchOutcome(custom_id, None, f"batch request failed ({why})", TokenUsage())
        body = response.get("body") or {}
        raw_usage = body.get("usage") or {}
        usage = TokenUsage(
            input_tokens=int(raw_usage.get("prompt_tokens", 0)),
            output_tokens=int(raw_usage.get("completion_tokens", 0)),
            requests=1,
        )
        try:
            call = body["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]
        except (KeyError, IndexError, TypeError):
            return BatchOutcome(custom_id, None, "answer had no tool call", usage)
        return _parse(custom_id, call, usage)


def batch_api(config: LLMConfig) -> AnthropicBatches | OpenAIBatches:
    if config.provider == "anthropic":
        return AnthropicBatches(config)
    if config.provider == "openai":
        return OpenAIBatches(config)
    raise ConfigError("--batch works with anthropic/<model> and openai/<model> extractors")
