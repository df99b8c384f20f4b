"""PII metrics against hand-computed cases, the dataset's shape, and `convsignal eval pii`
printing numbers and ids only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convsignal.cli import app
from convsignal.errors import ConfigError
from convsignal.evaluation.pii_eval import load_dataset
from convsignal.evaluation.pii_metrics import Counts, Span, evaluate, wrongly_scrubbed

DATASET = Path(__file__).parents[2] / "eval" / "pii" / "dataset.json"


def run(text: str, gold: list[Span], predicted: list[Span], iou: float = 0.5) -> dict[str, Counts]:
    return dict(evaluate([("s1", text, gold, predicted)], iou_threshold=iou).per_type)


def pr(counts: Counts) -> tuple[float, float, float]:
    return round(counts.precision, 4), round(counts.recall, 4), round(counts.f_beta(), 4)


@pytest.mark.parametrize(
    ("text", "gold", "predicted", "label", "expected"),
    [
        # exact match
        ("Dana left", [Span(0, 4, "PERSON")], [Span(0, 4, "PERSON")], "PERSON", (1, 1, 1)),
        # punctuation at the edges does not matter
        ("Dana, hi", [Span(0, 4, "PERSON")], [Span(0, 5, "PERSON")], "PERSON", (1, 1, 1)),
        # a miss: nothing predicted for EMAIL → precision 0 by convention, recall 0
        ("Dana a@b.io", [Span(0, 4, "PERSON"), Span(5, 11, "EMAIL_ADDRESS")],
         [Span(0, 4, "PERSON")], "EMAIL_ADDRESS", (0, 0, 0)),
        # …and overall: P = 1, R = 1/2, F2 = 5·1·0.5 / (4·1 + 0.5) = 0.5556
        ("Dana a@b.io", [Span(0, 4, "PERSON"), Span(5, 11, "EMAIL_ADDRESS")],
         [Span(0, 4, "PERSON")], "PII", (1, 0.5, 0.5556)),
        # a spurious prediction: P = 1/2, R = 1, F2 = 5·0.5 / (2 + 1) = 0.8333
        ("Dana and Ops", [Span(0, 4, "PERSON")], [Span(0, 4, "PERSON"), Span(9, 12, "PERSON")],
         "PERSON", (0.5, 1, 0.8333)),
        # wrong type: a miss for the gold type, a false positive for the predicted one…
        ("New York", [Span(0, 8, "LOCATION")], [Span(0, 8, "ORGANIZATION")], "LOCATION", (0, 0, 0)),
        ("New York", [Span(0, 8, "LOCATION")], [Span(0, 8, "ORGANIZATION")], "ORGANIZATION",
         (0, 1, 0)),
        # …but the PII was hidden all the same
        ("New York", [Span(0, 8, "LOCATION")], [Span(0, 8, "ORGANIZATION")], "PII", (1, 1, 1)),
        # partial below the IoU threshold (4/18): a miss and a false positive
        ("John Smith Johnson", [Span(0, 18, "PERSON")], [Span(0, 4, "PERSON")], "PERSON",
         (0, 0, 0)),
        # two same-type predictions combine: coverage 16/20 = 0.8 ≥ 0.5, both credited
        ("aaaaaaaa-bbb-cccccccc", [Span(0, 21, "URL")], [Span(0, 8, "URL"), Span(13, 21, "URL")],
         "URL", (1, 1, 1)),
    ],
)  # fmt: skip
def test_span_metrics(
    text: str,
    gold: list[Span],
    predicted: list[Span],
    label: str,
    expected: tuple[float, float, float],
) -> None:
    assert pr(run(text, gold, predicted)[label]) == pytest.approx(expected)


def test_one_prediction_over_two_names_is_two_hits_and_one_prediction() -> None:
    text = "Dana Sami"
    gold = [Span(0, 4, "PERSON"), Span(5, 9, "PERSON")]
    counts = run(text, gold, [Span(0, 9, "PERSON")], iou=0.4)["PERSON"]
    assert (counts.annotated, counts.predicted, counts.true_positives) == (2, 1, 2)
    assert pr(counts) == (1, 1, 1)
    strict = run(text, gold, [Span(0, 9, "PERSON")], iou=0.5)["PERSON"]  # 4/9 < 0.5
    assert pr(strict) == (0, 0, 0)


def test_adjacent_predictions_of_one_type_merge() -> None:
    counts = run("Dana Whitfield", [Span(0, 14, "PERSON")],
                 [Span(0, 4, "PERSON"), Span(5, 14, "PERSON")])["PERSON"]  # fmt: skip
    assert (counts.predicted, counts.true_positives, counts.false_positives) == (1, 1, 0)


def test_counts_add_up_over_snippets() -> None:
    result = evaluate(
        [
            ("a", "Dana", [Span(0, 4, "PERSON")], [Span(0, 4, "PERSON")]),
            ("b", "Sami", [Span(0, 4, "PERSON")], []),
            ("c", "Ops", [], [Span(0, 3, "PERSON")]),
        ]
    )
    person = result.per_type["PERSON"]
    assert (person.annotated, person.predicted, person.true_positives) == (2, 2, 1)
    assert pr(person) == (0.5, 0.5, 0.5)
    assert sorted((ident, kind) for ident, kind, _ in result.errors) == [
        ("b", "missed"), ("c", "spurious"),
    ]  # fmt: skip


def test_wrongly_scrubbed_counts_any_touch() -> None:
    keep = [Span(0, 9, "competitor"), Span(20, 25, "vendor")]
    assert wrongly_scrubbed(keep, [Span(8, 12, "PERSON")]) == [keep[0]]
    assert wrongly_scrubbed(keep, [Span(9, 20, "PERSON")]) == []


def test_the_evaluation_set_is_big_labelled_and_consistent() -> None:
    data = load_dataset(DATASET)
    assert len(data.snippets) >= 200
    assert {s.style for s in data.snippets} == {"call", "email", "ticket"}
    labels = {span.label for s in data.snippets for span in s.spans}
    assert labels == {
        "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS",
        "URL", "US_SSN", "STREET_ADDRESS", "DATE_OF_BIRTH",
    }  # fmt: skip
    assert sum(len(s.keep) for s in data.snippets) >= 200
    for snippet in data.snippets:
        for span in (*snippet.spans, *snippet.keep):
            value = snippet.text[span.start : span.end]
            assert value, snippet.id
            assert value == value.strip(), snippet.id


def test_a_missing_dataset_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_dataset(tmp_path / "nope.json")


def test_eval_pii_prints_metrics_and_ids_never_text(tmp_path: Path) -> None:
    secret = "Quillon Brackenridge"
    text = f"Thanks {secret}, call +1 415 555 0199. We use Gainsight."
    dataset = {
        "version": 1,
        "allow_list": [],
        "snippets": [
            {"id": "s-1", "style": "call", "split": "dev", "text": text,
             "spans": [{"start": 7, "end": 27, "label": "PERSON"},
                       {"start": 34, "end": 49, "label": "PHONE_NUMBER"}],
             "keep": [{"start": 58, "end": 67, "kind": "competitor"}]},
        ],
    }  # fmt: skip
    path = tmp_path / "set.json"
    path.write_text(json.dumps(dataset))
    result = CliRunner().invoke(
        app, ["eval", "pii", "--dataset", str(path), "--errors"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "PHONE_NUMBER" in result.output
    assert "presidio" in result.output
    assert "Business names wrongly scrubbed" in result.output
    for fragment in ("Quillon", "Brackenridge", "555 0199", "Thanks"):
        assert fragment not in result.output
