"""People: the per-conversation deny-list of known participants, names found by NER and
context, and the placeholders they become.

Known participants (from the export's metadata) are scrubbed wherever they appear, full
name, first or last name alone, email or email local part, with or without diacritics,
whatever the allow-list says. A name part that is also an ordinary word ("Will", "Grace",
"Mark", "Brown") is only matched when written with a capital, so "we will renew" survives
a participant called Will Brown.

Placeholders carry the side: `<CUSTOMER_1>`, `<VENDOR_1>`, else `<PERSON_n>`; a first-name
mention gets the placeholder of the full name it belongs to, so "<PERSON_2> is leaving"
stays one person through the conversation. Other entities number per type:
`<PHONE_NUMBER_1>` is the same number everywhere in the conversation.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from convsignal.domain import Participant, Role

ROLE_PREFIX = {Role.CUSTOMER: "CUSTOMER", Role.VENDOR: "VENDOR", Role.UNKNOWN: "PERSON"}
MIN_NAME_PART = 2
# Name parts that are also everyday words: matched only when capitalised.
COMMON_WORDS = frozenset(
    str.split(
        "will mark grace bill rose hope joy faith may june april august summer dawn rob sue pat "
        "art chase drew dean earl frank gene guy jack jay kit lane miles nick penny ray rich sandy "
        "sky stone wade ward wood young king long little white black brown green gray grey hill "
        "park reed rice price cook baker hunter fisher mason porter lake banks bell cross max sam "
        "don ken van der de la le di da du von al el bin ben tom tim jan ali lee wu ng yu do so "
        "us we he me my an as at be by if in is it of on or ok hi no go up to"
    )
)


def normalise(value: str) -> str:
    return " ".join(value.lower().split())


def fold(value: str) -> str:
    """'Zoë Müller' → 'zoe muller': people type names without their diacritics."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


class Placeholders:
    """Per-conversation map from a PII value to its placeholder; numbering per prefix."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], str] = {}
        self._counts: Counter[str] = Counter()

    def get(self, prefix: str, value: str) -> str:
        key = (prefix, normalise(value))
        if key not in self._by_key:
            self._counts[prefix] += 1
            self._by_key[key] = f"<{prefix}_{self._counts[prefix]}>"
        return self._by_key[key]

    def alias(self, prefix: str, value: str, placeholder: str) -> None:
        """Make `value` (a first name) map to an existing placeholder unless it has one."""
        self._by_key.setdefault((prefix, normalise(value)), placeholder)


@dataclass
class KnownPeople:
    """The deny-list of one conversation: term → placeholder, and a regex finding them."""

    placeholder_of: dict[str, str] = field(default_factory=dict)  # folded term → placeholder
    emails: set[str] = field(default_factory=set)
    parts: set[str] = field(default_factory=set)  # single name parts (need care)
    speaker_of: dict[str, str] = field(default_factory=dict)
    pattern: re.Pattern[str] | None = None

    @classmethod
    def from_participants(
        cls, participants: Sequence[Participant], placeholders: Placeholders
    ) -> KnownPeople:
        known = cls()
        for person in participants:
            placeholder = placeholders.get(ROLE_PREFIX[person.role], person.name)
            known.speaker_of[person.name] = placeholder
            names = [person.name, *_name_parts(person.name)]
            for term in names:
                known._add(term, placeholder, part=term != person.name)
            if person.email:
                local = person.email.split("@", 1)[0]
                known._add(person.email, placeholder, part=False)
                known.emails.add(fold(person.email))
                if len(local) >= 3:
                    known._add(local, placeholder, part=True)
        if known.placeholder_of:
            alternation = "|".join(
                re.escape(term) for term in sorted(known.placeholder_of, key=len, reverse=True)
            )
            known.pattern = re.compile(rf"(?<![\w@.])(?:{alternation})(?![\w@])", re.IGNORECASE)
        return known

    def _add(self, term: str, placeholder: str, *, part: bool) -> None:
        for variant in {term.lower(), fold(term)}:
            if len(variant) >= MIN_NAME_PART:
                self.placeholder_of.setdefault(variant, placeholder)
                if part:
                    self.parts.add(variant)

    def find(self, text: str) -> Iterator[tuple[int, int, str, bool]]:
        """(start, end, placeholder, is_email) for every mention of a known person."""
        if self.pattern is None:
            return
        for match in self.pattern.finditer(_fold_same_length(text)):
            found = text[match.start() : match.end()]
            key = match.group(0).lower()
            if key in self.parts and not _acceptable_part(found, key):
                continue
            yield match.start(), match.end(), self.placeholder_of[key], key in self.emails


def _name_parts(name: str) -> list[str]:
    """'Anne-Marie van der Berg' → ['Anne-Marie', 'Anne', 'Marie', 'Berg']: particles dropped."""
    words = [w.strip(".,()'\"") for w in name.split()]
    parts = []
    for word in words:
        if not word or word[0].islower():  # van, der, de: particles, not names on their own
            continue
        parts.append(word)
        if "-" in word:
            parts += [piece for piece in word.split("-") if piece]
    return parts


def _acceptable_part(found: str, key: str) -> bool:
    if len(key) <= 2 or key in COMMON_WORDS:
        return found[:1].isupper()
    return True


_FOLD_TABLE: dict[int, str] = {}


def _fold_same_length(text: str) -> str:
    """Fold diacritics without changing offsets (only characters that fold to one char)."""
    if text.isascii():
        return text
    for char in set(text) - set(map(chr, _FOLD_TABLE)):
        if not char.isascii():
            folded = fold(char)
            _FOLD_TABLE[ord(char)] = folded if len(folded) == 1 else char
    return text.translate(_FOLD_TABLE)


def name_terms(names: Iterable[str], allow: set[str]) -> set[str]:
    """Names found in the text (NER, context) and their capitalised parts, for propagation:
    'Victoria Ashdown' found once makes a later 'Victoria' a person too."""
    terms: set[str] = set()
    for name in names:
        name = name.strip(" .,;:!?'\"()")
        if not name or normalise(name) in allow:
            continue
        terms.add(name)
        for part in _name_parts(name):
            if len(part) >= 3 and part.lower() not in COMMON_WORDS and normalise(part) not in allow:
                terms.add(part)
    return terms
