"""Part B of the labelled extraction set (emails and tickets): it loads, it is large enough,
it exercises every label and every hard case, and its golds obey the labelling rules
(eval/signals/LABELLING.md) that a loader cannot check."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

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
from convsignal.evaluation.signal_dataset import HARD_CASE_TAGS, LabelledCase, load_cases

CASES_DIR = Path(__file__).parents[2] / "eval" / "signals" / "cases"
PART_B_PREFIXES = ("email-", "ticket-")
MIN_EMAILS = 45
MIN_TICKETS = 35
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
    "internal_note": 3,
}


@pytest.fixture(scope="module")
def all_cases() -> list[LabelledCase]:
    return load_cases(CASES_DIR)


@pytest.fixture(scope="module")
def cases(all_cases: list[LabelledCase]) -> list[LabelledCase]:
    return [c for c in all_cases if c.id.startswith(PART_B_PREFIXES)]


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


def items_by_side(case: LabelledCase, side: Role) -> tuple[set[str], set[str], set[str]]:
    gold = case.gold
    return (
        {i.type for i in gold.intents if i.speaker_role == side},
        {i.type for i in gold.risk_flags if i.speaker_role == side},
        {i.type for i in gold.expansion_signals if i.speaker_role == side},
    )


def test_ids_are_unique_and_prefixed_by_channel(cases: list[LabelledCase]) -> None:
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids))
    for case in cases:
        assert case.id.startswith(f"{case.channel}-{case.industry}-"), case.id


def test_enough_emails_and_tickets(cases: list[LabelledCase]) -> None:
    channels = Counter(c.channel for c in cases)
    assert channels[Channel.EMAIL] >= MIN_EMAILS
    assert channels[Channel.TICKET] >= MIN_TICKETS
    assert set(channels) == {Channel.EMAIL, Channel.TICKET}


def test_every_label_appears_at_least_three_times(cases: list[LabelledCase]) -> None:
    counts = Counter(label for case in cases for label in gold_labels(case))
    expected = [
        *(f"sentiment:{v}" for v in SentimentLabel),
        *(f"trajectory:{v}" for v in Trajectory),
        *(f"intent:{v}" for v in Intent),
        *(f"risk:{v}" for v in RiskFlag),
        *(f"expansion:{v}" for v in ExpansionSignal),
    ]
    too_rare = {label: counts[label] for label in expected if counts[label] < MIN_PER_LABEL}
    assert not too_rare, f"labels with fewer than {MIN_PER_LABEL} gold positives: {too_rare}"


def test_both_sides_speak_labelled_items(cases: list[LabelledCase]) -> None:
    roles = Counter(
        item.speaker_role
        for c in cases
        for item in (*c.gold.intents, *c.gold.risk_flags, *c.gold.expansion_signals)
    )
    assert roles[Role.CUSTOMER] > 0
    assert roles[Role.VENDOR] >= MIN_PER_LABEL


@pytest.mark.parametrize(("tag", "quota"), sorted(HARD_CASE_QUOTAS.items()))
def test_hard_case_quota(cases: list[LabelledCase], tag: str, quota: int) -> None:
    assert tag in HARD_CASE_TAGS
    assert sum(tag in c.tags for c in cases) >= quota


def test_emails_use_reserved_example_domains(cases: list[LabelledCase]) -> None:
    real_looking = [
        (c.id, p.email)
        for c in cases
        for p in c.participants
        if p.email is not None and not p.email.endswith(".example")
    ]
    assert not real_looking


def test_pairs_are_labelled_together(cases: list[LabelledCase]) -> None:
    """LABELLING.md: alternatives and cancellation are labelled as intent and risk flag; a
    customer's expansion interest names at least one expansion signal."""
    broken: list[str] = []
    for case in cases:
        for side in (Role.CUSTOMER, Role.VENDOR):
            intents, risks, expansions = items_by_side(case, side)
            if (Intent.EVALUATING_ALTERNATIVES in intents) != (
                RiskFlag.EVALUATING_ALTERNATIVES in risks
            ):
                broken.append(f"{case.id}: evaluating_alternatives ({side})")
            if (Intent.CONSIDERING_CANCELLATION in intents) != (
                RiskFlag.CANCELLATION_INTENT in risks
            ):
                broken.append(f"{case.id}: cancellation ({side})")
            if Intent.EXPANSION_INTEREST in intents and not expansions:
                broken.append(f"{case.id}: expansion_interest without a signal ({side})")
    assert not broken


def test_each_type_at_most_once_per_side(cases: list[LabelledCase]) -> None:
    for case in cases:
        for items in (case.gold.intents, case.gold.risk_flags, case.gold.expansion_signals):
            keys = [(item.type, item.speaker_role) for item in items]
            assert len(keys) == len(set(keys)), case.id


def test_low_signal_cases_are_neutral_and_empty(cases: list[LabelledCase]) -> None:
    for case in (c for c in cases if "low_signal" in c.tags):
        gold = case.gold
        assert gold.sentiment == SentimentLabel.NEUTRAL, case.id
        assert gold.trajectory == Trajectory.STABLE, case.id
        assert not gold.intents, case.id
        assert not gold.risk_flags, case.id
        assert not gold.expansion_signals, case.id


def test_internal_notes_are_tagged_and_only_on_tickets(cases: list[LabelledCase]) -> None:
    for case in cases:
        has_internal_turn = any(turn.internal for turn in case.turns)
        assert has_internal_turn == ("internal_note" in case.tags), case.id
        if has_internal_turn:
            assert case.channel == Channel.TICKET, case.id


def test_one_line_cases_have_one_single_line_message(cases: list[LabelledCase]) -> None:
    for case in (c for c in cases if "one_line" in c.tags):
        assert len(case.turns) == 1, case.id
        assert "\n" not in case.turns[0].text.strip(), case.id


def test_every_hard_case_explains_itself(cases: list[LabelledCase]) -> None:
    unexplained = [c.id for c in cases if c.tags and len(c.gold.rationale.split()) < 8]
    assert not unexplained


def test_label_distribution_is_not_trivially_guessable(cases: list[LabelledCase]) -> None:
    """A bad mood does not imply a risk flag, and a feature request does not imply a bad mood."""
    negative = (SentimentLabel.NEGATIVE, SentimentLabel.ESCALATING)
    assert any(c.gold.sentiment in negative and not c.gold.risk_flags for c in cases)
    assert any(
        c.gold.sentiment == SentimentLabel.POSITIVE
        and any(i.type == Intent.FEATURE_REQUEST for i in c.gold.intents)
        for c in cases
    )
    assert any(c.gold.sentiment == SentimentLabel.POSITIVE and c.gold.risk_flags for c in cases)
