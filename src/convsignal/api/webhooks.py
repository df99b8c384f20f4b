"""Webhooks: playbook triggers POSTed to subscribers, signed per Standard Webhooks.

Fan-out is a scan, not a hook in the scoring code: every `playbook_triggers` row not yet
handed over (`delivered_at` NULL) becomes one outbox row per matching subscription, and is
marked handed over, in one transaction that holds the trigger rows locked (`FOR UPDATE SKIP
LOCKED` on PostgreSQL). That is the robust choice because triggers are written by more than
one path (`convsignal score` on a machine with no API server, an API recompute), and a scan
catches them all, including those written while no server ran; the lock and the unique
(subscription, trigger) key make a double hand-over impossible. A subscription receives
triggers raised after it was created, never the backlog from before.

Delivery: POST the JSON body with `webhook-id` (the delivery's message id, the same on
every attempt and replay so receivers can de-duplicate), `webhook-timestamp` and
`webhook-signature` (`standardwebhooks.Webhook(secret).sign`), a timeout, no redirects.
2xx is delivered; anything else is retried after an exponential, jittered delay stored on
the row (`next_attempt_at`), and dead after `webhook_max_attempts`. Every attempt is a
`webhook_attempts` row and a log line: status code or error type, latency, never a body.
Bodies carry ids, trigger kinds, numbers, dates and band names only.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import secrets
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from cryptography.fernet import InvalidToken, MultiFernet
from prometheus_client import Counter, Histogram
from sqlalchemy import Engine, or_, select, update
from sqlmodel import Session, col
from standardwebhooks.webhooks import Webhook

from convsignal.api.jobs import changed_rows
from convsignal.score.history import TriggerKind
from convsignal.store.engine import session_scope
from convsignal.store.job_tables import WebhookAttempt, WebhookDelivery, WebhookSubscription
from convsignal.store.tables import PlaybookTrigger, ScoreSnapshot, as_utc, utcnow

log = logging.getLogger("convsignal.api.webhooks")

ALL_TRIGGERS = "*"
TRIGGER_TYPES = tuple(kind.value for kind in TriggerKind)
FAN_OUT_BATCH = 500
USER_AGENT = "convsignal-webhooks/1"

ATTEMPTS = Counter(
    "convsignal_webhook_attempts_total", "Webhook delivery attempts by outcome", ["outcome"]
)
ATTEMPT_SECONDS = Histogram("convsignal_webhook_attempt_seconds", "Webhook attempt latency")


def generate_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def matches(subscribed: Iterable[str], kind: str) -> bool:
    wanted = set(subscribed)
    return ALL_TRIGGERS in wanted or kind in wanted


def backoff_seconds(attempt: int, *, base: float, cap: float) -> float:
    """Delay after failed attempt number `attempt` (1, 2, …): base·2^(attempt−1), capped,
    with "equal jitter" (half fixed, half random) so failing receivers are not hit in step."""
    delay = min(cap, base * 2.0 ** min(attempt - 1, 40))
    return delay / 2 + random.uniform(0, delay / 2)


# Subscriptions ----------------------------------------------------------------------------


def create_subscription(
    session: Session,
    cipher: MultiFernet,
    *,
    url: str,
    triggers: Sequence[str],
    description: str | None = None,
) -> tuple[WebhookSubscription, str]:
    """The stored subscription and its secret (shown once; stored encrypted)."""
    secret = generate_secret()
    subscription = WebhookSubscription(
        url=url,
        triggers=sorted(set(triggers)),
        description=description,
        secret=cipher.encrypt(secret.encode("ascii")),
    )
    session.add(subscription)
    session.flush()
    return subscription, secret


def active_subscriptions(session: Session) -> Sequence[WebhookSubscription]:
    statement = select(WebhookSubscription).where(col(WebhookSubscription.deleted_at).is_(None))
    return session.scalars(statement.order_by(col(WebhookSubscription.id))).all()


def delete_subscription(session: Session, subscription_id: int) -> bool:
    """Stop a subscription; its deliveries not yet made are cancelled, history is kept."""
    subscription = session.get(WebhookSubscription, subscription_id)
    if subscription is None or subscription.deleted_at is not None:
        return False
    subscription.deleted_at = utcnow()
    session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.subscription_id) == subscription_id,
            col(WebhookDelivery.status).in_(("pending", "delivering")),
        )
        .values(status="cancelled")
    )
    return True


# Fan-out ----------------------------------------------------------------------------------


def fan_out(engine: Engine) -> int:
    """Turn triggers not yet handed over into outbox rows; the number of rows made."""
    made = 0
    with session_scope(engine) as session:
        triggers = session.scalars(
            select(PlaybookTrigger)
            .where(col(PlaybookTrigger.delivered_at).is_(None))
            .order_by(col(PlaybookTrigger.id))
            .limit(FAN_OUT_BATCH)
            .with_for_update(skip_locked=True)
        ).all()
        if not triggers:
            return 0
        subscriptions = active_subscriptions(session)
        snapshots = _snapshots(session, [t.snapshot_id for t in triggers if t.snapshot_id])
        now = utcnow()
        for trigger in triggers:
            for subscription in subscriptions:
                raised_after = as_utc(trigger.created_at) >= as_utc(subscription.created_at)
                if raised_after and matches(subscription.triggers, trigger.kind):
                    session.add(_delivery(subscription, trigger, snapshots))
                    made += 1
            trigger.delivered_at = now
    if made:
        log.info("%d webhook deliveries queued for %d triggers", made, len(triggers))
    return made


def _snapshots(session: Session, ids: list[int]) -> dict[int, tuple[float | None, str]]:
    if not ids:
        return {}
    rows = session.execute(
        select(col(ScoreSnapshot.id), col(ScoreSnapshot.score), col(ScoreSnapshot.band)).where(
            col(ScoreSnapshot.id).in_(ids)
        )
    )
    return {row[0]: (row[1], row[2]) for row in rows}


def _delivery(
    subscription: WebhookSubscription,
    trigger: PlaybookTrigger,
    snapshots: dict[int, tuple[float | None, str]],
) -> WebhookDelivery:
    assert subscription.id is not None
    assert trigger.id is not None
    score, band = snapshots.get(trigger.snapshot_id or -1, (None, None))
    payload = {
        "type": f"trigger.{trigger.kind}",
        "timestamp": as_utc(trigger.created_at).isoformat(),
        "data": {
            "account_id": trigger.account_id,
            "trigger": trigger.kind,
            "detail": trigger.detail,
            "score": score,
            "band": band,
            "run_id": trigger.run_id,
            "as_of": as_utc(trigger.as_of).isoformat(),
        },
    }
    return WebhookDelivery(
        message_id=f"msg_{secrets.token_hex(12)}",
        subscription_id=subscription.id,
        trigger_id=trigger.id,
        event_type=f"trigger.{trigger.kind}",
        payload=payload,
    )


# Delivery ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DueDelivery:
    id: int
    message_id: str
    url: str
    secret: str
    body: str  # the exact JSON text that is signed and sent
    attempt: int  # the number of the attempt about to be made


@dataclass(frozen=True, slots=True)
class AttemptResult:
    status_code: int | None
    latency_ms: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_attempts: int = 8
    timeout_seconds: float = 10.0
    backoff_seconds: float = 5.0
    backoff_max_seconds: float = 3600.0
    lease_seconds: float = 60.0


class Outbox:
    def __init__(self, engine: Engine, cipher: MultiFernet, policy: DeliveryPolicy) -> None:
        self.engine = engine
        self.cipher = cipher
        self.policy = policy

    def claim_due(self, limit: int = 20) -> list[DueDelivery]:
        """Deliveries whose time has come (or whose claimer died), leased to this worker."""
        now = utcnow()
        due: list[DueDelivery] = []
        with session_scope(self.engine) as session:
            rows = session.execute(
                select(WebhookDelivery, WebhookSubscription)
                .join(
                    WebhookSubscription,
                    col(WebhookSubscription.id) == col(WebhookDelivery.subscription_id),
                )
                .where(
                    or_(
                        (col(WebhookDelivery.status) == "pending")
                        & (col(WebhookDelivery.next_attempt_at) <= now),
                        (col(WebhookDelivery.status) == "delivering")
                        & (col(WebhookDelivery.lease_expires_at) < now),
                    )
                )
                .order_by(col(WebhookDelivery.next_attempt_at))
                .limit(limit)
                .with_for_update(skip_locked=True, of=WebhookDelivery)
            ).all()
            lease_until = now + timedelta(seconds=self.policy.lease_seconds)
            for delivery, subscription in rows:
                assert delivery.id is not None
                claimed = changed_rows(
                    session,
                    update(WebhookDelivery)
                    .where(
                        col(WebhookDelivery.id) == delivery.id,
                        col(WebhookDelivery.status) == delivery.status,
                        col(WebhookDelivery.attempts) == delivery.attempts,
                    )
                    .values(status="delivering", lease_expires_at=lease_until),
                )
                if claimed != 1:
                    continue
                try:
                    secret = self.cipher.decrypt(subscription.secret).decode("ascii")
                except InvalidToken:
                    delivery.status, delivery.last_error = "dead", "secret undecryptable"
                    log.error(
                        "webhook %d: secret cannot be decrypted (queue key changed?)",
                        subscription.id,
                    )
                    continue
                due.append(
                    DueDelivery(
                        id=delivery.id,
                        message_id=delivery.message_id,
                        url=subscription.url,
                        secret=secret,
                        body=json.dumps(delivery.payload, separators=(",", ":")),
                        attempt=delivery.attempts + 1,
                    )
                )
        return due

    async def attempt(self, client: httpx.AsyncClient, due: DueDelivery) -> AttemptResult:
        """One signed POST; the outcome is recorded and logged (never the body)."""
        sent_at = utcnow()
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": due.message_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(due.secret).sign(due.message_id, sent_at, due.body),
        }
        started = time.perf_counter()
        try:
            response = await client.post(
                due.url,
                content=due.body.encode("utf-8"),
                headers=headers,
                timeout=self.policy.timeout_seconds,
            )
            result = AttemptResult(response.status_code, _ms_since(started))
        except httpx.HTTPError as exc:
            result = AttemptResult(None, _ms_since(started), type(exc).__name__)
        ATTEMPT_SECONDS.observe(result.latency_ms / 1000)
        return result

    def record(self, due: DueDelivery, result: AttemptResult) -> str:
        """Store the attempt and the delivery's next state: delivered, pending or dead."""
        now = utcnow()
        values: dict[str, Any] = {
            "attempts": due.attempt,
            "last_status_code": result.status_code,
            "last_error": result.error,
            "lease_expires_at": None,
        }
        if result.ok:
            status = "delivered"
            values["delivered_at"] = now
        elif due.attempt >= self.policy.max_attempts:
            status = "dead"
        else:
            status = "pending"
            delay = backoff_seconds(
                due.attempt,
                base=self.policy.backoff_seconds,
                cap=self.policy.backoff_max_seconds,
            )
            values["next_attempt_at"] = now + timedelta(seconds=delay)
        values["status"] = status
        with session_scope(self.engine) as session:
            session.add(
                WebhookAttempt(
                    delivery_id=due.id,
                    attempt=due.attempt,
                    attempted_at=now,
                    status_code=result.status_code,
                    latency_ms=round(result.latency_ms, 1),
                    error=result.error,
                )
            )
            session.execute(
                update(WebhookDelivery)
                .where(
                    col(WebhookDelivery.id) == due.id, col(WebhookDelivery.status) == "delivering"
                )
                .values(**values)
            )
        ATTEMPTS.labels(status).inc()
        log_level = logging.WARNING if status == "dead" else logging.INFO
        log.log(
            log_level,
            "webhook delivery %d attempt %d: %s in %.0f ms → %s",
            due.id, due.attempt, result.status_code or result.error, result.latency_ms, status,
        )  # fmt: skip
        return status

    async def deliver(self, client: httpx.AsyncClient, due: DueDelivery) -> str:
        return self.record(due, await self.attempt(client, due))


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


# Replay -----------------------------------------------------------------------------------

REPLAYABLE = ("dead", "delivered", "cancelled")


def replay(
    engine: Engine,
    *,
    delivery_id: int | None = None,
    since: datetime | None = None,
    status: str | None = None,
) -> int:
    """Queue finished deliveries again (a fresh set of attempts, the same message id);
    the number queued. By id, or every one created since `since`, optionally of one status."""
    statuses = (status,) if status else REPLAYABLE
    statement = update(WebhookDelivery).where(col(WebhookDelivery.status).in_(statuses))
    if delivery_id is not None:
        statement = statement.where(col(WebhookDelivery.id) == delivery_id)
    if since is not None:
        statement = statement.where(col(WebhookDelivery.created_at) >= as_utc(since))
    active = select(col(WebhookSubscription.id)).where(
        col(WebhookSubscription.deleted_at).is_(None)
    )
    statement = statement.where(col(WebhookDelivery.subscription_id).in_(active))
    with session_scope(engine) as session:
        count = changed_rows(
            session,
            statement.values(
                status="pending", attempts=0, next_attempt_at=utcnow(), lease_expires_at=None
            ),
        )
    log.info("%d webhook deliveries queued again", count)
    return count
