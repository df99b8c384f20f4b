"""Behaviour of the offline lexicon extractor, from tables of natural sentences."""

from __future__ import annotations

import hashlib
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convsignal.domain import (
    Channel,
    ExpansionSignal,
    ExtractedSignal,
    Intent,
    RiskFlag,
    Role,
    ScrubbedConversation,
    ScrubbedTurn,
    SentimentLabel,
    SignalKind,
    SourceLocator,
    Trajectory,
)
from convsignal.errors import ConfigError
from convsignal.extract.lexicon import LexiconExtractor, default_patterns_path
from convsignal.extract.schema import EVIDENCE_MAX_CHARS

CUSTOMER, VENDOR, UNKNOWN = Role.CUSTOMER, Role.VENDOR, Role.UNKNOWN
RISK, INTENT, EXPANSION = SignalKind.RISK_FLAG, SignalKind.INTENT, SignalKind.EXPANSION_SIGNAL
ENUM_OF_KIND = {RISK: RiskFlag, INTENT: Intent, EXPANSION: ExpansionSignal}


def conversation(*turns: tuple[str, Role]) -> ScrubbedConversation:
    scrubbed = tuple(
        ScrubbedTurn(speaker=f"<{role.value.upper()}_{i}>", text=text, role=role)
        for i, (text, role) in enumerate(turns, start=1)
    )
    return ScrubbedConversation(
        source_id="call-1",
        account_id="acct-1",
        channel=Channel.CALL,
        occurred_at=datetime(2024, 5, 1, tzinfo=UTC),
        content_hash="0" * 64,
        turns=scrubbed,
        locator=SourceLocator(format="test", file="test.json"),
        participant_roles=tuple(role for _, role in turns),
    )


@pytest.fixture(scope="module")
def extractor() -> LexiconExtractor:
    return LexiconExtractor()


def signals_of(extractor: LexiconExtractor, *turns: tuple[str, Role]) -> list[ExtractedSignal]:
    return list(extractor.extract(conversation(*turns)).signals)


def found(signals: list[ExtractedSignal], kind: SignalKind, signal_type: str) -> bool:
    return any(s.kind is kind and s.signal_type == signal_type for s in signals)


C, V = CUSTOMER, VENDOR
R, N, X = RISK, INTENT, EXPANSION

DETECTED = [
    # risk flags
    ("My last day is the 30th, I'm handing over to <PERSON_2>.", C, (R, "champion_leaving")),
    ("<CUSTOMER_1> is leaving the company next month.", C, (R, "champion_leaving")),
    ("I'm moving on to a new role in August.", C, (R, "champion_leaving")),
    ("We're currently piloting Amplitude.", C, (R, "evaluating_alternatives")),
    ("No, we are evaluating Mixpanel.", C, (R, "evaluating_alternatives")),
    ("Procurement wants us to run an RFP.", C, (R, "evaluating_alternatives")),
    ("Did you say you're trialling Heap?", V, (R, "evaluating_alternatives")),
    ("Our budget was cut by 30% for next year.", C, (R, "budget_cuts")),
    ("There's a spending freeze until Q3.", C, (R, "budget_cuts")),
    ("We were acquired by a larger group in May.", C, (R, "merger_or_acquisition")),
    ("After the merger we're consolidating vendors.", C, (R, "merger_or_acquisition")),
    ("We need to reduce our seat count to 40.", C, (R, "downgrade_or_seat_reduction")),
    ("We'd like to downgrade to the starter plan.", C, (R, "downgrade_or_seat_reduction")),
    ("We will not be renewing in June.", C, (R, "cancellation_intent")),
    ("Legal wants to terminate the contract early.", C, (R, "cancellation_intent")),
    ("I'm going to escalate this to our CTO today.", C, (R, "executive_escalation")),
    ("The new report builder is so clunky.", C, (R, "product_frustration")),
    ("Honestly, the team is frustrated with the editor.", C, (R, "product_frustration")),
    ("The dashboards were down for hours yesterday.", C, (R, "service_reliability")),
    ("The data is late again this morning.", C, (R, "service_reliability")),
    ("Finance says our card was declined.", C, (R, "payment_issue")),
    ("The March invoice is now 60 days overdue.", C, (R, "payment_issue")),
    ("We need to renegotiate the terms first.", C, (R, "contract_renegotiation")),
    ("Our security team needs your SOC 2 report.", C, (R, "security_or_compliance_concern")),
    ("We have data residency questions.", C, (R, "security_or_compliance_concern")),
    # intents
    ("We definitely plan to renew next year.", C, (N, "planning_to_renew")),
    ("We'd like to expand our usage to more teams.", C, (N, "expansion_interest")),
    ("We're evaluating other vendors.", C, (N, "evaluating_alternatives")),
    ("Is there any flexibility on the price?", C, (N, "requesting_discount")),
    ("Could you offer us a discount?", C, (N, "requesting_discount")),
    ("Honestly we're thinking about cancelling.", C, (N, "considering_cancellation")),
    ("Can you help me set up the Salesforce export?", C, (N, "seeking_help")),
    ("How do we share a dashboard with a contractor?", C, (N, "seeking_help")),
    ("It would be great if funnels had custom events.", C, (N, "feature_request")),
    ("Could you add a dark mode?", C, (N, "feature_request")),
    # expansion signals
    ("We want to add 20 more seats next month.", C, (X, "additional_seats")),
    ("We plan to roll it out to the marketing team.", C, (X, "new_team_or_department")),
    ("We've found a new use case in support analytics.", C, (X, "new_use_case")),
    ("We're thinking about upgrading to the enterprise plan.", C, (X, "upgrade_tier")),
    ("We're opening a new office in Singapore.", C, (X, "new_region")),
    ("We are expanding into APAC next year.", C, (X, "new_region")),
]


