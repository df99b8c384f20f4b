"""The offline `lexicon` extractor: phrase patterns for flags and intents, VADER for sentiment.

It needs no network, no key and no model download, so convsignal always has an extractor (the
default one, the demo's, and the baseline every LLM provider is evaluated against). Its output
is a pure function of the conversation and the patterns file: the file's hash is the prompt
version, so editing a pattern re-keys idempotency exactly as editing an LLM prompt does.

Patterns live in `prompts/lexicon/patterns.yaml` (shipped in the wheel as
`convsignal/_prompts/lexicon/patterns.yaml`); that file documents its own format.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from statistics import fmean
from typing import Any

import yaml
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from convsignal.domain import (
    ExpansionSignal,
    ExtractedSignal,
    ExtractionResult,
    Intent,
    RiskFlag,
    Role,
    ScrubbedConversation,
    ScrubbedTurn,
    SentimentLabel,
    SignalKind,
    Trajectory,
)
from convsignal.errors import ConfigError
from convsignal.extract.prompts import prompts_root
from convsignal.extract.schema import EVIDENCE_MAX_CHARS

__all__ = [
    "LEXICON_LOGIC_VERSION",
    "LexiconAnalysis",
    "LexiconExtractor",
    "LexiconPattern",
    "SentimentSummary",
    "default_patterns_path",
    "load_patterns",
]

# Bump when matching or scoring logic changes in a way that changes output for the same file.
LEXICON_LOGIC_VERSION = "1"

# A vendor naming a competitor or an outage is reporting, not deciding: weaker evidence.
VENDOR_RISK_DISCOUNT = 0.6
NEGATION_WINDOW_WORDS = 4
POSITIVE_AT = 0.25
NEGATIVE_AT = -0.25
TRAJECTORY_DELTA = 0.15
ESCALATION_DELTA = 0.2

_NEGATIONS = frozenset({"not", "no", "never", "nobody", "isn't", "aren't", "without", "cannot"})
_HYPOTHETICAL = re.compile(r"\b(?:if|in case|were to|would ever)\b", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[,;:()\u2013\u2014]|\s-\s")
_WORD = re.compile(r"[a-z']+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def default_patterns_path() -> Path:
    """The installed wheel's copy first, then the source checkout's `prompts/` directory."""
    return prompts_root() / "lexicon" / "patterns.yaml"


# YAML section -> the kind it fills and the closed enum its keys must come from.
_SECTIONS: dict[str, tuple[SignalKind, frozenset[str]]] = {
    "risk_flags": (SignalKind.RISK_FLAG, frozenset(RiskFlag)),
    "intents": (SignalKind.INTENT, frozenset(Intent)),
    "expansion_signals": (SignalKind.EXPANSION_SIGNAL, frozenset(ExpansionSignal)),
}
_TOP_LEVEL_KEYS = frozenset({"version", "macros", "competitors", *_SECTIONS})
_MACRO_USE = re.compile(r"\{([A-Z][A-Z_]*)\}")
_MACRO_NAME = re.compile(r"[A-Z][A-Z_]*")


@dataclass(frozen=True, slots=True)
class LexiconPattern:
    kind: SignalKind
    signal_type: str
    regex: re.Pattern[str]
    confidence: float


def _invalid(path: Path, message: str) -> ConfigError:
    return ConfigError(f"lexicon patterns file {path}: {message}")


def load_patterns(path: Path) -> tuple[bytes, tuple[LexiconPattern, ...]]:
    """Read, validate and compile the patterns file, failing loudly on anything unknown.

    A typo in a type name would otherwise silently produce a label no scorer knows. The raw
    bytes are returned too because their hash is the prompt version.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _invalid(path, f"cannot be read ({exc.strerror}); pass patterns_path") from exc
    try:
        document: Any = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise _invalid(path, f"is not valid YAML: {exc}") from exc
    if not isinstance(document, dict):
        raise _invalid(path, "expected a mapping at the top level")
    unknown = sorted(str(key) for key in document if key not in _TOP_LEVEL_KEYS)
    if unknown:
        raise _invalid(path, f"unknown key(s) {unknown}; known: {sorted(_TOP_LEVEL_KEYS)}")
    if document.get("version", 1) != 1:
        raise _invalid(path, f"unsupported version {document.get('version')!r}; expected 1")
    macros = _macros(path, document)
    patterns: list[LexiconPattern] = []
    for section, (kind, known) in _SECTIONS.items():
        entries = document.get(section) or {}
        if not isinstance(entries, dict):
            raise _invalid(path, f"{section} must map type names to lists of patterns")
        for signal_type, items in entries.items():
            if signal_type not in known:
                raise _invalid(
                    path, f"unknown {section} type {signal_type!r}; known: {sorted(known)}"
                )
            if not isinstance(items, list) or not items:
                raise _invalid(path, f"{section}.{signal_type} must be a non-empty list")
            for index, item in enumerate(items):
                where = f"{section}.{signal_type}[{index}]"
                patterns.append(_compile(path, where, kind, str(signal_type), item, macros))
    if not patterns:
        raise _invalid(path, "defines no patterns")
    return raw, tuple(patterns)


