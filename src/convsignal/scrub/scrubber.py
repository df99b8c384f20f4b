"""Turn a `Conversation` into a `ScrubbedConversation`.

Order of work, and why:
1. Known people first. Participant names (full, first and last) and emails from the export's
   metadata are replaced by side-carrying placeholders (`<CUSTOMER_1>`, `<VENDOR_1>`) before
   any model looks at the text: NER misses first-name-only mentions, a deny-list does not.
2. Presidio (spaCy NER + pattern recognizers) on the rest, in chunks of whole turns so spaCy
   runs once per chunk, not once per line. Hits inside placeholders or on allow-listed
   business names (vendors, competitors, the account's own name) are dropped: "we are
   evaluating Gainsight" must survive.
3. presidio-anonymizer replaces what remains with placeholders that are stable within the
   conversation: the same phone number is `<PHONE_NUMBER_1>` every time.

The raw text lives only in the arguments of `scrub`; nothing here logs it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from convsignal.domain import (
    Conversation,
    Participant,
    Role,
    ScrubbedConversation,
    ScrubbedTurn,
)
from convsignal.errors import ScrubError
from convsignal.scrub.engine import ENTITIES, build_analyzer, build_anonymizer

PLACEHOLDER_RE = re.compile(r"<[A-Z][A-Z_]*_\d+>")
CHUNK_CHARS = 20_000
_ROLE_PREFIX = {Role.CUSTOMER: "CUSTOMER", Role.VENDOR: "VENDOR", Role.UNKNOWN: "PERSON"}
_MIN_NAME_PART = 3  # "Al" or "Jo" alone would match too many ordinary words


class Placeholders:
    """Per-conversation map from a PII value to its placeholder; numbering per prefix."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], str] = {}
        self._counts: Counter[str] = Counter()

    def get(self, prefix: str, value: str) -> str:
        key = (prefix, _normalise(value))
        if key not in self._by_key:
            self._counts[prefix] += 1
            self._by_key[key] = f"<{prefix}_{self._counts[prefix]}>"
        return self._by_key[key]


def _normalise(value: str) -> str:
    return " ".join(value.lower().split())


@dataclass(frozen=True, slots=True)
class _KnownTerms:
    pattern: re.Pattern[str] | None
    placeholder_of: dict[str, str]  # normalised term → placeholder
    speaker_of: dict[str, str]  # participant name → placeholder


def _known_terms(participants: Sequence[Participant], placeholders: Placeholders) -> _KnownTerms:
    placeholder_of: dict[str, str] = {}
    speaker_of: dict[str, str] = {}
    for person in participants:
        placeholder = placeholders.get(_ROLE_PREFIX[person.role], person.name)
        speaker_of[person.name] = placeholder
        terms = [person.name, *person.name.replace("-", " ").split()]
        if person.email:
            terms += [person.email, person.email.split("@", 1)[0]]
        for term in terms:
            if len(term) >= _MIN_NAME_PART:
                placeholder_of.setdefault(_normalise(term), placeholder)
    if not placeholder_of:
        return _KnownTerms(None, {}, speaker_of)
    alternation = "|".join(
        re.escape(term) for term in sorted(placeholder_of, key=len, reverse=True)
    )
    pattern = re.compile(rf"(?<![\w@.])(?:{alternation})(?![\w@])", re.IGNORECASE)
    return _KnownTerms(pattern, placeholder_of, speaker_of)


