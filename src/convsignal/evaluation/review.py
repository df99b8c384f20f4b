"""The RevOps review: where an extractor and gold disagree, and what a reviewer decided.

An eval report (`convsignal eval run` → eval/reports/signals-*.json) holds, per case, the gold
labels, each extractor's predictions with their scrubbed evidence, and the scrubbed turns.
Per case and extractor, a *disagreement* is one slot of the gold labels, (kind, label):

- `gold_only`: gold has the label type, the extractor did not find it;
- `model_only`: the extractor found a type gold does not have;
- `side_mismatch`: both have the type, with different speaker roles;
- `sentiment`: the sentiment labels differ (slot (sentiment, sentiment)).

Types are compared per case, as the metrics do (`signal_metrics`). A reviewer accepts the
model's labels for the slot, keeps gold's, or edits them (closed-enum values only). Each
decision is a row of `review_decisions` holding the slot's *resulting* labels, so applying it
is idempotent and does not depend on what gold looked like when it is applied. The newest
decision per (report, case, kind, label) wins; the older rows are the audit trail.

A failed extraction (the report's `error`) is no disagreement: there is nothing to accept.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select
from sqlmodel import Session, col

from convsignal.domain import ExpansionSignal, Intent, RiskFlag, Role, SentimentLabel
from convsignal.errors import ConvSignalError
from convsignal.store.review_tables import ReviewDecision

__all__ = [
    "DEFAULT_CASES_DIR",
    "DEFAULT_REPORTS_DIR",
    "ITEM_KINDS",
    "SENTIMENT_LABELS",
    "Decision",
    "Disagreement",
    "EvalReport",
    "ReviewError",
    "apply_to_gold",
    "case_disagreements",
    "decision_history",
    "find_disagreement",
    "load_report",
    "newest_decisions",
    "newest_report",
    "record_decision",
    "resulting_labels",
    "validate_labels",
]

# The checkout's eval/ folder (not shipped in the wheel), found from any working directory.
EVAL_DIR = Path(__file__).resolve().parents[3] / "eval"
DEFAULT_REPORTS_DIR = EVAL_DIR / "reports"
DEFAULT_CASES_DIR = EVAL_DIR / "signals" / "cases"
# The closed label sets (as in signal_metrics, which is not imported: it pulls in
# scikit-learn, seconds of start-up for the API that mounts the review routes).
ITEM_KINDS: dict[str, list[str]] = {
    "intents": [label.value for label in Intent],
    "risk_flags": [label.value for label in RiskFlag],
    "expansion_signals": [label.value for label in ExpansionSignal],
}
SENTIMENT_LABELS = [label.value for label in SentimentLabel]
SENTIMENT = "sentiment"
KINDS = (SENTIMENT, *ITEM_KINDS)
ROLES = tuple(role.value for role in Role)
MAX_REVIEWER = 100


class ReviewError(ConvSignalError):
    """A report, decision or case file the review cannot use; the message says which."""


class Decision(StrEnum):
    ACCEPT_MODEL = "accept_model"
    KEEP_GOLD = "keep_gold"
    EDIT = "edit"


# --- the report (only the parts the review reads; the rest is ignored) ---


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ReportItem(_Lenient):
    kind: str
    type: str
    speaker_role: str = Role.UNKNOWN.value
    confidence: float = 0.0
    evidence: str = ""


class ReportPrediction(_Lenient):
    sentiment: str | None = None
    items: tuple[ReportItem, ...] = ()
    error: str | None = None


class ReportTurn(_Lenient):
    speaker: str
    role: str = Role.UNKNOWN.value
    internal: bool = False
    text: str


class ReportGoldItem(_Lenient):
    type: str
    speaker_role: str = Role.CUSTOMER.value


class ReportGold(_Lenient):
    sentiment: str
    trajectory: str | None = None
    intents: tuple[ReportGoldItem, ...] = ()
    risk_flags: tuple[ReportGoldItem, ...] = ()
    expansion_signals: tuple[ReportGoldItem, ...] = ()
    rationale: str | None = None


class ReportCase(_Lenient):
    id: str
    channel: str = ""
    industry: str = ""
    tags: tuple[str, ...] = ()
    subject: str | None = None
    turns: tuple[ReportTurn, ...] = ()
    gold: ReportGold
    predictions: dict[str, ReportPrediction] = Field(default_factory=dict)


class ReportExtractor(_Lenient):
    name: str
    extractor_id: str = ""
    is_llm: bool = False


class EvalReport(_Lenient):
    name: str = ""  # the file name; set by load_report
    generated_at: str | None = None
    cases_dir: str | None = None
    extractors: tuple[ReportExtractor, ...] = ()
    cases: tuple[ReportCase, ...] = ()

    @property
    def default_extractor(self) -> str | None:
        """The first LLM extractor (the one worth reviewing), else the first."""
        for extractor in self.extractors:
            if extractor.is_llm:
                return extractor.name
        return self.extractors[0].name if self.extractors else None

    def case(self, case_id: str) -> ReportCase | None:
        return next((case for case in self.cases if case.id == case_id), None)


def newest_report(directory: Path = DEFAULT_REPORTS_DIR) -> Path:
    """The newest `signals-*.json` in `directory` (names carry the time, so by name)."""
    reports = sorted(directory.glob("signals-*.json")) if directory.is_dir() else []
    if not reports:
        raise ReviewError(
            f"no eval report in {directory}; run `convsignal eval run` first or pass --report"
        )
    return reports[-1]


def load_report(path: Path) -> EvalReport:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReviewError(f"{path}: cannot read the eval report: {exc}") from exc
    if not isinstance(raw, dict):
        raise ReviewError(f"{path}: not an eval report (a JSON object is expected)")
    try:
        report = EvalReport.model_validate({**raw, "name": path.name})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ReviewError(f"{path}: field {where!r}: {first['msg']}") from None
    names = {extractor.name for extractor in report.extractors}
    for case in report.cases:
        unknown = set(case.predictions) - names
        if unknown:
            raise ReviewError(f"{path}: case {case.id!r} has predictions of unknown {unknown}")
    return report


# --- disagreements ---


def _label(item_type: str, role: str | None = None) -> dict[str, str]:
    return {"type": item_type} if role is None else {"type": item_type, "speaker_role": role}


@dataclass(frozen=True, slots=True)
class Disagreement:
    case_id: str
    kind: str  # sentiment | intents | risk_flags | expansion_signals
    label: str  # the label type; "sentiment" for the sentiment slot
    where: str  # gold_only | model_only | side_mismatch | sentiment
    gold: list[dict[str, str]]  # gold's labels for the slot
    model: list[dict[str, str]]  # the extractor's labels for the slot
    evidence: list[str] = field(default_factory=list)  # the extractor's (scrubbed) evidence
    confidence: float | None = None

    @property
    def side(self) -> str:
        """The speaker role(s) at issue: the model's, or gold's for a label only gold has."""
        labels = self.gold if self.where == "gold_only" else self.model
        return ",".join(sorted({label.get("speaker_role", "") for label in labels} - {""}))


def case_disagreements(case: ReportCase, extractor: str) -> list[Disagreement]:
    """Where `extractor` and gold disagree on `case`, sentiment first, then per kind by type."""
    prediction = case.predictions.get(extractor)
    if prediction is None or prediction.error:
        return []
    found: list[Disagreement] = []
    if prediction.sentiment is not None and prediction.sentiment != case.gold.sentiment:
        found.append(
            Disagreement(
                case.id,
                SENTIMENT,
                SENTIMENT,
                "sentiment",
                gold=[_label(case.gold.sentiment)],
                model=[_label(prediction.sentiment)],
            )
        )
    for kind in ITEM_KINDS:
        gold_roles: dict[str, set[str]] = {}
        for gold_item in getattr(case.gold, kind):
            gold_roles.setdefault(gold_item.type, set()).add(gold_item.speaker_role)
        model_items: dict[str, list[ReportItem]] = {}
        for item in prediction.items:
            if item.kind == kind:
                model_items.setdefault(item.type, []).append(item)
        for label in sorted(set(gold_roles) | set(model_items)):
            items = model_items.get(label, [])
            model_roles = {item.speaker_role for item in items}
            roles = gold_roles.get(label, set())
            if not items:
                where = "gold_only"
            elif not roles:
                where = "model_only"
            elif roles != model_roles:
                where = "side_mismatch"
            else:
                continue
            found.append(
                Disagreement(
                    case.id,
                    kind,
                    label,
                    where,
                    gold=[_label(label, role) for role in sorted(roles)],
                    model=[_label(label, role) for role in sorted(model_roles)],
                    evidence=list(dict.fromkeys(i.evidence for i in items if i.evidence)),
                    confidence=max((i.confidence for i in items), default=None),
                )
            )
    return found


def find_disagreement(
    report: EvalReport, case_id: str, extractor: str, kind: str, label: str
) -> Disagreement:
    """The disagreement a decision is about; a ReviewError names what does not exist."""
    case = report.case(case_id)
    if case is None:
        raise ReviewError(f"case_id: no case {case_id!r} in report {report.name}")
    if extractor not in case.predictions:
        known = ", ".join(sorted(case.predictions)) or "none"
        raise ReviewError(f"extractor: {extractor!r} is not in the report (known: {known})")
    for disagreement in case_disagreements(case, extractor):
        if (disagreement.kind, disagreement.label) == (kind, label):
            return disagreement
    raise ReviewError(
        f"label: {extractor} and gold agree on {kind}/{label} in case {case_id!r}; "
        "there is nothing to decide"
    )


# --- decisions ---


def validate_labels(kind: str, labels: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """Edited labels from the closed enums only: the error names the index and the field."""
    if kind == SENTIMENT:
        if len(labels) != 1:
            raise ReviewError("labels: the sentiment slot takes exactly one label")
        value = labels[0].get("type")
        if value not in SENTIMENT_LABELS:
            raise ReviewError(f"labels[0].type: sentiment must be one of {SENTIMENT_LABELS}")
        return [_label(str(value))]
    if kind not in ITEM_KINDS:
        raise ReviewError(f"kind: must be one of {list(KINDS)}")
    out: list[dict[str, str]] = []
    for index, label in enumerate(labels):
        item_type, role = label.get("type"), label.get("speaker_role", Role.CUSTOMER.value)
        if item_type not in ITEM_KINDS[kind]:
            raise ReviewError(
                f"labels[{index}].type: not a {kind} label; known: {ITEM_KINDS[kind]}"
            )
        if role not in ROLES:
            raise ReviewError(f"labels[{index}].speaker_role: must be one of {list(ROLES)}")
        if _label(str(item_type), str(role)) not in out:
            out.append(_label(str(item_type), str(role)))
    return out


def resulting_labels(
    disagreement: Disagreement,
    decision: Decision,
    edited: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, str]]:
    """The slot's labels once `decision` holds."""
    if decision is Decision.ACCEPT_MODEL:
        return list(disagreement.model)
    if decision is Decision.KEEP_GOLD:
        return list(disagreement.gold)
    if edited is None:
        raise ReviewError("labels: an edit needs the edited labels")
    return validate_labels(disagreement.kind, edited)


