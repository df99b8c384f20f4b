"""The scoring profile's schema: every weight, curve, window, threshold and band edge.

A profile may carry per-segment variants (`segments:`): each names a rule matched against the
account (an attribute by value: `segment`, `plan`, `industry`, `region`, … as imported with the
metrics CSV; or a numeric measure within a range, e.g. licensed seats for size) and the keys it
changes; the rest is inherited. The first matching rule wins; accounts
matching none use the base profile. Loading lives in `profile_loading`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from convsignal.domain import Band, ExpansionSignal, Intent, RiskFlag, SignalKind

Curve = list[tuple[float, float]]
T = TypeVar("T")
R = TypeVar("R")
# A segment rule matches an account attribute (segment, plan, industry, region, … from the
# metrics CSV) by value, or a numeric measure by range.


def per_instance(fn: Callable[[T], R]) -> Callable[[T], R]:
    """Cache a pure function of a frozen profile part (scoring calls it per account).

    Keyed by identity and holding the instance, so a `model_copy(update=…)` is a new key and
    an id is never reused while cached (unlike `cached_property`, which copies survive).
    """
    cache: dict[int, tuple[T, R]] = {}

    def cached(instance: T) -> R:
        hit = cache.get(id(instance))
        if hit is not None and hit[0] is instance:
            return hit[1]
        if len(cache) > 256:
            cache.clear()
        value = fn(instance)
        cache[id(instance)] = (instance, value)
        return value

    return cached


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_curve(name: str, points: Curve | None) -> None:
    if not points or len(points) < 2:
        raise ValueError(f"{name!r} needs a curve of at least 2 points")
    xs = [x for x, _ in points]
    if xs != sorted(xs) or len(set(xs)) != len(xs):
        raise ValueError(f"curve of {name!r} must have increasing x values")


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


class Trend(_Frozen):
    """A measure derived as the least-squares slope of another measure's recent history."""

    of: str
    window_days: int = Field(gt=0)  # snapshots of `of` this recent are fitted
    min_span_days: int = Field(ge=0)  # first to last fitted snapshot at least this far apart
    per_days: float = Field(gt=0)  # slope expressed as change per this many days
    relative: bool = False  # True: as % of the mean value over the window


class Quantitative(_Frozen):
    min_coverage: float = Field(ge=0, le=1)
    stale_after_days: int = Field(gt=0)
    groups: dict[str, Group]
    curves: dict[str, Curve]
    validity_days: dict[str, int] = {}  # per-measure validity, instead of stale_after_days
    ageing: dict[str, float] = {}  # change per day since measured (days_since_… +1)
    trends: dict[str, Trend] = {}
    last_contact_from_conversations: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> Quantitative:
        for group in self.groups.values():
            for measure in group.measures:
                check_curve(measure, self.curves.get(measure))
        for name, trend in self.trends.items():
            if trend.of == name:
                raise ValueError(f"trend {name!r} cannot be fitted on itself")
        for name, days in self.validity_days.items():
            if days <= 0:
                raise ValueError(f"validity_days of {name!r} must be positive")
        if not any(g.weight > 0 and any(g.measures.values()) for g in self.groups.values()):
            raise ValueError("at least one group needs a positive weight and measure share")
        return self

    def measure_weights(self) -> dict[str, float]:
        """Each measure's share of the whole quantitative part (sums to 1)."""
        return dict(_measure_weights(self))

    def group_of(self, measure: str) -> str:
        return next(name for name, g in self.groups.items() if measure in g.measures)

    def validity(self, measure: str) -> int:
        return self.validity_days.get(measure, self.stale_after_days)


@per_instance
def _measure_weights(profile: Quantitative) -> dict[str, float]:
    total = sum(g.weight for g in profile.groups.values())
    weights: dict[str, float] = {}
    for group in profile.groups.values():
        share_total = sum(group.measures.values()) or 1.0
        for measure, share in group.measures.items():
            weights[measure] = group.weight / total * share / share_total
    return weights


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

    def points_table(self) -> Mapping[tuple[str, str], float]:
        """(kind, type) → points, for every intent, risk flag and expansion signal."""
        return _points_table(self)


@per_instance
def _points_table(profile: Qualitative) -> dict[tuple[str, str], float]:
    tables: dict[str, Mapping[Any, float]] = {
        SignalKind.RISK_FLAG.value: profile.risk_flags,
        SignalKind.INTENT.value: profile.intents,
        SignalKind.EXPANSION_SIGNAL.value: profile.expansion_signals,
    }
    return {
        (kind, str(name)): points
        for kind, table in tables.items()
        for name, points in table.items()
    }


