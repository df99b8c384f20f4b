"""Vanilla Presidio, as a baseline for the evaluation and the benchmark; never used to scrub.

Presidio's default `AnalyzerEngine` (every default recognizer, the full spaCy pipeline,
no allow-list) on the same spaCy model as the scrubber, called one text at a time as its
documentation shows. Its entity names are mapped to the evaluation's (`LOCATION` counts as
a street address, `DATE_TIME` as a date of birth, as presidio-evaluator maps them); every
other type it reports is kept under its own name, since Presidio's anonymizer would replace
it too.
"""

from __future__ import annotations

from collections.abc import Sequence

from convsignal.scrub.detect import PiiSpan
from convsignal.scrub.engine import build_vanilla_analyzer

ENTITY_MAP = {"LOCATION": "STREET_ADDRESS", "DATE_TIME": "DATE_OF_BIRTH"}


class VanillaPresidio:
    def __init__(self, spacy_model: str) -> None:
        self._analyzer = build_vanilla_analyzer(spacy_model)

    def find_pii(self, texts: Sequence[str]) -> list[list[PiiSpan]]:
        found = []
        for text in texts:
            results = self._analyzer.analyze(text=text, language="en")
            spans = [
                PiiSpan(r.start, r.end, ENTITY_MAP.get(r.entity_type, r.entity_type))
                for r in results
            ]
            found.append(sorted(spans, key=lambda s: (s.start, s.end)))
        return found


def spacy_ner_only(spacy_model: str, texts: Sequence[str], *, batch_size: int = 256) -> int:
    """Run spaCy NER alone over the texts (the floor for any NER-based scrubber); returns
    the number of entities, so the work cannot be optimised away."""
    from convsignal.scrub.engine import load_ner

    nlp = load_ner(spacy_model)
    return sum(len(doc.ents) for doc in nlp.pipe(texts, batch_size=batch_size))
