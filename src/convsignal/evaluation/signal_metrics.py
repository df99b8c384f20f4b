"""Extraction metrics against the labelled set: one extractor's predictions vs. the gold labels.

Items (intents, risk flags, expansion signals) are matched by type per case: a case either
has a label or not, whatever the evidence and however often it was said. That makes each kind
a multi-label classification, scored with scikit-learn per label and micro/macro-averaged;
risk flags are also scored "with side" (type + speaker role), because a vendor naming a
competitor is not a customer evaluating one. Sentiment is one label per case: accuracy,
macro-F1, Cohen's kappa and the confusion matrix.

Conventions, so that numbers are honest rather than flattering:
- a label with no gold and no prediction has no P/R/F1 (None), it does not count as perfect;
- macro averages run over the labels that occur in gold or in a prediction, so a label an
  extractor invents where there is none costs it;
- a case whose extraction failed counts with no items and no sentiment.

`compute_metrics([], [])` returns every metric name with None values: the CLI uses it to
check `--min` names before running anything.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning  # type: ignore[import-untyped]
from sklearn.metrics import (  # type: ignore[import-untyped]  # no stubs ship
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from convsignal.domain import ExpansionSignal, Intent, RiskFlag, Role, SentimentLabel, TokenUsage
from convsignal.evaluation.signal_dataset import HARD_CASE_TAGS, LabelledCase

__all__ = [
    "ITEM_KINDS",
    "NO_SENTIMENT",
    "SENTIMENT_LABELS",
    "CasePrediction",
    "PredictedItem",
    "compute_metrics",
    "flatten_metrics",
    "is_fully_right",
]

ITEM_KINDS: dict[str, list[str]] = {
    "intents": [label.value for label in Intent],
    "risk_flags": [label.value for label in RiskFlag],
    "expansion_signals": [label.value for label in ExpansionSignal],
}
SENTIMENT_LABELS = [label.value for label in SentimentLabel]
NO_SENTIMENT = "(none)"  # the extractor gave no sentiment (or failed)
_SIDES = [role.value for role in Role]
Metric = float | int | None


@dataclass(frozen=True, slots=True)
class PredictedItem:
    kind: str  # a key of ITEM_KINDS
    type: str
    speaker_role: str
    confidence: float
    evidence: str  # after the PII re-scan


@dataclass(frozen=True, slots=True)
class CasePrediction:
    """What one extractor said about one case, and what it cost."""

    case_id: str
    sentiment: str | None
    items: tuple[PredictedItem, ...] = ()
    sentiment_score: float | None = None
    latency_seconds: float = 0.0
    usage: TokenUsage | None = None
    cost_usd: float | None = 0.0  # None: the model is not in the price table
    error: str | None = None  # text-free reason when the extraction failed
    leaks_in_output: int = 0  # participant names/emails in the extractor's raw strings
    rescan_redactions: int = 0  # what the scrubber's re-scan of those strings redacted
    leaks_after_rescan: int = 0  # names/emails still there after the re-scan (stored!)
    leaks_in_input: int = 0  # names/emails the scrubber left in the text sent
    leak_kinds: tuple[str, ...] = field(default=())  # e.g. "output:first_name:p1"


def _types(items: Iterable[PredictedItem], kind: str) -> set[str]:
    return {item.type for item in items if item.kind == kind}


def _gold_types(case: LabelledCase, kind: str) -> set[str]:
    return {str(item.type) for item in getattr(case.gold, kind)}


def _gold_sided(case: LabelledCase) -> set[str]:
    return {f"{item.type}@{item.speaker_role}" for item in case.gold.risk_flags}


def _pred_sided(prediction: CasePrediction) -> set[str]:
    return {f"{i.type}@{i.speaker_role}" for i in prediction.items if i.kind == "risk_flags"}


def is_fully_right(case: LabelledCase, prediction: CasePrediction) -> bool:
    """Sentiment right and exactly the gold types of every kind, no more, no fewer."""
    return prediction.sentiment == str(case.gold.sentiment) and all(
        _types(prediction.items, kind) == _gold_types(case, kind) for kind in ITEM_KINDS
    )


def _binary(sets: Sequence[set[str]], labels: Sequence[str]) -> np.ndarray[Any, Any]:
    return np.array([[label in s for label in labels] for s in sets], dtype=int).reshape(
        len(sets), len(labels)
    )


def _round(value: float) -> float:
    return round(float(value), 4)


def label_metrics(
    gold: Sequence[set[str]], predicted: Sequence[set[str]], labels: Sequence[str]
) -> dict[str, Any]:
    """Per-label P/R/F1/support plus micro and macro averages for one multi-label kind."""
    y_true, y_pred = _binary(gold, labels), _binary(predicted, labels)
    support = y_true.sum(axis=0) if len(gold) else np.zeros(len(labels), dtype=int)
    guessed = y_pred.sum(axis=0) if len(gold) else np.zeros(len(labels), dtype=int)
    per_label: dict[str, dict[str, Metric]] = {}
    if len(gold):
        p, r, f, _ = precision_recall_fscore_support(
            y_true, y_pred, average=None, zero_division=0.0
        )
    for index, label in enumerate(labels):
        active = bool(support[index] or guessed[index])
        per_label[label] = {
            "precision": _round(p[index]) if active else None,
            "recall": _round(r[index]) if active else None,
            "f1": _round(f[index]) if active else None,
            "support": int(support[index]),
            "predicted": int(guessed[index]),
        }
    result: dict[str, Any] = {
        f"{avg}_{name}": None
        for avg in ("micro", "macro")
        for name in ("precision", "recall", "f1")
    }
    result["support"] = int(support.sum())
    result["predicted"] = int(guessed.sum())
    active_columns = [i for i in range(len(labels)) if support[i] or guessed[i]]
    if active_columns:
        for average in ("micro", "macro"):
            p_avg, r_avg, f_avg, _ = precision_recall_fscore_support(
                y_true[:, active_columns],
                y_pred[:, active_columns],
                average=average,
                zero_division=0.0,
            )
            result[f"{average}_precision"] = _round(p_avg)
            result[f"{average}_recall"] = _round(r_avg)
            result[f"{average}_f1"] = _round(f_avg)
    result["per_label"] = per_label
    return result


def sentiment_metrics(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1 (over labels seen in gold or predicted), kappa, confusion matrix.

    The matrix always has the four sentiment labels (rows gold, columns predicted), plus
    "(none)" when some case got no sentiment."""
    labels = SENTIMENT_LABELS + ([NO_SENTIMENT] if NO_SENTIMENT in predicted else [])
    if not gold:
        return {
            "accuracy": None,
            "macro_f1": None,
            "kappa": None,
            "cases": 0,
            "labels": labels,
            "confusion_matrix": [[0] * len(labels) for _ in labels],
        }
    seen = [label for label in labels if label in gold or label in predicted]
    with warnings.catch_warnings():  # undefined (nan) is reported as None below
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        kappa = cohen_kappa_score(gold, predicted, labels=labels, replace_undefined_by=np.nan)
    return {
        "accuracy": _round(accuracy_score(gold, predicted)),
        "macro_f1": _round(
            f1_score(gold, predicted, labels=seen, average="macro", zero_division=0.0)
        ),
        # undefined when gold and prediction are both one constant label
        "kappa": None if np.isnan(kappa) else _round(kappa),
        "cases": len(gold),
        "labels": labels,
        "confusion_matrix": confusion_matrix(gold, predicted, labels=labels).tolist(),
    }


