"""Run extractors over the labelled set the way production does, and record what they said.

Each `LabelledCase` becomes a domain `Conversation`, goes through the real scrubber (with the
participants as the deny-list, exactly as in the pipeline), and only the scrubbed text reaches
an extractor. LLM extractors run concurrently through `extract.runner.extract_many`; every
string an extractor returns is re-scanned for PII as the pipeline does before storing it.

The participants' names and emails are the leak canaries: they are counted in what the
scrubber let through (`leaks_in_input`), in the extractor's raw strings (`leaks_in_output`)
and in those strings after the re-scan (`leaks_after_rescan`, what would be stored).

Nothing here logs or prints text. The scrubbed text travels on in `PreparedCase` because the
report's review data carries it (the labelled set is synthetic and public).
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from convsignal.config import Settings
from convsignal.domain import (
    Conversation,
    ExtractionResult,
    Participant,
    Role,
    ScrubbedConversation,
    SignalKind,
    SourceLocator,
    TokenUsage,
    Turn,
)
from convsignal.errors import ExtractionError, RetriesExhausted, ScrubError
from convsignal.evaluation.signal_dataset import DatasetError, LabelledCase
from convsignal.evaluation.signal_metrics import CasePrediction, PredictedItem
from convsignal.extract.base import AsyncExtractor, Extractor
from convsignal.extract.pricing import PriceTable, load_prices
from convsignal.extract.registry import resolve
from convsignal.extract.runner import extract_many
from convsignal.pipeline import safe_reason
from convsignal.scrub import Scrubber

__all__ = [
    "ExtractorRun",
    "PreparedCase",
    "Progress",
    "SignalEvaluation",
    "evaluate_signals",
    "leak_terms",
    "prepare_cases",
    "run_extractor",
    "to_conversation",
]

LOCATOR_FORMAT = "labelled-case"
_LIST_OF_KIND = {
    SignalKind.INTENT: "intents",
    SignalKind.RISK_FLAG: "risk_flags",
    SignalKind.EXPANSION_SIGNAL: "expansion_signals",
}
Progress = Callable[[str], None]  # called with the stage ("scrub" or an extractor name)


@dataclass(frozen=True, slots=True)
class PreparedCase:
    case: LabelledCase
    scrubbed: ScrubbedConversation
    leak_terms: tuple[tuple[str, re.Pattern[str]], ...]
    leaks_in_input: int
    rationale: str = ""  # the gold rationale with the conversation's placeholders for names


@dataclass
class ExtractorRun:
    name: str  # as asked for on the command line
    extractor_id: str
    prompt_version: str
    is_llm: bool
    predictions: list[CasePrediction]
    wall_seconds: float


@dataclass
class SignalEvaluation:
    cases: list[PreparedCase]
    runs: list[ExtractorRun]
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    scrub_seconds: float = 0.0


def to_conversation(case: LabelledCase) -> Conversation:
    """The case as ingest would have built it: participants with roles, turns with the role
    of their speaker (the loader already checked every speaker is a participant)."""
    participants = tuple(
        Participant(name=p.name, role=p.role, email=p.email, title=p.title)
        for p in case.participants
    )
    role_of = {p.name: p.role for p in participants}
    turns = tuple(
        Turn(
            speaker=t.speaker,
            text=t.text,
            role=role_of.get(t.speaker, Role.UNKNOWN),
            internal=t.internal,
        )
        for t in case.turns
    )
    return Conversation(
        source_id=case.id,
        account_id=f"eval-{case.industry}",
        channel=case.channel,
        occurred_at=case.occurred_at,
        participants=participants,
        turns=turns,
        locator=SourceLocator(format=LOCATOR_FORMAT, file=f"{case.id}.yaml"),
        subject=case.subject,
    )


def leak_terms(case: LabelledCase) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """(what, pattern) per canary: each participant's full name, first and last name and
    email; case-insensitive, on word boundaries. `what` names the kind and the participant's
    position (`first_name:p2`), never the name itself, so it can be printed."""
    terms: dict[str, str] = {}
    for index, person in enumerate(case.participants, start=1):
        parts = person.name.split()
        candidates = [("full_name", person.name)]
        if len(parts) > 1:
            candidates += [("first_name", parts[0]), ("last_name", parts[-1])]
        if person.email:
            candidates.append(("email", person.email))
        for kind, term in candidates:
            term = term.strip(".,")
            if len(term) >= 2:
                terms.setdefault(term.lower(), f"{kind}:p{index}")
    # longest first, so "Dana Whitfield" counts once, not also as "Dana" and "Whitfield"
    ordered = sorted(terms, key=len, reverse=True)
    return tuple(
        (terms[t], re.compile(rf"(?<![\w@.]){re.escape(t)}(?![\w@])", re.IGNORECASE))
        for t in ordered
    )


def find_leaks(text: str, terms: Sequence[tuple[str, re.Pattern[str]]]) -> list[str]:
    """The canaries found in `text` (non-overlapping, longest first), by their `what`."""
    if not text or not terms:
        return []
    taken: list[tuple[int, int]] = []
    found: list[str] = []
    for what, pattern in terms:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            found.append(what)
    return found


def prepare_cases(
    cases: Sequence[LabelledCase],
    scrubber: Scrubber,
    on_case: Callable[[], None] | None = None,
) -> list[PreparedCase]:
    """Scrub every case (batched through spaCy) and count the canaries left in the text."""
    prepared: list[PreparedCase] = []
    conversations = (to_conversation(case) for case in cases)
    for case, outcome in zip(cases, scrubber.scrub_many(conversations), strict=True):
        if isinstance(outcome, ScrubError):
            raise DatasetError(f"case {case.id!r}: {outcome}")
        terms = leak_terms(case)
        texts = [t.text for t in outcome.turns] + [outcome.subject or ""]
        leaks = sum(len(find_leaks(text, terms)) for text in texts)
        rationale = _scrub_rationale(case, outcome, scrubber)
        prepared.append(PreparedCase(case, outcome, terms, leaks, rationale))
        if on_case is not None:
            on_case()
    return prepared


def _scrub_rationale(case: LabelledCase, scrubbed: ScrubbedConversation, scrubber: Scrubber) -> str:
    """The gold rationale names people ("Dana says…"): swap in the placeholders the scrubber
    gave them in this conversation, so the review page reads consistently, then re-scan."""
    if not case.gold.rationale:
        return ""
    placeholder_of = {
        turn.speaker: clean.speaker for turn, clean in zip(case.turns, scrubbed.turns, strict=True)
    }
    names: dict[str, str] = {}
    for person in case.participants:
        placeholder = placeholder_of.get(person.name)
        if placeholder is None:
            continue
        parts = person.name.split()
        for name in (person.name, parts[0], parts[-1]):
            names.setdefault(name.lower(), placeholder)
    text = case.gold.rationale
    for name in sorted(names, key=len, reverse=True):
        pattern = rf"(?<![\w<]){re.escape(name)}(?![\w>])"
        text = re.sub(pattern, names[name], text, flags=re.IGNORECASE)
    return scrubber.rescan(text)[0]


class _Timed:
    """An AsyncExtractor that notes how long each conversation took (queueing excluded)."""

    def __init__(self, inner: AsyncExtractor) -> None:
        self._inner = inner
        self.seconds: dict[str, float] = {}

    @property
    def extractor_id(self) -> str:
        return self._inner.extractor_id

    @property
    def prompt_version(self) -> str:
        return self._inner.prompt_version

    @property
    def concurrency(self) -> int:
        return self._inner.concurrency

    async def aextract(self, conversation: ScrubbedConversation) -> ExtractionResult:
        started = time.perf_counter()
        try:
            return await self._inner.aextract(conversation)
        finally:
            self.seconds[conversation.source_id] = time.perf_counter() - started

    async def aclose(self) -> None:
        await self._inner.aclose()


def _usage_of_failure(exc: BaseException) -> TokenUsage | None:
    if isinstance(exc, RetriesExhausted) and exc.usage:
        counts = exc.usage
        return TokenUsage(
            input_tokens=counts.get("input_tokens", 0),
            output_tokens=counts.get("output_tokens", 0),
            cache_read_tokens=counts.get("cache_read_tokens", 0),
            cache_write_tokens=counts.get("cache_write_tokens", 0),
            requests=counts.get("requests", 0),
        )
    return None


class _Recorder:
    """Turns one extractor's outcomes into `CasePrediction`s: re-scan, leak count, cost."""

    def __init__(self, scrubber: Scrubber, prices: PriceTable) -> None:
        self._scrubber = scrubber
        self._prices = prices
        self._lock = threading.Lock()  # one spaCy pipeline, results arriving on many threads

    def success(
        self, prepared: PreparedCase, result: ExtractionResult, seconds: float
    ) -> CasePrediction:
        with self._lock:
            return self._success(prepared, result, seconds)

    def _success(
        self, prepared: PreparedCase, result: ExtractionResult, seconds: float
    ) -> CasePrediction:
        sentiment: str | None = None
        score: float | None = None
        items: list[PredictedItem] = []
        leaks_out: list[str] = []
        leaks_after: list[str] = []
        redactions = 0
        for signal in result.signals:
            if signal.kind is SignalKind.SENTIMENT:
                if sentiment is None:
                    sentiment, score = signal.signal_type, signal.score
                continue
            raw = signal.evidence[:200]
            evidence, found = self._scrubber.rescan(raw)
            redactions += found
            leaks_out += find_leaks(raw, prepared.leak_terms)
            leaks_after += find_leaks(evidence, prepared.leak_terms)
            items.append(
                PredictedItem(
                    kind=_LIST_OF_KIND[signal.kind],
                    type=signal.signal_type,
                    speaker_role=signal.speaker_role.value,
                    confidence=signal.confidence,
                    evidence=evidence[:200],
                )
            )
        usage = result.usage
        cost = self._prices.cost(result.extractor_id, usage) if usage else 0.0
        return CasePrediction(
            case_id=prepared.case.id,
            sentiment=sentiment,
            sentiment_score=score,
            items=tuple(items),
            latency_seconds=seconds,
            usage=usage,
            cost_usd=cost,
            leaks_in_output=len(leaks_out),
            rescan_redactions=redactions,
            leaks_after_rescan=len(leaks_after),
            leaks_in_input=prepared.leaks_in_input,
            leak_kinds=tuple(
                [f"output:{w}" for w in leaks_out] + [f"stored:{w}" for w in leaks_after]
            ),
        )

    def failure(
        self, prepared: PreparedCase, exc: BaseException, seconds: float, extractor_id: str
    ) -> CasePrediction:
        usage = _usage_of_failure(exc)
        return CasePrediction(
            case_id=prepared.case.id,
            sentiment=None,
            latency_seconds=seconds,
            usage=usage,
            cost_usd=self._prices.cost(extractor_id, usage) if usage else 0.0,
            error=safe_reason(exc),
            leaks_in_input=prepared.leaks_in_input,
        )


