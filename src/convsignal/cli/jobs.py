"""`convsignal jobs …`: the API's conversation submissions and what became of them."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import select
from sqlmodel import col

from convsignal.cli.common import console, open_store, settings
from convsignal.cli.scoring import OutputFormat
from convsignal.errors import ConfigError
from convsignal.store.engine import session_scope
from convsignal.store.job_tables import Job
from convsignal.store.tables import as_utc

app = typer.Typer(
    help=(
        "Jobs: each POST /v1/conversations to `convsignal serve` is a job, queued in the "
        "database and run by the server's background worker (scrub → extract → store). "
        "Status: queued, running, succeeded, partial (some conversations dead-lettered) or "
        "failed. A job whose server died goes back to the queue when its lease runs out."
    ),
    no_args_is_help=True,
)

DATABASE_OPTION = typer.Option("--database-url", help="Overrides CONVSIGNAL_DATABASE_URL.")


class JobStatusName(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"


def _row(job: Job) -> dict[str, Any]:
    def stamp(value: Any) -> str | None:
        return as_utc(value).isoformat() if value is not None else None

    return {
        "job_id": job.id,
        "status": job.status,
        "conversations": job.conversations,
        "stored": job.stored,
        "skipped": job.skipped,
        "dead_lettered": job.dead_lettered,
        "dead_letters": job.reasons,
        "error": job.error,
        "attempts": job.attempts,
        "created_at": stamp(job.created_at),
        "finished_at": stamp(job.finished_at),
    }


@app.command("list")
def list_command(
    status: Annotated[JobStatusName | None, typer.Option(help="Only this status.")] = None,
    limit: Annotated[int, typer.Option(help="Newest first, at most this many.", min=1)] = 50,
    output: Annotated[OutputFormat, typer.Option("--format", help="table or json.")] = (
        OutputFormat.TABLE
    ),
    database_url: Annotated[str | None, DATABASE_OPTION] = None,
) -> None:
    """Recent jobs with their counts.

    Example: convsignal jobs list --status partial
    """
    statement = select(Job).order_by(col(Job.created_at).desc()).limit(limit)
    if status is not None:
        statement = statement.where(col(Job.status) == status.value)
    with open_store(settings(database_url)) as engine, session_scope(engine) as session:
        rows = [_row(job) for job in session.scalars(statement)]
    if output is OutputFormat.JSON:
        console.print_json(json.dumps(rows))
        return
    table = Table("job", "status", "conversations", "stored", "skipped", "dead", "created")
    for row in rows:
        table.add_row(
            row["job_id"], row["status"], str(row["conversations"]), str(row["stored"]),
            str(row["skipped"]), str(row["dead_lettered"]), str(row["created_at"])[:19],
        )  # fmt: skip
    console.print(table)


@app.command("show")
def show_command(
    job_id: Annotated[str, typer.Argument(help="The job id POST /v1/conversations returned.")],
    database_url: Annotated[str | None, DATABASE_OPTION] = None,
) -> None:
    """One job as JSON: counts, dead-letter reasons (never text), error, times."""
    with open_store(settings(database_url)) as engine, session_scope(engine) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise ConfigError(f"no job {job_id!r}; see `convsignal jobs list`")
        row = _row(job)
    console.print_json(json.dumps(row))
