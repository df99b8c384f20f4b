"""The RevOps review page: `GET /review`, and its API under `/v1/review/…`.

The review works on one eval report, chosen when the server starts (`convsignal review`
calls `enable_review`); a server started without one (`convsignal serve`) answers 404 on
these routes, so a production API never rewrites eval/ files.

The page is a static shell (no data, no key): the key travels in the URL *fragment*
(`/review#key=csk_…`), which browsers never send, so it stays out of server logs; the page's
script reads it and calls the API with `Authorization: Bearer`. A strict Content-Security-
Policy allows only the page's own script and style: the conversation text (untrusted, even if
synthetic) is inserted as text nodes, and even a slip could not run a script.

Scopes: read for GETs, write to record a decision or export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field, StringConstraints

from convsignal.api.auth import Principal, Scope, require_scope
from convsignal.api.deps import SessionDep
from convsignal.api.problems import Problem, problem_responses
from convsignal.domain import Role
from convsignal.evaluation.review import (
    DEFAULT_CASES_DIR,
    ITEM_KINDS,
    SENTIMENT_LABELS,
    Decision,
    Disagreement,
    EvalReport,
    ReviewError,
    case_disagreements,
    decision_history,
    load_report,
    newest_decisions,
    record_decision,
)
from convsignal.evaluation.review_export import audit_path_for, export_reviewed
from convsignal.store.review_tables import ReviewDecision
from convsignal.store.tables import as_utc

__all__ = ["ReviewSource", "enable_review", "page_router", "router"]

ASSETS = Path(__file__).resolve().parents[1] / "review_page"
PLAIN = r"^[^\x00-\x1f\x7f]+$"
_FIELD_PREFIX = re.compile(r"^(?P<field>[a-z_]+(?:\[\d+\])?(?:\.[a-z_]+)*): (?P<rest>.+)$", re.S)
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
NOT_ENABLED = (
    "this server reviews no eval report; start the review page with `convsignal review` "
    "(it picks the newest eval/reports/signals-*.json or takes --report FILE)"
)

router = APIRouter(prefix="/review", tags=["review"])
page_router = APIRouter(include_in_schema=False)
READ = Depends(require_scope(Scope.READ))
WRITE = Depends(require_scope(Scope.WRITE))


@dataclass(frozen=True, slots=True)
class ReviewSource:
    report: EvalReport
    report_path: Path
    cases_dir: Path
    audit_path: Path


def enable_review(app: FastAPI, report_path: Path, cases_dir: Path | None = None) -> ReviewSource:
    """Serve the review of `report_path`; export into `cases_dir` (default: the folder the
    report was made from when it still exists, else the checkout's eval/signals/cases)."""
    report = load_report(report_path)
    if cases_dir is None:
        recorded = Path(report.cases_dir) if report.cases_dir else None
        cases_dir = recorded if recorded is not None and recorded.is_dir() else DEFAULT_CASES_DIR
    source = ReviewSource(report, report_path, cases_dir, audit_path_for(cases_dir))
    app.state.review = source
    return source


def get_source(request: Request) -> ReviewSource:
    source = getattr(request.app.state, "review", None)
    if not isinstance(source, ReviewSource):
        raise Problem(404, detail=NOT_ENABLED)
    return source


SourceDep = Annotated[ReviewSource, Depends(get_source)]


# --- bodies ---


class Label(BaseModel):
    type: str = Field(max_length=60, description="a closed-enum value of the slot's kind")
    speaker_role: str | None = Field(default=None, max_length=20, description="items only")


class DecisionOut(BaseModel):
    id: int
    report: str
    case_id: str
    extractor: str
    kind: str
    label: str
    side: str
    disagreement: str
    decision: str
    labels: list[Label]
    reviewer: str
    created_at: datetime


class DisagreementOut(BaseModel):
    kind: str
    label: str
    where: Literal["gold_only", "model_only", "side_mismatch", "sentiment"]
    side: str
    gold: list[Label]
    model: list[Label]
    evidence: list[str] = Field(description="the extractor's evidence (scrubbed, ≤200 chars)")
    confidence: float | None
    decision: DecisionOut | None = Field(description="the decision in force, if any")


class TurnOut(BaseModel):
    speaker: str = Field(description="a placeholder such as <PERSON_1>")
    role: str
    internal: bool
    text: str = Field(description="scrubbed text")


class CaseOut(BaseModel):
    id: str
    channel: str
    industry: str
    tags: list[str]
    subject: str | None
    turns: list[TurnOut]
    rationale: str | None
    disagreements: list[DisagreementOut]


class ReportOut(BaseModel):
    name: str
    generated_at: str | None
    extractors: list[str]
    extractor: str | None = Field(description="whose disagreements are listed")
    case_count: int
    labels: dict[str, list[str]] = Field(description="the closed enums per kind (edit form)")
    roles: list[str]


class CasesOut(BaseModel):
    report: ReportOut
    cases: list[CaseOut]


ReviewerName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=PLAIN)]
CaseId = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=PLAIN)]


