"""`convsignal metrics …`: quantitative measures per account."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from convsignal.cli.common import console, console_err, open_store, settings
from convsignal.pipeline import import_metrics

app = typer.Typer(
    help="Quantitative measures (usage, support, payment, engagement).", no_args_is_help=True
)


@app.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (account_id, as_of, one column per measure) or JSON (a list of such records)."
        ),
    ],
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides CONVSIGNAL_DATABASE_URL.")
    ] = None,
) -> None:
    """Load measures per account and date from CSV or JSON; re-importing replaces them.

    Columns: account_id, as_of (required); account_name, segment (optional); renewal_date;
    any numeric measure, e.g. licensed_seats, active_users, usage_trend_pct,
    feature_adoption_pct, open_critical_tickets, csat, days_payment_late,
    days_since_last_contact, nps. Blank cells are "not measured", not zero.
    Bad rows are reported with their line and skipped; exit code 1 if any.
    """
    with open_store(settings(database_url)) as engine:
        result = import_metrics(engine, file)
    console.print(
        f"imported {result.rows} rows ({result.values} values) for {result.accounts} accounts "
        f"from {file}; {len(result.errors)} rejected"
    )
    for error in result.errors:
        console_err.print(f"[red]rejected:[/] {error}", highlight=False)
    if result.errors:
        raise typer.Exit(1)
