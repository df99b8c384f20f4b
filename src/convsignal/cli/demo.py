"""`convsignal demo`: the whole flow on bundled sample exports, offline, in a fresh SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from convsignal.cli.common import console, open_store, settings
from convsignal.cli.ingest import baseline_notice, build_pipeline, print_summary, run_with_progress
from convsignal.cli.scoring import compute, parse_as_of, render_table
from convsignal.config import Settings
from convsignal.demo import (
    CONVERSATIONS_DIR,
    DEMO_AS_OF,
    DEMO_INTERNAL_DOMAIN,
    DEMO_VENDOR,
    METRICS_CSV,
)
from convsignal.errors import ConfigError
from convsignal.extract.registry import resolve
from convsignal.pipeline import import_metrics
from convsignal.score.profile import load_profile


def demo(
    database: Annotated[
        Path, typer.Option("--database", help="SQLite file to create (replaced if it exists).")
    ] = Path("demo.db"),
    top_drivers: Annotated[int, typer.Option(help="Drivers shown per account.")] = 3,
) -> None:
    """Ingest the bundled sample calls, emails and tickets, import their metrics, score.

    Runs offline with the lexicon baseline extractor into a fresh SQLite file, then prints
    the accounts ranked worst first with bands and top drivers.
    """
    _replace_demo_database(database)
    base = settings()
    config = Settings(
        database_url=f"sqlite:///{database}",
        spacy_model=base.spacy_model,
        extra_allow_list=(*base.extra_allow_list, DEMO_VENDOR),
    )
    extractor = resolve("lexicon")
    with open_store(config) as engine:
        pipeline = build_pipeline(engine, config, extractor, [DEMO_INTERNAL_DOMAIN])
        console.print(f"[bold]1/3[/] ingesting sample exports from {CONVERSATIONS_DIR}")
        summary = run_with_progress(pipeline, [CONVERSATIONS_DIR], "auto")
        print_summary(summary)
        console.print(f"[bold]2/3[/] importing metrics from {METRICS_CSV.name}")
        metrics = import_metrics(engine, METRICS_CSV)
        console.print(f"imported {metrics.rows} rows for {metrics.accounts} accounts")
        console.print(f"[bold]3/3[/] scoring as of {DEMO_AS_OF}")
        scored = compute(engine, load_profile(), parse_as_of(DEMO_AS_OF), save=True)
    render_table(scored, top_drivers=top_drivers)
    console.print(
        f"Stored in {database} (no conversation text: metadata, hashes and events only). "
        f"Explore: CONVSIGNAL_DATABASE_URL=sqlite:///{database} convsignal score --format json",
        highlight=False,
    )
    baseline_notice(extractor)
    if summary.failed or metrics.errors:
        raise typer.Exit(1)


def _replace_demo_database(database: Path) -> None:
    """Remove an earlier demo database, but never a file that is not a convsignal database."""
    if database.exists():
        with database.open("rb") as handle:
            is_sqlite = handle.read(16) == b"SQLite format 3\x00"
        if not is_sqlite or not _has_convsignal_tables(database):
            raise ConfigError(
                f"{database} exists and is not a convsignal database; "
                "choose another file with --database"
            )
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


def _has_convsignal_tables(database: Path) -> bool:
    import sqlite3

    connection = sqlite3.connect(database)
    try:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='conversations'"
        ).fetchall()
    finally:
        connection.close()
    return bool(rows)