class DecisionIn(BaseModel):
    case_id: CaseId
    extractor: CaseId
    kind: Literal["sentiment", "intents", "risk_flags", "expansion_signals"]
    label: str = Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z_]*$")
    decision: Decision
    labels: list[Label] | None = Field(
        default=None, max_length=20, description="edit only: the slot's labels ([] removes it)"
    )
    reviewer: ReviewerName


class ExportOut(BaseModel):
    changed: list[str] = Field(description="case ids whose gold block was rewritten")
    unchanged: list[str]
    missing: list[str] = Field(description="decided cases without a file in the cases folder")
    decisions_applied: int
    audit_lines: int
    cases_dir: str
    audit_file: str


# --- helpers ---


def _decision_out(row: ReviewDecision) -> DecisionOut:
    assert row.id is not None
    return DecisionOut(
        id=row.id,
        report=row.report,
        case_id=row.case_id,
        extractor=row.extractor,
        kind=row.kind,
        label=row.label,
        side=row.side,
        disagreement=row.disagreement,
        decision=row.decision,
        labels=[Label.model_validate(label) for label in row.labels],
        reviewer=row.reviewer,
        created_at=as_utc(row.created_at),
    )


def _disagreement_out(item: Disagreement, decision: ReviewDecision | None) -> DisagreementOut:
    return DisagreementOut(
        kind=item.kind,
        label=item.label,
        where=item.where,
        side=item.side,
        gold=[Label.model_validate(label) for label in item.gold],
        model=[Label.model_validate(label) for label in item.model],
        evidence=item.evidence,
        confidence=item.confidence,
        decision=_decision_out(decision) if decision is not None else None,
    )


def _field_problem(exc: ReviewError, location: str) -> Problem:
    """ReviewError messages start with the field at fault ("labels[0].type: …")."""
    message = str(exc)
    match = _FIELD_PREFIX.match(message)
    if match is None:
        return Problem(422, detail=message)
    field, rest = match["field"], match["rest"]
    return Problem(422, detail=message, errors=[{"field": f"{location}.{field}", "message": rest}])


# --- API ---


@router.get(
    "/cases",
    dependencies=[READ],
    response_model=CasesOut,
    responses=problem_responses(404),
    summary="The report's cases where the extractor and gold disagree, with decisions in force",
)
def list_cases(
    source: SourceDep,
    session: SessionDep,
    extractor: Annotated[str | None, Query(max_length=200, pattern=PLAIN)] = None,
) -> CasesOut:
    report = source.report
    names = [e.name for e in report.extractors]
    chosen = extractor or report.default_extractor
    if extractor is not None and extractor not in names:
        raise Problem(
            422,
            detail=f"no extractor {extractor!r} in {report.name}",
            errors=[{"field": "query.extractor", "message": f"one of {names}"}],
        )
    in_force = newest_decisions(session, report.name)
    cases: list[CaseOut] = []
    for case in report.cases:
        found = case_disagreements(case, chosen) if chosen else []
        if not found:
            continue
        cases.append(
            CaseOut(
                id=case.id,
                channel=case.channel,
                industry=case.industry,
                tags=list(case.tags),
                subject=case.subject,
                turns=[TurnOut.model_validate(t.model_dump()) for t in case.turns],
                rationale=case.gold.rationale,
                disagreements=[
                    _disagreement_out(d, in_force.get((case.id, d.kind, d.label))) for d in found
                ],
            )
        )
    return CasesOut(
        report=ReportOut(
            name=report.name,
            generated_at=report.generated_at,
            extractors=names,
            extractor=chosen,
            case_count=len(report.cases),
            labels={"sentiment": list(SENTIMENT_LABELS), **ITEM_KINDS},
            roles=[role.value for role in Role],
        ),
        cases=cases,
    )


