"""`convsignal extract`: ingest with the LLM knobs, retries of dead letters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from convsignal.cli.batch import make_runner, print_batch_summary, run_batches
from convsignal.cli.common import console, console_err, open_store, settings
from convsignal.cli.ingest import baseline_notice, build_pipeline, print_summary, run_with_progress
from convsignal.errors import ConfigError
from convsignal.extract.registry import resolve
from convsignal.pipeline import retry_failed


def extract(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Export files or folders (not needed with --retry-failed)."),
    ] = None,
    extractor_name: Annotated[
        str | None,
        typer.Option(
            "--extractor",
            help="lexicon, anthropic/<model>, openai/<model> or openai-compatible/<model> "
            "(default: CONVSIGNAL_EXTRACTOR or lexicon).",
        ),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="LLM API base URL (vLLM, Ollama, a gateway)."),
    ] = None,
    concurrency: Annotated[
        int | None, typer.Option(help="Requests in flight (default 8).", min=1, max=256)
    ] = None,
    processes: Annotated[
        int | None,
        typer.Option(
            help="Worker processes sharing the requests in flight (default 1). Raise it to the "
            "number of cores when a fast endpoint (local vLLM, a gateway) makes the client "
            "CPU-bound; each process gets its share of the concurrency and rate limits.",
            min=1,
            max=64,
        ),
    ] = None,
    requests_per_minute: Annotated[
        float | None, typer.Option(help="Client-side request limit per minute.")
    ] = None,
    tokens_per_minute: Annotated[
        float | None, typer.Option(help="Client-side token limit per minute.")
    ] = None,
    batch: Annotated[
        bool,
        typer.Option(
            "--batch",
            help="Use the provider's batch API (half price, up to 24 h). Without paths: resume "
            "polling the open batches.",
        ),
    ] = False,
    wait: Annotated[
        bool, typer.Option(help="With --batch: poll until the batches end (else submit and exit).")
    ] = True,
    poll_seconds: Annotated[
        float, typer.Option(help="With --batch: seconds between polls.")
    ] = 30.0,
    retry_failed_items: Annotated[
        bool,
        typer.Option("--retry-failed", help="Read again the files behind open dead letters."),
    ] = False,
    internal_domain: Annotated[
        list[str] | None,
        typer.Option("--internal-domain", help="Your company's email domain (repeatable)."),
    ] = None,
    format_name: Annotated[str, typer.Option("--format", help="Input format or 'auto'.")] = "auto",
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="Overrides CONVSIGNAL_DATABASE_URL.")
    ] = None,
) -> None:
    """Extract signals from exports with an LLM (or the lexicon baseline), then store them.

    Only scrubbed text is sent. Transport failures (429 with retry-after, 5xx, timeouts) are
    retried with backoff; answers that do not match the schema are re-asked at most
    CONVSIGNAL_LLM_VALIDATION_RETRIES times; what still fails becomes a dead letter, taken
    again by --retry-failed. Re-runs skip what is done for this extractor and prompt version.
    Token usage and cost (from the editable price table) are printed and stored on the run.

    Example: ANTHROPIC_API_KEY=… convsignal extract exports/ --extractor anthropic/claude-sonnet-5
    """
    config = settings(
        database_url,
        llm_base_url=base_url,
        llm_concurrency=concurrency,
        llm_processes=processes,
        llm_requests_per_minute=requests_per_minute,
        llm_tokens_per_minute=tokens_per_minute,
    )
    if not paths and not retry_failed_items and not batch:
        raise ConfigError("name export files or folders, or pass --retry-failed or --batch")
    extractor = resolve(extractor_name or config.extractor, config)
    if batch:
        with open_store(config) as engine:
            pipeline = build_pipeline(engine, config, extractor, internal_domain or [])
            runner = make_runner(pipeline, extractor)
            result = run_batches(runner, paths or [], wait=wait, poll_seconds=poll_seconds)
        print_batch_summary(result)
        if result.failed:
            raise typer.Exit(1)
        return
    with open_store(config) as engine:
        pipeline = build_pipeline(engine, config, extractor, internal_domain or [])
        if retry_failed_items:
            console_err.print("retrying the files behind open dead letters")
            summary = retry_failed(pipeline)
        if paths:
            summary = run_with_progress(pipeline, paths, format_name)
    print_summary(summary)
    baseline_notice(extractor)
    if summary.failed:
        console.print(
            f"{summary.failed} failed: fix and rerun, or `convsignal extract --retry-failed`"
        )
        raise typer.Exit(1)