def _pooled(case: LabelledCase) -> set[str]:
    return {f"{kind}:{t}" for kind in ITEM_KINDS for t in _gold_types(case, kind)}


def _pooled_pred(prediction: CasePrediction) -> set[str]:
    return {f"{kind}:{t}" for kind in ITEM_KINDS for t in _types(prediction.items, kind)}


def tag_metrics(
    cases: Sequence[LabelledCase], predictions: Sequence[CasePrediction]
) -> dict[str, dict[str, Metric]]:
    """Per hard-case tag: how many cases, the share fully right, sentiment accuracy and the
    micro-F1 of all items pooled on that slice."""
    all_labels = [f"{kind}:{t}" for kind, labels in ITEM_KINDS.items() for t in labels]
    slices: dict[str, dict[str, Metric]] = {}
    for tag in ["all", *sorted(HARD_CASE_TAGS)]:
        pairs = [(c, p) for c, p in zip(cases, predictions, strict=True) if tag in (*c.tags, "all")]
        if not pairs:
            slices[tag] = {"cases": 0, "fully_right": None, "sentiment_accuracy": None}
            slices[tag]["items_micro_f1"] = None
            continue
        items = label_metrics(
            [_pooled(c) for c, _ in pairs], [_pooled_pred(p) for _, p in pairs], all_labels
        )
        slices[tag] = {
            "cases": len(pairs),
            "fully_right": _round(sum(is_fully_right(c, p) for c, p in pairs) / len(pairs)),
            "sentiment_accuracy": _round(
                sum(p.sentiment == str(c.gold.sentiment) for c, p in pairs) / len(pairs)
            ),
            "items_micro_f1": items["micro_f1"],
        }
    return slices