@pytest.mark.parametrize(("text", "role", "expected"), DETECTED)
def test_detects(
    extractor: LexiconExtractor, text: str, role: Role, expected: tuple[SignalKind, str]
) -> None:
    kind, signal_type = expected
    matches = [
        s
        for s in signals_of(extractor, (text, role))
        if s.kind is kind and s.signal_type == signal_type
    ]
    assert len(matches) == 1
    assert matches[0].speaker_role is role
    assert matches[0].evidence
    assert matches[0].evidence in text


def test_table_covers_every_type() -> None:
    covered = {(kind, signal_type) for _, _, (kind, signal_type) in DETECTED}
    every = {(kind, member.value) for kind, enum in ENUM_OF_KIND.items() for member in enum}
    assert every - covered == set()


def test_shipped_patterns_cover_every_type(extractor: LexiconExtractor) -> None:
    shipped = {(p.kind, p.signal_type) for p in extractor.patterns}
    every = {(kind, member.value) for kind, enum in ENUM_OF_KIND.items() for member in enum}
    assert shipped == every
    assert all(0.5 <= p.confidence <= 0.9 for p in extractor.patterns)


NOT_DETECTED = [
    ("We are NOT looking at other vendors.", C, (R, "evaluating_alternatives")),
    ("We are NOT looking at other vendors.", C, (N, "evaluating_alternatives")),
    ("We aren't evaluating Mixpanel or anyone else.", C, (R, "evaluating_alternatives")),
    ("We have never had an outage with you.", C, (R, "service_reliability")),
    ("There was no budget freeze this year.", C, (R, "budget_cuts")),
    ("We don't plan to cancel.", C, (N, "considering_cancellation")),
    ("If budgets were cut we would have to reduce scope.", C, (R, "budget_cuts")),
    ("In case the invoice is overdue, just ping me.", C, (R, "payment_issue")),
    ("Even if we were to downgrade, they'd push back.", C, (R, "downgrade_or_seat_reduction")),
    ("I'm leaving for lunch, talk later.", C, (R, "champion_leaving")),
    ("We track churn in the churn dashboard.", C, (R, "cancellation_intent")),
    ("Our acquisition funnel dashboard looks great.", C, (R, "merger_or_acquisition")),
    ("We had a heap of meetings this week.", C, (R, "evaluating_alternatives")),
]


@pytest.mark.parametrize(("text", "role", "unexpected"), NOT_DETECTED)
def test_negated_hypothetical_and_lookalike_sentences_are_skipped(
    extractor: LexiconExtractor, text: str, role: Role, unexpected: tuple[SignalKind, str]
) -> None:
    assert not found(signals_of(extractor, (text, role)), *unexpected)


def test_vendor_side_risk_is_weaker_than_customer_side(extractor: LexiconExtractor) -> None:
    text = "We're piloting Mixpanel with the growth team."
    risk = {
        s.speaker_role: s
        for s in signals_of(extractor, (text, CUSTOMER), (text, VENDOR))
        if s.signal_type == "evaluating_alternatives" and s.kind is RISK
    }
    assert set(risk) == {CUSTOMER, VENDOR}
    assert risk[VENDOR].confidence < risk[CUSTOMER].confidence
    assert risk[VENDOR].confidence == pytest.approx(risk[CUSTOMER].confidence * 0.6, abs=1e-3)