def record_decision(
    session: Session,
    report: EvalReport,
    *,
    case_id: str,
    extractor: str,
    kind: str,
    label: str,
    decision: Decision | str,
    reviewer: str,
    labels: Sequence[Mapping[str, Any]] | None = None,
    api_key_id: int | None = None,
) -> ReviewDecision:
    """Validate and append one decision (the caller commits)."""
    reviewer = reviewer.strip()
    if not reviewer or len(reviewer) > MAX_REVIEWER:
        raise ReviewError(f"reviewer: a name of 1..{MAX_REVIEWER} characters is needed")
    try:
        chosen = Decision(decision)
    except ValueError:
        raise ReviewError(f"decision: must be one of {[d.value for d in Decision]}") from None
    disagreement = find_disagreement(report, case_id, extractor, kind, label)
    row = ReviewDecision(
        report=report.name,
        case_id=case_id,
        extractor=extractor,
        kind=kind,
        label=label,
        side=disagreement.side,
        disagreement=disagreement.where,
        decision=chosen.value,
        labels=resulting_labels(disagreement, chosen, labels),
        reviewer=reviewer,
        api_key_id=api_key_id,
    )
    session.add(row)
    session.flush()
    return row


def decision_history(
    session: Session,
    report: str | None = None,
    *,
    case_id: str | None = None,
    limit: int | None = None,
) -> list[ReviewDecision]:
    """The audit trail, newest first."""
    statement = select(ReviewDecision)
    if report is not None:
        statement = statement.where(col(ReviewDecision.report) == report)
    if case_id is not None:
        statement = statement.where(col(ReviewDecision.case_id) == case_id)
    statement = statement.order_by(col(ReviewDecision.id).desc())
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement).all())


def newest_decisions(session: Session, report: str) -> dict[tuple[str, str, str], ReviewDecision]:
    """The decision in force per (case, kind, label) of `report`: the newest row wins."""
    winners: dict[tuple[str, str, str], ReviewDecision] = {}
    for row in reversed(decision_history(session, report)):
        winners[(row.case_id, row.kind, row.label)] = row
    return winners


def apply_to_gold(gold: Mapping[str, Any], decisions: Iterable[ReviewDecision]) -> dict[str, Any]:
    """`gold` (the YAML `gold:` mapping) with each decision's slot replaced by its labels, in
    the order they were taken: a later decision on an overlapping type has the last word."""
    out: dict[str, Any] = dict(gold.items())
    for decision in sorted(decisions, key=lambda d: d.id or 0):
        if decision.kind == SENTIMENT:
            out[SENTIMENT] = decision.labels[0]["type"]
            continue
        items = [
            _label(str(item["type"]), str(item.get("speaker_role", Role.CUSTOMER.value)))
            for item in out.get(decision.kind) or []
            if item["type"] != decision.label
        ]
        for label in decision.labels:
            if label not in items:
                items.append(dict(label))
        out[decision.kind] = items
    return out