def _macros(path: Path, document: dict[Any, Any]) -> dict[str, str]:
    """User macros plus COMPETITOR, built from the literal competitor names."""
    macros = document.get("macros") or {}
    if not isinstance(macros, dict) or not all(
        isinstance(name, str) and _MACRO_NAME.fullmatch(name) and isinstance(value, str)
        for name, value in macros.items()
    ):
        raise _invalid(path, "macros must map UPPER_CASE names to regex strings")
    if "COMPETITOR" in macros:
        raise _invalid(path, "macro COMPETITOR is reserved; list names under competitors")
    competitors = document.get("competitors") or []
    if not isinstance(competitors, list) or not all(
        isinstance(name, str) and name.strip() for name in competitors
    ):
        raise _invalid(path, "competitors must be a list of non-empty names")
    expanded: dict[str, str] = dict(macros)
    if competitors:
        longest_first = sorted(competitors, key=lambda name: (-len(name), name))
        expanded["COMPETITOR"] = "|".join(re.escape(name.strip()) for name in longest_first)
    return expanded


def _compile(
    path: Path, where: str, kind: SignalKind, signal_type: str, item: Any, macros: dict[str, str]
) -> LexiconPattern:
    if not isinstance(item, dict) or set(item) != {"pattern", "confidence"}:
        raise _invalid(path, f"{where} must have exactly the keys pattern and confidence")
    pattern, confidence = item["pattern"], item["confidence"]
    if not isinstance(pattern, str) or not pattern.strip():
        raise _invalid(path, f"{where}: pattern must be a non-empty string")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise _invalid(path, f"{where}: confidence must be a number")
    if not 0.0 < confidence <= 1.0:
        raise _invalid(path, f"{where}: confidence {confidence} is outside (0, 1]")

    def expand(use: re.Match[str]) -> str:
        if use.group(1) not in macros:
            raise _invalid(path, f"{where}: unknown macro {{{use.group(1)}}}")
        return f"(?:{macros[use.group(1)]})"

    try:
        regex = re.compile(_MACRO_USE.sub(expand, pattern), re.IGNORECASE)
    except re.error as exc:
        raise _invalid(path, f"{where}: invalid regular expression ({exc})") from exc
    return LexiconPattern(kind, signal_type, regex, float(confidence))


@dataclass(frozen=True, slots=True)
class SentimentSummary:
    """Sentiment with its trajectory, which `ExtractedSignal` has no field for."""

    label: SentimentLabel
    score: float
    trajectory: Trajectory
    speaker_role: Role
    turns_scored: int


@dataclass(frozen=True, slots=True)
class LexiconAnalysis:
    result: ExtractionResult
    sentiment: SentimentSummary | None


class LexiconExtractor:
    """Deterministic extractor; one instance is safe to reuse across conversations."""

    extractor_id = "lexicon"
    is_llm = False

    def __init__(self, patterns_path: Path | None = None) -> None:
        path = patterns_path if patterns_path is not None else default_patterns_path()
        raw, self._patterns = load_patterns(path)
        digest = hashlib.sha256(raw).hexdigest()[:12]
        self._prompt_version = f"{digest}.{LEXICON_LOGIC_VERSION}"

    @property
    def prompt_version(self) -> str:
        return self._prompt_version

    @property
    def patterns(self) -> tuple[LexiconPattern, ...]:
        return self._patterns

    def extract(self, conversation: ScrubbedConversation) -> ExtractionResult:
        return self.analyze(conversation).result

    def analyze(self, conversation: ScrubbedConversation) -> LexiconAnalysis:
        """Everything `extract` finds, plus the sentiment trajectory for callers that want it."""
        signals = list(self._match_turns(conversation.turns))
        escalated = any(s.signal_type == RiskFlag.EXECUTIVE_ESCALATION for s in signals)
        sentiment = summarize_sentiment(conversation.turns, escalated=escalated)
        if sentiment is not None:
            customer_turns = (
                sentiment.turns_scored if sentiment.speaker_role is Role.CUSTOMER else 0
            )
            signals.append(
                ExtractedSignal(
                    kind=SignalKind.SENTIMENT,
                    signal_type=sentiment.label.value,
                    confidence=round(min(0.9, 0.4 + 0.1 * customer_turns), 4),
                    speaker_role=sentiment.speaker_role,
                    evidence="",
                    score=sentiment.score,
                )
            )
        signals.sort(key=lambda s: (s.kind.value, s.signal_type, s.speaker_role.value))
        result = ExtractionResult(self.extractor_id, self.prompt_version, tuple(signals))
        return LexiconAnalysis(result=result, sentiment=sentiment)

    def _match_turns(self, turns: tuple[ScrubbedTurn, ...]) -> list[ExtractedSignal]:
        """Best match per (kind, type, speaker role); ties keep the earliest sentence."""
        best: dict[tuple[SignalKind, str, Role], ExtractedSignal] = {}
        for turn in turns:
            for sentence in split_sentences(turn.text):
                folded = sentence.translate(_APOSTROPHES)
                for pattern in self._patterns:
                    span = first_affirmative_match(pattern.regex, folded)
                    if span is None:
                        continue
                    confidence = pattern.confidence
                    if pattern.kind is SignalKind.RISK_FLAG and turn.role is Role.VENDOR:
                        confidence *= VENDOR_RISK_DISCOUNT
                    key = (pattern.kind, pattern.signal_type, turn.role)
                    current = best.get(key)
                    if current is None or confidence > current.confidence:
                        best[key] = ExtractedSignal(
                            kind=pattern.kind,
                            signal_type=pattern.signal_type,
                            confidence=round(confidence, 4),
                            speaker_role=turn.role,
                            evidence=trim_evidence(sentence, *span),
                        )
        return list(best.values())


