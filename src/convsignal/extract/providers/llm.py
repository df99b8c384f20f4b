"""The LLM extractor: instructor over the official Anthropic and OpenAI SDKs.

One `InstructorExtractor` per run. Per conversation: chunk if long, and for each chunk wait for
the rate limiter, call instructor (validation re-asks ≤ `validation_retries`) inside the
transport retry policy, sum token usage over every attempt, and merge the chunks' answers.
Failures raise `RetriesExhausted` / `ExtractionError` with type and status only, never the
provider's message (it may quote the conversation).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx2
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from convsignal.domain import ExtractionResult, ScrubbedConversation, TokenUsage
from convsignal.errors import ConfigError, ExtractionError, RetriesExhausted
from convsignal.extract.chunking import DEFAULT_MAX_CHARS, chunk_conversation
from convsignal.extract.merge import merge_chunks, signals_from_model
from convsignal.extract.prompts import PromptSet, load_prompt
from convsignal.extract.providers import instructor_speedups
from convsignal.extract.providers.transport import (
    Backoff,
    TransportRetry,
    describe,
    is_fatal,
    is_transient,
    retry_after_seconds,
)
from convsignal.extract.ratelimit import Limits, RateLimiter
from convsignal.extract.schema import ConversationSignals

# The SDKs log request bodies at DEBUG and instructor logs validation errors (which quote the
# model's output) at ERROR: neither may reach a log file.
for _name in ("anthropic", "openai", "instructor", "httpx", "httpcore"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)

PROVIDERS = ("anthropic", "openai", "openai-compatible")
KEY_VARIABLE = {"anthropic": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}


@dataclass(frozen=True, slots=True)
class LLMConfig:
    provider: str
    model: str
    api_key: str
    base_url: str | None = None
    timeout_seconds: float = 60.0
    max_tokens: int = 2048
    validation_retries: int = 2
    openai_mode: str = "tools"  # tools | json_schema
    http: str = "aiohttp"  # aiohttp | httpx: the SDKs' transport (see `_http_client`)
    concurrency: int = 8
    processes: int = 1  # worker processes sharing the concurrency (see `sharded`)
    limits: Limits = field(default_factory=Limits)
    transport: TransportRetry = field(default_factory=TransportRetry)
    max_chunk_chars: int = DEFAULT_MAX_CHARS

    def __post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ConfigError(f"unknown LLM provider {self.provider!r}; known: {PROVIDERS}")
        if not self.model:
            raise ConfigError(f"name a model: --extractor {self.provider}/<model>")
        if not self.api_key:
            variable = KEY_VARIABLE.get(self.provider, "OPENAI_API_KEY")
            raise ConfigError(
                f"{self.provider} needs an API key: set {variable} "
                "(or use --extractor lexicon, the offline baseline)"
            )
        if self.provider == "openai-compatible" and not self.base_url:
            raise ConfigError(
                "openai-compatible needs a server: set CONVSIGNAL_LLM_BASE_URL or --base-url "
                "(e.g. http://localhost:8000/v1 for vLLM, http://localhost:11434/v1 for Ollama)"
            )
        if self.openai_mode not in {"tools", "json_schema"}:
            raise ConfigError("LLM mode must be tools or json_schema")
        if self.processes < 1:
            raise ConfigError(f"CONVSIGNAL_LLM_PROCESSES must be 1 or more, got {self.processes}")
        if self.http not in {"aiohttp", "httpx"}:
            raise ConfigError(f"CONVSIGNAL_LLM_HTTP must be aiohttp or httpx, got {self.http!r}")


@dataclass
class _Clients:
    loop: asyncio.AbstractEventLoop
    instructor_client: Any
    http: Any  # an httpx2.AsyncClient (or the SDK's aiohttp-backed subclass)


class InstructorExtractor:
    is_llm = True

    def __init__(self, config: LLMConfig, prompt: PromptSet | None = None) -> None:
        self.config = config
        self._prompt = prompt or load_prompt()
        self.limiter = RateLimiter(config.limits)
        self._clients: _Clients | None = None
        _load_sdk(config.provider)

    @property
    def extractor_id(self) -> str:
        return f"{self.config.provider}/{self.config.model}"

    @property
    def prompt_version(self) -> str:
        return self._prompt.version

    @property
    def prompt(self) -> PromptSet:
        return self._prompt

    @property
    def concurrency(self) -> int:
        return self.config.concurrency

    def extract(self, conversation: ScrubbedConversation) -> ExtractionResult:
        """Synchronous convenience for one conversation (runs its own event loop)."""

        async def once() -> ExtractionResult:
            try:
                return await self.aextract(conversation)
            finally:
                await self.aclose()

        return asyncio.run(once())

    async def aextract(self, conversation: ScrubbedConversation) -> ExtractionResult:
        parts = chunk_conversation(conversation, max_chars=self.config.max_chunk_chars)
        usage = TokenUsage()
        answers = []
        for index, part in enumerate(parts, start=1):
            numbering = (index, len(parts)) if len(parts) > 1 else (0, 0)
            model, part_usage = await self._call(part, *numbering)
            usage += part_usage
            answers.append(signals_from_model(model))
        return ExtractionResult(
            extractor_id=self.extractor_id,
            prompt_version=self.prompt_version,
            signals=merge_chunks(answers),
            usage=usage,
        )

    async def aclose(self) -> None:
        if self._clients is not None:
            await self._clients.http.aclose()
            self._clients = None

    async def _call(
        self, conversation: ScrubbedConversation, part: int, parts: int
    ) -> tuple[ConversationSignals, TokenUsage]:
        user = self._prompt.user_message(conversation, part=part, parts=parts)
        estimate = (len(self._prompt.system) + len(user)) // 4 + self.config.max_tokens // 4
        usage = TokenUsage()
        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.transport.max_attempts),
            wait=Backoff(self.config.transport),
            retry=retry_if_exception(is_transient),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    await self.limiter.acquire(estimate)
                    try:
                        model, completion = await self._create(user)
                    except Exception as exc:
                        usage += _usage_of(getattr(exc, "total_usage", None), requests=1)
                        hinted = retry_after_seconds(exc)
                        if hinted is not None:
                            self.limiter.block_for(hinted)
                        raise
                    usage += _usage_of(getattr(completion, "usage", None), requests=1)
                    return model, usage
        except Exception as exc:
            raise self._failure(exc, attempts, usage) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _failure(self, exc: BaseException, attempts: int, usage: TokenUsage) -> ExtractionError:
        usage_counts = asdict(usage)
        if is_fatal(exc):
            return ExtractionError(
                f"{describe(exc)}: check the API key, permissions and model name",
                provider=self.extractor_id,
                fatal=True,
            )
        if is_transient(exc):
            return RetriesExhausted(
                f"transport failed: {describe(exc)}",
                provider=self.extractor_id,
                attempts=attempts,
                usage=usage_counts,
            )
        if type(exc).__name__ == "InstructorRetryException" and getattr(
            exc, "failed_attempts", None
        ):
            return RetriesExhausted(
                "the answer never matched the response schema "
                f"({getattr(exc, 'n_attempts', '?')} validation attempts)",
                provider=self.extractor_id,
                attempts=attempts,
                usage=usage_counts,
            )
        return ExtractionError(describe(exc), provider=self.extractor_id)

    async def _create(self, user: str) -> tuple[ConversationSignals, Any]:
        client = self._client()
        config = self.config
        if config.provider == "anthropic":
            system: Any = [
                {
                    "type": "text",
                    "text": self._prompt.system,
                    "cache_control": {"type": "ephemeral"},
                }
            ]
            return await client.create_with_completion(  # type: ignore[no-any-return]
                response_model=_response_model(),
                model=config.model,
                max_tokens=config.max_tokens,
                system=system,
                messages=[{"role": "user", "content": user}],
                max_retries=config.validation_retries,
            )
        return await client.create_with_completion(  # type: ignore[no-any-return]
            response_model=_response_model(),
            model=config.model,
            max_tokens=config.max_tokens,
            messages=[
                {"role": "system", "content": self._prompt.system},
                {"role": "user", "content": user},
            ],
            max_retries=config.validation_retries,
        )

    def _client(self) -> Any:
        """Clients are bound to the running event loop; a new loop gets new clients."""
        loop = asyncio.get_running_loop()
        if self._clients is not None and self._clients.loop is loop:
            return self._clients.instructor_client
        import instructor

        config = self.config
        http = _http_client(config, self._observe)
        if config.provider == "anthropic":
            import anthropic

            sdk: Any = anthropic.AsyncAnthropic(
                api_key=config.api_key,
                base_url=config.base_url,
                max_retries=0,
                timeout=config.timeout_seconds,
                http_client=http,
            )
            client = instructor.from_anthropic(sdk, mode=instructor.Mode.TOOLS)
        else:
            import openai

            sdk = openai.AsyncOpenAI(
                api_key=config.api_key,
                base_url=config.base_url,
                max_retries=0,
                timeout=config.timeout_seconds,
                http_client=http,
            )
            mode = (
                instructor.Mode.JSON_SCHEMA
                if config.openai_mode == "json_schema"
                else instructor.Mode.TOOLS
            )
            client = instructor.from_openai(sdk, mode=mode)
        self._clients = _Clients(loop, client, http)
        return client

    async def _observe(self, response: httpx2.Response) -> None:
        self.limiter.observe_headers(_lower(response.headers))


def _http_client(config: LLMConfig, observe: Callable[[httpx2.Response], Any]) -> Any:
    """One pool per run, sized to the concurrency, with a hook that feeds every answer's
    rate-limit headers to the limiter.

    The SDKs speak httpx2. With `http="aiohttp"` (the default) the pool is the SDK's own
    `DefaultAioHttpClient`: the same httpx2 client API (hooks, timeouts, proxies from the
    environment, errors mapped to httpx2's) over aiohttp's connection pool, which costs
    less CPU per request than httpcore's at high concurrency (eval/bench_llm.py: 2.1 → 1.7
    ms per conversation at concurrency 64, 3 points nearer the ideal). An SDK without it
    falls back to httpx2."""
    options: dict[str, Any] = {
        "timeout": httpx2.Timeout(config.timeout_seconds),
        "limits": httpx2.Limits(
            max_connections=config.concurrency * 2,
            max_keepalive_connections=config.concurrency * 2,  # httpx2 keeps 20 otherwise
        ),
        "event_hooks": {"response": [observe]},
    }
    if config.http == "aiohttp":
        if config.provider == "anthropic":
            import anthropic

            factory = getattr(anthropic, "DefaultAioHttpClient", None)
        else:
            import openai

            factory = getattr(openai, "DefaultAioHttpClient", None)
        if factory is not None:
            try:
                return factory(**options)
            except RuntimeError:  # the SDK's aiohttp extra is missing
                pass
    return httpx2.AsyncClient(**options)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


def _usage_of(raw: Any, *, requests: int) -> TokenUsage:
    """Anthropic and OpenAI usage objects → TokenUsage (totals over instructor's re-asks)."""
    if raw is None:
        return TokenUsage(requests=requests)
    input_tokens = getattr(raw, "input_tokens", None)
    if input_tokens is not None:  # Anthropic
        return TokenUsage(
            input_tokens=int(input_tokens or 0),
            output_tokens=int(getattr(raw, "output_tokens", 0) or 0),
            cache_read_tokens=int(getattr(raw, "cache_read_input_tokens", 0) or 0),
            cache_write_tokens=int(getattr(raw, "cache_creation_input_tokens", 0) or 0),
            requests=requests,
        )
    details = getattr(raw, "prompt_tokens_details", None)
    cached = int(getattr(details, "cached_tokens", 0) or 0) if details is not None else 0
    return TokenUsage(
        input_tokens=int(getattr(raw, "prompt_tokens", 0) or 0),
        output_tokens=int(getattr(raw, "completion_tokens", 0) or 0),
        cache_read_tokens=cached,
        requests=requests,
    )


def _load_sdk(provider: str) -> None:
    """Import instructor and the provider's SDK now, not on the first call: a command then
    freezes them with the rest of its long-lived objects (`convsignal.runtime`), and the
    first request does not pay for the imports. Patches instructor once (see
    `instructor_speedups`)."""
    import instructor  # noqa: F401

    if provider == "anthropic":
        import anthropic  # noqa: F401
    else:
        import openai  # noqa: F401
    instructor_speedups.install()
    _response_model()


@functools.cache
def _response_model() -> type[ConversationSignals]:
    """The response model, wrapped for instructor once.

    Given a plain pydantic model, instructor wraps it in a new `ResponseSchema` subclass on
    every call, so pydantic builds a class and generates its JSON schema per request: about
    40% of the client's CPU per call at high concurrency (eval/bench_llm.py). Passing a model
    that is already wrapped skips that, and the schema cache in `extract.schema` then hits.
    """
    import instructor

    return instructor.openai_schema(ConversationSignals)
