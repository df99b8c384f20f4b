"""Backtest metrics against hand-computed cases; recombination against the product's combiner."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from convsignal.errors import IngestError
from convsignal.evaluation import backtest_metrics as bm
from convsignal.evaluation.backtest import read_outcomes
from convsignal.score.combiner import combine
from convsignal.score.profile import load_profile
from convsignal.score.qualitative import EventInput, qualitative_subscore
from convsignal.score.quantitative import quantitative_subscore

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("labels", "risks", "expected"),
    [
        # pairs (churner, renewer): 0.35>0.1 ✓, 0.35<0.4 ✗, 0.8>0.1 ✓, 0.8>0.4 ✓ → 3/4
        ([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], 0.75),
        ([0, 1], [0.9, 0.1], 0.0),  # ranked exactly backwards
        ([0, 1], [0.5, 0.5], 0.5),  # a tie counts half
        ([1, 0, 0], [0.7, 0.7, 0.2], 0.75),  # (0.7 vs 0.7) ½ + (0.7 vs 0.2) 1 → 1.5/2
    ],
)
def test_auc_hand_computed(labels: list[int], risks: list[float], expected: float) -> None:
    assert bm.auc(labels, risks) == pytest.approx(expected)


def test_auc_is_undefined_with_one_class() -> None:
    assert bm.auc([1, 1, 1], [0.2, 0.5, 0.9]) is None


def test_precision_recall_of_the_flag_hand_computed() -> None:
    # churned: a, c, e; flagged: a, b, e → TP 2 (a, e), FP 1 (b), FN 1 (c)
    result = bm.precision_recall([1, 0, 1, 0, 1], [True, True, False, False, True])
    assert result.precision == pytest.approx(2 / 3)
    assert result.recall == pytest.approx(2 / 3)
    assert (result.flagged, result.true_positives, result.positives) == (3, 2, 3)


def test_precision_is_zero_not_an_error_when_nothing_is_flagged() -> None:
    result = bm.precision_recall([1, 0], [False, False])
    assert (result.precision, result.recall, result.flagged) == (0.0, 0.0, 0)


@pytest.mark.parametrize(
    ("flagged_at", "expected"),
    [
        ({180: False, 150: True, 120: False, 90: True}, 150),  # earliest flag counts
        ({180: True, 150: True, 120: True, 90: True}, 180),
        ({180: False, 150: False, 120: False, 90: True}, 90),
        ({180: False, 90: False}, None),
    ],
)
def test_lead_time(flagged_at: dict[int, bool], expected: int | None) -> None:
    assert bm.lead_time(flagged_at) == expected


def test_brier_hand_computed() -> None:
    # ((1 − 0.8)² + (0 − 0.3)²) / 2 = (0.04 + 0.09) / 2
    assert bm.brier([1, 0], [0.8, 0.3]) == pytest.approx(0.065)


def test_reliability_curve_hand_computed() -> None:
    curve = bm.reliability([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9], bins=2)
    assert curve.predicted == pytest.approx([0.15, 0.85])
    assert curve.observed == pytest.approx([0.0, 1.0])
    assert curve.brier == pytest.approx((0.01 + 0.04 + 0.04 + 0.01) / 4)


def test_isotonic_is_fit_out_of_fold_and_improves_a_miscalibrated_score() -> None:
    rng = random.Random(3)
    probabilities = [rng.uniform(0.4, 0.6) for _ in range(400)]
    labels = [int(p > 0.5) for p in probabilities]  # perfectly ranked, badly calibrated
    calibrated = bm.isotonic_out_of_fold(labels, probabilities)
    assert len(calibrated) == len(labels)
    assert all(0.0 <= p <= 1.0 for p in calibrated)
    assert bm.brier(labels, calibrated) < bm.brier(labels, probabilities) / 4


def test_isotonic_map_falls_as_the_score_rises() -> None:
    rng = random.Random(4)
    scores = [rng.uniform(0, 100) for _ in range(300)]
    labels = [int(rng.random() < 1 - s / 100) for s in scores]
    mapped = bm.isotonic_map(labels, [bm.churn_probability(s) for s in scores], [10, 50, 90])
    assert mapped[0] >= mapped[1] >= mapped[2]
    assert mapped[0] > mapped[2]


@pytest.mark.parametrize(
    ("quant", "qual", "weight", "baseline", "expected"),
    [
        (80.0, 20.0, 0.35, 50.0, 59.0),  # 50 + 0.65·30 + 0.35·(−30)
        (80.0, 20.0, 0.0, 50.0, 80.0),
        (80.0, None, 0.35, 50.0, 80.0),  # quantitative alone carries the score
        (None, 20.0, 0.35, 50.0, 20.0),  # qualitative alone: 50 + (20 − 50)
        (None, 60.0, 0.35, 40.0, 70.0),  # … measured from its own baseline
        (None, None, 0.35, 50.0, None),  # insufficient signal
        (100.0, 100.0, 0.35, 0.0, 100.0),  # 50 + 32.5 + 35 = 117.5 → clamped
    ],
)
def test_recombine_hand_computed(
    quant: float | None, qual: float | None, weight: float, baseline: float, expected: float | None
) -> None:
    assert bm.recombine(quant, qual, weight, baseline) == (
        None if expected is None else pytest.approx(expected)
    )


def _measures(rng: random.Random, sparse: bool) -> dict[str, tuple[float, datetime]]:
    at = AS_OF - timedelta(days=5)
    values = {
        "licensed_seats": 100.0,
        "active_users": rng.uniform(5, 100),
        "feature_adoption_pct": rng.uniform(0, 100),
        "open_critical_tickets": float(rng.randint(0, 4)),
        "csat": rng.uniform(1, 5),
        "days_payment_late": rng.choice([0.0, 20.0, 70.0]),
        "nps": rng.uniform(-80, 80),
    }
    if sparse:
        values = {"nps": values["nps"]}  # far below min coverage
    return {name: (value, at) for name, value in values.items()}


def _events(rng: random.Random) -> list[EventInput]:
    kinds = [
        ("risk_flag", "champion_leaving"),
        ("risk_flag", "budget_cuts"),
        ("intent", "planning_to_renew"),
        ("expansion_signal", "additional_seats"),
        ("sentiment", "negative"),
    ]
    events = []
    for n in range(rng.randint(0, 6)):
        kind, signal_type = rng.choice(kinds)
        score = rng.uniform(-1, 1) if kind == "sentiment" else 1.0
        when = AS_OF - timedelta(days=rng.uniform(0, 80))
        events.append(
            EventInput(n, kind, signal_type, score, rng.uniform(0.5, 1), "customer", when, "x@v")
        )
    return events


@pytest.mark.parametrize("seed", range(30))
def test_recombination_equals_the_product_combiner(seed: int) -> None:
    """Re-weighting from the two sub-scores gives exactly what `combine` gives at that weight,
    including when one part is missing (sparse metrics, too few conversations)."""
    rng = random.Random(seed)
    base = load_profile()
    quant = quantitative_subscore(base.quantitative, _measures(rng, seed % 5 == 0), AS_OF)
    conversations = 0 if seed % 7 == 0 else rng.randint(2, 6)
    qual = qualitative_subscore(base.qualitative, _events(rng), conversations, AS_OF)
    for weight in bm.WEIGHT_GRID:
        profile = base.model_copy(
            update={"composite": base.composite.model_copy(update={"qualitative_weight": weight})}
        )
        product = combine(profile, "acct", AS_OF, quant, qual).score
        ours = bm.recombine(quant.subscore, qual.subscore, weight, base.qualitative.baseline)
        assert (product is None) == (ours is None)
        if product is not None:
            assert ours == pytest.approx(product, abs=1e-9)


def test_naive_baseline_hand_computed() -> None:
    assert bm.naive_health(40.0, 90.0) == pytest.approx(60.0)  # 70 − 20·(1 − 90/180)
    assert bm.naive_health(None, 200.0) == pytest.approx(50.0)  # no NPS, far from renewal
    assert bm.naive_health(-100.0, 0.0) == pytest.approx(-20.0)


def _rows(pairs: list[tuple[float, float, int]]) -> list[bm.SubScores]:
    return [bm.SubScores(q, ql, 50.0, label) for q, ql, label in pairs]


def test_best_weight_breaks_ties_towards_the_current_weight() -> None:
    # quantitative ranks perfectly, qualitative backwards: churner 20 + 60w vs 80 − 60w,
    # so AUC is 1 for w < 0.5 and every w in 0..0.45 ties.
    rows = _rows([(20, 80, 1), (20, 80, 1), (80, 20, 0), (80, 20, 0)])
    assert bm.auc_at(rows, 0.45) == 1.0
    assert bm.auc_at(rows, 0.5) == 0.5
    assert bm.auc_at(rows, 0.6) == 0.0
    assert bm.best_weight(rows, bm.WEIGHT_GRID, current=0.55) == 0.45
    assert bm.best_weight(rows, bm.WEIGHT_GRID, current=0.1) == 0.1


def test_walk_forward_finds_a_weight_when_only_conversations_inform() -> None:
    rng = random.Random(5)
    rows = []
    for _ in range(300):
        label = int(rng.random() < 0.3)
        quant = rng.uniform(30, 80)  # pure noise
        qual = rng.gauss(35 if label else 60, 10)  # informative
        rows.append(bm.SubScores(quant, qual, 50.0, label))
    search = bm.weight_search(rows, current=0.35)
    assert len(search.folds) == 4
    assert search.suggested_weight == 0.6  # the most the grid allows
    assert search.walk_forward_auc_change is not None
    assert search.walk_forward_auc_change > 0
    assert search.in_sample_auc_change is not None
    assert search.in_sample_auc_change > 0


# ---------------------------------------------------------------- outcomes file


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "outcomes.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_outcomes_are_read_with_comments_and_line_numbers(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "# synthetic\naccount_id,renewal_date,outcome\n"
        "a-1,2026-03-31,churned\n\nb-2,2026-04-01,Renewed\n",
    )
    rows = read_outcomes(path)
    assert [(r.account_id, r.renewal_date.isoformat(), r.outcome, r.line) for r in rows] == [
        ("a-1", "2026-03-31", "churned", 3),
        ("b-2", "2026-04-01", "renewed", 5),
    ]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("account_id,renewal_date,outcome\na,2026-13-01,churned\n", "line 2: field renewal_date"),
        ("account_id,renewal_date,outcome\na,2026-01-01,churned\nb,2026-01-01,lost\n",
         "line 3: field outcome 'lost'"),
        ("account_id,renewal_date,outcome\n,2026-01-01,churned\n", "line 2: field account_id"),
        ("account_id,outcome\na,churned\n", "line 1: missing column(s) renewal_date"),
        ("account_id,renewal_date,outcome\n", "no rows"),
    ],
)  # fmt: skip
def test_outcome_errors_name_file_line_and_field(tmp_path: Path, text: str, needle: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(IngestError) as error:
        read_outcomes(path)
    assert str(path) in str(error.value)
    assert needle in str(error.value)