class Scrubber:
    """Scrubs conversations; one instance per process (the spaCy model loads once)."""

    def __init__(self, *, spacy_model: str, allow_list: Iterable[str] = ()) -> None:
        self._analyzer = build_analyzer(spacy_model)
        self._anonymizer = build_anonymizer()
        self._allow = {_normalise(name) for name in allow_list}

    def scrub(
        self, conversation: Conversation, *, extra_allow: Iterable[str] = ()
    ) -> ScrubbedConversation:
        try:
            return self._scrub(conversation, extra_allow)
        except ScrubError:
            raise
        except Exception as exc:  # a scrubbing failure must never let text through
            raise ScrubError(
                f"{conversation.locator}: scrubbing failed ({type(exc).__name__})"
            ) from None

    def _scrub(
        self, conversation: Conversation, extra_allow: Iterable[str]
    ) -> ScrubbedConversation:
        placeholders = Placeholders()
        participants = list(conversation.participants)
        named = {p.name for p in participants}
        for turn in conversation.turns:  # speakers missing from the metadata are people too
            if turn.speaker not in named:
                named.add(turn.speaker)
                participants.append(Participant(name=turn.speaker, role=turn.role))
        known = _known_terms(participants, placeholders)
        allow = self._allow | {_normalise(name) for name in extra_allow}
        if conversation.account_name:  # the customer's company name is business context
            name = _normalise(conversation.account_name)
            allow |= {name, *(word for word in name.split() if len(word) >= _MIN_NAME_PART)}
        counts: Counter[str] = Counter()

        def replace_known(text: str) -> str:
            if known.pattern is None:
                return text

            def substitute(match: re.Match[str]) -> str:
                counts["KNOWN_PARTICIPANT"] += 1
                return known.placeholder_of[_normalise(match.group(0))]

            return known.pattern.sub(substitute, text)

        texts = [replace_known(turn.text) for turn in conversation.turns]
        subject = replace_known(conversation.subject) if conversation.subject else None
        if subject is not None:
            texts.append(subject)
        scrubbed = self._scrub_texts(texts, placeholders, allow, counts)
        scrubbed_subject = scrubbed.pop() if subject is not None else None

        turns = tuple(
            ScrubbedTurn(
                speaker=known.speaker_of.get(turn.speaker, "<PERSON_0>"),
                text=text,
                role=turn.role,
                start_seconds=turn.start_seconds,
            )
            for turn, text in zip(conversation.turns, scrubbed, strict=True)
        )
        return ScrubbedConversation(
            source_id=conversation.source_id,
            account_id=conversation.account_id,
            channel=conversation.channel,
            occurred_at=conversation.occurred_at,
            content_hash=conversation.content_hash,
            turns=turns,
            locator=conversation.locator,
            participant_roles=tuple(p.role for p in participants),
            subject=scrubbed_subject,
            account_name=conversation.account_name,
            pii_found=dict(counts),
        )

    def rescan(self, text: str) -> tuple[str, int]:
        """Scrub a string an extractor produced (evidence, summary) before it is stored.

        Returns the scrubbed string and how many PII items were redacted.
        """
        if not text:
            return text, 0
        counts: Counter[str] = Counter()
        (clean,) = self._scrub_texts([text], Placeholders(), self._allow, counts)
        return clean, sum(counts.values())

    def _scrub_texts(
        self,
        texts: list[str],
        placeholders: Placeholders,
        allow: set[str],
        counts: Counter[str],
    ) -> list[str]:
        out: list[str] = []
        for chunk in _chunks(texts, CHUNK_CHARS):
            joined = "\n".join(chunk)
            results = self._analyzer.analyze(text=joined, language="en", entities=list(ENTITIES))
            offset = 0
            for text in chunk:
                end = offset + len(text)
                mine = [
                    _shift(r, -offset, len(text))
                    for r in results
                    if r.start < end and r.end > offset
                ]
                out.append(self._anonymize(text, mine, placeholders, allow, counts))
                offset = end + 1
        return out

    def _anonymize(
        self,
        text: str,
        results: list[Any],
        placeholders: Placeholders,
        allow: set[str],
        counts: Counter[str],
    ) -> str:
        protected = [(m.start(), m.end()) for m in PLACEHOLDER_RE.finditer(text)]
        kept = [
            r
            for r in results
            if not any(r.start < end and r.end > start for start, end in protected)
            and not _allowed(text[r.start : r.end], allow)
        ]
        if not kept:
            return text
        from presidio_anonymizer.entities import OperatorConfig

        def operator(entity: str) -> Any:
            def replace(value: str) -> str:
                counts[entity] += 1
                return placeholders.get(entity, value)

            return OperatorConfig("custom", {"lambda": replace})

        operators = {entity: operator(entity) for entity in {r.entity_type for r in kept}}
        result = self._anonymizer.anonymize(text=text, analyzer_results=kept, operators=operators)
        return str(result.text)


def _allowed(span: str, allow: set[str]) -> bool:
    words = _normalise(span).strip(" .,;:!?'\"()").removeprefix("the ")
    if words in allow:
        return True
    parts = words.split()
    return bool(parts) and all(part.strip(".,'s") in allow for part in parts)


def _shift(result: Any, delta: int, length: int) -> Any:
    from presidio_analyzer import RecognizerResult

    return RecognizerResult(
        entity_type=result.entity_type,
        start=max(0, result.start + delta),
        end=min(length, result.end + delta),
        score=result.score,
    )


def _chunks(texts: list[str], limit: int) -> Iterable[list[str]]:
    chunk: list[str] = []
    size = 0
    for text in texts:
        if chunk and size + len(text) > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(text)
        size += len(text) + 1
    if chunk:
        yield chunk
