"""`convsignal db …`: schema migrations."""

from __future__ import annotations

from typing import Annotated

import typer

from convsignal.cli.common import console, settings
from convsignal.store.engine import current_revision, head_revision, make_engine, upgrade

app = typer.Typer(help="Database schema: upgrade and status.", no_args_is_help=True)

DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="Overrides CONVSIGNAL_DATABASE_URL.")
]


@app.command("upgrade")
def upgrade_command(database_url: DatabaseOption = None) -> None:
    """Apply every pending migration (other commands do this on start too)."""
    config = settings(database_url)
    engine = make_engine(config.database_url)
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    state = "already at" if before == after else f"upgraded from {before or 'empty'} to"
    console.print(f"database {state} revision {after}")


@app.command("status")
def status_command(database_url: DatabaseOption = None) -> None:
    """Show the database's schema revision and the newest one this version knows."""
    config = settings(database_url)
    engine = make_engine(config.database_url)
    current, head = current_revision(engine), head_revision()
    console.print(f"current revision: {current or 'none (run `convsignal db upgrade`)'}")
    console.print(f"newest revision:  {head}")
