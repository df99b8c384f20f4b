r"""Qualitative sub-score from conversation events.

Inputs: the `SignalEvent`s of the account's conversations in the look-back window
(`window_days`, default 90, before as-of; older events do not count at all) and the number
of those conversations. For each event e, aged a_e days at as-of:

    points_e = the profile's table value for its kind and type (every risk flag negative,
               e.g. champion_leaving −40; planning_to_renew +12; expansion signals +4..+6);
               sentiment: score_e (−1..1) × sentiment_points, and an `escalating`
               conversation counts at most escalating_points (−15)
    weight_e = confidence_e                         (the extractor's 0..1)
             × role_weight(speaker_e)               (customer 1.0, unknown 0.75, vendor 0.5)
             × 0.5^(a_e / half_life_days)           (exponential recency decay, 45 days)
    c_e      = points_e × weight_e

Negatives are spiky: they add up linearly, N = Σ_{c_e<0} c_e, so one champion leaving
(−40) moves the part as much as forty small gripes. Positives accumulate gradually and
saturate: with S = Σ_{c_e>0} c_e, P = cap · (1 − e^(−S/cap)) (cap = positive_cap, 35),
so praise can never buy back a serious risk. Then

    qualitative = clamp(baseline + N + P, 0, 100)           (baseline 50)

Fewer than `min_conversations` conversations in the window → no score, flagged (never a
default). Drivers: each negative keeps c_e, each positive gets c_e · P/S, and when the clamp
bites all are scaled by (qualitative − baseline)/(N + P); so they sum exactly to
qualitative − baseline. The part's confidence is min(1, conversations/target_conversations).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from convsignal.domain import SentimentLabel, SignalKind
from convsignal.score.profile_model import Qualitative

DAY = 86400.0
SENTIMENT = SignalKind.SENTIMENT.value


class EventInput(NamedTuple):
    """One stored event as scoring sees it (a tuple: a recompute builds millions)."""

    event_id: int | None
    kind: str
    signal_type: str
    score: float
    confidence: float
    speaker_role: str
    occurred_at: datetime
    version: str  # extractor@prompt_version


class EventContribution(NamedTuple):
    event: EventInput
    points: float  # in qualitative-score points, summing to subscore − baseline


@dataclass(frozen=True, slots=True)
class QualitativeResult:
    subscore: float | None
    conversations: int
    contributions: tuple[EventContribution, ...]
    flags: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()  # extractor@prompt versions of every event in the window


def base_points(profile: Qualitative, event: EventInput) -> float:
    if event.kind == SignalKind.SENTIMENT:
        points = event.score * profile.sentiment_points
        if event.signal_type == SentimentLabel.ESCALATING:
            points = min(points, profile.escalating_points)
        return points
    return float(profile.points_table().get((event.kind, event.signal_type), 0.0))


def event_weight(profile: Qualitative, event: EventInput, as_of: datetime) -> float:
    """confidence × role weight × recency decay (an event after as-of counts in full)."""
    age_days = max(0.0, (as_of - event.occurred_at).total_seconds() / DAY)
    decay = math.pow(0.5, age_days / profile.half_life_days)
    return event.confidence * profile.role_weights.get(event.speaker_role, 1.0) * decay


def qualitative_subscore(
    profile: Qualitative, events: Sequence[EventInput], conversations: int, as_of: datetime
) -> QualitativeResult:
    if conversations < profile.min_conversations:
        flag = (
            f"{conversations} conversation(s) in the last {profile.window_days} days "
            f"(need {profile.min_conversations})"
        )
        return QualitativeResult(None, conversations, (), (flag,))
    raw: list[tuple[EventInput, float]] = []
    table, roles = profile.points_table(), profile.role_weights
    per_day = math.log(0.5) / profile.half_life_days  # decay = e^(age · per_day) = 0.5^(age/h)
    for event in events:  # inlined base_points × event_weight: millions of events per run
        if event.kind == SENTIMENT:
            value = base_points(profile, event)
        else:
            value = table.get((event.kind, event.signal_type), 0.0)
        if not value:
            continue
        age_days = max(0.0, (as_of - event.occurred_at).total_seconds() / DAY)
        value *= (
            event.confidence * roles.get(event.speaker_role, 1.0) * math.exp(age_days * per_day)
        )
        if value:
            raw.append((event, value))
    negative = sum(v for _, v in raw if v < 0)
    positive_raw = sum(v for _, v in raw if v > 0)
    positive = profile.positive_cap * (1 - math.exp(-positive_raw / profile.positive_cap))
    positive_scale = positive / positive_raw if positive_raw else 0.0
    total = negative + positive
    subscore = min(100.0, max(0.0, profile.baseline + total))
    clamp_scale = (subscore - profile.baseline) / total if total else 0.0
    contributions = tuple(
        EventContribution(
            event=event, points=value * (positive_scale if value > 0 else 1.0) * clamp_scale
        )
        for event, value in raw
    )
    versions = tuple(sorted({event.version for event in events}))
    return QualitativeResult(subscore, conversations, contributions, versions=versions)
