"""`convsignal webhooks …`: subscriptions to playbook triggers, their deliveries, replay."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer
from pydantic import HttpUrl, TypeAdapter, ValidationError
from rich.table import Table
from sqlalchemy import select
from sqlmodel import col

from convsignal.api.encryption import load_cipher
from convsignal.api.webhooks import (
    TRIGGER_TYPES,
    active_subscriptions,
    create_subscription,
    delete_subscription,
    replay,
)
from convsignal.cli.common import console, open_store, settings
from convsignal.cli.scoring import OutputFormat
from convsignal.errors import ConfigError
from convsignal.store.engine import session_scope
from convsignal.store.job_tables import WebhookDelivery
from convsignal.store.tables import as_utc

app = typer.Typer(
    help=(
        "Webhooks: `convsignal serve` POSTs each playbook trigger (band_changed, score_drop, "
        "sustained_risk, expansion_ready, low_nps_declining) to the URLs subscribed to it, "
        "signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature). "
        "Failed deliveries are retried with exponential backoff and dead-lettered after "
        "CONVSIGNAL_WEBHOOK_MAX_ATTEMPTS attempts; `replay` sends them again."
    ),
    no_args_is_help=True,
)

DATABASE_OPTION = typer.Option("--database-url", help="Overrides CONVSIGNAL_DATABASE_URL.")


class ReplayStatus(StrEnum):
    DEAD = "dead"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERING = "delivering"
    DELIVERED = "delivered"
    DEAD = "dead"
    CANCELLED = "cancelled"


@app.command("add")
def add_command(
    url: Annotated[str, typer.Argument(help="Where to POST, http(s)://…")],
    trigger: Annotated[
        list[str] | None,
        typer.Option(help=f"Trigger type, repeatable: {', '.join(TRIGGER_TYPES)}; default all."),
    ] = None,
    description: Annotated[str | None, typer.Option(help="A note: who owns the URL.")] = None,
    database_url: Annotated[str | None, DATABASE_OPTION] = None,
) -> None:
    """Subscribe a URL and print its signing secret once (whsec_…).

    Example: convsignal webhooks add https://hooks.example.com/convsignal
    --trigger band_changed --trigger score_drop --description "Gainsight playbooks"
    """
    triggers = trigger or ["*"]
    unknown = [t for t in triggers if t != "*" and t not in TRIGGER_TYPES]
    if unknown:
        raise ConfigError(f"unknown trigger type(s) {unknown}; known: {', '.join(TRIGGER_TYPES)}")
    try:
        url = str(TypeAdapter(HttpUrl).validate_python(url))  # as the API checks it
    except ValidationError:
        raise ConfigError(f"{url!r} is not an http(s) URL") from None
    config = settings(database_url)
    with open_store(config) as engine, session_scope(engine) as session:
        subscription, secret = create_subscription(
            session, load_cipher(config), url=url, triggers=triggers, description=description
        )
    console.print(f"subscription {subscription.id} → {url} for {', '.join(triggers)}")
    console.print(f"secret (shown once; verify signatures with it): {secret}", highlight=False)


@app.command("list")
def list_command(
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = (
        OutputFormat.TABLE
    ),
    database_url: Annotated[str | None, DATABASE_OPTION] = None,
) -> None:
    """The active subscriptions (secrets are never shown again)."""
    with open_store(settings(database_url)) as engine, session_scope(engine) as session:
        subscriptions = list(active_subscriptions(session))
    if output is OutputFormat.JSON:
        rows = [
            {
                "id": s.id,
                "url": s.url,
                "triggers": s.triggers,
                "description": s.description,
                "created_at": as_utc(s.created_at).isoformat(),
            }
            for s in subscriptions
        ]
        console.print_json(json.dumps(rows))
        return
    table = Table("id", "url", "triggers", "description", "created")
    for s in subscriptions:
        table.add_row(
            str(s.id), s.url, ", ".join(s.triggers), s.description or "",
            f"{as_utc(s.created_at):%Y-%m-%d %H:%M}",
        )  # fmt: skip
    console.print(table)


@app.command("remove")
def remove_command(
    subscription_id: Annotated[int, typer.Argument(help="Id from `convsignal webhooks list`.")],
    database_url: Annotated[str | None, DATABASE_OPTION] = None,
) -> None:
    """Unsubscribe; deliveries not yet made are cancelled, the history is kept."""
    with open_store(settings(database_url)) as engine, session_scope(engine) as session:
        if not delete_subscription(session, subscription_id):
            raise ConfigError(f"no active subscription {subscription_id}")
    console.print(f"subscription {subscription_id} removed")


@app.command("deliveries")
def deliveries_command(
    status: Annotated[DeliveryStatus | None, typer.Option(help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(help="Newest first, at most this many.", min=1)] = 50,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = (
        OutputFormat.TABLE
    ),
    database_url: Annotated[str | None, DATABASE_OPTION] = None,
) -> None:
    """Recent deliveries: status, attempts, last status code or error, next attempt.

    Example: convsignal webhooks deliveries --status dead
    """
    statement = select(WebhookDelivery).order_by(col(WebhookDelivery.id).desc()).limit(limit)
    if status is not None:
        statement = statement.where(col(WebhookDelivery.status) == status.value)
    with open_store(settings(database_url)) as engine, session_scope(engine) as session:
        rows = [
            {
                "id": d.id,
                "subscription_id": d.subscription_id,
                "event_type": d.event_type,
                "account_id": d.payload.get("data", {}).get("account_id"),
                "status": d.status,
                "attempts": d.attempts,
                "last_status_code": d.last_status_code,
                "last_error": d.last_error,
                "next_attempt_at": as_utc(d.next_attempt_at).isoformat(),
                "created_at": as_utc(d.created_at).isoformat(),
            }
            for d in session.scalars(statement)
        ]
    if output is OutputFormat.JSON:
        console.print_json(json.dumps(rows))
        return
    table = Table("id", "sub", "type", "account", "status", "tries", "last", "next attempt")
    for row in rows:
        last = row["last_status_code"] or row["last_error"] or ""
        table.add_row(
            str(row["id"]), str(row["subscription_id"]), str(row["event_type"]),
            str(row["account_id"]), str(row["status"]), str(row["attempts"]), str(last),
            str(row["next_attempt_at"])[:19] if row["status"] == "pending" else "",
        )  # fmt: skip
    console.print(table)


@app.command("replay")
def replay_command(
    delivery: Annotated[int | None, typer.Option(help="One delivery's id.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Every delivery created since this ISO time or date.")
    ] = None,
    status: Annotated[
        ReplayStatus | None, typer.Option(help="Only this status (default: any finished).")
    ] = None,
    database_url: Annotated[str | None, DATABASE_OPTION] = None,
) -> None:
    """Queue finished deliveries again: the running server sends them with a fresh set of
    attempts and the same webhook-id (so receivers can de-duplicate).

    Examples:

        convsignal webhooks replay --delivery 42

        convsignal webhooks replay --since 2026-11-20 --status dead
    """
    if delivery is None and since is None:
        raise ConfigError("give --delivery ID or --since TIME")
    since_at = _parse_since(since) if since else None
    with open_store(settings(database_url)) as engine:
        queued = replay(
            engine,
            delivery_id=delivery,
            since=since_at,
            status=status.value if status else None,
        )
    noun = "delivery" if queued == 1 else "deliveries"
    console.print(f"{queued} {noun} queued again; `convsignal serve` sends them")


def _parse_since(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--since {value!r} is not an ISO time such as 2026-11-20") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed
