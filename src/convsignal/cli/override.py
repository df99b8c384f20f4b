"""`convsignal override …`: a CSM's score for an account, with reason, author and expiry."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table

from convsignal.cli.common import console, open_store, settings
from convsignal.cli.scoring import OutputFormat, parse_as_of
from convsignal.score import overrides
from convsignal.store.engine import session_scope

app = typer.Typer(
    help=(
        "Overrides: when a CSM knows better than the data (a renewal signed yesterday, an "
        "escalation already resolved), they set the account's score with a reason and an "
        "expiry.\n\n"
        "The computed score is never hidden: `convsignal score` keeps computing it and shows "
        "the override beside it until it expires or is cleared. Playbook triggers still "
        "follow the computed score."
    ),
    no_args_is_help=True,
)

DATABASE_OPTION = typer.Option("--database-url", help="Overrides CONVSIGNAL_DATABASE_URL.")


@app.command("set")
def set_command(
    account: Annotated[str, typer.Argument(help="Account id, as `convsignal score` shows it.")],
    score: Annotated[float, typer.Option(help="The score in force, 0..100 (band follows).")],
    reason: Annotated[str, typer.Option(help="Why the computed score is wrong (≤ 500 chars).")],
    author: Annotated[str, typer.Option(help="Who decides: name or email of the CSM.")],
    expires: Annotated[
        str | None,
        typer.Option(help="ISO date the override ends (a bare date: its end). Default: --days."),
    ] = None,
    days: Annotated[int, typer.Option(help="Days until it ends, if no --expires.", min=1)] = 30,
    database_url: Annotated[str | None, DATABASE_OPTION] = None,
) -> None:
    """Set an account's score by hand until an expiry; it replaces one already in force.

    Example: convsignal override set northwind-logistics --score 55 --author dana@acme.io
    --reason "new champion named, renewal call booked" --days 14
    """
    now = datetime.now(UTC)
    expires_at = parse_as_of(expires) if expires else now + timedelta(days=days)
    with open_store(settings(database_url)) as engine, session_scope(engine) as session:
        override = overrides.set_override(
            session,
            account,
            score=score,
            reason=reason,
            author=author,
            expires_at=expires_at,
            now=now,
        )
    console.print(
        f"override set for {account}: {override.score:g} until "
        f"{override.expires_at:%Y-%m-%d %H:%M} UTC (id {override.id}); "
        "`convsignal score` shows it beside the computed score",
        highlight=False,
    )


@app.command("clear")
def clear_command(
    account: Annotated[str, typer.Argument(help="Account id.")],
    author: Annotated[str, typer.Option(help="Who clears it.")],
    database_url: Annotated[str | None, DATABASE_OPTION] = None,
) -> None:
    """End the override in force now; the computed score is in force again."""
    now = datetime.now(UTC)
    with open_store(settings(database_url)) as engine, session_scope(engine) as session:
        overrides.clear_override(session, account, author=author, now=now)
    console.print(f"override cleared for {account}", highlight=False)


@app.command("list")
def list_command(
    account: Annotated[str | None, typer.Option(help="Only this account.")] = None,
    everything: Annotated[
        bool, typer.Option("--all", help="Also expired and cleared overrides (the history).")
    ] = False,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or json.")
    ] = OutputFormat.TABLE,
    database_url: Annotated[str | None, DATABASE_OPTION] = None,
) -> None:
    """List the overrides in force (or, with --all, every override ever set)."""
    now = datetime.now(UTC)
    with open_store(settings(database_url)) as engine, session_scope(engine) as session:
        rows = overrides.list_overrides(session, now=now, account_id=account, everything=everything)
    if output is OutputFormat.JSON:
        data = [{**row.override.model_dump(mode="json"), "status": row.status} for row in rows]
        typer.echo(json.dumps(data, indent=2))
        return
    if not rows:
        console.print("no overrides" + ("" if everything else " in force (--all for history)"))
        return
    table = Table(title="Score overrides, newest first", title_justify="left")
    for column in ("id", "account", "score", "reason", "author", "set", "expires", "status"):
        table.add_column(column, justify="right" if column in {"id", "score"} else "left")
    for row in rows:
        o = row.override
        table.add_row(
            str(o.id), o.account_id, f"{o.score:g}", o.reason, o.author,
            f"{o.created_at:%Y-%m-%d}", f"{o.expires_at:%Y-%m-%d}", row.status,
        )  # fmt: skip
    console.print(table)
