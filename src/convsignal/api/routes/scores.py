"""POST /v1/score: a stateless what-if. Measures and events in, score and drivers out.

Nothing is read from or written to the database: the request describes the whole account
(measures, events, conversation count), and the service's own scoring function scores it
with the app's profile, exactly as a recompute would.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends

from convsignal.api.auth import Scope, require_scope
from convsignal.api.deps import ProfileDep
from convsignal.api.schemas import (
    DriverOut,
    ExpansionDriverOut,
    ExpansionOut,
    WhatIf,
    WhatIfScore,
)
from convsignal.score.history import PriorSnapshot
from convsignal.score.inputs import AccountInputs
from convsignal.score.qualitative import EventInput
from convsignal.score.service import score_inputs

router = APIRouter(tags=["scores"])


@router.post(
    "/score",
    dependencies=[Depends(require_scope(Scope.READ))],
    response_model=WhatIfScore,
    summary="Score a described account without storing anything (what-if)",
)
def what_if(body: WhatIf, profile: ProfileDep) -> WhatIfScore:
    """Example body: `{"measures": {"active_users": 30, "licensed_seats": 50, "nps": -10},
    "events": [{"kind": "risk_flag", "signal_type": "champion_leaving",
    "occurred_at": "2026-11-01T10:00:00Z"}]}`"""
    as_of = body.as_of or datetime.now(UTC)
    inputs = AccountInputs(
        account_id=body.account_id,
        segment=body.segment,
        attributes=dict(body.attributes),
        latest={name: (value, as_of) for name, value in body.measures.items()},
        events=sorted(
            (
                EventInput(
                    index,
                    event.kind.value,
                    event.signal_type,
                    event.score,
                    event.confidence,
                    event.speaker_role.value,
                    event.occurred_at,
                    "what-if",
                )
                for index, event in enumerate(body.events)
                if event.occurred_at <= as_of
            ),
            key=lambda e: (e.occurred_at, e.event_id),
        ),
        last_contact=body.last_contact,
    )
    conversations = body.conversations
    if conversations is None:
        keys = {
            e.conversation or f"#{i}" for i, e in enumerate(body.events) if e.occurred_at <= as_of
        }
        conversations = len(keys)
    for p in (profile, *profile.variants.values()):
        inputs.conversations[p.qualitative.window_days] = conversations
    if body.previous_score is not None:
        inputs.previous = PriorSnapshot(
            as_of=as_of, score=body.previous_score, band="", expansion_ready=False,
            risk_since=None, conditions=(),
        )  # fmt: skip
    scored = score_inputs(profile, inputs, as_of)
    health = scored.score
    return WhatIfScore(
        as_of=as_of,
        score=health.score,
        band=health.band,
        quantitative=health.quantitative,
        qualitative=health.qualitative,
        weights=dict(health.weights),
        confidence=health.confidence,
        drivers=[
            DriverOut(
                source=d.source,
                name=d.name,
                points=d.points,
                detail=d.detail,
                event_id=d.event_id,
                value=d.value,
            )
            for d in health.drivers
        ],
        flags=list(health.flags),
        trend=scored.trend,
        expansion=ExpansionOut(
            score=scored.expansion.score,
            ready=scored.expansion.ready,
            drivers=[
                ExpansionDriverOut(component=d.component, value=d.value, points=d.points)
                for d in scored.expansion.drivers
            ],
        ),
        segment=scored.segment,
        profile_version=health.profile_version,
    )
