"""POST /v1/conversations (write): submit conversations → 202 and a job; GET /v1/jobs/{id}.

The request is read and checked whole (every record, every field) but nothing is
extracted in it: the job queue's worker does that in the background. See
`convsignal.api.submissions` for the two accepted shapes.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel, Field

from convsignal.api.auth import Principal, Scope, require_scope
from convsignal.api.background import queue_for
from convsignal.api.deps import SessionDep, SettingsDep
from convsignal.api.problems import Problem, problem_responses
from convsignal.api.submissions import JobPayload, Submission, record_errors
from convsignal.errors import IngestError
from convsignal.ingest import IngestOptions
from convsignal.store.job_tables import Job
from convsignal.store.tables import as_utc

router = APIRouter(tags=["jobs"])

JobStatusName = Literal["queued", "running", "succeeded", "partial", "failed"]


class JobAccepted(BaseModel):
    job_id: str
    status: JobStatusName
    status_url: str = Field(description="poll this for the outcome")


class JobCounts(BaseModel):
    conversations: int = Field(description="conversations read from the submission")
    stored: int = Field(description="extracted and stored")
    skipped: int = Field(description="already stored before (same content, extractor, prompt)")
    dead_lettered: int = Field(description="could not become events; see dead_letters")


class JobDeadLetter(BaseModel):
    record: str = Field(description="which conversation: job-<id>/conversations[2]")
    stage: str
    reason: str = Field(description="the cause, never the conversation's text")


class JobStatus(BaseModel):
    job_id: str
    status: JobStatusName
    counts: JobCounts
    dead_letters: list[JobDeadLetter]
    error: str | None = Field(description="why the whole job failed")
    attempts: int = Field(description="times a worker started it")
    extraction_run_id: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@router.post(
    "/conversations",
    status_code=202,
    response_model=JobAccepted,
    responses=problem_responses(422, 503),
    summary="Submit conversations for extraction (processed in the background)",
)
def submit_conversations(
    submission: Submission,
    request: Request,
    response: Response,
    settings: SettingsDep,
    principal: Annotated[Principal, Depends(require_scope(Scope.WRITE))],
) -> JobAccepted:
    """Either `{"format": "intercom", "account_id": "acme", "records": [...]}` with records
    as the export holds them (one file's content each), or `{"conversations": [...]}` in the
    normalised shape. Answers 202 with a job id at once; poll `status_url`."""
    field = "body.conversations" if submission.conversations is not None else "body.records"
    if submission.size > settings.queue_max_conversations:
        raise Problem(
            422,
            detail=f"at most {settings.queue_max_conversations} per submission",
            errors=[{"field": field, "message": f"{submission.size} items; split them"}],
        )
    payload = JobPayload.of(submission)
    options = IngestOptions(internal_domains=settings.internal_domains)
    try:
        items = payload.read(options)
    except IngestError as exc:
        error = {"field": "body.format", "message": str(exc)}
        raise Problem(422, detail=str(exc), errors=[error]) from None
    errors = record_errors(items)
    if errors:
        raise Problem(422, detail=f"{len(errors)} record(s) cannot be read", errors=errors)
    if not items:
        raise Problem(
            422,
            detail="the records hold no conversation",
            errors=[{"field": field, "message": "no conversation found"}],
        )
    job = queue_for(request.app).enqueue(
        payload, conversations=len(items), api_key_id=principal.key_id
    )
    status_url = str(request.url_for("job_status", job_id=job.id))
    response.headers["Location"] = status_url
    return JobAccepted(job_id=job.id, status="queued", status_url=status_url)


@router.get(
    "/jobs/{job_id}",
    name="job_status",
    dependencies=[Depends(require_scope(Scope.READ))],
    response_model=JobStatus,
    responses=problem_responses(404),
    summary="A submission's status, counts and dead-letter reasons",
)
def job_status(job_id: Annotated[uuid.UUID, Path()], session: SessionDep) -> JobStatus:
    job = session.get(Job, str(job_id))
    if job is None:
        raise Problem(404, detail=f"no job {job_id}")
    return status_of(job)


def status_of(job: Job) -> JobStatus:
    def stamp(value: datetime | None) -> datetime | None:
        return as_utc(value) if value is not None else None

    return JobStatus(
        job_id=job.id,
        status=job.status,
        counts=JobCounts(
            conversations=job.conversations,
            stored=job.stored,
            skipped=job.skipped,
            dead_lettered=job.dead_lettered,
        ),
        dead_letters=[JobDeadLetter.model_validate(reason) for reason in job.reasons],
        error=job.error,
        attempts=job.attempts,
        extraction_run_id=job.extraction_run_id,
        created_at=as_utc(job.created_at),
        started_at=stamp(job.started_at),
        finished_at=stamp(job.finished_at),
    )