@router.post(
    "/decisions",
    status_code=201,
    response_model=DecisionOut,
    responses=problem_responses(404),
    summary="Record a decision (accept the model's labels, keep gold's, or edit them)",
)
def post_decision(
    body: DecisionIn,
    source: SourceDep,
    session: SessionDep,
    principal: Annotated[Principal, WRITE],
) -> DecisionOut:
    edited: list[dict[str, Any]] | None = None
    if body.labels is not None:
        edited = [label.model_dump(exclude_none=True) for label in body.labels]
    if body.decision is Decision.EDIT and edited is None:
        raise Problem(
            422,
            detail="an edit needs the edited labels",
            errors=[{"field": "body.labels", "message": "required when decision is edit"}],
        )
    try:
        row = record_decision(
            session,
            source.report,
            case_id=body.case_id,
            extractor=body.extractor,
            kind=body.kind,
            label=body.label,
            decision=body.decision,
            reviewer=body.reviewer,
            labels=edited if body.decision is Decision.EDIT else None,
            api_key_id=principal.key_id,
        )
    except ReviewError as exc:
        raise _field_problem(exc, "body") from None
    session.commit()
    return _decision_out(row)


@router.get(
    "/decisions",
    dependencies=[READ],
    response_model=list[DecisionOut],
    responses=problem_responses(404),
    summary="The audit trail of this report's decisions, newest first",
)
def list_decisions(
    source: SourceDep,
    session: SessionDep,
    case_id: Annotated[str | None, Query(max_length=200, pattern=PLAIN)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[DecisionOut]:
    rows = decision_history(session, source.report.name, case_id=case_id, limit=limit)
    return [_decision_out(row) for row in rows]


@router.post(
    "/export",
    dependencies=[WRITE],
    response_model=ExportOut,
    responses=problem_responses(404),
    summary="Write the decisions in force into the cases' gold blocks, and the audit log",
)
def export(source: SourceDep, session: SessionDep) -> ExportOut:
    name = source.report.name
    try:
        result = export_reviewed(
            source.cases_dir,
            newest_decisions(session, name),
            decision_history(session, name),
            audit_path=source.audit_path,
            now=datetime.now(UTC),
        )
    except ReviewError as exc:
        raise Problem(422, detail=str(exc)) from None
    return ExportOut(
        changed=result.changed,
        unchanged=result.unchanged,
        missing=result.missing,
        decisions_applied=result.decisions_applied,
        audit_lines=result.audit_lines,
        cases_dir=str(source.cases_dir),
        audit_file=str(source.audit_path),
    )


# --- the page ---

_templates = Environment(
    loader=FileSystemLoader(ASSETS), autoescape=select_autoescape(["html", "j2"])
)
_SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@page_router.get("/review", response_class=HTMLResponse)
def review_page() -> HTMLResponse:
    html = _templates.get_template("review.html.j2").render(
        api_base="/v1/review", static_base="/review/static"
    )
    return HTMLResponse(html, headers=_SECURITY_HEADERS)


@page_router.get("/review/static/review.js")
def review_script() -> FileResponse:
    return FileResponse(
        ASSETS / "review.js", media_type="text/javascript", headers=_SECURITY_HEADERS
    )


@page_router.get("/review/static/review.css")
def review_style() -> FileResponse:
    return FileResponse(ASSETS / "review.css", media_type="text/css", headers=_SECURITY_HEADERS)
