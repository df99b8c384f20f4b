"""LLM providers: the only package that imports instructor and the anthropic/openai SDKs.

`build_llm_extractor("anthropic", "claude-…", settings)` → an `InstructorExtractor` (a
`ShardedExtractor` over worker processes when `llm_processes` > 1); the registry calls it
for `anthropic/<model>`, `openai/<model>` and `openai-compatible/<model>`.
"""

from __future__ import annotations

from convsignal.config import Settings
from convsignal.extract.ratelimit import Limits


def build_llm_extractor(provider: str, model: str, settings: Settings) -> object:
    from convsignal.extract.providers.llm import InstructorExtractor, LLMConfig

    if provider == "anthropic":
        key = settings.anthropic_api_key or ""
    elif provider == "openai":
        key = settings.openai_api_key or ""
    else:  # local servers (vLLM, Ollama, llama.cpp) accept any key
        key = settings.openai_api_key or "not-needed"
    config = LLMConfig(
        provider=provider,
        model=model,
        api_key=key,
        base_url=settings.llm_base_url,
        timeout_seconds=settings.llm_timeout_seconds,
        max_tokens=settings.llm_max_tokens,
        validation_retries=settings.llm_validation_retries,
        openai_mode=settings.llm_mode,
        http=settings.llm_http,
        concurrency=settings.llm_concurrency,
        processes=settings.llm_processes,
        limits=Limits(
            requests_per_minute=settings.llm_requests_per_minute,
            tokens_per_minute=settings.llm_tokens_per_minute,
        ),
    )
    if config.processes > 1:
        from convsignal.extract.providers.sharded import ShardedExtractor

        return ShardedExtractor(config)
    return InstructorExtractor(config)