def run_extractor(
    name: str,
    extractor: Extractor | AsyncExtractor,
    prepared: Sequence[PreparedCase],
    scrubber: Scrubber,
    *,
    prices: PriceTable | None = None,
    on_case: Callable[[], None] | None = None,
) -> ExtractorRun:
    """One extractor over every prepared case; a failed case is recorded, a fatal error
    (bad key, unknown model) is raised."""
    recorder = _Recorder(scrubber, prices or load_prices())
    started = time.perf_counter()
    if isinstance(extractor, AsyncExtractor):
        predictions = asyncio.run(_run_async(extractor, prepared, recorder, on_case))
        is_llm = True
    else:
        predictions = []
        for case in prepared:
            begun = time.perf_counter()
            try:
                result = extractor.extract(case.scrubbed)
            except Exception as exc:
                if isinstance(exc, ExtractionError) and exc.fatal:
                    raise
                elapsed = time.perf_counter() - begun
                predictions.append(recorder.failure(case, exc, elapsed, extractor.extractor_id))
            else:
                elapsed = time.perf_counter() - begun
                predictions.append(recorder.success(case, result, elapsed))
            if on_case is not None:
                on_case()
        is_llm = bool(getattr(extractor, "is_llm", False))
    return ExtractorRun(
        name=name,
        extractor_id=extractor.extractor_id,
        prompt_version=extractor.prompt_version,
        is_llm=is_llm,
        predictions=predictions,
        wall_seconds=time.perf_counter() - started,
    )