def _percentile(values: Sequence[float], q: float) -> float | None:
    return _round(np.percentile(values, q)) if values else None


def compute_metrics(
    cases: Sequence[LabelledCase],
    predictions: Sequence[CasePrediction],
    *,
    wall_seconds: float | None = None,
) -> dict[str, Any]:
    """Every number for one extractor. `predictions[i]` is the answer for `cases[i]`."""
    if len(cases) != len(predictions):
        raise ValueError(f"{len(cases)} cases but {len(predictions)} predictions")
    for case, prediction in zip(cases, predictions, strict=True):
        if case.id != prediction.case_id:
            raise ValueError(f"prediction for {prediction.case_id!r} paired with {case.id!r}")
    metrics: dict[str, Any] = {
        "cases": len(cases),
        "errors": sum(p.error is not None for p in predictions),
        "exact_match": (
            _round(sum(map(is_fully_right, cases, predictions)) / len(cases)) if cases else None
        ),
    }
    metrics["sentiment"] = sentiment_metrics(
        [str(c.gold.sentiment) for c in cases],
        [p.sentiment or NO_SENTIMENT for p in predictions],
    )
    for kind, labels in ITEM_KINDS.items():
        metrics[kind] = label_metrics(
            [_gold_types(c, kind) for c in cases],
            [_types(p.items, kind) for p in predictions],
            labels,
        )
    sided = label_metrics(
        [_gold_sided(c) for c in cases],
        [_pred_sided(p) for p in predictions],
        [f"{flag}@{side}" for flag in ITEM_KINDS["risk_flags"] for side in _SIDES],
    )
    sided.pop("per_label")  # 36 type×side pairs: the averages say enough
    metrics["risk_flags_with_side"] = sided
    metrics["tags"] = tag_metrics(cases, predictions)
    metrics["pii"] = {
        "leaks_in_output": sum(p.leaks_in_output for p in predictions),
        "rescan_redactions": sum(p.rescan_redactions for p in predictions),
        "leaks_after_rescan": sum(p.leaks_after_rescan for p in predictions),
        "leaks_in_input": sum(p.leaks_in_input for p in predictions),
    }
    metrics["cost"] = _cost(predictions)
    latencies = [p.latency_seconds for p in predictions]
    metrics["latency"] = {
        "p50_seconds": _percentile(latencies, 50),
        "p95_seconds": _percentile(latencies, 95),
        "mean_seconds": _round(float(np.mean(latencies))) if latencies else None,
        "wall_seconds": None if wall_seconds is None else _round(wall_seconds),
    }
    return metrics


def _cost(predictions: Sequence[CasePrediction]) -> dict[str, Metric]:
    """Tokens summed over every attempt; dollars from the price table (None: unpriced)."""
    usage = TokenUsage()
    for prediction in predictions:
        usage += prediction.usage or TokenUsage()
    unpriced = any(p.cost_usd is None for p in predictions)
    usd = None if unpriced else _round(sum(p.cost_usd or 0.0 for p in predictions))
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "requests": usage.requests,
        "usd": usd,
        "usd_per_case": (
            _round(usd / len(predictions)) if usd is not None and predictions else None
        ),
    }


def flatten_metrics(metrics: dict[str, Any], prefix: str = "") -> dict[str, Metric]:
    """Numeric leaves by dotted JSON path (`risk_flags.micro_f1`), for gates and tables.

    Lists (labels, the confusion matrix) are not gateable and are left out."""
    flat: dict[str, Metric] = {}
    for key, value in metrics.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_metrics(value, f"{path}."))
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            flat[path] = value
    return flat
