"""`convsignal ingest`, `formats`, `extractors`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine

from convsignal.cli.common import console, console_err, open_store, settings
from convsignal.config import Settings
from convsignal.extract.base import Extractor
from convsignal.extract.registry import known_extractors, resolve
from convsignal.ingest import IngestOptions, known_formats
from convsignal.pipeline import Pipeline, RunSummary, count_inputs
from convsignal.scrub import Scrubber

MAX_FAILURES_SHOWN = 20


def build_pipeline(
    engine: Engine, config: Settings, extractor: Extractor, internal_domains: list[str]
) -> Pipeline:
    options = IngestOptions(internal_domains=(*config.internal_domains, *internal_domains))
    return Pipeline(
        engine,
        extractor,
        scrubber_factory=lambda: Scrubber(
            spacy_model=config.spacy_model, allow_list=config.effective_allow_list
        ),
        options=options,
    )


def run_with_progress(pipeline: Pipeline, paths: list[Path], format_name: str) -> RunSummary:
    total = count_inputs(paths)
    with Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console_err,
        transient=True,
    ) as progress:
        task = progress.add_task("ingest", total=total)
        return pipeline.run(paths, format_name=format_name, on_item=lambda: progress.advance(task))


def print_summary(summary: RunSummary) -> None:
    console.print(
        f"[bold]run {summary.run_id}[/] with [cyan]{summary.extractor_id}[/] "
        f"(prompt version {summary.prompt_version}) in {summary.seconds:.1f}s: "
        f"[green]{summary.processed} processed[/], {summary.skipped} skipped as already done, "
        f"[{'red' if summary.failed else 'green'}]{summary.failed} failed[/]; "
        f"{summary.events} events stored",
        highlight=False,
    )
    if summary.pii_redacted_in_output:
        console.print(
            f"PII found and redacted in extractor output: {summary.pii_redacted_in_output}"
        )
    if summary.failures:
        table = Table(
            "where", "stage", "reason", title="failed → dead letters", title_justify="left"
        )
        for failure in summary.failures[:MAX_FAILURES_SHOWN]:
            reason = failure.reason.removeprefix(f"{failure.where}: ")
            table.add_row(failure.where, failure.stage, reason)
        console.print(table)
        if len(summary.failures) > MAX_FAILURES_SHOWN:
            console.print(f"… and {len(summary.failures) - MAX_FAILURES_SHOWN} more")
        console.print("Fix the inputs and run the same command again: done items are skipped.")


def baseline_notice(extractor: Extractor) -> None:
    if not extractor.is_llm:
        console_err.print(
            "[yellow]note:[/] extraction used [bold]lexicon[/], an offline keyword baseline "
            "(phrase patterns + VADER sentiment), not an LLM. Choose another extractor with "
            "--extractor or CONVSIGNAL_EXTRACTOR; `convsignal extractors` lists this install's.",
            highlight=False,
        )


def ingest(
    paths: Annotated[
        list[Path], typer.Argument(help="Export files or folders (searched recursively).")
    ],
    format_name: Annotated[
        str, typer.Option("--format", help="Input format, or 'auto' to detect per file.")
    ] = "auto",
    extractor_name: Annotated[
        str | None,
        typer.Option(
            "--extractor", help="Extractor name (default: CONVSIGNAL_EXTRACTOR or lexicon)."
        ),
    ] = None,
    internal_domain: Annotated[
        list[str] | None,
        typer.Option(
            "--internal-domain", help="Your company's email domain (repeatable): vendor side."
        ),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides CONVSIGNAL_DATABASE_URL.")
    ] = None,
) -> None:
    """Read exports, scrub PII, extract signals and store them (the raw text is discarded).

    Re-running on the same files adds nothing: items already done are skipped. Items that
    fail become dead letters with the reason; the rest of the batch goes on. Exit code 1
    when any item failed.

    Example: convsignal ingest exports/calls exports/tickets --internal-domain acme.io
    """
    config = settings(database_url)
    extractor = resolve(extractor_name or config.extractor)
    with open_store(config) as engine:
        pipeline = build_pipeline(engine, config, extractor, internal_domain or [])
        summary = run_with_progress(pipeline, paths, format_name)
    print_summary(summary)
    baseline_notice(extractor)
    if summary.failed:
        raise typer.Exit(1)


def formats() -> None:
    """List the input formats `ingest --format` accepts."""
    table = Table("format", "what it reads")
    for name, description in known_formats().items():
        table.add_row(name, description)
    console.print(table)


def extractors() -> None:
    """List the extractors `ingest --extractor` accepts."""
    table = Table("extractor", "what it is")
    for name, description in known_extractors().items():
        table.add_row(name, description)
    console.print(table)
