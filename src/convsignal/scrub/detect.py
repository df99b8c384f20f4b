"""Find PII spans in the texts of a batch of documents (conversations or single strings).

One pass of spaCy NER over every text of the batch through `nlp.pipe` (long texts cut into
segments below spaCy's limits), then per document: known participants, pattern
recognizers, context cues, NER names, and propagation of every name found to its other
mentions. Overlapping hits merge into one span (the longest hit decides the type), so a
name inside an email or a personal URL never leaves half of it behind. Spans never cover
an existing placeholder, and names on the allow-list are not spans (known participants
excepted: the deny-list wins).
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from convsignal.scrub import patterns
from convsignal.scrub.engine import load_ner, presidio_recognizers
from convsignal.scrub.names import (
    clean_name,
    context_names,
    coordinated,
    email_name,
    listed_with_business,
    owner_of,
    product_shaped,
    product_words,
)
from convsignal.scrub.people import KnownPeople, name_terms, normalise

PLACEHOLDER_RE = re.compile(r"<[A-Z][A-Z_]*_\d+>")
_DIGIT = re.compile(r"\d")
SEGMENT_CHARS = 2_000  # NER input per spaCy doc: far below spaCy's max_length
# NER input per batch: spaCy's working memory grows with the characters in a batch (about
# 4 kB per token for the small model), not with the number of docs; 64k chars ≈ 60 MB.
BATCH_CHARS = 64_000
ENTITIES: tuple[str, ...] = (
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS",
    "URL", "US_SSN", "STREET_ADDRESS", "DATE_OF_BIRTH",
)  # fmt: skip
_PRIORITY = {"KNOWN": 10, "EMAIL_ADDRESS": 9, "URL": 8, "CREDIT_CARD": 7, "IBAN_CODE": 7,
             "US_SSN": 6, "IP_ADDRESS": 6, "PHONE_NUMBER": 5, "DATE_OF_BIRTH": 5,
             "STREET_ADDRESS": 4, "PERSON": 3}  # fmt: skip
_FINDERS = (
    patterns.cards,
    patterns.emails,
    patterns.phones,
    patterns.street_addresses,
    patterns.dates_of_birth,
)
_PERSONAL_DATA = frozenset({"EMAIL_ADDRESS", "PHONE_NUMBER", "DATE_OF_BIRTH", "US_SSN"})
_MIN_SCORE = 0.4  # Presidio scores below this need a context word just before the match
_CONTEXT_WINDOW = 40


@dataclass(frozen=True, slots=True)
class PiiSpan:
    """A stretch of text to replace. `placeholder` is set for known participants."""

    start: int
    end: int
    entity: str
    placeholder: str | None = None


@dataclass
class Document:
    texts: Sequence[str]
    known: KnownPeople = field(default_factory=KnownPeople)
    allow: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Hit:
    start: int
    end: int
    entity: str
    placeholder: str | None = None

    @property
    def rank(self) -> tuple[int, int]:
        kind = "KNOWN" if self.placeholder else self.entity
        return (self.end - self.start, _PRIORITY[kind])


class Detector:
    def __init__(self, spacy_model: str) -> None:
        self._nlp = load_ner(spacy_model)
        self._recognizers = presidio_recognizers()

    def detect(self, documents: Sequence[Document]) -> list[list[list[PiiSpan]]]:
        """Spans per text per document, sorted, non-overlapping."""
        persons = self._ner(documents)
        return [
            self._document_spans(document, persons, index)
            for index, document in enumerate(documents)
        ]

    def _ner(self, documents: Sequence[Document]) -> dict[tuple[int, int], list[tuple[int, int]]]:
        def segments() -> Iterator[tuple[str, tuple[int, int, int]]]:
            for d, document in enumerate(documents):
                for t, text in enumerate(document.texts):
                    for offset, piece in split_for_ner(text):
                        yield piece, (d, t, offset)

        found: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
        for batch in _batches(segments(), BATCH_CHARS):
            for doc, (d, t, offset) in self._nlp.pipe(batch, as_tuples=True, batch_size=len(batch)):
                for ent in doc.ents:
                    if ent.label_ == "PERSON":
                        found[d, t].append((offset + ent.start_char, offset + ent.end_char))
        return found

    def _document_spans(
        self, document: Document, persons: dict[tuple[int, int], list[tuple[int, int]]], d: int
    ) -> list[list[PiiSpan]]:
        allow = document.allow
        hits: list[list[_Hit]] = []
        names: set[str] = set()
        seeds: set[str] = set()  # people found by more than a lone word NER called a person
        businesses: list[list[tuple[int, int]]] = []
        allow_pattern = _allow_pattern(frozenset(allow))  # once per document, not per text
        for t, text in enumerate(document.texts):
            mine = self._pattern_hits(text)
            mine += [
                _Hit(start, end, "EMAIL_ADDRESS" if is_email else "PERSON", placeholder)
                for start, end, placeholder, is_email in document.known.find(text)
            ]
            business = _business_ranges(text, allow_pattern)
            businesses.append(business)
            candidates = [
                span
                for start, end in persons.get((d, t), ())
                for span in clean_name(text, start, end, allow)
            ]
            if candidates:  # a lone word NER calls a person, used or shaped as a product: kept
                products = product_words(text) | listed_with_business(text, allow)
                candidates = [
                    (start, end)
                    for start, end in candidates
                    if (start, end) not in products and not product_shaped(text[start:end])
                ]
            cued = list(context_names(text, allow))
            cued += [  # the name right before an address, a phone number, a date of birth
                span
                for hit in mine
                if hit.entity in _PERSONAL_DATA
                and (  # "Zorbix (support@zorbix.io)": a mailbox is nobody's
                    hit.entity != "EMAIL_ADDRESS"
                    or email_name(text[hit.start : hit.end], allow) is not None
                )
                for span in owner_of(text, hit.start, allow)
            ]
            by_cue = set(cued)
            for start, end in [*candidates, *cued]:
                value = text[start:end]
                if value.endswith(("'s", "’s")):
                    end -= 2
                    value = value[:-2]
                if _inside(start, end, business) or allowed(value, allow):
                    continue
                mine.append(_Hit(start, end, "PERSON"))
                names.add(value)
                if (start, end) in by_cue or " " in value:  # more than NER's word for it
                    seeds.add(normalise(value))
            for hit in mine:
                if hit.entity == "EMAIL_ADDRESS":  # the name an address spells, found below
                    spelled = email_name(text[hit.start : hit.end], allow)
                    if spelled is not None:
                        names.add(spelled)
            hits.append(mine)
        seeds.update(  # known participants, as mentioned
            normalise(text[hit.start : hit.end])
            for text, mine in zip(document.texts, hits, strict=True)
            for hit in mine
            if hit.placeholder is not None and hit.entity == "PERSON"
        )
        pairs = zip(document.texts, businesses, strict=True) if seeds else iter(())
        for text, business in pairs:  # listed with a person: a person
            for start, end in coordinated(text, seeds, allow):
                value = text[start:end]
                if not _inside(start, end, business) and not allowed(value, allow):
                    names.add(value)
        terms = name_terms(names, allow)
        if terms:
            pattern = re.compile(
                r"(?<![\w@.])(?:"
                + "|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True))
                + r")(?![\w@])"
            )
            for text, mine in zip(document.texts, hits, strict=True):
                mine += [_Hit(m.start(), m.end(), "PERSON") for m in pattern.finditer(text)]
        return [_resolve(text, mine) for text, mine in zip(document.texts, hits, strict=True)]

    def _pattern_hits(self, text: str) -> list[_Hit]:
        hits = [
            _Hit(start, end, entity) for finder in _FINDERS for start, end, entity in finder(text)
        ]
        for start, end, personal in patterns.urls(text):
            hits.append(_Hit(start, end, "URL" if personal else "URL_CANDIDATE"))
        if _DIGIT.search(text):
            lowered = text.lower()
            for recognizer, precheck in self._recognizers:
                if not precheck.search(text):
                    continue
                for result in recognizer.analyze(text, recognizer.supported_entities, None):
                    if result.score >= _MIN_SCORE or _has_context(
                        lowered, result.start, recognizer.context
                    ):
                        hits.append(_Hit(result.start, result.end, result.entity_type))
        return hits


@lru_cache(maxsize=256)
def _allow_pattern(allow: frozenset[str]) -> re.Pattern[str] | None:
    if not allow:
        return None
    alternation = "|".join(re.escape(a) for a in sorted(allow, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)


def _business_ranges(text: str, pattern: re.Pattern[str] | None) -> list[tuple[int, int]]:
    """Where allow-listed names occur (`pattern` from `_allow_pattern`): a name found inside
    one is part of a company name ('Carrillo, Yu and Lopez'), not a person."""
    return [m.span() for m in pattern.finditer(text)] if pattern else []


def _inside(start: int, end: int, ranges: list[tuple[int, int]]) -> bool:
    """Whether [start, end) lies in one of `ranges` (sorted, not overlapping: a finditer's
    matches). Bisected: a long thread names its vendors thousands of times."""
    index = bisect.bisect_right(ranges, (start, math.inf)) - 1
    return index >= 0 and ranges[index][1] >= end


def _has_context(lowered: str, start: int, words: Sequence[str]) -> bool:
    window = lowered[max(0, start - _CONTEXT_WINDOW) : start]
    return any(word in window for word in words)


def allowed(value: str, allow: set[str]) -> bool:
    words = normalise(value).strip(" .,;:!?'\"()").removeprefix("the ")
    if words in allow:
        return True
    parts = words.split()
    return bool(parts) and all(part.strip(".,'’s") in allow for part in parts)


def _resolve(text: str, hits: list[_Hit]) -> list[PiiSpan]:
    """Merge overlapping hits into one span typed by the longest; drop placeholder overlaps.

    A URL candidate without a personal path only matters when PII sits inside it: then the
    whole URL goes, not just the name in its path."""
    protected = [m.span() for m in PLACEHOLDER_RE.finditer(text)] if "<" in text else []
    real = [h for h in hits if h.entity != "URL_CANDIDATE"]
    for candidate in (h for h in hits if h.entity == "URL_CANDIDATE"):
        if any(h.start < candidate.end and h.end > candidate.start for h in real):
            real.append(_Hit(candidate.start, candidate.end, "URL"))
    kept = [h for h in real if not any(h.start < end and h.end > start for start, end in protected)]
    kept.sort(key=lambda h: (h.start, -h.end))
    spans: list[PiiSpan] = []
    cluster: list[_Hit] = []
    for hit in [*kept, None]:
        if hit is not None and cluster and hit.start < max(h.end for h in cluster):
            cluster.append(hit)
            continue
        if cluster:
            best = max(cluster, key=lambda h: h.rank)
            start, end = cluster[0].start, max(h.end for h in cluster)
            spans.append(PiiSpan(start, end, best.entity, best.placeholder))
        cluster = [hit] if hit is not None else []
    return spans


def _batches(
    segments: Iterator[tuple[str, tuple[int, int, int]]], limit: int
) -> Iterator[list[tuple[str, tuple[int, int, int]]]]:
    batch: list[tuple[str, tuple[int, int, int]]] = []
    size = 0
    for segment in segments:
        batch.append(segment)
        size += len(segment[0])
        if size >= limit:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def split_for_ner(text: str, limit: int = SEGMENT_CHARS) -> Iterator[tuple[int, str]]:
    """(offset, piece) with pieces of at most `limit` characters, cut at a line break, else
    after a sentence, else at a space, so a name is rarely cut in two. Short texts: as is."""
    if len(text) <= limit:
        if text.strip():
            yield 0, text
        return
    start = 0
    while start < len(text):
        end = min(start + limit, len(text))
        if end < len(text):
            window = text[start:end]
            cut = window.rfind("\n")
            if cut < limit // 4:
                cut = max(window.rfind(". "), window.rfind("? "), window.rfind("! ")) + 1
            if cut < limit // 4:
                cut = window.rfind(" ")
            if cut >= limit // 4:
                end = start + cut + 1
        piece = text[start:end]
        if piece.strip():
            yield start, piece
        start = end
