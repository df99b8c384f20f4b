"""The model-free recognizers, table-driven like presidio's recognizer tests: each case is a
text, how many hits, and the (start, end) expected."""

from __future__ import annotations

import pytest

from convsignal.domain import Participant, Role
from convsignal.scrub import patterns
from convsignal.scrub.detect import split_for_ner
from convsignal.scrub.people import KnownPeople, Placeholders


def spans(hits: object) -> list[tuple[int, int]]:
    return [(hit[0], hit[1]) for hit in hits]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Call me on +1 415 555 0134 please.", [(11, 26)]),
        ("Ring +44 20 7946 0958 after lunch.", [(5, 21)]),
        ("Büro: +49(0)4177 763170", [(6, 23)]),
        ("Mobile 0808 1570141, any time", [(7, 19)]),
        ("the desk line (0115)4960100.", [(14, 27)]),
        ("reach me at 001-214-917-7763x17066 today", [(12, 34)]),
        ("my number is 1128730971", [(13, 23)]),
        ("+33 (0)3 87 17 77 63", [(0, 20)]),
        # not phones: dates, IPs, SSNs, amounts, ids without phone context, card numbers
        ("renewal on 2026-11-30 and 12/01/2026", []),
        ("gateway 185.115.13.18 timed out", []),
        ("SSN 554-71-7805 in the export", []),
        ("we paid 1 200 000 last year", []),
        ("order 48392018 shipped", []),
        # a bare run valid as a number somewhere is scrubbed: recall first, as F2 weighs it
        ("order 4839201847 shipped", [(6, 16)]),
        ("card 4111 1111 1111 1111", []),
    ],
)
def test_phones(text: str, expected: list[tuple[int, int]]) -> None:
    assert spans(patterns.phones(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111 1111 1111 1111 was declined", [(0, 19)]),
        ("Mastercard 2223003122003222 ok", [(11, 27)]),
        ("amex 3497-431083-59246.", [(5, 22)]),
        ("4111 1111 1111 1112 fails Luhn", []),
        ("ticket 123456789012345", []),
    ],
)
def test_cards_need_luhn(text: str, expected: list[tuple[int, int]]) -> None:
    assert spans(patterns.cards(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail dana@northwind.example now", [(5, 27)]),
        ("o'brien+ops@firm.co.uk.", [(0, 22)]),
        ("no email here, just @mentions", []),
    ],
)
def test_emails_whatever_the_tld(text: str, expected: list[tuple[int, int]]) -> None:
    assert spans(patterns.emails(text)) == expected


@pytest.mark.parametrize(
    ("url", "personal"),
    [
        ("https://www.linkedin.com/in/dana-whitfield-42/", True),
        ("linkedin.com/in/danawhitfield", True),
        ("https://calendly.com/sam-patel/30min", True),
        ("https://github.com/danaw23", True),
        ("https://app.brightmetrics.io/users/4821/profile", True),
        ("https://app.brightmetrics.io/reset?email=dana@x.example", True),
        ("https://northwind.example/team/dana-whitfield", True),
        ("https://forum.example/~dana", True),
        ("docs.brightmetrics.io/guides/sso-setup", False),
        ("https://help.brightmetrics.io/articles/4412-connectors", False),
        ("https://app.brightmetrics.io/settings/integrations", False),
        ("https://github.com", False),
    ],
)
def test_personal_urls(url: str, personal: bool) -> None:
    assert patterns.is_personal_url(url) is personal


def test_bare_domains_are_not_url_candidates() -> None:
    assert list(patterns.urls("see brightmetrics.io or northwind.com for details")) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ship to 457 Burton Meadow Apt. 538. Thanks", [(8, 34)]),
        ("office: 742 Evergreen Terrace, Springfield, IL 62704.", [(8, 52)]),
        ("Studio 82, Roberts Street, Jennastad, WF7 6TW", [(0, 45)]),
        ("PO Box 4410 please", [(0, 11)]),
        ("We have 40 Active Users this week", []),
        ("Main Street is closed", []),
    ],
)
def test_street_addresses(text: str, expected: list[tuple[int, int]]) -> None:
    assert spans(patterns.street_addresses(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DOB 09/19/1961, card ending 4242", [(4, 14)]),
        ("date of birth for verification: 2005-11-06.", [(32, 42)]),
        ("I was born on March 14, 1987 in Leeds", [(14, 28)]),
        ("his birthday is 14 March 1987", [(16, 29)]),
        ("the renewal is due on 2026-11-30", []),
        ("born in a small town, joined on 2020-01-01", []),
        ("DOB? No. Renewal is 2026-01-01", []),
    ],
)
def test_dates_of_birth_need_context(text: str, expected: list[tuple[int, int]]) -> None:
    assert spans(patterns.dates_of_birth(text)) == expected


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Will said the numbers look fine", ["Will"]),
        ("we will renew next year", []),  # 'will' the verb is not Will Brown
        ("Brown approved it", ["Brown"]),
        ("the brown field", []),
        ("Zoe and zoë both", ["Zoe", "zoë"]),  # with or without the diacritic
        ("Lu joined; lunch later", ["Lu"]),  # two-letter name, capitalised only
        ("lu is not a name here", []),
        ("write to will.brown@northwind.example", ["will.brown@northwind.example"]),
        ("van der Berg and the van", ["Berg"]),  # particles are not names on their own
    ],
)
def test_known_people_matching(text: str, found: list[str]) -> None:
    people = [
        Participant("Will Brown", Role.CUSTOMER, "will.brown@northwind.example"),
        Participant("Zoë Lu", Role.VENDOR),
        Participant("Anke van der Berg", Role.CUSTOMER),
    ]
    known = KnownPeople.from_participants(people, Placeholders())
    assert [text[start:end] for start, end, _, _ in known.find(text)] == found


def test_split_for_ner_keeps_offsets_and_limits() -> None:
    text = ("A sentence about the renewal. " * 40 + "\n") * 300  # ~360 kB, newline every 1.2 kB
    pieces = list(split_for_ner(text, limit=2_000))
    assert all(len(piece) <= 2_000 for _, piece in pieces)
    assert all(text[offset : offset + len(piece)] == piece for offset, piece in pieces)
    assert "".join(piece for _, piece in pieces) == text
    one_line = "word " * 50_000  # no line break at all: cut at spaces
    assert all(
        len(p) <= 2_000 and (not p[0].isspace() or p == " ") for _, p in split_for_ner(one_line)
    )
