"""Extractors by name: `resolve("lexicon")`. Unknown names list what is known.

LLM providers register here as they land (`anthropic/<model>`, `openai/<model>`,
`openai-compatible/<model>`); their SDKs are imported lazily by their own modules.
"""

from __future__ import annotations

from collections.abc import Callable

from convsignal.errors import ConfigError
from convsignal.extract.base import Extractor

Factory = Callable[[str], Extractor]  # receives the model part after "provider/"

_FACTORIES: dict[str, tuple[Factory, str]] = {}


def register(prefix: str, factory: Factory, description: str) -> None:
    _FACTORIES[prefix] = (factory, description)


def _lexicon(_model: str) -> Extractor:
    from convsignal.extract.lexicon import LexiconExtractor

    return LexiconExtractor()


register("lexicon", _lexicon, "offline keyword baseline (phrase patterns + VADER); not an LLM")


def known_extractors() -> dict[str, str]:
    return {name: description for name, (_, description) in _FACTORIES.items()}


def resolve(name: str) -> Extractor:
    prefix, _, model = name.partition("/")
    entry = _FACTORIES.get(prefix)
    if entry is None:
        known = ", ".join(sorted(_FACTORIES))
        raise ConfigError(f"unknown extractor {name!r}; known: {known}")
    return entry[0](model)
