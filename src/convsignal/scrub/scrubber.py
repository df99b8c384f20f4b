"""Turn `Conversation`s into `ScrubbedConversation`s.

1. Known people first: participant names and emails from the export's metadata make a
   per-conversation deny-list, so first-name-only mentions never depend on a model.
2. Detection (`detect.py`): spaCy NER through `nlp.pipe` across the turns of many
   conversations at once, Presidio's validated recognizers (cards, IBANs, IPs, SSNs), our
   own (emails, international phones, personal URLs, street addresses, dates of birth,
   names from context cues), then every name found is looked for everywhere else.
   Allow-listed business names (vendors, competitors, the account's own name) are dropped.
3. The spans become placeholders that are stable within the conversation and carry the
   side (`<CUSTOMER_1>`, `<VENDOR_1>`, `<PERSON_2>`), in one linear pass per text.

The raw text lives only in the arguments; nothing here logs it, and an error never quotes it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from convsignal.domain import Conversation, Participant, ScrubbedConversation, ScrubbedTurn
from convsignal.errors import ScrubError
from convsignal.scrub.detect import Detector, Document, PiiSpan
from convsignal.scrub.people import MIN_NAME_PART, KnownPeople, Placeholders, normalise

BATCH_CHARS = 200_000
_GLUE = {
    "and",
    "of",
    "the",
    "&",
    "co",
    "inc",
    "llc",
    "ltd",
    "plc",
    "group",
}  # conversations scrubbed together share NER batches; bounds memory


@dataclass
class _Prepared:
    conversation: Conversation
    document: Document
    placeholders: Placeholders
    participants: list[Participant]


class Scrubber:
    """Scrubs conversations; one instance per process (the spaCy model loads once)."""

    def __init__(self, *, spacy_model: str, allow_list: Iterable[str] = ()) -> None:
        self._detector = Detector(spacy_model)
        self._allow = {normalise(name) for name in allow_list}

    def scrub(
        self, conversation: Conversation, *, extra_allow: Iterable[str] = ()
    ) -> ScrubbedConversation:
        (result,) = self.scrub_many([conversation], extra_allow=extra_allow)
        if isinstance(result, ScrubError):
            raise result
        return result

    def scrub_many(
        self, conversations: Iterable[Conversation], *, extra_allow: Iterable[str] = ()
    ) -> Iterator[ScrubbedConversation | ScrubError]:
        """Scrub in batches sharing spaCy's `nlp.pipe`; one result per input, in order.

        A conversation that fails becomes a `ScrubError` naming its locator (never its text).
        """
        extra = {normalise(name) for name in extra_allow}
        batch: list[Conversation] = []
        size = 0
        for conversation in conversations:
            batch.append(conversation)
            size += _size(conversation)
            if size >= BATCH_CHARS:
                yield from self._scrub_batch(batch, extra)
                batch, size = [], 0
        if batch:
            yield from self._scrub_batch(batch, extra)

    def find_pii(
        self,
        texts: Sequence[str],
        *,
        participants: Sequence[Participant] = (),
        account_name: str | None = None,
    ) -> list[list[PiiSpan]]:
        """The spans `scrub` would replace in these texts (used by the evaluation)."""
        document, _ = self._prepare_parts(texts, participants, account_name, set())
        return self._detector.detect([document])[0]

    def rescan(self, text: str) -> tuple[str, int]:
        """Scrub a string an extractor produced (evidence, summary) before it is stored.

        Returns the scrubbed string and how many PII items were redacted.
        """
        if not text:
            return text, 0
        try:
            (spans,) = self._detector.detect([Document([text], allow=self._allow)])[0]
            counts: Counter[str] = Counter()
            clean = self._replace(text, spans, Placeholders(), counts)
        except Exception as exc:  # a failed re-scan must not store the string
            raise ScrubError(f"re-scan failed ({type(exc).__name__})") from None
        return clean, sum(counts.values())

    def _prepare_parts(
        self,
        texts: Sequence[str],
        participants: Sequence[Participant],
        account_name: str | None,
        extra: set[str],
    ) -> tuple[Document, Placeholders]:
        placeholders = Placeholders()
        known = KnownPeople.from_participants(participants, placeholders)
        allow = self._allow | extra
        if account_name:  # the customer's company name is business context
            name = normalise(account_name)
            words = (w.strip(".,&()'’") for w in name.split())
            allow = allow | {name, *(w for w in words if len(w) >= MIN_NAME_PART)} - _GLUE
        return Document(texts, known, allow), placeholders

    def _prepare(self, conversation: Conversation, extra: set[str]) -> _Prepared:
        participants = list(conversation.participants)
        named = {p.name for p in participants}
        for turn in conversation.turns:  # speakers missing from the metadata are people too
            if turn.speaker not in named:
                named.add(turn.speaker)
                participants.append(Participant(name=turn.speaker, role=turn.role))
        texts = [turn.text for turn in conversation.turns]
        if conversation.subject:
            texts.append(conversation.subject)
        document, placeholders = self._prepare_parts(
            texts, participants, conversation.account_name, extra
        )
        return _Prepared(conversation, document, placeholders, participants)

    def _scrub_batch(
        self, batch: list[Conversation], extra: set[str]
    ) -> list[ScrubbedConversation | ScrubError]:
        try:
            prepared = [self._prepare(conversation, extra) for conversation in batch]
            found = self._detector.detect([p.document for p in prepared])
            return [self._build(p, spans) for p, spans in zip(prepared, found, strict=True)]
        except Exception as exc:  # a scrubbing failure must never let text through
            if len(batch) > 1:  # find the one that fails; the others still go through
                return [r for c in batch for r in self._scrub_batch([c], extra)]
            reason = exc if isinstance(exc, ScrubError) else type(exc).__name__
            return [ScrubError(f"{batch[0].locator}: scrubbing failed ({reason})")]

    def _build(self, prepared: _Prepared, spans: list[list[PiiSpan]]) -> ScrubbedConversation:
        conversation, document = prepared.conversation, prepared.document
        counts: Counter[str] = Counter()
        _register_people(document.texts, spans, prepared.placeholders)
        scrubbed = [
            self._replace(text, mine, prepared.placeholders, counts)
            for text, mine in zip(document.texts, spans, strict=True)
        ]
        subject = scrubbed.pop() if conversation.subject else None
        speaker_of = document.known.speaker_of
        turns = tuple(
            ScrubbedTurn(
                speaker=speaker_of.get(turn.speaker, "<PERSON_0>"),
                text=text,
                role=turn.role,
                start_seconds=turn.start_seconds,
                internal=turn.internal,
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
            participant_roles=tuple(p.role for p in prepared.participants),
            subject=subject,
            account_name=conversation.account_name,
            pii_found=dict(counts),
        )

    @staticmethod
    def _replace(
        text: str, spans: list[PiiSpan], placeholders: Placeholders, counts: Counter[str]
    ) -> str:
        """Spans (sorted, non-overlapping) → placeholders, in one linear pass.

        Not presidio-anonymizer: its `replace` rebuilds the whole string once per entity,
        which is quadratic on a long ticket thread (minutes and hundreds of MB for 5 MB)."""
        if not spans:
            return text
        pieces: list[str] = []
        position = 0
        for span in spans:
            if span.placeholder:
                counts["KNOWN_PARTICIPANT"] += 1
                placeholder = span.placeholder
            else:
                counts[span.entity] += 1
                placeholder = placeholders.get(span.entity, text[span.start : span.end])
            pieces += (text[position : span.start], placeholder)
            position = span.end
        pieces.append(text[position:])
        return "".join(pieces)


def _size(conversation: Conversation) -> int:
    """Characters to scrub, for batching; a malformed input fails later, inside the guard."""
    return sum(len(turn.text) for turn in conversation.turns if isinstance(turn.text, str))


def _register_people(
    texts: Sequence[str], spans: list[list[PiiSpan]], placeholders: Placeholders
) -> None:
    """Number people by their full name first, so 'Victoria' gets the placeholder of the
    'Victoria Ashdown' mentioned anywhere in the conversation, even later."""
    names = [
        text[s.start : s.end]
        for text, mine in zip(texts, spans, strict=True)
        for s in mine
        if s.entity == "PERSON" and not s.placeholder
    ]
    full = [name for name in names if len(name.split()) > 1]
    for name in full:
        placeholder = placeholders.get("PERSON", name)
        for part in name.split():
            placeholders.alias("PERSON", part, placeholder)
