"""Span-level PII metrics in the manner of presidio-evaluator's `SpanEvaluator`.

Matching is by character IoU after trimming spaces and punctuation at both ends:
- an annotation (gold span) of type T is a true positive when the predictions of type T
  that overlap it cover it with IoU ≥ threshold (several same-type predictions combine:
  their union is compared with the annotation); else a false negative;
- each prediction counts once: credited when it took part in a successful match of its
  own type, else a false positive (a wrong type is a miss *and* a false positive);
- precision = (predicted − false positives) / predicted, recall = TP / annotated,
  F-beta with beta = 2 (recall weighs four times precision: a leak costs more than an
  over-redaction);
- "PII" is the same computed with every type treated as one: did we hide the PII at all?
Adjacent predictions of one type separated only by spaces are merged first ("Dana" +
"Whitfield" is one name), as presidio-evaluator merges adjacent tokens.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

_TRIM = " \t\n.,;:!?'\"()[]<>"
ALL_PII = "PII"


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    label: str


@dataclass
class Counts:
    annotated: int = 0
    predicted: int = 0
    true_positives: int = 0
    false_positives: int = 0

    @property
    def precision(self) -> float:
        if not self.predicted:
            return 1.0 if not self.annotated else 0.0
        return (self.predicted - self.false_positives) / self.predicted

    @property
    def recall(self) -> float:
        return self.true_positives / self.annotated if self.annotated else 1.0

    def f_beta(self, beta: float = 2.0) -> float:
        p, r = self.precision, self.recall
        if p == 0 and r == 0:
            return 0.0
        return (1 + beta**2) * p * r / (beta**2 * p + r)

    def add(self, other: Counts) -> None:
        self.annotated += other.annotated
        self.predicted += other.predicted
        self.true_positives += other.true_positives
        self.false_positives += other.false_positives


@dataclass
class Result:
    per_type: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    errors: list[tuple[str, str, Span]] = field(default_factory=list)  # (id, kind, span)

    @property
    def pii(self) -> Counts:
        return self.per_type[ALL_PII]


def trim(text: str, span: Span) -> Span:
    start, end = span.start, span.end
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    return Span(start, end, span.label)


def merge_adjacent(text: str, spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        last = merged[-1] if merged else None
        if last and last.label == span.label and not text[last.end : span.start].strip():
            merged[-1] = Span(last.start, max(last.end, span.end), last.label)
        else:
            merged.append(span)
    return merged


def _coverage_iou(gold: Span, predictions: Sequence[Span]) -> float:
    covered: set[int] = set()
    union: set[int] = set(range(gold.start, gold.end))
    for p in predictions:
        chars = set(range(p.start, p.end))
        covered |= chars & union
        union |= chars
    return len(covered) / len(union) if union else 0.0


def _score(gold: Sequence[Span], predicted: Sequence[Span], threshold: float) -> tuple[
    Counts, set[int], list[Span]
]:  # fmt: skip
    """Counts for one label (or for all as one); returns credited predictions and misses."""
    counts = Counts(annotated=len(gold), predicted=len(predicted))
    credited: set[int] = set()
    misses: list[Span] = []
    for g in gold:
        touching = [i for i, p in enumerate(predicted) if p.start < g.end and p.end > g.start]
        if touching and _coverage_iou(g, [predicted[i] for i in touching]) >= threshold:
            counts.true_positives += 1
            credited.update(touching)
        else:
            misses.append(g)
    counts.false_positives = counts.predicted - len(credited)
    return counts, credited, misses


def evaluate(
    items: Iterable[tuple[str, str, Sequence[Span], Sequence[Span]]],
    *,
    iou_threshold: float = 0.5,
) -> Result:
    """`items`: (id, text, gold spans, predicted spans) per snippet."""
    result = Result()
    for ident, text, gold_spans, predicted_spans in items:
        gold = [trim(text, s) for s in gold_spans]
        predicted = merge_adjacent(text, (trim(text, s) for s in predicted_spans))
        predicted = [p for p in predicted if p.end > p.start]
        labels = {s.label for s in gold} | {s.label for s in predicted}
        for label in labels:
            g = [s for s in gold if s.label == label]
            p = [s for s in predicted if s.label == label]
            counts, credited, misses = _score(g, p, iou_threshold)
            result.per_type[label].add(counts)
            result.errors += [(ident, "missed", s) for s in misses]
            result.errors += [(ident, "spurious", s) for i, s in enumerate(p) if i not in credited]
        as_one = [Span(s.start, s.end, ALL_PII) for s in predicted]
        pii_gold = [Span(s.start, s.end, ALL_PII) for s in gold]
        counts, _, _ = _score(pii_gold, as_one, iou_threshold)
        result.per_type[ALL_PII].add(counts)
    return result


def wrongly_scrubbed(keep: Sequence[Span], predicted: Sequence[Span]) -> list[Span]:
    """Business names (kept spans) that any prediction touches, even by one character."""
    return [k for k in keep if any(p.start < k.end and p.end > k.start for p in predicted)]
