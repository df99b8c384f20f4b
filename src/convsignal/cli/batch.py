"""`convsignal extract --batch`: submit to a batch API, poll with progress, reconcile."""

from __future__ import annotations

import time
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from convsignal.batch import BatchRunner, BatchSummary
from convsignal.cli.common import console, console_err
from convsignal.errors import ConfigError
from convsignal.extract.base import Extractor
from convsignal.extract.pricing import load_prices
from convsignal.pipeline import Pipeline


def make_runner(pipeline: Pipeline, extractor: Extractor) -> BatchRunner:
    from convsignal.extract.providers.batch import batch_api
    from convsignal.extract.providers.llm import InstructorExtractor

    if not isinstance(extractor, InstructorExtractor):
        raise ConfigError("--batch needs an LLM extractor: anthropic/<model> or openai/<model>")
    config = extractor.config
    prices = load_prices()
    return BatchRunner(
        pipeline,
        batch_api(config),
        provider=config.provider,
        extractor_id=extractor.extractor_id,
        prompt=extractor.prompt,
        max_chunk_chars=config.max_chunk_chars,
        batch_discount_cost=lambda usage: prices.cost(extractor.extractor_id, usage, batch=True),
    )


def run_batches(
    runner: BatchRunner, paths: list[Path], *, wait: bool, poll_seconds: float
) -> BatchSummary:
    summary = BatchSummary()
    if paths:
        runner.submit(paths, summary)
        console.print(
            f"submitted {summary.submitted_conversations} conversations in "
            f"{len(summary.submitted_batches)} batch(es); {summary.skipped} skipped as done or "
            "already pending"
        )
    jobs = runner.open_jobs()
    if not jobs:
        return summary
    if not wait:
        summary.pending_batches = len(jobs)
        return summary
    try:
        with Progress(
            TextColumn("[bold]batch {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console_err,
            transient=True,
        ) as progress:
            tasks = {
                job.id: progress.add_task(job.provider_batch_id, total=job.request_count)
                for job in jobs
            }
            open_jobs = list(jobs)
            while open_jobs:
                for job in list(open_jobs):
                    status = runner.poll(job)
                    done = job.request_count - status.counts.get("processing", 0)
                    if "completed" in status.counts:  # OpenAI counts finished requests
                        done = status.counts["completed"] + status.counts.get("failed", 0)
                    progress.update(tasks[job.id], completed=done)
                    if status.ended:
                        runner.reconcile(job, summary)
                        open_jobs.remove(job)
                if open_jobs:
                    time.sleep(poll_seconds)
    except KeyboardInterrupt:
        summary.pending_batches = len(runner.open_jobs())
        console_err.print(
            "stopped polling; the batch keeps running at the provider. "
            "Run `convsignal extract --batch --extractor …` again to resume."
        )
    return summary


def print_batch_summary(summary: BatchSummary) -> None:
    console.print(
        f"batches reconciled: {summary.reconciled_batches}; conversations: "
        f"[green]{summary.succeeded} stored[/], [{'red' if summary.failed else 'green'}]"
        f"{summary.failed} failed → dead letters[/]; still running: {summary.pending_batches}",
        highlight=False,
    )
    if summary.usage.requests:
        usage = summary.usage
        console.print(
            f"tokens: {usage.input_tokens:,} in, {usage.output_tokens:,} out over "
            f"{usage.requests:,} requests; cost ${summary.cost_usd:.4f} (batch price)",
            highlight=False,
        )
    for where, reason in summary.failures[:20]:
        console_err.print(f"[red]failed:[/] {where}: {reason}", highlight=False)
