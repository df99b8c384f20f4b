r"""Qualitative sub-score from conversation events.

For each event e in the look-back window (default 90 days before as-of):

    points_e  = table value for its type (risk flags negative, renewal/expansion positive);
                sentiment: score × sentiment_points (escalating: at most escalating_points)
    weight_e  = confidence_e × role_weight(speaker) × 0.5^(age_days / half_life_days)
    c_e       = points_e × weight_e

Negatives add linearly (N = Σ c_e < 0): one champion leaving moves the score sharply.
Positives saturate (P = cap · (1 − e^(−Σc⁺/cap))): praise accumulates gradually and cannot
buy back a serious risk. Q = clamp(baseline + N + P, 0, 100). Each event's contribution is
rescaled so that the contributions sum exactly to Q − baseline: they are the drivers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from convsignal.domain import SentimentLabel, SignalKind
from convsignal.score.profile import Qualitative


@dataclass(frozen=True, slots=True)
class EventInput:
    event_id: int | None
    kind: str
    signal_type: str
    score: float
    confidence: float
    speaker_role: str
    occurred_at: datetime
    version: str  # extractor@prompt_version


@dataclass(frozen=True, slots=True)
class EventContribution:
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
    tables: dict[str, dict[str, float]] = {
        SignalKind.RISK_FLAG: {str(k): v for k, v in profile.risk_flags.items()},
        SignalKind.INTENT: {str(k): v for k, v in profile.intents.items()},
        SignalKind.EXPANSION_SIGNAL: {str(k): v for k, v in profile.expansion_signals.items()},
    }
    table = tables.get(event.kind, {})
    return float(table.get(event.signal_type, 0.0))


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
    for event in events:
        age_days = max(0.0, (as_of - event.occurred_at).total_seconds() / 86400)
        decay = 0.5 ** (age_days / profile.half_life_days)
        role_weight = profile.role_weights.get(event.speaker_role, 1.0)
        value = base_points(profile, event) * event.confidence * role_weight * decay
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
