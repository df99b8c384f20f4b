"""Part A of the labelled extraction set (calls and chats): it loads, it is large enough, it
exercises every label and every hard case, its golds obey the labelling rules
(eval/signals/LABELLING.md) that the loader cannot check, and the generated long calls are
exactly what eval/signals/make_long_calls.py writes."""

from __future__ import annotations

import functools
import importlib.util
import re
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from convsignal.domain import (
    Channel,
    ExpansionSignal,
    Intent,
    RiskFlag,
    Role,
    SentimentLabel,
    Trajectory,
)
from convsignal.evaluation.signal_dataset import LabelledCase, load_cases

SIGNALS_DIR = Path(__file__).parents[2] / "eval" / "signals"
CASES_DIR = SIGNALS_DIR / "cases"
PART_A_PREFIXES = ("call-", "chat-")
MIN_CALLS = 60
MIN_CHATS = 20
MIN_PER_LABEL = 3
HARD_CASE_QUOTAS = {
    "negation": 5,
    "sarcasm": 4,
    "vendor_names_competitor": 4,
    "hypothetical": 5,
    "mixed_sentiment": 5,
    "one_line": 5,
    "prompt_injection": 4,
    "low_signal": 6,
    "long": 3,
}
ID_PATTERN = re.compile(r"^(call|chat)-[a-z]+(-[a-z]+)*-\d{3}$")
TWO_HOUR_CALL_WORDS = (15_000, 20_000)


@pytest.fixture(scope="module")
def cases() -> list[LabelledCase]:
    return [c for c in load_cases(CASES_DIR) if c.id.startswith(PART_A_PREFIXES)]


def gold_labels(case: LabelledCase) -> list[str]:
    """Every gold label of a case as `kind:value`, one entry per labelled item."""
    gold = case.gold
    return [
        f"sentiment:{gold.sentiment}",
        f"trajectory:{gold.trajectory}",
        *(f"intent:{item.type}" for item in gold.intents),
        *(f"risk:{item.type}" for item in gold.risk_flags),
        *(f"expansion:{item.type}" for item in gold.expansion_signals),
    ]


def on_side(case: LabelledCase, side: Role) -> tuple[set[str], set[str], set[str]]:
    gold = case.gold
    return (
        {i.type.value for i in gold.intents if i.speaker_role == side},
        {i.type.value for i in gold.risk_flags if i.speaker_role == side},
        {i.type.value for i in gold.expansion_signals if i.speaker_role == side},
    )


def word_count(case: LabelledCase) -> int:
    return sum(len(turn.text.split()) for turn in case.turns)


def test_ids_follow_the_part_a_scheme(cases: list[LabelledCase]) -> None:
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids))
    for case in cases:
        assert ID_PATTERN.match(case.id), case.id
        assert case.id.startswith(f"{case.channel}-{case.industry}-"), case.id


def test_enough_calls_and_chats(cases: list[LabelledCase]) -> None:
    channels = Counter(c.channel for c in cases)
    assert channels[Channel.CALL] >= MIN_CALLS
    assert channels[Channel.CHAT] >= MIN_CHATS
    assert set(channels) == {Channel.CALL, Channel.CHAT}


def test_many_industries(cases: list[LabelledCase]) -> None:
    assert len({c.industry for c in cases}) >= 15


@pytest.mark.parametrize(
    "label",
    [
        *(f"sentiment:{v}" for v in SentimentLabel),
        *(f"trajectory:{v}" for v in Trajectory),
        *(f"intent:{v}" for v in Intent),
        *(f"risk:{v}" for v in RiskFlag),
        *(f"expansion:{v}" for v in ExpansionSignal),
    ],
)
def test_every_label_appears_at_least_three_times(cases: list[LabelledCase], label: str) -> None:
    counts = Counter(label for case in cases for label in gold_labels(case))
    assert counts[label] >= MIN_PER_LABEL, f"{label}: {counts[label]}"


def test_vendor_spoken_items_exist(cases: list[LabelledCase]) -> None:
    vendor_items = [
        item
        for case in cases
        for item in (*case.gold.intents, *case.gold.risk_flags, *case.gold.expansion_signals)
        if item.speaker_role == Role.VENDOR
    ]
    assert len(vendor_items) >= 5


@pytest.mark.parametrize(("tag", "quota"), sorted(HARD_CASE_QUOTAS.items()))
def test_hard_case_quota(cases: list[LabelledCase], tag: str, quota: int) -> None:
    assert sum(tag in c.tags for c in cases) >= quota


