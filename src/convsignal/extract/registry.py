"""Extractors by name: `resolve("lexicon")`, `resolve("anthropic/claude-…", settings)`.

Unknown names list what is known. LLM providers import their SDKs lazily, so resolving the
lexicon never loads them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from convsignal.config import Settings
from convsignal.errors import ConfigError
from convsignal.extract.base import Extractor

Factory = Callable[[str, Settings], Extractor]  # (model after "provider/", settings)

_FACTORIES: dict[str, tuple[Factory, str]] = {}


def register(prefix: str, factory: Factory, description: str) -> None:
    _FACTORIES[prefix] = (factory, description)


def _lexicon(_model: str, _settings: Settings) -> Extractor:
    from convsignal.extract.lexicon import LexiconExtractor

    return LexiconExtractor()


def _llm(provider: str) -> Factory:
    def factory(model: str, settings: Settings) -> Extractor:
        from convsignal.extract.providers import build_llm_extractor

        return cast(Extractor, build_llm_extractor(provider, model, settings))

    return factory


register("lexicon", _lexicon, "offline keyword baseline (phrase patterns + VADER); not an LLM")
register(
    "anthropic",
    _llm("anthropic"),
    "anthropic/<model>: Claude through instructor (tool use); needs ANTHROPIC_API_KEY",
)
register(
    "openai",
    _llm("openai"),
    "openai/<model>: OpenAI through instructor (tools or json_schema); needs OPENAI_API_KEY",
)
register(
    "openai-compatible",
    _llm("openai-compatible"),
    "openai-compatible/<model>: vLLM, Ollama, llama.cpp or a gateway; needs "
    "CONVSIGNAL_LLM_BASE_URL",
)


def known_extractors() -> dict[str, str]:
    return {name: description for name, (_, description) in _FACTORIES.items()}


def resolve(name: str, settings: Settings | None = None) -> Extractor:
    prefix, _, model = name.partition("/")
    entry = _FACTORIES.get(prefix)
    if entry is None:
        known = ", ".join(sorted(_FACTORIES))
        raise ConfigError(f"unknown extractor {name!r}; known: {known}")
    return entry[0](model, settings or Settings())