def test_one_signal_per_type_and_role_keeps_the_strongest(extractor: LexiconExtractor) -> None:
    weaker, stronger = "We're looking at alternatives.", "We're piloting Amplitude now."
    alone = [
        next(s for s in signals_of(extractor, (t, CUSTOMER)) if s.kind is RISK)
        for t in (weaker, stronger)
    ]
    assert alone[0].confidence != alone[1].confidence
    best = max(alone, key=lambda s: s.confidence)
    for order in ((weaker, stronger), (stronger, weaker)):
        turns = [(text, CUSTOMER) for text in order]
        assert [s for s in signals_of(extractor, *turns) if s.kind is RISK] == [best]


def test_evidence_is_the_matched_sentence(extractor: LexiconExtractor) -> None:
    turn = "Hello there. Our budget was cut in half. Anyway, thanks!"
    (budget,) = [
        s for s in signals_of(extractor, (turn, CUSTOMER)) if s.signal_type == "budget_cuts"
    ]
    assert budget.evidence == "Our budget was cut in half."


def test_evidence_never_exceeds_the_limit(extractor: LexiconExtractor) -> None:
    filler = " ".join(["blah"] * 150)
    turn = f"{filler} and we are piloting Mixpanel right now {filler}."
    signals = signals_of(extractor, (turn, CUSTOMER))
    (risk,) = [s for s in signals if s.kind is RISK]
    assert len(risk.evidence) <= EVIDENCE_MAX_CHARS < len(turn)
    assert "piloting Mixpanel" in risk.evidence
    assert all(len(s.evidence) <= EVIDENCE_MAX_CHARS for s in signals)


POSITIVE_TEXT = "This is fantastic, the team loves it. Thank you so much!"
NEGATIVE_TEXT = "This is terrible. The product is awful and we are very unhappy."
GOOD, BAD = "Great, thanks, that is wonderful!", "This is awful and broken."
SENTIMENT = [
    ([(POSITIVE_TEXT, C)], SentimentLabel.POSITIVE),
    ([("The meeting is on Tuesday at three.", C)], SentimentLabel.NEUTRAL),
    ([(NEGATIVE_TEXT, C)], SentimentLabel.NEGATIVE),
    ([(NEGATIVE_TEXT + " I will escalate this to our CEO.", C)], SentimentLabel.ESCALATING),
    (
        [("We spoke last week.", C), ("The call is on Monday.", C), (NEGATIVE_TEXT, C), (BAD, C)],
        SentimentLabel.ESCALATING,
    ),
    ([(POSITIVE_TEXT, V), (NEGATIVE_TEXT, C)], SentimentLabel.NEGATIVE),
]


@pytest.mark.parametrize(("turns", "expected"), SENTIMENT)
def test_sentiment_label(
    extractor: LexiconExtractor, turns: list[tuple[str, Role]], expected: SentimentLabel
) -> None:
    (sentiment,) = [s for s in signals_of(extractor, *turns) if s.kind is SignalKind.SENTIMENT]
    assert sentiment.signal_type == expected.value
    assert sentiment.speaker_role is CUSTOMER
    assert sentiment.evidence == ""
    assert -1.0 <= sentiment.score <= 1.0


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        ([BAD, "Meh.", "OK.", GOOD], Trajectory.IMPROVING),
        ([GOOD, "OK.", "Meh.", BAD], Trajectory.DECLINING),
        (["The call is on Monday.", "We use the dashboards weekly."], Trajectory.STABLE),
        ([GOOD], Trajectory.STABLE),
    ],
)
def test_sentiment_trajectory(
    extractor: LexiconExtractor, texts: list[str], expected: Trajectory
) -> None:
    summary = extractor.analyze(conversation(*[(t, CUSTOMER) for t in texts])).sentiment
    assert summary is not None
    assert summary.trajectory is expected


@pytest.mark.parametrize(
    ("turns", "role", "confidence"),
    [
        ([("Fine.", CUSTOMER)], CUSTOMER, 0.5),
        ([("Fine.", CUSTOMER)] * 3 + [("Fine.", VENDOR)], CUSTOMER, 0.7),
        ([("Fine.", CUSTOMER)] * 8, CUSTOMER, 0.9),
        ([("Thanks, this is great.", VENDOR)], UNKNOWN, 0.4),
    ],
)
def test_sentiment_role_and_confidence(
    extractor: LexiconExtractor, turns: list[tuple[str, Role]], role: Role, confidence: float
) -> None:
    (sentiment,) = [s for s in signals_of(extractor, *turns) if s.kind is SignalKind.SENTIMENT]
    assert sentiment.speaker_role is role
    assert sentiment.confidence == pytest.approx(confidence)


