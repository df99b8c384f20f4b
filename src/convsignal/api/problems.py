"""Errors as `application/problem+json` (RFC 9457): every 4xx names what was wrong and where.

Routes raise `Problem(status, title, detail, errors=[{"field": …, "message": …}])`; the
handlers below turn it, FastAPI's validation errors, Starlette's HTTP errors and our own
`ConvSignalError`s into one body shape. A field is a path such as `body.items[3].value`, so a
client can point at the bad value. Messages name fields and ids, never submitted text: a
validation error's `input` is left out on purpose (it could be a conversation).

Anything unexpected becomes a 500 problem without detail (logged with the request id), but
the schemathesis run in the tests proves no input reaches it.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from convsignal.errors import ConvSignalError, ScoringError, StoreError

PROBLEM_MEDIA_TYPE = "application/problem+json"

logger = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class FieldError(BaseModel):
    field: str = Field(description="where: body.items[3].value, query.limit, path.account_id")
    message: str


class ProblemDetail(BaseModel):
    """The body of every error response (RFC 9457)."""

    type: str = Field(default="about:blank", description="a URI naming the problem type")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="the request path")
    request_id: str | None = None
    errors: list[FieldError] = Field(default_factory=list)


class Problem(Exception):
    """Raise from a route to answer with a problem+json body."""

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        *,
        errors: Iterable[dict[str, str]] = (),
        headers: dict[str, str] | None = None,
        type_: str = "about:blank",
    ) -> None:
        self.status = status
        self.title = title or TITLES.get(status, "Error")
        self.detail = detail
        self.errors = [dict(error) for error in errors]
        self.headers = headers
        self.type = type_
        super().__init__(f"{status} {self.title}: {detail or ''}")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the problem schema under the problem media type, so the
    OpenAPI spec declares every error the route can give (schemathesis checks it)."""
    return {
        status: {
            "description": TITLES.get(status, "Error"),
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemDetail"}}
            },
        }
        for status in statuses
    }


def problem_response(
    request: Request | None,
    status: int,
    title: str | None = None,
    detail: str | None = None,
    *,
    errors: Sequence[dict[str, str]] = (),
    headers: dict[str, str] | None = None,
    type_: str = "about:blank",
) -> JSONResponse:
    body = ProblemDetail(
        type=type_,
        title=title or TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=request.url.path if request is not None else None,
        request_id=_request_id(request),
        errors=[FieldError(field=e["field"], message=e["message"]) for e in errors],
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _request_id(request: Request | None) -> str | None:
    if request is None:
        return None
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def field_path(location: Sequence[int | str]) -> str:
    """("body", "items", 3, "value") → "body.items[3].value"."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,99}$")


def _safe_part(part: int | str) -> int | str:
    """A location part as shown: our field and measure names are lower snake case; any
    other string in a location is a key the client sent (an unknown field, a bad measure
    name) and could be text, so it is shown as `<key>`."""
    if isinstance(part, int) or part == "[key]" or _FIELD_NAME.match(part):
        return part
    return "<key>"


def validation_errors(exc: RequestValidationError) -> list[dict[str, str]]:
    """Field and message of each error; pydantic's `input` is dropped (it may be text), and
    so is any key in the location that is not a plain field name (see `_safe_part`)."""
    out = []
    for error in exc.errors():
        location = [_safe_part(p) for p in error.get("loc", ()) if isinstance(p, int | str)]
        out.append({"field": field_path(location), "message": str(error.get("msg", "invalid"))})
    return out


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(
        request,
        exc.status,
        exc.title,
        exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        type_=exc.type,
    )


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = validation_errors(exc)
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    return problem_response(request, 422, detail=f"invalid value in {fields}", errors=errors)


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else None
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(request, exc.status_code, detail=detail, headers=headers)


async def _on_convsignal(request: Request, exc: Exception) -> JSONResponse:
    """Our own errors say what is wrong without text (see convsignal.errors)."""
    if isinstance(exc, StoreError):
        logger.error("store error: %s", exc)
        return problem_response(request, 503, detail="the database is not available")
    status = 422 if isinstance(exc, ScoringError | ConvSignalError) else 400
    return problem_response(request, status, detail=str(exc))


async def _on_database(request: Request, exc: Exception) -> JSONResponse:
    """A lost connection (the pool is renewed by SQLAlchemy) or a pool exhausted under load:
    the client may retry; neither is a bug to hide behind a 500."""
    if isinstance(exc, PoolTimeout) or (isinstance(exc, DBAPIError) and exc.connection_invalidated):
        logger.warning("database unavailable: %s", type(exc).__name__)
        return problem_response(
            request, 503, detail="the database is busy or was restarted; retry shortly",
            headers={"Retry-After": "1"},
        )  # fmt: skip
    return await _on_unexpected(request, exc)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback's frames, not the exception's message: a library's message may quote input.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("unhandled %s on %s\n%s", type(exc).__name__, request.url.path, frames)
    return problem_response(request, 500, detail="unexpected error; quote the request id")


def install_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(ConvSignalError, _on_convsignal)
    app.add_exception_handler(DBAPIError, _on_database)
    app.add_exception_handler(PoolTimeout, _on_database)
    app.add_exception_handler(Exception, _on_unexpected)
