"""Webhook subscriptions, deliveries and replay (admin scope).

POST /v1/webhooks returns the subscription's signing secret once (Standard Webhooks
`whsec_…`); receivers verify each delivery with it, e.g. in Python
`standardwebhooks.Webhook(secret).verify(body, headers)`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field, HttpUrl, UrlConstraints
from sqlalchemy import select
from sqlmodel import col

from convsignal.api.auth import Scope, require_scope
from convsignal.api.background import queue_for
from convsignal.api.deps import EngineDep, SessionDep
from convsignal.api.problems import Problem, problem_responses
from convsignal.api.schemas import PLAIN, Timestamp
from convsignal.api.webhooks import active_subscriptions, create_subscription, delete_subscription
from convsignal.api.webhooks import replay as replay_deliveries
from convsignal.store.job_tables import WebhookDelivery, WebhookSubscription
from convsignal.store.tables import as_utc

router = APIRouter(tags=["webhooks"], dependencies=[Depends(require_scope(Scope.ADMIN))])

TriggerType = Literal[
    "*", "band_changed", "score_drop", "sustained_risk", "expansion_ready", "low_nps_declining"
]
DeliveryStatus = Literal["pending", "delivering", "delivered", "dead", "cancelled"]
WebhookUrl = Annotated[HttpUrl, UrlConstraints(max_length=2000)]
IdPath = Annotated[int, Path(ge=1, le=2**31 - 1)]


class SubscriptionIn(BaseModel):
    url: WebhookUrl
    triggers: list[TriggerType] = Field(
        min_length=1, max_length=10, description='trigger types, or "*" for all'
    )
    description: Annotated[str, Field(max_length=200, pattern=PLAIN)] | None = None


class SubscriptionOut(BaseModel):
    id: int
    url: str
    triggers: list[str]
    description: str | None
    created_at: datetime


class SubscriptionCreated(SubscriptionOut):
    secret: str = Field(description="whsec_…: shown once, verify signatures with it")


class DeliveryOut(BaseModel):
    id: int
    message_id: str = Field(description="the webhook-id header")
    subscription_id: int
    trigger_id: int
    event_type: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class ReplayIn(BaseModel):
    delivery_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    since: Timestamp | None = Field(default=None, description="deliveries created since then")
    status: Literal["dead", "delivered", "cancelled"] | None = None


class ReplayOut(BaseModel):
    queued: int


def _out(subscription: WebhookSubscription) -> SubscriptionOut:
    assert subscription.id is not None
    return SubscriptionOut(
        id=subscription.id,
        url=subscription.url,
        triggers=subscription.triggers,
        description=subscription.description,
        created_at=as_utc(subscription.created_at),
    )


@router.post(
    "/webhooks",
    status_code=201,
    response_model=SubscriptionCreated,
    summary="Subscribe a URL to playbook triggers (the secret is shown once)",
)
def subscribe(body: SubscriptionIn, request: Request, session: SessionDep) -> SubscriptionCreated:
    subscription, secret = create_subscription(
        session,
        queue_for(request.app).cipher,
        url=str(body.url),
        triggers=body.triggers,
        description=body.description,
    )
    session.commit()
    return SubscriptionCreated(**_out(subscription).model_dump(), secret=secret)


@router.get("/webhooks", response_model=list[SubscriptionOut], summary="List subscriptions")
def list_subscriptions(session: SessionDep) -> list[SubscriptionOut]:
    return [_out(subscription) for subscription in active_subscriptions(session)]


@router.delete(
    "/webhooks/{subscription_id}",
    status_code=204,
    responses=problem_responses(404),
    summary="Unsubscribe (deliveries not yet made are cancelled)",
)
def unsubscribe(subscription_id: IdPath, session: SessionDep) -> None:
    if not delete_subscription(session, subscription_id):
        raise Problem(404, detail=f"no subscription {subscription_id}")
    session.commit()


@router.get(
    "/webhooks/deliveries",
    response_model=list[DeliveryOut],
    summary="Recent deliveries, newest first",
)
def list_deliveries(
    session: SessionDep,
    status: Annotated[DeliveryStatus | None, Query()] = None,
    subscription_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeliveryOut]:
    statement = select(WebhookDelivery)
    if status is not None:
        statement = statement.where(col(WebhookDelivery.status) == status)
    if subscription_id is not None:
        statement = statement.where(col(WebhookDelivery.subscription_id) == subscription_id)
    rows = session.scalars(statement.order_by(col(WebhookDelivery.id).desc()).limit(limit))
    return [delivery_out(row) for row in rows]


@router.post(
    "/webhooks/replay",
    response_model=ReplayOut,
    responses=problem_responses(422),
    summary="Queue finished deliveries again (by id, or since a time)",
)
def replay(body: ReplayIn, engine: EngineDep) -> ReplayOut:
    if body.delivery_id is None and body.since is None:
        raise Problem(
            422,
            detail="give delivery_id or since",
            errors=[{"field": "body", "message": "give delivery_id or since"}],
        )
    queued = replay_deliveries(
        engine, delivery_id=body.delivery_id, since=body.since, status=body.status
    )
    return ReplayOut(queued=queued)


def delivery_out(row: WebhookDelivery) -> DeliveryOut:
    assert row.id is not None
    return DeliveryOut(
        id=row.id,
        message_id=row.message_id,
        subscription_id=row.subscription_id,
        trigger_id=row.trigger_id,
        event_type=row.event_type,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=as_utc(row.next_attempt_at),
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        created_at=as_utc(row.created_at),
        delivered_at=as_utc(row.delivered_at) if row.delivered_at else None,
    )
