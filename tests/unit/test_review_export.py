"""The review's gold rewrite: only the changed keys of the `gold:` block move, from a table of
file layouts; decisions apply in the order they were taken."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from convsignal.evaluation.review import ReviewError, apply_to_gold, load_report, newest_report
from convsignal.evaluation.review_export import rewrite_gold_block
from convsignal.store.review_tables import ReviewDecision

HEAD = "id: x\nturns:\n  - {speaker: A, text: 'gold: not a key here'}\n"
BUDGET = {"type": "budget_cuts", "speaker_role": "customer"}
NEW_GOLD: dict[str, Any] = {
    "sentiment": "negative",
    "intents": [],
    "risk_flags": [BUDGET],
    "expansion_signals": [],
}


@pytest.mark.parametrize(
    ("gold_block", "keys", "expected_block"),
    [
        (  # flow list replaced; rationale and trajectory untouched
            "gold:\n  sentiment: neutral\n  trajectory: stable\n  risk_flags: []\n"
            "  rationale: why\n",
            ["sentiment", "risk_flags"],
            "gold:\n  sentiment: negative\n  trajectory: stable\n  risk_flags:\n"
            "    - {type: budget_cuts, speaker_role: customer}\n  rationale: why\n",
        ),
        (  # block-style items at the key's own indent, and a multi-line rationale
            "gold:\n  sentiment: neutral\n  risk_flags:\n  - type: payment_issue\n"
            "    speaker_role: vendor\n  rationale: >-\n    long\n    text\n",
            ["risk_flags"],
            "gold:\n  sentiment: neutral\n  risk_flags:\n"
            "    - {type: budget_cuts, speaker_role: customer}\n"
            "  rationale: >-\n    long\n    text\n",
        ),
        (  # a missing key goes before the rationale
            "gold:\n  sentiment: neutral\n  rationale: why\n",
            ["risk_flags"],
            "gold:\n  sentiment: neutral\n  risk_flags:\n"
            "    - {type: budget_cuts, speaker_role: customer}\n  rationale: why\n",
        ),
        (  # no rationale: at the end of the block, before its blank lines and the next key
            "gold:\n  sentiment: neutral\n\nextra: 1\n",
            ["intents", "risk_flags"],
            "gold:\n  sentiment: neutral\n  intents: []\n  risk_flags:\n"
            "    - {type: budget_cuts, speaker_role: customer}\n\nextra: 1\n",
        ),
        (  # four-space indent, comments kept, no newline at the end of the file
            "gold:   # labels\n    sentiment: neutral  # hmm\n    # a note\n    risk_flags: []",
            ["risk_flags"],
            "gold:   # labels\n    sentiment: neutral  # hmm\n    # a note\n    risk_flags:\n"
            "      - {type: budget_cuts, speaker_role: customer}\n",
        ),
    ],
)
def test_only_the_changed_keys_are_rewritten(
    gold_block: str, keys: list[str], expected_block: str
) -> None:
    rewritten = rewrite_gold_block(HEAD + gold_block, NEW_GOLD, keys)
    assert rewritten == HEAD + expected_block
    gold = yaml.safe_load(rewritten)["gold"]
    for key in keys:
        assert gold[key] == NEW_GOLD[key]


def test_a_file_without_a_block_gold_key_is_refused() -> None:
    with pytest.raises(ReviewError):
        rewrite_gold_block(HEAD + "gold: {sentiment: neutral}\n", NEW_GOLD, ["sentiment"])
    with pytest.raises(ReviewError):
        rewrite_gold_block(HEAD, NEW_GOLD, ["sentiment"])


def _decision(id_: int, kind: str, label: str, labels: list[dict[str, str]]) -> ReviewDecision:
    return ReviewDecision(
        id=id_,
        report="r",
        case_id="c",
        extractor="e",
        kind=kind,
        label=label,
        disagreement="model_only",
        decision="edit",
        labels=labels,
        reviewer="Ada",
    )


def test_decisions_apply_in_the_order_they_were_taken() -> None:
    gold = {"sentiment": "neutral", "risk_flags": [{"type": "budget_cuts"}], "intents": []}
    downgrade = {"type": "downgrade_or_seat_reduction", "speaker_role": "customer"}
    decisions = [
        _decision(2, "risk_flags", "downgrade_or_seat_reduction", []),  # later: removes it
        _decision(1, "risk_flags", "budget_cuts", [downgrade]),  # budget cuts → a downgrade
        _decision(3, "sentiment", "sentiment", [{"type": "negative"}]),
    ]
    assert apply_to_gold(gold, decisions) == {
        "sentiment": "negative",
        "risk_flags": [],
        "intents": [],
    }
    assert apply_to_gold(gold, decisions[1:]) == {
        "sentiment": "negative",
        "risk_flags": [downgrade],
        "intents": [],
    }


def test_the_newest_report_is_found_by_its_dated_name(tmp_path: Path) -> None:
    with pytest.raises(ReviewError, match="convsignal eval run"):
        newest_report(tmp_path)
    for stem in ("signals-2026-11-25-235959", "signals-2026-11-26-000001", "other"):
        (tmp_path / f"{stem}.json").write_text("{}", encoding="utf-8")
    assert newest_report(tmp_path).name == "signals-2026-11-26-000001.json"


def test_a_report_that_is_no_report_is_named_with_the_field(tmp_path: Path) -> None:
    path = tmp_path / "signals-x.json"
    path.write_text('{"cases": [{"id": "a"}]}', encoding="utf-8")
    with pytest.raises(ReviewError, match=r"signals-x\.json: field 'cases\.0\.gold'"):
        load_report(path)
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ReviewError, match="not an eval report"):
        load_report(path)
