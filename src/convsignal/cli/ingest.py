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
from convsignal.errors import ConfigError
from convsignal.extract.base import Extractor
from convsignal.extract.registry import known_extractors, resolve
from convsignal.ingest import IngestOptions, format_examples, known_formats, load_account_map
from convsignal.pipeline import Failure, Pipeline, RunSummary, count_inputs, scrubber_factory

MAX_FAILURES_SHOWN = 20
MAX_UNMAPPED_SHOWN = 50


def build_pipeline(
    engine: Engine,
    config: Settings,
    extractor: Extractor,
    internal_domains: list[str],
    *,
    account_map: Path | None = None,
    csv_columns: list[str] | None = None,
) -> Pipeline:
    options = IngestOptions(
        internal_domains=(*config.internal_domains, *internal_domains),
        account_map=load_account_map(account_map) if account_map else None,
        csv_columns=parse_csv_columns(csv_columns or []),
    )
    return Pipeline(engine, extractor, scrubber_factory=scrubber_factory(config), options=options)


def parse_csv_columns(values: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for value in values:
        field, sep, column = value.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise ConfigError(f"--csv-column wants FIELD=HEADER (e.g. text=Body), got {value!r}")
        pairs.append((field.strip().lower(), column.strip()))
    return tuple(pairs)


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
    if summary.usage.requests:
        print_usage(summary)
    if summary.pii_redacted_in_output:
        console.print(
            f"PII found and redacted in extractor output: {summary.pii_redacted_in_output}"
        )
    unmapped = [f for f in summary.failures if f.stage == "unmapped"]
    failures = [f for f in summary.failures if f.stage != "unmapped"]
    if unmapped:
        print_unmapped(unmapped)
    if failures:
        table = Table(
            "where", "stage", "reason", title="failed → dead letters", title_justify="left"
        )
        for failure in failures[:MAX_FAILURES_SHOWN]:
            reason = failure.reason.removeprefix(f"{failure.where}: ")
            table.add_row(failure.where, failure.stage, reason)
        console.print(table)
        if len(failures) > MAX_FAILURES_SHOWN:
            console.print(f"… and {len(failures) - MAX_FAILURES_SHOWN} more")
    if summary.failures:
        console.print("Fix the inputs and run the same command again: done items are skipped.")


def print_usage(summary: RunSummary) -> None:
    usage = summary.usage
    cost = (
        "unknown (model not in the price table)" if summary.unpriced else f"${summary.cost_usd:.4f}"
    )
    console.print(
        f"tokens: {usage.input_tokens:,} in ({usage.cache_read_tokens:,} cache reads, "
        f"{usage.cache_write_tokens:,} cache writes), {usage.output_tokens:,} out, "
        f"{usage.requests:,} requests; cost {cost}",
        highlight=False,
    )


def print_unmapped(unmapped: list[Failure]) -> None:
    """Ids only: which conversations wait for an account (dead letters, stage unmapped)."""
    console.print(
        f"[yellow]{len(unmapped)} conversation(s) map to no account[/] (kept as dead letters, "
        "stage 'unmapped'); add their org ids or customer email domains to --account-map "
        "and run the same command again:",
        highlight=False,
    )
    for failure in unmapped[:MAX_UNMAPPED_SHOWN]:
        console.print(f"  {failure.where}", highlight=False, markup=False)
    if len(unmapped) > MAX_UNMAPPED_SHOWN:
        console.print(f"  … and {len(unmapped) - MAX_UNMAPPED_SHOWN} more")


def baseline_notice(extractor: Extractor) -> None:
    if not extractor.is_llm:
        console_err.print(
            "[yellow]note:[/] extraction used [bold]lexicon[/], an offline keyword baseline "
            "(phrase patterns + VADER sentiment), not an LLM. For LLM extraction set "
            "ANTHROPIC_API_KEY (or OPENAI_API_KEY) and run `convsignal extract PATH "
            "--extractor anthropic/<model>` (or openai/<model>, openai-compatible/<model>); "
            "`convsignal extractors` lists them.",
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
    account_map: Annotated[
        Path | None,
        typer.Option(
            "--account-map",
            help="CSV or YAML: export org ids and customer email domains → account ids.",
        ),
    ] = None,
    csv_column: Annotated[
        list[str] | None,
        typer.Option(
            "--csv-column",
            help="Generic CSV column for a field, FIELD=HEADER (repeatable), e.g. text=Body.",
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

    Conversations that map to no account (see --account-map) are listed by id and kept as
    dead letters (stage 'unmapped'); fix the map and run the same command again.

    Example: convsignal ingest exports/ --internal-domain acme.io --account-map accounts.yaml
    """
    config = settings(database_url)
    extractor = resolve(extractor_name or config.extractor, config)
    with open_store(config) as engine:
        pipeline = build_pipeline(
            engine, config, extractor, internal_domain or [],
            account_map=account_map, csv_columns=csv_column,
        )  # fmt: skip
        summary = run_with_progress(pipeline, paths, format_name)
    print_summary(summary)
    baseline_notice(extractor)
    if summary.failed:
        raise typer.Exit(1)


def formats() -> None:
    """List the input formats `ingest --format` accepts, each with an example."""
    table = Table("format", "what it reads", "example")
    examples = format_examples()
    for name, description in known_formats().items():
        table.add_row(name, description, examples[name])
    console.print(table)
    console.print(
        "--format auto (the default) detects the format of each file; --format NAME forces "
        "one. Accounts: --account-map FILE maps export org ids and customer email domains.",
        highlight=False,
    )


def extractors() -> None:
    """List the extractors `ingest --extractor` accepts."""
    table = Table("extractor", "what it is")
    for name, description in known_extractors().items():
        table.add_row(name, description)
    console.print(table)
