"""The labelled extraction set: synthetic conversations with gold signals (eval/signals/).

One YAML file per conversation under `eval/signals/cases/`. The text is synthetic (never
real people) and is scrubbed by the real scrubber before any extractor sees it, exactly as
in production; the participants' names and emails double as the PII-leak canaries.

    id: call-fintech-017            # unique, = file stem
    channel: call                   # call | email | ticket | chat
    industry: fintech
    occurred_at: 2026-03-02T15:00:00Z
    subject: Quarterly review       # optional (emails, tickets)
    tags: [negation, long]          # hard-case tags; see HARD_CASE_TAGS
    participants:
      - {name: Dana Whitfield, email: dana@acme-pay.example, title: VP Ops, role: customer}
      - {name: Sam Ortiz, email: sam@vendor.example, role: vendor}
    turns:
      - {speaker: Dana Whitfield, text: "…"}
      - {speaker: Sam Ortiz, text: "…", internal: false}
    gold:
      sentiment: negative           # positive | neutral | negative | escalating
      trajectory: declining         # improving | stable | declining
      intents: [{type: evaluating_alternatives, speaker_role: customer}]
      risk_flags: [{type: champion_leaving, speaker_role: customer}]
      expansion_signals: []
      rationale: one or two sentences a RevOps analyst can check the labels against
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from convsignal.domain import (
    Channel,
    ExpansionSignal,
    Intent,
    RiskFlag,
    Role,
    SentimentLabel,
    Trajectory,
)
from convsignal.errors import ConvSignalError

HARD_CASE_TAGS = frozenset(
    {
        "negation",  # "we are NOT looking at other vendors"
        "sarcasm",
        "vendor_names_competitor",  # the vendor rep, not the customer, names a competitor
        "hypothetical",  # "if budgets were cut we would…"
        "mixed_sentiment",
        "one_line",
        "long",  # long calls (a two-hour call and the like)
        "prompt_injection",
        "low_signal",  # chit-chat, nothing to extract
        "internal_note",
    }
)


class DatasetError(ConvSignalError):
    """A labelled case that cannot be read; the message names the file and the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GoldParticipant(_Strict):
    name: str
    email: str | None = None
    title: str | None = None
    role: Role = Role.UNKNOWN


class GoldTurn(_Strict):
    speaker: str
    text: str
    internal: bool = False


class GoldItem(_Strict):
    speaker_role: Role = Role.CUSTOMER


class GoldIntent(GoldItem):
    type: Intent


class GoldRisk(GoldItem):
    type: RiskFlag


class GoldExpansion(GoldItem):
    type: ExpansionSignal


class Gold(_Strict):
    sentiment: SentimentLabel
    trajectory: Trajectory = Trajectory.STABLE
    intents: tuple[GoldIntent, ...] = ()
    risk_flags: tuple[GoldRisk, ...] = ()
    expansion_signals: tuple[GoldExpansion, ...] = ()
    rationale: str = ""


class LabelledCase(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    channel: Channel
    industry: str
    occurred_at: datetime
    subject: str | None = None
    tags: tuple[str, ...] = ()
    participants: tuple[GoldParticipant, ...]
    turns: tuple[GoldTurn, ...] = Field(min_length=1)
    gold: Gold

    @field_validator("tags")
    @classmethod
    def _known_tags(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(tags) - HARD_CASE_TAGS)
        if unknown:
            raise ValueError(f"unknown tag(s) {unknown}; known: {sorted(HARD_CASE_TAGS)}")
        return tags


def load_case(path: Path) -> LabelledCase:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DatasetError(f"{path}: cannot read: {exc}") from exc
    try:
        case = LabelledCase.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DatasetError(f"{path}: field {where!r}: {first['msg']}") from exc
    if case.id != path.stem:
        raise DatasetError(f"{path}: id {case.id!r} differs from the file name {path.stem!r}")
    speakers = {p.name for p in case.participants}
    for i, turn in enumerate(case.turns):
        if turn.speaker not in speakers:
            raise DatasetError(f"{path}: turns[{i}].speaker {turn.speaker!r} is no participant")
    return case


def load_cases(directory: Path) -> list[LabelledCase]:
    """Every case under `directory` (recursively), sorted by id; ids must be unique."""
    if not directory.is_dir():
        raise DatasetError(f"{directory}: no such labelled-set folder")
    cases = [load_case(p) for p in sorted(directory.rglob("*.yaml"))]
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise DatasetError(f"{directory}: duplicate case id {case.id!r}")
        seen.add(case.id)
    return sorted(cases, key=lambda c: c.id)
