"""Extraction metrics against hand-computed cases; leak canaries; charts; the report build."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from convsignal.domain import (
    Channel,
    Role,
    ScrubbedConversation,
    ScrubbedTurn,
    SourceLocator,
    TokenUsage,
)
from convsignal.evaluation import charts
from convsignal.evaluation.signal_dataset import LabelledCase
from convsignal.evaluation.signal_eval import (
    ExtractorRun,
    PreparedCase,
    SignalEvaluation,
    find_leaks,
    leak_terms,
)
from convsignal.evaluation.signal_metrics import (
    CasePrediction,
    PredictedItem,
    compute_metrics,
    flatten_metrics,
)
from convsignal.evaluation.signal_report import render_html, report_data, write_report


def case(
    ident: str,
    sentiment: str,
    risk_flags: list[tuple[str, str]] = (),  # type: ignore[assignment]
    *,
    intents: list[str] = (),  # type: ignore[assignment]
    tags: list[str] = (),  # type: ignore[assignment]
) -> LabelledCase:
    return LabelledCase.model_validate(
        {
            "id": ident,
            "channel": "call",
            "industry": "fintech",
            "occurred_at": "2026-03-02T15:00:00Z",
            "tags": list(tags),
            "participants": [
                {"name": "Dana Whitfield", "email": "dana@acme-pay.example", "role": "customer"},
                {"name": "Sam Ortiz", "role": "vendor"},
            ],
            "turns": [{"speaker": "Dana Whitfield", "text": "Hello."}],
            "gold": {
                "sentiment": sentiment,
                "risk_flags": [{"type": t, "speaker_role": side} for t, side in risk_flags],
                "intents": [{"type": t} for t in intents],
                "rationale": "Dana says hello to Sam.",
            },
        }
    )


def risk(flag: str, side: str = "customer", evidence: str = "…") -> PredictedItem:
    return PredictedItem("risk_flags", flag, side, 0.9, evidence)


# Three cases with a known confusion, computed by hand:
#   a: gold {budget_cuts, champion_leaving}  predicted {budget_cuts (vendor side)}
#   b: gold {}                               predicted {payment_issue}
#   c: gold {payment_issue}                  predicted {payment_issue}
# sentiment gold [negative, positive, neutral], predicted [negative, neutral, neutral]
CASES = [
    case(
        "a",
        "negative",
        [("budget_cuts", "customer"), ("champion_leaving", "customer")],
        tags=["negation"],
    ),
    case("b", "positive"),
    case("c", "neutral", [("payment_issue", "customer")], tags=["negation"]),
]
PREDICTIONS = [
    CasePrediction("a", "negative", (risk("budget_cuts", "vendor"),), latency_seconds=0.1),
    CasePrediction("b", "neutral", (risk("payment_issue"),), latency_seconds=0.2),
    CasePrediction("c", "neutral", (risk("payment_issue"),), latency_seconds=0.3),
]


@pytest.fixture(scope="module")
def metrics() -> dict[str, Any]:
    return compute_metrics(CASES, PREDICTIONS, wall_seconds=1.5)


@pytest.mark.parametrize(
    ("label", "precision", "recall", "f1", "support", "predicted"),
    [
        ("budget_cuts", 1.0, 1.0, 1.0, 1, 1),
        ("champion_leaving", 0.0, 0.0, 0.0, 1, 0),
        ("payment_issue", 0.5, 1.0, 0.6667, 1, 2),
        ("cancellation_intent", None, None, None, 0, 0),  # never gold, never said: undefined
    ],
)
def test_per_label_precision_recall_f1(
    metrics: dict[str, Any],
    label: str,
    precision: float | None,
    recall: float | None,
    f1: float | None,
    support: int,
    predicted: int,
) -> None:
    assert metrics["risk_flags"]["per_label"][label] == {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "support": support,
        "predicted": predicted,
    }


def test_micro_and_macro_averages(metrics: dict[str, Any]) -> None:
    flags = metrics["risk_flags"]
    # micro: tp 2, fp 1, fn 1
    assert flags["micro_precision"] == pytest.approx(0.6667)
    assert flags["micro_recall"] == pytest.approx(0.6667)
    assert flags["micro_f1"] == pytest.approx(0.6667)
    # macro over the three labels that occur: P (1+0+.5)/3, R (1+0+1)/3, F1 (1+0+2/3)/3
    assert flags["macro_precision"] == pytest.approx(0.5)
    assert flags["macro_recall"] == pytest.approx(0.6667)
    assert flags["macro_f1"] == pytest.approx(0.5556)
    assert (flags["support"], flags["predicted"]) == (3, 3)


def test_risk_flags_with_side_need_the_right_speaker(metrics: dict[str, Any]) -> None:
    sided = metrics["risk_flags_with_side"]
    # budget_cuts was said by the customer, predicted on the vendor side: tp 1, fp 2, fn 2
    assert sided["micro_precision"] == pytest.approx(1 / 3, abs=1e-4)
    assert sided["micro_recall"] == pytest.approx(1 / 3, abs=1e-4)
    assert sided["micro_f1"] == pytest.approx(1 / 3, abs=1e-4)


def test_sentiment_accuracy_macro_f1_kappa_and_confusion(metrics: dict[str, Any]) -> None:
    sentiment = metrics["sentiment"]
    assert sentiment["accuracy"] == pytest.approx(0.6667)
    # F1: negative 1, positive 0, neutral 2/3 (P .5, R 1); escalating never occurs
    assert sentiment["macro_f1"] == pytest.approx(0.5556)
    # po = 2/3, pe = (1·1 + 1·0 + 1·2)/9 = 1/3  →  κ = (2/3 − 1/3)/(1 − 1/3) = 0.5
    assert sentiment["kappa"] == pytest.approx(0.5)
    assert sentiment["labels"] == ["positive", "neutral", "negative", "escalating"]
    assert sentiment["confusion_matrix"] == [
        [0, 1, 0, 0],
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 0],
    ]


def test_exact_match_and_tag_slices(metrics: dict[str, Any]) -> None:
    assert metrics["exact_match"] == pytest.approx(0.3333)  # only c is fully right
    negation = metrics["tags"]["negation"]
    assert negation["cases"] == 2
    assert negation["fully_right"] == 0.5
    assert negation["sentiment_accuracy"] == 1.0
    # pooled items on {a, c}: tp 2 (budget_cuts, payment_issue), fp 0, fn 1 → F1 0.8
    assert negation["items_micro_f1"] == pytest.approx(0.8)
    assert metrics["tags"]["sarcasm"] == {
        "cases": 0,
        "fully_right": None,
        "sentiment_accuracy": None,
        "items_micro_f1": None,
    }
    assert metrics["tags"]["all"]["cases"] == 3


def test_latency_percentiles(metrics: dict[str, Any]) -> None:
    latency = metrics["latency"]
    assert latency["p50_seconds"] == pytest.approx(0.2)
    assert latency["p95_seconds"] == pytest.approx(0.29)  # linear interpolation
    assert latency["wall_seconds"] == 1.5


def test_kind_with_no_gold_and_no_prediction_is_undefined_not_perfect(
    metrics: dict[str, Any],
) -> None:
    expansion = metrics["expansion_signals"]
    assert expansion["micro_f1"] is None
    assert expansion["macro_f1"] is None


def test_missing_sentiment_and_errors_count_against_the_extractor() -> None:
    cases = [case("a", "neutral"), case("b", "neutral")]
    predictions = [
        CasePrediction("a", "neutral"),
        CasePrediction("b", None, error="RetriesExhausted: 6 attempts"),
    ]
    metrics = compute_metrics(cases, predictions)
    assert metrics["errors"] == 1
    assert metrics["sentiment"]["accuracy"] == 0.5
    assert metrics["sentiment"]["labels"][-1] == "(none)"
    assert metrics["sentiment"]["confusion_matrix"][1] == [0, 1, 0, 0, 1]


def test_kappa_is_undefined_when_both_sides_say_one_constant_label() -> None:
    cases = [case("a", "neutral"), case("b", "neutral")]
    predictions = [CasePrediction("a", "neutral"), CasePrediction("b", "neutral")]
    sentiment = compute_metrics(cases, predictions)["sentiment"]
    assert sentiment["accuracy"] == 1.0
    assert sentiment["kappa"] is None


def test_cost_sums_tokens_and_unpriced_models_have_no_dollar_figure() -> None:
    cases = [case("a", "neutral"), case("b", "neutral")]
    usage = TokenUsage(input_tokens=100, output_tokens=20, cache_read_tokens=5, requests=1)
    priced = [
        CasePrediction("a", "neutral", usage=usage, cost_usd=0.002),
        CasePrediction("b", "neutral", usage=usage, cost_usd=0.003),
    ]
    cost = compute_metrics(cases, priced)["cost"]
    assert (cost["input_tokens"], cost["output_tokens"], cost["cache_read_tokens"]) == (200, 40, 10)
    assert cost["requests"] == 2
    assert cost["usd"] == pytest.approx(0.005)
    assert cost["usd_per_case"] == pytest.approx(0.0025)
    unpriced = [priced[0], CasePrediction("b", "neutral", usage=usage, cost_usd=None)]
    assert compute_metrics(cases, unpriced)["cost"]["usd"] is None


def test_predictions_must_pair_with_their_cases() -> None:
    with pytest.raises(ValueError, match="paired"):
        compute_metrics(CASES, list(reversed(PREDICTIONS)))


def test_metric_names_are_known_without_running_anything() -> None:
    names = flatten_metrics(compute_metrics([], []))
    assert {"risk_flags.micro_f1", "sentiment.macro_f1", "pii.leaks_after_rescan"} <= set(names)
    assert "risk_flags.per_label.budget_cuts.f1" in names
    assert "sentiment.confusion_matrix" not in names  # lists are not gateable
    assert all(value is None or value == 0 for value in names.values())


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Dana Whitfield said so", ["full_name:p1"]),  # once, not also first + last name
        ("ask DANA about it", ["first_name:p1"]),
        ("mail dana@acme-pay.example today", ["email:p1"]),
        ("Whitfield and Sam Ortiz", ["full_name:p2", "last_name:p1"]),
        ("Danaher and Samsung are companies", []),  # word boundaries
        ("<CUSTOMER_1> is leaving", []),
    ],
)
def test_leak_canaries(text: str, found: list[str]) -> None:
    assert sorted(find_leaks(text, leak_terms(CASES[0]))) == sorted(found)


def test_charts_are_deterministic_inline_svg() -> None:
    first = charts.bar_chart(["budget_cuts", "payment_issue"], {"lexicon": [0.5, 1.0]}, title="F1")
    again = charts.bar_chart(["budget_cuts", "payment_issue"], {"lexicon": [0.5, 1.0]}, title="F1")
    assert first == again
    assert first.startswith("<svg")
    assert first.endswith("</svg>")
    assert "budget_cuts" in first  # text stays text
    matrix = charts.confusion_matrix_chart([[2, 1], [0, 3]], ["pos", "neg"], title="S")
    assert matrix == charts.confusion_matrix_chart([[2, 1], [0, 3]], ["pos", "neg"], title="S")
    line = charts.line_chart({"m": ([0.1, 0.9], [0.2, 0.8])}, title="R", diagonal=True)
    assert "<svg" in line
    assert "dc:date" not in line
    with pytest.raises(ValueError, match="3 values"):
        charts.bar_chart(["a", "b"], {"x": [1.0, 2.0, 3.0]}, title="bad")
    with pytest.raises(ValueError, match="2×2"):
        charts.confusion_matrix_chart([[1, 2, 3]], ["a", "b"], title="bad")


def _prepared(labelled: LabelledCase) -> PreparedCase:
    scrubbed = ScrubbedConversation(
        source_id=labelled.id,
        account_id="eval-fintech",
        channel=Channel.CALL,
        occurred_at=labelled.occurred_at,
        content_hash="0" * 64,
        turns=(ScrubbedTurn("<CUSTOMER_1>", "Hello.", Role.CUSTOMER),),
        locator=SourceLocator("labelled-case", f"{labelled.id}.yaml"),
        participant_roles=(Role.CUSTOMER, Role.VENDOR),
    )
    return PreparedCase(labelled, scrubbed, leak_terms(labelled), 0, "<CUSTOMER_1> says hello.")


def test_report_json_and_html_carry_the_numbers(tmp_path: Path) -> None:
    evaluation = SignalEvaluation(
        cases=[_prepared(c) for c in CASES],
        runs=[ExtractorRun("lexicon", "lexicon", "abc.1", False, PREDICTIONS, 1.5)],
        started_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
    )
    data = report_data(evaluation, cases_dir=Path("cases"), filters={"tag": None})
    html_path, json_path = write_report(data, tmp_path / "reports")
    assert html_path.name == "signals-2026-03-04-050607.html"
    assert json_path.name == "signals-2026-03-04-050607.json"
    saved = json.loads(json_path.read_text())
    metrics = saved["extractors"][0]["metrics"]
    assert metrics["risk_flags"]["micro_f1"] == pytest.approx(0.6667)
    assert metrics["sentiment"]["kappa"] == pytest.approx(0.5)
    first = saved["cases"][0]
    assert first["turns"] == [
        {"speaker": "<CUSTOMER_1>", "role": "customer", "internal": False, "text": "Hello."}
    ]
    assert first["gold"]["rationale"] == "<CUSTOMER_1> says hello."
    lexicon = first["predictions"]["lexicon"]
    assert lexicon["missed"]["risk_flags"] == ["champion_leaving"]
    assert lexicon["items"][0]["correct"] is True  # the type matches, whatever the side
    assert lexicon["fully_right"] is False
    assert saved["cases"][2]["predictions"]["lexicon"]["fully_right"] is True

    html = html_path.read_text()
    assert html == render_html(data)
    assert "not an LLM" in html  # the baseline banner
    assert html.count("<svg") == 2  # risk-flag bars and one confusion matrix, inline
    assert not re.search(r"(?:src|href)=[\"']?https?:|<link|<script", html)  # self-contained
    headline = html.split('id="headline"')[1].split("</table>")[0]
    assert "0.67" in headline  # risk-flag micro-F1
    assert "0.50" in headline  # kappa
    assert "Hello." not in html  # the HTML shows labels and ids, never text