async def _run_async(
    extractor: AsyncExtractor,
    prepared: Sequence[PreparedCase],
    recorder: _Recorder,
    on_case: Callable[[], None] | None,
) -> list[CasePrediction]:
    timed = _Timed(extractor)
    by_id = {p.case.id: p for p in prepared}
    outcomes: dict[str, CasePrediction] = {}

    async def conversations() -> AsyncIterator[ScrubbedConversation]:
        for case in prepared:
            yield case.scrubbed

    async def handle(scrubbed: ScrubbedConversation, outcome: ExtractionResult | Exception) -> None:
        case = by_id[scrubbed.source_id]
        seconds = timed.seconds.get(scrubbed.source_id, 0.0)
        if isinstance(outcome, Exception):
            outcomes[case.case.id] = recorder.failure(
                case, outcome, seconds, extractor.extractor_id
            )
        else:  # the re-scan runs spaCy: off the event loop
            outcomes[case.case.id] = await asyncio.to_thread(
                recorder.success, case, outcome, seconds
            )
        if on_case is not None:
            on_case()

    await extract_many(timed, conversations(), handle)
    return [outcomes[case.case.id] for case in prepared]


def evaluate_signals(
    cases: Sequence[LabelledCase],
    extractor_names: Iterable[str],
    settings: Settings,
    *,
    scrubber: Scrubber | None = None,
    on_progress: Progress | None = None,
) -> SignalEvaluation:
    """Scrub the cases once, then run each named extractor over them, one after another.

    Extractors are resolved before anything runs, so a typo fails at once."""
    names = list(dict.fromkeys(extractor_names))
    extractors = [(name, resolve(name, settings)) for name in names]
    evaluation = SignalEvaluation(cases=[], runs=[])
    scrubber = scrubber or Scrubber(
        spacy_model=settings.spacy_model, allow_list=settings.effective_allow_list
    )

    def tick(stage: str) -> Callable[[], None]:
        return lambda: on_progress(stage) if on_progress is not None else None

    started = time.perf_counter()
    evaluation.cases = prepare_cases(cases, scrubber, tick("scrub"))
    evaluation.scrub_seconds = time.perf_counter() - started
    for name, extractor in extractors:
        evaluation.runs.append(
            run_extractor(name, extractor, evaluation.cases, scrubber, on_case=tick(name))
        )
    return evaluation
