"""`convsignal apikey …`: the scorer API's keys (create shows the secret once)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from convsignal.api.apikeys import Scope, create_api_key, list_api_keys, revoke_api_key
from convsignal.cli.common import console, open_store, settings
from convsignal.cli.scoring import OutputFormat
from convsignal.store.engine import session_scope
from convsignal.store.tables import as_utc

app = typer.Typer(
    help=(
        "API keys for `convsignal serve`. Scopes nest: read (GET everything, what-if "
        "scoring) < write (submit conversations, upsert metrics, overrides) < admin "
        "(webhooks, key listing). Only a SHA-256 of each key is stored: a lost key cannot "
        "be shown again; revoke it and create another."
    ),
    no_args_is_help=True,
)

DATABASE_OPTION = typer.Option("--database-url", help="Overrides CONVSIGNAL_DATABASE_URL.")


@app.command("create")
def create_command(
    scope: Annotated[Scope, typer.Option(help="read, write or admin.")],
    name: Annotated[str, typer.Option(help="Who holds the key, e.g. gainsight-prod.")],
    database_url: Annotated[str | None, DATABASE_OPTION] = None,
) -> None:
    """Create a key and print it once. Send it as `Authorization: Bearer <key>`.

    Example: convsignal apikey create --scope read --name gainsight-prod
    """
    with open_store(settings(database_url)) as engine, session_scope(engine) as session:
        key, secret = create_api_key(session, scope=scope, name=name)
    typer.echo(secret)
    console.print(
        f"key {key.id} ({key.prefix}…, scope {key.scope}, for {key.name}) created. "
        "This is the only time the key is shown: store it in your CS platform's secret store.",
        highlight=False,
        style="dim",
    )


@app.command("list")
def list_command(
    everything: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.TABLE,
    database_url: Annotated[str | None, DATABASE_OPTION] = None,
) -> None:
    """List keys by id and prefix (the secret itself is never stored)."""
    with open_store(settings(database_url)) as engine, session_scope(engine) as session:
        keys = list_api_keys(session, include_revoked=everything)
    if output is OutputFormat.JSON:
        typer.echo(json.dumps([key.model_dump(mode="json", exclude={"key_hash"}) for key in keys]))
        return
    if not keys:
        console.print("no API keys yet: `convsignal apikey create --scope read --name …`")
        return
    table = Table(title="API keys", title_justify="left")
    for column in ("id", "prefix", "scope", "name", "created", "revoked"):
        table.add_column(column, justify="right" if column == "id" else "left")
    for key in keys:
        revoked = f"{as_utc(key.revoked_at):%Y-%m-%d %H:%M}" if key.revoked_at else ""
        table.add_row(
            str(key.id), key.prefix + "…", key.scope, key.name,
            f"{as_utc(key.created_at):%Y-%m-%d %H:%M}", revoked,
        )  # fmt: skip
    console.print(table)


@app.command("revoke")
def revoke_command(
    key: Annotated[str, typer.Argument(help="The key's id or its listed prefix (csk_…).")],
    database_url: Annotated[str | None, DATABASE_OPTION] = None,
) -> None:
    """Revoke a key: its next request gets 401.

    Example: convsignal apikey revoke 3
    """
    with open_store(settings(database_url)) as engine, session_scope(engine) as session:
        revoked = revoke_api_key(session, key)
    console.print(f"key {revoked.id} ({revoked.prefix}…, {revoked.name}) revoked", highlight=False)
