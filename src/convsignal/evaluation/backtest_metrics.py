r"""The backtest's metrics, as pure functions of numbers (no database): easy to check by hand.

Conventions: a *risk* is higher for accounts more likely to churn; every health number
(0..100, higher = healthier) becomes the raw churn probability 1 − health/100.

Recombination at another qualitative weight w, exactly as `score.combiner.combine` adds its
drivers (measure drivers sum to (1 − w)(quantitative − 50), event drivers to
w (qualitative − baseline)), clamped to 0..100:

    both parts        50 + (1 − w)(quantitative − 50) + w (qualitative − baseline)
    quantitative only quantitative              (the weight moves to the part that is there)
    qualitative only  50 + (qualitative − baseline)
    neither           None                      (insufficient signal)

The naive baseline (what a CSM without the product would go by): renewal proximity and the
latest NPS,

    naive health = clamp(50 + NPS/2, 0, 100) − 20 · max(0, 1 − days_to_renewal/180)

with NPS the newest reported on or before as-of, however old (0 when never reported), and
days_to_renewal the days from as-of to the renewal date. At a fixed horizon every account is
equally close to renewal, so the proximity term shifts all accounts alike and the ranking is
the NPS ranking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.calibration import calibration_curve  # type: ignore[import-untyped]  # no stubs
from sklearn.isotonic import IsotonicRegression  # type: ignore[import-untyped]
from sklearn.metrics import (  # type: ignore[import-untyped]
    brier_score_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import (  # type: ignore[import-untyped]
    StratifiedKFold,
    TimeSeriesSplit,
    cross_val_predict,
)

NEUTRAL = 50.0
WEIGHT_GRID = tuple(round(0.05 * step, 2) for step in range(13))  # 0.0 .. 0.6


def clamp(value: float, low: float = 0.0, high: float = 100.0) -> float:
    return min(high, max(low, value))


def recombine(
    quantitative: float | None, qualitative: float | None, weight: float, baseline: float = 50.0
) -> float | None:
    """The composite at qualitative weight `weight` from the two sub-scores (see above)."""
    if quantitative is not None and qualitative is not None:
        score = (
            NEUTRAL + (1 - weight) * (quantitative - NEUTRAL) + weight * (qualitative - baseline)
        )
    elif quantitative is not None:
        score = quantitative
    elif qualitative is not None:
        score = NEUTRAL + (qualitative - baseline)
    else:
        return None
    return clamp(score)


def naive_health(nps: float | None, days_to_renewal: float) -> float:
    """Renewal proximity + latest NPS (see the module docstring)."""
    proximity_penalty = 20.0 * max(0.0, 1.0 - days_to_renewal / 180.0)
    return clamp(NEUTRAL + (nps or 0.0) / 2.0) - proximity_penalty


def churn_probability(health: float) -> float:
    """The raw mapping: health 0..100 → churn probability 1 − health/100 (clipped to 0..1)."""
    return clamp(1.0 - health / 100.0, 0.0, 1.0)


def auc(labels: Sequence[int], risks: Sequence[float]) -> float | None:
    """ROC AUC of `risks` for `labels` (1 = the event); None when only one class is present."""
    if len(set(labels)) < 2:
        return None
    return float(roc_auc_score(labels, risks))


@dataclass(frozen=True, slots=True)
class PrecisionRecall:
    precision: float
    recall: float
    flagged: int
    true_positives: int
    positives: int


def precision_recall(labels: Sequence[int], flagged: Sequence[bool]) -> PrecisionRecall:
    """Of the flagged accounts, the share that churned; of the churners, the share flagged."""
    predicted = [int(f) for f in flagged]
    return PrecisionRecall(
        precision=float(precision_score(labels, predicted, zero_division=0)),
        recall=float(recall_score(labels, predicted, zero_division=0)),
        flagged=sum(predicted),
        true_positives=sum(1 for y, p in zip(labels, predicted, strict=True) if y and p),
        positives=sum(1 for y in labels if y),
    )


def lead_time(flagged_at: dict[int, bool]) -> int | None:
    """Days of warning: the earliest checkpoint (most days before renewal) at which the account
    was flagged; None when it never was."""
    days = [before for before, flagged in flagged_at.items() if flagged]
    return max(days) if days else None


def brier(labels: Sequence[int], probabilities: Sequence[float]) -> float:
    return float(brier_score_loss(labels, probabilities))


@dataclass(frozen=True, slots=True)
class Reliability:
    predicted: list[float]  # mean predicted probability per bin
    observed: list[float]  # observed churn rate per bin
    brier: float


def reliability(labels: Sequence[int], probabilities: Sequence[float], bins: int) -> Reliability:
    """Reliability curve (quantile bins: each holds about as many accounts) and Brier score."""
    observed, predicted = calibration_curve(labels, probabilities, n_bins=bins, strategy="quantile")
    return Reliability(
        [float(v) for v in predicted], [float(v) for v in observed], brier(labels, probabilities)
    )


def isotonic_out_of_fold(
    labels: Sequence[int], probabilities: Sequence[float], *, folds: int = 5, seed: int = 0
) -> list[float]:
    """Isotonic calibration, each account's calibrated probability from a fit on the other
    folds (stratified K-fold), so the calibration is never scored on the rows it was fit on."""
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    x = np.asarray(probabilities, dtype=float).reshape(-1, 1)
    predicted = cross_val_predict(model, x, np.asarray(labels), cv=splitter)
    return [float(v) for v in predicted]


def isotonic_map(
    labels: Sequence[int], probabilities: Sequence[float], health_points: Sequence[float]
) -> list[float]:
    """The isotonic map fit on every row, read at the given health scores (for the report)."""
    model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
    model.fit(np.asarray(probabilities, dtype=float), np.asarray(labels, dtype=float))
    points = np.asarray([churn_probability(h) for h in health_points])
    return [float(v) for v in model.predict(points)]


@dataclass(frozen=True, slots=True)
class SubScores:
    """What the search needs of one account: both sub-scores and its part of the profile."""

    quantitative: float | None
    qualitative: float | None
    baseline: float
    label: int


@dataclass(frozen=True, slots=True)
class Fold:
    train: int
    test: int
    chosen_weight: float
    test_auc_chosen: float | None
    test_auc_current: float | None


@dataclass(frozen=True, slots=True)
class WeightSearch:
    current_weight: float
    suggested_weight: float
    auc_by_weight: dict[float, float | None]  # every row, in sample
    folds: list[Fold]
    walk_forward_auc_change: float | None  # mean over folds: chosen − current, out of sample
    in_sample_auc_change: float | None  # suggested − current on every row


def auc_at(rows: Sequence[SubScores], weight: float) -> float | None:
    labels, risks = [], []
    for row in rows:
        score = recombine(row.quantitative, row.qualitative, weight, row.baseline)
        if score is not None:
            labels.append(row.label)
            risks.append(churn_probability(score))
    return auc(labels, risks)


def best_weight(rows: Sequence[SubScores], grid: Sequence[float], current: float) -> float:
    """The weight with the highest AUC; ties go to the one nearest the current weight."""
    scored = [(auc_at(rows, w), w) for w in grid]
    valid = [(value, w) for value, w in scored if value is not None]
    if not valid:
        return current
    top = max(value for value, _ in valid)
    return min((w for value, w in valid if value >= top - 1e-12), key=lambda w: abs(w - current))


def weight_search(
    rows_in_time_order: Sequence[SubScores],
    current: float,
    *,
    grid: Sequence[float] = WEIGHT_GRID,
    splits: int = 4,
) -> WeightSearch:
    """Walk forward: choose the weight on earlier renewals, test it on the next block.

    `TimeSeriesSplit` cuts the time-ordered rows into `splits + 1` blocks; fold k trains on
    blocks 1..k and tests on block k+1. The suggested weight is the one chosen on every row;
    the out-of-sample change is the folds' mean of test AUC(chosen) − test AUC(current).
    """
    rows = list(rows_in_time_order)
    folds: list[Fold] = []
    if len(rows) > splits + 1:
        for train_index, test_index in TimeSeriesSplit(n_splits=splits).split(rows):
            train = [rows[i] for i in train_index]
            test = [rows[i] for i in test_index]
            chosen = best_weight(train, grid, current)
            folds.append(
                Fold(len(train), len(test), chosen, auc_at(test, chosen), auc_at(test, current))
            )
    changes = [
        f.test_auc_chosen - f.test_auc_current
        for f in folds
        if f.test_auc_chosen is not None and f.test_auc_current is not None
    ]
    by_weight = {w: auc_at(rows, w) for w in grid}
    suggested = best_weight(rows, grid, current)
    now, then = auc_at(rows, current), by_weight.get(suggested)
    return WeightSearch(
        current_weight=current,
        suggested_weight=suggested,
        auc_by_weight=by_weight,
        folds=folds,
        walk_forward_auc_change=sum(changes) / len(changes) if changes else None,
        in_sample_auc_change=None if now is None or then is None else then - now,
    )
