"""Metric snapshots in: PUT /v1/accounts/{account_id}/metrics and POST /v1/metrics:batch.

Upserts: a measure already stored for an account and date is replaced, so sending the same
batch twice changes nothing (idempotent). A batch is validated whole before anything is
written (errors name `body.items[3].measures.nps`) and written in one transaction. Unknown
accounts are created, as `convsignal metrics import` does.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends
from sqlmodel import Session

from convsignal.api.auth import Scope, require_scope
from convsignal.api.deps import SessionDep
from convsignal.api.problems import problem_responses
from convsignal.api.routes.accounts import AccountIdPath
from convsignal.api.schemas import AccountMetrics, MetricsBatch, MetricsItem, MetricsWritten
from convsignal.store import repository

router = APIRouter(tags=["metrics"])
WRITE = [Depends(require_scope(Scope.WRITE))]
SOURCE = "api"


@router.put(
    "/accounts/{account_id}/metrics",
    dependencies=WRITE,
    response_model=MetricsWritten,
    responses=problem_responses(400),
    summary="Upsert one account's measures at one date",
)
def put_metrics(
    account_id: AccountIdPath, body: AccountMetrics, session: SessionDep
) -> MetricsWritten:
    """Example body: `{"as_of": "2026-11-01", "measures": {"active_users": 41, "nps": 20}}`"""
    item = MetricsItem(account_id=account_id, **body.model_dump())
    return _write(session, [item])


@router.post(
    "/metrics:batch",
    dependencies=WRITE,
    response_model=MetricsWritten,
    responses=problem_responses(400),
    summary="Upsert many accounts' measures (≤ 1000 items) in one transaction",
)
def post_metrics_batch(body: MetricsBatch, session: SessionDep) -> MetricsWritten:
    """Example body: `{"items": [{"account_id": "acme", "as_of": "2026-11-01",
    "measures": {"active_users": 41}}]}`"""
    return _write(session, body.items)


def _write(session: Session, items: Sequence[MetricsItem]) -> MetricsWritten:
    values = 0
    for item in items:
        repository.ensure_account(
            session,
            item.account_id,
            name=item.name,
            segment=item.segment,
            attributes=dict(item.attributes),
        )
        values += repository.upsert_metrics(
            session,
            ((item.account_id, m, item.as_of, v) for m, v in item.measures.items()),
            source=SOURCE,
        )
    session.commit()
    accounts = {item.account_id for item in items}
    return MetricsWritten(accounts=len(accounts), snapshots=len(items), values=values)