def split_sentences(text: str) -> list[str]:
    """Sentences with whitespace collapsed, so patterns can assume single spaces.

    Single newlines are not breaks: emails arrive hard-wrapped mid-sentence.
    """
    sentences = (" ".join(part.split()) for part in _SENTENCE_BREAK.split(text))
    return [s for s in sentences if s]


def first_affirmative_match(regex: re.Pattern[str], sentence: str) -> tuple[int, int] | None:
    """The first match not negated or made hypothetical by the words before it."""
    for match in regex.finditer(sentence):
        start, end = match.span()
        if start == end:
            continue
        before = sentence[:start]
        if _HYPOTHETICAL.search(before):
            return None  # every later match has the same hypothetical before it
        if not is_negated(before):
            return start, end
    return None


def is_negated(before: str) -> bool:
    """A negation among the last few words of the same clause ("No, we are…" is not one)."""
    clause = _CLAUSE_BREAK.split(before)[-1].lower()
    words = [w.strip("'") for w in _WORD.findall(clause)][-NEGATION_WINDOW_WORDS:]
    return any(w in _NEGATIONS or w.endswith("n't") for w in words)


def trim_evidence(sentence: str, start: int, end: int, limit: int = EVIDENCE_MAX_CHARS) -> str:
    """The sentence, or a window of it centred on the match, never longer than `limit`."""
    if len(sentence) <= limit:
        return sentence
    budget = limit - 2  # room for an ellipsis on each side
    left = max(0, min(start - max(0, budget - (end - start)) // 2, len(sentence) - budget))
    right = left + budget
    window = sentence[left:right].strip()
    return ("…" if left > 0 else "") + window + ("…" if right < len(sentence) else "")


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    """VADER reads its lexicon file on construction; one per process is enough."""
    return SentimentIntensityAnalyzer()


def _compound(text: str) -> float:
    return float(_analyzer().polarity_scores(text)["compound"])


def summarize_sentiment(
    turns: tuple[ScrubbedTurn, ...], *, escalated: bool
) -> SentimentSummary | None:
    """Customer-side VADER sentiment; `None` when no turn has any text to score.

    The customer's mood is what predicts churn, so vendor turns only count when the
    conversation has no customer turn at all (then the role is reported as unknown).
    """
    spoken = [t for t in turns if t.text.strip()]
    customer = [t for t in spoken if t.role is Role.CUSTOMER]
    scored, role = (customer, Role.CUSTOMER) if customer else (spoken, Role.UNKNOWN)
    if not scored:
        return None
    compounds = [_compound(t.text) for t in scored]
    score = round(fmean(compounds), 4)
    half = len(compounds) // 2
    delta = fmean(compounds[-half:]) - fmean(compounds[:half]) if half else 0.0
    if delta >= TRAJECTORY_DELTA:
        trajectory = Trajectory.IMPROVING
    elif delta <= -TRAJECTORY_DELTA:
        trajectory = Trajectory.DECLINING
    else:
        trajectory = Trajectory.STABLE
    if score >= POSITIVE_AT:
        label = SentimentLabel.POSITIVE
    elif score <= NEGATIVE_AT:
        escalating = escalated or delta <= -ESCALATION_DELTA
        label = SentimentLabel.ESCALATING if escalating else SentimentLabel.NEGATIVE
    else:
        label = SentimentLabel.NEUTRAL
    return SentimentSummary(label, score, trajectory, role, len(scored))