def test_empty_conversation_has_no_signals(extractor: LexiconExtractor) -> None:
    assert signals_of(extractor) == []


def test_output_is_deterministic_and_sorted(extractor: LexiconExtractor) -> None:
    turns = [(text, role) for text, role, _ in DETECTED]
    first = extractor.extract(conversation(*turns))
    second = LexiconExtractor().extract(conversation(*turns))
    assert first == second
    keys = [(s.kind.value, s.signal_type, s.speaker_role.value) for s in first.signals]
    assert keys == sorted(keys)
    assert len(keys) == len(set(keys))
    assert first.extractor_id == "lexicon"
    assert first.prompt_version == extractor.prompt_version


def test_prompt_version_follows_the_patterns_file(tmp_path: Path) -> None:
    copy = tmp_path / "patterns.yaml"
    shutil.copyfile(default_patterns_path(), copy)
    original = LexiconExtractor(copy).prompt_version
    assert original == LexiconExtractor().prompt_version
    assert original.startswith(hashlib.sha256(copy.read_bytes()).hexdigest()[:12])
    copy.write_bytes(copy.read_bytes() + b"\n# one more comment\n")
    assert LexiconExtractor(copy).prompt_version != original


def one_pattern(section: str, signal_type: str, pattern: str, confidence: float = 0.7) -> str:
    return (
        f"{section}:\n  {signal_type}:\n    - {{pattern: '{pattern}', confidence: {confidence}}}\n"
    )


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (one_pattern("risk_flags", "customer_is_sad", "sad"), "customer_is_sad"),
        (one_pattern("intents", "buy_lunch", "lunch"), "buy_lunch"),
        (one_pattern("expansion_signals", "budget_cuts", "cut"), "budget_cuts"),
        ("moods: {}\n", "moods"),
        ("risk_flags: [unclosed\n", "YAML"),
        ("", "mapping"),
        (one_pattern("risk_flags", "budget_cuts", "(unclosed"), "regular expression"),
        (one_pattern("risk_flags", "budget_cuts", "cut", 1.5), "confidence"),
        (one_pattern("risk_flags", "budget_cuts", "{NOPE} cut"), "NOPE"),
        ("risk_flags:\n  budget_cuts: []\n", "budget_cuts"),
    ],
)
def test_bad_patterns_file_raises_config_error_naming_it(
    tmp_path: Path, content: str, named: str
) -> None:
    path = tmp_path / "bad_patterns.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        LexiconExtractor(path)
    assert str(path) in str(raised.value)
    assert named in str(raised.value)


def test_missing_patterns_file_raises_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(ConfigError, match=r"nowhere\.yaml"):
        LexiconExtractor(path)


def test_default_patterns_path_exists() -> None:
    assert default_patterns_path().is_file()


def test_default_patterns_path_prefers_the_wheel_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "_prompts" / "lexicon" / "patterns.yaml"
    shipped.parent.mkdir(parents=True)
    shutil.copyfile(default_patterns_path(), shipped)
    import convsignal.extract.prompts as prompts_module

    monkeypatch.setattr(prompts_module, "files", lambda package: tmp_path)
    assert default_patterns_path() == shipped  # the lexicon and the LLM prompt share it


PHRASES = st.sampled_from([text for text, _, _ in DETECTED + NOT_DETECTED])


@settings(max_examples=150, deadline=None)
@given(
    turns=st.lists(
        st.tuples(st.text(max_size=300) | PHRASES, st.sampled_from(list(Role))), max_size=5
    )
)
def test_any_text_gives_valid_signals(
    extractor: LexiconExtractor, turns: list[tuple[str, Role]]
) -> None:
    result = extractor.extract(conversation(*turns))
    for signal in result.signals:
        if signal.kind is SignalKind.SENTIMENT:
            SentimentLabel(signal.signal_type)
            assert -1.0 <= signal.score <= 1.0
        else:
            ENUM_OF_KIND[signal.kind](signal.signal_type)
        assert 0.0 <= signal.confidence <= 1.0
        assert len(signal.evidence) <= EVIDENCE_MAX_CHARS
