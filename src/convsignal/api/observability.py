"""Request ids, request-size limits and Prometheus metrics, as plain ASGI middleware.

- Request id: taken from `X-Request-ID` when the caller sends a sane one (≤ 64 chars of
  letters, digits, `-_.:`), else a new uuid4; echoed in the response header, put on
  `request.state.request_id` and on every log record made while the request runs
  (`RequestIdFilter` reads a context variable), so a log line can be traced to a request.
  Log lines carry ids, routes and numbers only: never a body.
- Size limit: a body over `max_body_bytes` is answered 413 (problem+json) before the app
  sees it, whether the client announced a Content-Length or streamed it chunked.
- Metrics: a request counter and a latency histogram labelled by method, route *template*
  (`/v1/accounts/{account_id}/score`, never the concrete path: bounded cardinality, no ids)
  and status. Unmatched paths are labelled `unmatched`.
"""

from __future__ import annotations

import contextvars
import functools
import json
import logging
import os
import re
import time
import uuid
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from convsignal.api.problems import PROBLEM_MEDIA_TYPE, TITLES

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "convsignal_request_id", default=None
)

_SANE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,64}$")

REQUESTS = Counter(
    "convsignal_http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "convsignal_http_request_duration_seconds",
    "Time from request start to response end, by method and route template",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


@functools.lru_cache(maxsize=4096)
def _children(method: str, template: str, status: int) -> tuple[Any, Any]:
    """The labelled counter and histogram of one route and status, looked up once (label
    lookups are a measurable share of a fast request). Bounded: templates, not paths."""
    return REQUESTS.labels(method, template, str(status)), LATENCY.labels(method, template)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (`-` outside a request); install on a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


class DropQueryString(logging.Filter):
    """Access lines show the path without its query string: a client could put anything
    in a query, and logs never carry text."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], args[2].split("?", 1)[0], args[3], args[4])
        return True


def metrics_payload() -> tuple[bytes, str]:
    """The exposition text. Under several uvicorn workers (`PROMETHEUS_MULTIPROC_DIR` set by
    `convsignal serve`), the values of every worker process, summed."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


class ObservabilityMiddleware:
    """Request id, size limit and metrics around the whole app (outermost middleware)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        header = (b"x-request-id", request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            too_large = self._announced_too_large(scope)
            body = b"" if too_large else await self._read_body(receive)
            if too_large or body is None:
                await self._reject(scope, send_with_id, request_id)
                return
            await self.app(scope, _replay(body, receive), send_with_id)
        finally:
            method, template = scope.get("method", ""), route_template(scope)
            counter, histogram = _children(method, template, status)
            counter.inc()
            histogram.observe(time.perf_counter() - started)
            request_id_var.reset(token)

    def _announced_too_large(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    return int(value) > self.max_body_bytes
                except ValueError:
                    return False
        return False

    async def _read_body(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes the limit (chunked bodies included)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # a disconnect: let the app see what came so far and then the disconnect
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _reject(self, scope: Scope, send: Send, request_id: str) -> None:
        body = json.dumps(
            {
                "type": "about:blank",
                "title": TITLES[413],
                "status": 413,
                "detail": f"the request body is larger than {self.max_body_bytes} bytes; "
                "split it into smaller batches",
                "instance": scope.get("path", ""),
                "request_id": request_id,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def route_template(scope: Scope) -> str:
    """The matched route's template with the prefixes it was included under (`/v1`): the
    route object knows only its own path, so the literal prefix is the part of the request
    path before where the route's pattern matches."""
    route = scope.get("route")
    own = getattr(route, "path", None)
    pattern = getattr(route, "path_regex", None)
    if not isinstance(own, str):
        return "unmatched"
    path = str(scope.get("path", ""))
    if pattern is None or pattern.match(path):
        return own
    for index, char in enumerate(path):
        if char == "/" and index and pattern.match(path[index:]):
            return path[:index] + own
    return own


def _incoming_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            try:
                text = value.decode("ascii")
            except UnicodeDecodeError:
                return None
            return text if _SANE_ID.match(text) else None
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def log_config(level: str = "INFO") -> dict[str, Any]:
    """uvicorn's logging set-up with the request id on every line (uvicorn's and ours).

    Access lines show method, path (no query string), status and the id; never a body."""
    request_id = {"()": "convsignal.api.observability.RequestIdFilter"}
    no_query = {"()": "convsignal.api.observability.DropQueryString"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": request_id, "no_query": no_query},
        "formatters": {
            "default": {
                "()": "uvicorn.logging.DefaultFormatter",
                "fmt": "%(levelprefix)s [%(request_id)s] %(name)s: %(message)s",
                "use_colors": None,
            },
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": '%(levelprefix)s [%(request_id)s] %(client_addr)s - "%(request_line)s" '
                "%(status_code)s",
            },
        },
        "handlers": {
            "default": {
                "formatter": "default",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "filters": ["request_id"],
            },
            "access": {
                "formatter": "access",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "filters": ["request_id", "no_query"],
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "convsignal": {"handlers": ["default"], "level": level, "propagate": False},
        },
    }
