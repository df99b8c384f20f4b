"""The scoring profile: a versioned YAML file holding every weight, curve and threshold."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from convsignal.domain import ExpansionSignal, Intent, RiskFlag
from convsignal.errors import ScoringError

DEFAULT_PROFILE_PATH = Path(__file__).with_name("default_profile.yaml")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bands(_Frozen):
    healthy: float = 70
    attention: float = 50
    at_risk: float = 30

    @model_validator(mode="after")
    def _ordered(self) -> Bands:
        if not self.healthy > self.attention > self.at_risk:
            raise ValueError("bands must satisfy healthy > attention > at_risk")
        return self


class Group(_Frozen):
    weight: float = Field(ge=0)
    measures: dict[str, float]


class Quantitative(_Frozen):
    min_coverage: float = Field(ge=0, le=1)
    stale_after_days: int = Field(gt=0)
    groups: dict[str, Group]
    curves: dict[str, list[tuple[float, float]]]

    @model_validator(mode="after")
    def _curves_for_every_measure(self) -> Quantitative:
        for group in self.groups.values():
            for measure in group.measures:
                points = self.curves.get(measure)
                if not points or len(points) < 2:
                    raise ValueError(f"measure {measure!r} needs a curve of at least 2 points")
                xs = [x for x, _ in points]
                if xs != sorted(xs) or len(set(xs)) != len(xs):
                    raise ValueError(f"curve of {measure!r} must have increasing x values")
        return self

    def measure_weights(self) -> dict[str, float]:
        """Each measure's share of the whole quantitative part (sums to 1)."""
        total = sum(g.weight for g in self.groups.values())
        weights: dict[str, float] = {}
        for group in self.groups.values():
            share_total = sum(group.measures.values()) or 1.0
            for measure, share in group.measures.items():
                weights[measure] = group.weight / total * share / share_total
        return weights

    def group_of(self, measure: str) -> str:
        return next(name for name, g in self.groups.items() if measure in g.measures)


class Qualitative(_Frozen):
    window_days: int = Field(gt=0)
    half_life_days: float = Field(gt=0)
    min_conversations: int = Field(ge=0)
    target_conversations: int = Field(gt=0)
    baseline: float = 50
    positive_cap: float = Field(gt=0)
    role_weights: dict[str, float]
    sentiment_points: float
    escalating_points: float
    risk_flags: dict[RiskFlag, float]
    intents: dict[Intent, float]
    expansion_signals: dict[ExpansionSignal, float]


class Composite(_Frozen):
    qualitative_weight: float = Field(ge=0, le=1)


class Profile(_Frozen):
    version: str
    bands: Bands
    composite: Composite
    quantitative: Quantitative
    qualitative: Qualitative
    content_hash: str = ""

    @property
    def full_version(self) -> str:
        return f"{self.version}@{self.content_hash[:8]}" if self.content_hash else self.version


def load_profile(path: Path | None = None) -> Profile:
    """Load and validate a profile; errors name the file and the offending field."""
    path = path or DEFAULT_PROFILE_PATH
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScoringError(f"{path}: cannot read scoring profile ({exc.strerror})") from None
    try:
        data: Any = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ScoringError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict):
        raise ScoringError(f"{path}: a scoring profile is a YAML mapping")
    data["content_hash"] = hashlib.sha256(raw).hexdigest()
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ScoringError(f"{path}: invalid scoring profile: {problems}") from None