class Composite(_Frozen):
    qualitative_weight: float = Field(ge=0, le=1)


class ExpansionComponent(StrEnum):
    SEAT_UTILISATION = "seat_utilisation"  # share of licensed seats in use (fresh measure)
    ADOPTION_GROWTH = "adoption_growth"  # the trend measure named by `adoption_trend`
    EXPANSION_INTEREST = "expansion_interest"  # decayed points of expansion intents/signals
    HEALTH_TREND = "health_trend"  # health score change vs. about 30 days ago


class WeightedCurve(_Frozen):
    weight: float = Field(gt=0)
    curve: Curve


class Expansion(_Frozen):
    ready_at: float = Field(default=70, ge=0, le=100)
    ready_bands: tuple[Band, ...] = (Band.HEALTHY,)
    min_coverage: float = Field(default=0.5, ge=0, le=1)
    adoption_trend: str = "feature_adoption_trend"
    components: dict[ExpansionComponent, WeightedCurve]

    @model_validator(mode="after")
    def _curves(self) -> Expansion:
        for name, component in self.components.items():
            check_curve(str(name), component.curve)
        if not self.components:
            raise ValueError("expansion needs at least one component")
        return self


class Triggers(_Frozen):
    score_drop_points: float = Field(default=15, gt=0)  # vs. the snapshot ~30 days earlier
    sustained_risk_days: int = Field(default=30, gt=0)  # at_risk or critical at least this long
    low_nps: float = 0  # NPS at or below this …
    declining_points: float = Field(default=5, gt=0)  # … while the score fell at least this


class History(_Frozen):
    compare_days: int = Field(default=30, gt=0)  # "vs. 30 days ago": a snapshot this old …
    compare_tolerance_days: int = Field(default=15, ge=0)  # … or at most this much older


class Range(_Frozen):
    min: float | None = None
    max: float | None = None

    def contains(self, value: float | None) -> bool:
        if value is None:
            return False
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class Segment(_Frozen):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=24)
    when: dict[str, str | list[str] | Range] = Field(min_length=1)
    overrides: dict[str, Any] = {}

    @model_validator(mode="after")
    def _matchable(self) -> Segment:
        for key in ("segments", "content_hash", "segment"):
            if key in self.overrides:
                raise ValueError(f"overrides cannot change {key!r}")
        return self

    def matches(self, attributes: Mapping[str, str | None], measures: Mapping[str, float]) -> bool:
        for key, condition in self.when.items():
            if isinstance(condition, Range):
                if not condition.contains(measures.get(key)):
                    return False
            elif attributes.get(key) not in (
                [condition] if isinstance(condition, str) else condition
            ):
                return False
        return True


class Profile(_Frozen):
    version: str = Field(max_length=30)
    bands: Bands
    composite: Composite
    quantitative: Quantitative
    qualitative: Qualitative
    expansion: Expansion | None = None
    triggers: Triggers = Triggers()
    history: History = History()
    segments: tuple[Segment, ...] = ()
    segment: str | None = None  # set on a segment's variant, never in the file
    content_hash: str = ""
    _variants: dict[str, Profile] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _cross_checks(self) -> Profile:
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise ValueError("segment names must be unique")
        expansion = self.expansion
        if (
            expansion is not None
            and ExpansionComponent.ADOPTION_GROWTH in expansion.components
            and expansion.adoption_trend not in self.quantitative.trends
        ):
            raise ValueError(
                f"expansion.adoption_trend {expansion.adoption_trend!r} is not "
                "defined under quantitative.trends"
            )
        return self

    @property
    def full_version(self) -> str:
        name = f"{self.version}/{self.segment}" if self.segment else self.version
        return f"{name}@{self.content_hash[:8]}" if self.content_hash else name

    @property
    def variants(self) -> Mapping[str, Profile]:
        """The resolved profile of each segment, by segment name."""
        return self._variants

    def with_variants(self, variants: dict[str, Profile]) -> Profile:
        self._variants = variants
        return self

    def for_account(
        self, attributes: Mapping[str, str | None], measures: Mapping[str, float]
    ) -> Profile:
        """The first segment whose rule matches the account, else this profile."""
        for segment in self.segments:
            if segment.matches(attributes, measures):
                return self._variants.get(segment.name, self)
        return self
