"""What a run stores: one snapshot row per account, and its playbook trigger rows.

Rows are plain dicts for one multi-row INSERT per page (an ORM object per row would cost
more than the scoring). Every non-null column is given here: Core inserts do not run the
models' Python-side defaults. Nothing stored holds conversation text: ids, numbers, band
and measure names, extractor versions, and an override's reason typed by a CSM.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from convsignal.store.tables import utcnow

if TYPE_CHECKING:
    from convsignal.score.service import ScoredAccount


def snapshot_row(scored: ScoredAccount, run_id: int | None) -> dict[str, Any]:
    health, times, expansion, override = (
        scored.score,
        scored.timeline,
        scored.expansion,
        scored.override,
    )
    return {
        "account_id": health.account_id,
        "as_of": health.as_of,
        "computed_at": utcnow(),
        "score": health.score,
        "band": health.band.value,
        "quantitative": health.quantitative,
        "qualitative": health.qualitative,
        "confidence": health.confidence,
        "weights": dict(health.weights),
        "drivers": [
            {
                "source": d.source,
                "name": d.name,
                "points": d.points,
                "detail": d.detail,
                "event_id": d.event_id,
                "value": d.value,
            }
            for d in health.drivers
        ],
        "flags": list(health.flags),
        "versions": list(health.versions),
        "profile_version": health.profile_version,
        "run_id": run_id,
        "segment": scored.segment,
        "trend": scored.trend,
        "trend_30d": scored.trend_30d,
        "expansion": expansion.score,
        "expansion_ready": expansion.ready,
        "expansion_drivers": [
            {"component": d.component, "value": d.value, "points": d.points}
            for d in expansion.drivers
        ],
        "risk_since": times.risk_since if times else None,
        "conditions": list(times.conditions) if times else [],
        "override_id": override.id if override else None,
        "override_score": override.score if override else None,
        "override_band": override.band.value if override else None,
    }


def trigger_rows(
    scored: Sequence[ScoredAccount], snapshot_ids: Mapping[str, int], run_id: int | None
) -> list[dict[str, Any]]:
    """`snapshot_ids`: the id of each account's snapshot in this run."""
    now = utcnow()
    rows = []
    for account in scored:
        snapshot_id = snapshot_ids.get(account.score.account_id)
        for trigger in account.triggers:
            detail: dict[str, Any] = dict(trigger.detail)
            if account.override is not None:  # reported beside, never silencing
                detail["override_score"] = account.override.score
            rows.append(
                {
                    "account_id": account.score.account_id,
                    "run_id": run_id,
                    "snapshot_id": snapshot_id,
                    "kind": trigger.kind.value,
                    "as_of": account.score.as_of,
                    "detail": detail,
                    "profile_version": account.score.profile_version,
                    "created_at": now,
                    "delivered_at": None,
                }
            )
    return rows
