"""The composite: quantitative ⊕ qualitative → one explained `HealthScore`.

    score = (1 − w) · quantitative + w · qualitative            (w = 0.35 by default)

When one part lacks signal the other carries the score alone and a flag says so; when both
lack it the score is null and the band is `insufficient_signal` (never a default "healthy").
Drivers are signed points around a neutral 50 that add up exactly to the score:

    measure i: (1 − w) · weight_i · (measure_score_i − 50)
    event e:   w · contribution_e          (contributions sum to qualitative − 50)
"""

from __future__ import annotations

from datetime import datetime

from convsignal.domain import Band, Driver, HealthScore
from convsignal.score.profile import Bands, Profile
from convsignal.score.qualitative import QualitativeResult
from convsignal.score.quantitative import QuantitativeResult

NEUTRAL = 50.0


def band_for(score: float | None, bands: Bands) -> Band:
    if score is None:
        return Band.INSUFFICIENT_SIGNAL
    if score >= bands.healthy:
        return Band.HEALTHY
    if score >= bands.attention:
        return Band.ATTENTION
    if score >= bands.at_risk:
        return Band.AT_RISK
    return Band.CRITICAL


def combine(
    profile: Profile,
    account_id: str,
    as_of: datetime,
    quantitative: QuantitativeResult,
    qualitative: QualitativeResult,
) -> HealthScore:
    configured_w = profile.composite.qualitative_weight
    has_quant = quantitative.subscore is not None
    has_qual = qualitative.subscore is not None
    if has_quant and has_qual:
        qual_w = configured_w
    elif has_qual:
        qual_w = 1.0
    else:
        qual_w = 0.0
    quant_w = 1.0 - qual_w if has_quant else 0.0

    drivers: list[Driver] = []
    if has_quant:
        drivers += [
            Driver(
                source="measure",
                name=m.measure,
                points=quant_w * m.weight * (m.score - NEUTRAL),
                detail=f"value {m.value:g} → {m.score:.0f}/100",
                value=m.value,
            )
            for m in quantitative.measures
        ]
    if has_qual:
        drivers += [
            Driver(
                source="event",
                name=f"{c.event.kind}:{c.event.signal_type}",
                points=qual_w * c.points,
                detail=f"{c.event.speaker_role}, {c.event.occurred_at.date().isoformat()}",
                event_id=c.event.event_id,
            )
            for c in qualitative.contributions
        ]
    drivers.sort(key=lambda d: abs(d.points), reverse=True)

    score: float | None = None
    if has_quant or has_qual:
        score = NEUTRAL + sum(d.points for d in drivers)
        score = min(100.0, max(0.0, score))

    conversation_coverage = min(
        1.0, qualitative.conversations / profile.qualitative.target_conversations
    )
    confidence = (1 - configured_w) * (quantitative.coverage if has_quant else 0.0)
    confidence += configured_w * (conversation_coverage if has_qual else 0.0)

    flags = [*quantitative.flags, *qualitative.flags]
    if has_quant != has_qual:
        flags.append(
            "scored on quantitative data only" if has_quant else "scored on conversations only"
        )
    if not (has_quant or has_qual):
        flags.append("insufficient signal: neither metrics nor conversations are enough")
    versions = qualitative.versions
    return HealthScore(
        account_id=account_id,
        as_of=as_of,
        score=score,
        band=band_for(score, profile.bands),
        quantitative=quantitative.subscore,
        qualitative=qualitative.subscore,
        weights={"quantitative": quant_w, "qualitative": qual_w},
        confidence=round(confidence, 3),
        drivers=tuple(drivers),
        flags=tuple(flags),
        profile_version=profile.full_version,
        versions=versions,
        conversations_in_window=qualitative.conversations,
        quantitative_coverage=quantitative.coverage,
    )