def test_tagged_share_is_a_minority_to_about_half(cases: list[LabelledCase]) -> None:
    tagged = sum(bool(set(c.tags) - {"long"}) for c in cases)
    assert 0.3 <= tagged / len(cases) <= 0.6


def test_all_emails_use_example_domains(cases: list[LabelledCase]) -> None:
    for case in cases:
        for person in case.participants:
            if person.email is not None:
                assert person.email.endswith(".example"), (case.id, person.email)
        for turn in case.turns:
            for address in re.findall(r"[\w.+-]+@[\w.-]+", turn.text):
                assert address.endswith(".example"), (case.id, address)


def test_speakers_have_a_known_side(cases: list[LabelledCase]) -> None:
    for case in cases:
        roles = {p.role for p in case.participants}
        assert Role.CUSTOMER in roles, case.id
        assert Role.VENDOR in roles, case.id
        assert not any(t.internal for t in case.turns), case.id


def test_each_type_at_most_once_per_side(cases: list[LabelledCase]) -> None:
    for case in cases:
        gold = case.gold
        for items in (gold.intents, gold.risk_flags, gold.expansion_signals):
            keys = [(i.type, i.speaker_role) for i in items]
            assert len(keys) == len(set(keys)), case.id


def test_pairs_are_labelled_together(cases: list[LabelledCase]) -> None:
    for case in cases:
        intents, risks, expansions = on_side(case, Role.CUSTOMER)
        assert ("evaluating_alternatives" in intents) == ("evaluating_alternatives" in risks), (
            case.id
        )
        assert ("considering_cancellation" in intents) == ("cancellation_intent" in risks), case.id
        assert ("expansion_interest" in intents) == bool(expansions), case.id


def test_low_signal_cases_have_no_items(cases: list[LabelledCase]) -> None:
    for case in cases:
        if "low_signal" in case.tags:
            assert case.gold.sentiment == SentimentLabel.NEUTRAL, case.id
            assert case.gold.trajectory == Trajectory.STABLE, case.id
            assert gold_labels(case) == ["sentiment:neutral", "trajectory:stable"], case.id


def test_one_line_cases_are_one_line(cases: list[LabelledCase]) -> None:
    for case in cases:
        if "one_line" in case.tags:
            assert len(case.turns) == 1, case.id
            assert "\n" not in case.turns[0].text.strip(), case.id


def test_hard_cases_explain_themselves(cases: list[LabelledCase]) -> None:
    for case in cases:
        assert len(case.gold.rationale.split()) >= 8, case.id


def test_labels_are_not_trivially_guessable(cases: list[LabelledCase]) -> None:
    def has(case: LabelledCase, label: str) -> bool:
        return label in gold_labels(case)

    negative_without_risk = [
        c for c in cases if c.gold.sentiment == SentimentLabel.NEGATIVE and not c.gold.risk_flags
    ]
    positive_with_request = [
        c
        for c in cases
        if c.gold.sentiment == SentimentLabel.POSITIVE and has(c, "intent:feature_request")
    ]
    positive_with_risk = [
        c for c in cases if c.gold.sentiment == SentimentLabel.POSITIVE and c.gold.risk_flags
    ]
    assert negative_without_risk
    assert positive_with_request
    assert positive_with_risk


@functools.cache
def _long_call_module() -> ModuleType:
    """The generator script, loaded as a module (dataclasses need it in sys.modules)."""
    spec = importlib.util.spec_from_file_location(
        "make_long_calls", SIGNALS_DIR / "make_long_calls.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_long_calls_are_the_committed_script_output() -> None:
    module = _long_call_module()
    module.check_filler()
    for call in module.CALLS:
        committed = (CASES_DIR / f"{call.id}.yaml").read_text(encoding="utf-8")
        assert committed == module.render(call), f"{call.id} is stale; re-run the script"


def test_long_calls_gold_is_exactly_the_planted_turns(cases: list[LabelledCase]) -> None:
    module = _long_call_module()
    by_id = {c.id: c for c in cases}
    for call in module.CALLS:
        case = by_id[call.id]
        planted = {p.text for p in call.planted}
        assert sum(turn.text in planted for turn in case.turns) == len(planted), call.id
        filler = [turn.text for turn in case.turns if turn.text not in planted]
        assert not [t for t in filler if module.BANNED_IN_FILLER.search(t)], call.id


def test_there_is_a_two_hour_call(cases: list[LabelledCase]) -> None:
    long_calls = [c for c in cases if "long" in c.tags]
    low, high = TWO_HOUR_CALL_WORDS
    assert any(low <= word_count(c) <= high for c in long_calls)
    assert all(word_count(c) >= 3_000 for c in long_calls)
