"""Time: trends against earlier snapshots, and the playbook triggers they raise.

Each run keeps one snapshot per account. Against the *previous* snapshot (the newest with
as-of not after this one) and the snapshot *about 30 days ago* (the newest at least
`history.compare_days` old and at most `compare_tolerance_days` older than that):

    trend      = score − previous score
    trend_30d  = score − score 30 days ago

Triggers (computed here, stored as rows; the API's webhooks deliver them later):

    band_changed       the band differs from the previous snapshot's (needs a previous one)
    score_drop         trend_30d ≤ −triggers.score_drop_points
    sustained_risk     at_risk or critical without a break for ≥ sustained_risk_days
                       (`risk_since` is carried from snapshot to snapshot)
    expansion_ready    expansion ≥ expansion.ready_at while the health band allows it
    low_nps_declining  NPS ≤ triggers.low_nps and the score fell ≥ declining_points
                       (vs. 30 days ago, else vs. the previous snapshot)

Every trigger but band_changed is a *condition*: the snapshot stores which conditions hold,
and a trigger fires only when its condition starts to hold (it did not on the previous
snapshot), so a daily run does not repeat the same alert every day. Triggers follow the
computed score; an override is reported beside them, it does not silence them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from convsignal.domain import Band
from convsignal.score.profile_model import Profile

DAY = 86400.0
RISK_BANDS = frozenset({Band.AT_RISK.value, Band.CRITICAL.value})

Detail = dict[str, float | str | None]


class TriggerKind(StrEnum):
    BAND_CHANGED = "band_changed"
    SCORE_DROP = "score_drop"
    SUSTAINED_RISK = "sustained_risk"
    EXPANSION_READY = "expansion_ready"
    LOW_NPS_DECLINING = "low_nps_declining"


@dataclass(frozen=True, slots=True)
class PriorSnapshot:
    """What a trend or trigger needs from an earlier snapshot."""

    as_of: datetime
    score: float | None
    band: str
    expansion_ready: bool = False
    risk_since: datetime | None = None
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Trigger:
    kind: TriggerKind
    detail: Detail = field(default_factory=dict)  # numbers and band names only


@dataclass(frozen=True, slots=True)
class Timeline:
    trend: float | None
    trend_30d: float | None
    risk_since: datetime | None
    conditions: tuple[str, ...]
    triggers: tuple[Trigger, ...]


def _delta(score: float | None, earlier: PriorSnapshot | None) -> float | None:
    if score is None or earlier is None or earlier.score is None:
        return None
    return score - earlier.score


def timeline(
    profile: Profile,
    *,
    as_of: datetime,
    score: float | None,
    band: str,
    expansion_ready: bool,
    nps: float | None,
    expansion: float | None = None,
    previous: PriorSnapshot | None,
    month_ago: PriorSnapshot | None,
) -> Timeline:
    rules = profile.triggers
    trend, trend_30d = _delta(score, previous), _delta(score, month_ago)
    risk_since: datetime | None = None
    if band in RISK_BANDS:
        carried = previous.risk_since if previous and previous.band in RISK_BANDS else None
        risk_since = carried or as_of
    holding: dict[TriggerKind, Detail] = {}
    if trend_30d is not None and month_ago and trend_30d <= -rules.score_drop_points:
        holding[TriggerKind.SCORE_DROP] = {
            "drop": round(-trend_30d, 2),
            "score": score,
            "score_then": month_ago.score,
            "then": month_ago.as_of.isoformat(),
        }
    if risk_since is not None:
        days = (as_of - risk_since).total_seconds() / DAY
        if days >= rules.sustained_risk_days:
            holding[TriggerKind.SUSTAINED_RISK] = {
                "band": band,
                "since": risk_since.isoformat(),
                "days": round(days, 1),
            }
    if expansion_ready:
        holding[TriggerKind.EXPANSION_READY] = {"expansion": expansion, "score": score}
    decline = trend_30d if trend_30d is not None else trend
    low_nps = nps is not None and nps <= rules.low_nps
    if low_nps and decline is not None and decline <= -rules.declining_points:
        holding[TriggerKind.LOW_NPS_DECLINING] = {"nps": nps, "decline": round(-decline, 2)}
    already = set(previous.conditions) if previous else set()
    triggers = []
    if previous is not None and previous.band != band:
        detail: Detail = {"from": previous.band, "to": band, "score": score}
        detail["previous_score"] = previous.score
        triggers.append(Trigger(TriggerKind.BAND_CHANGED, detail))
    triggers += [Trigger(kind, d) for kind, d in holding.items() if kind.value not in already]
    conditions = tuple(kind.value for kind in holding)
    return Timeline(trend, trend_30d, risk_since, conditions, tuple(triggers))
