"""A fake LLM provider: a real HTTP server speaking the Anthropic and OpenAI wire formats.

The real SDKs and instructor run against it through `base_url`; nothing is mocked on the
client side. Answers come from a script (a responder callable, or fixed answers per
conversation key); faults come from rules (see `faults.py`)::

    with FakeLLMServer(answers={"c-1": signals_answer("negative", risk_flags=["budget_cuts"])},
                       faults=[FaultRule(FaultKind.RATE_LIMIT, first_n=1)]) as server:
        claude = anthropic.Anthropic(base_url=server.base_url, api_key="test")
        gpt = openai.OpenAI(base_url=server.openai_base_url, api_key="test")

Routes: POST /v1/messages; /v1/messages/batches (create, retrieve, results, cancel);
POST /v1/chat/completions; /v1/files (upload, retrieve, content); /v1/batches (create,
retrieve, cancel).

Request bodies hold conversation text (scrubbed, but still text): the server never writes a
request line or a body to stdout/stderr; bodies are kept in the in-memory request log only
when `keep_bodies=True`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import re
import socket
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

from convsignal.testing import wire
from convsignal.testing._http import Reply, Server, json_reply, multipart_fields
from convsignal.testing.answers import neutral_responder
from convsignal.testing.batches import BatchOutcome, BatchRequestError, BatchStore, ItemResult
from convsignal.testing.faults import (
    SCHEMA_VIOLATING_SIGNALS,
    Endpoint,
    FaultInjector,
    FaultKind,
    FaultRule,
)
from convsignal.testing.limits import RateLimiter
from convsignal.testing.wire import Api, RequestInfo

Responder = Callable[[RequestInfo], Mapping[str, Any]]
_CONTENT_KINDS = {FaultKind.SCHEMA_VIOLATION, FaultKind.TRUNCATED}
_ITEM_ERRORS = {
    # fault → (Anthropic error type, OpenAI status) for a batch item that errors
    FaultKind.RATE_LIMIT: ("rate_limit_error", 429),
    FaultKind.SERVER_ERROR: ("api_error", 500),
    FaultKind.OVERLOADED: ("overloaded_error", 503),
    FaultKind.TIMEOUT: ("api_error", 500),
}


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request as the server saw it. `status` 0: never answered (a timeout fault)."""

    method: str
    path: str
    endpoint: Endpoint | None
    model: str | None
    key: str | None
    status: int
    fault: FaultKind | None
    rate_limited: bool
    """Refused by the simulated rate limit (not by a fault rule)."""
    timestamp: float
    duration_ms: float
    body: Any = None
    """The parsed JSON request body, only with `keep_bodies=True`."""


_Handler = Callable[[Endpoint, "re.Match[str]", Mapping[str, str], bytes], Reply]
_ENDPOINT_OF_PREFIX = [
    ("/v1/messages/batches", Endpoint.ANTHROPIC_BATCHES),
    ("/v1/messages", Endpoint.ANTHROPIC_MESSAGES),
    ("/v1/chat/completions", Endpoint.OPENAI_CHAT),
    ("/v1/files", Endpoint.OPENAI_FILES),
    ("/v1/batches", Endpoint.OPENAI_BATCHES),
]


class FakeLLMServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 (ephemeral port), used as a context manager.

    Args:
        responder: `responder(info) -> tool input dict`; default: neutral, no items.
        answers: fixed answers per conversation key (the `conversation-key: <id>` marker in
            the user message, else the batch custom_id); they win over the responder.
        faults: fault rules, tried in order; the first that fires wins.
        seed: seeds the probability draws of the fault rules.
        latency_ms: added to every messages / chat completions answer (benchmarks).
        requests_per_minute, tokens_per_minute: a simulated rate limit (None: no limit);
            beyond it the answer is 429 with retry-after. `rate_limit_burst`: bucket size in
            requests (default one second's worth).
        batch_polls: retrievals that still see a batch in progress before it ends.
        batch_outcomes: custom_id → "errored" | "expired" | "canceled" for batch items.
        key_pattern: the regex (one group) that finds the conversation key in user text.
        keep_bodies: keep parsed request bodies in the request log (memory only).
    """

    def __init__(
        self,
        *,
        responder: Responder = neutral_responder,
        answers: Mapping[str, Mapping[str, Any]] | None = None,
        faults: Iterable[FaultRule] = (),
        seed: int = 0,
        latency_ms: float = 0.0,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        rate_limit_burst: float | None = None,
        batch_polls: int = 1,
        batch_outcomes: Mapping[str, BatchOutcome] | None = None,
        key_pattern: str | re.Pattern[str] = wire.DEFAULT_KEY_PATTERN,
        keep_bodies: bool = False,
    ) -> None:
        self.responder = responder
        self.latency_ms = latency_ms
        self.keep_bodies = keep_bodies
        self.key_pattern = re.compile(key_pattern) if isinstance(key_pattern, str) else key_pattern
        self.limiter = RateLimiter(
            requests_per_minute=requests_per_minute,
            tokens_per_minute=tokens_per_minute,
            burst=rate_limit_burst,
        )
        self.stopping = threading.Event()
        self._faults = FaultInjector(faults, seed=seed)
        self._batches = BatchStore(self._run_batch_item, polls=batch_polls)
        self._lock = threading.Lock()
        self._answers: dict[str, Mapping[str, Any]] = dict(answers or {})
        self._batch_outcomes: dict[str, BatchOutcome] = dict(batch_outcomes or {})
        self._attempts: Counter[str | None] = Counter()
        self._cached_prefixes: set[str] = set()
        self._log: list[LoggedRequest] = []
        self._internal_errors: list[str] = []
        self._connections: set[socket.socket] = set()
        self.connections_opened = 0
        """TCP connections accepted so far: with keep-alive, far fewer than requests."""
        self._httpd: Server | None = None
        self._thread: threading.Thread | None = None
        self._routes = self._route_table()

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        if self._httpd is None:
            self.stopping.clear()
            self._httpd = Server(("127.0.0.1", 0), self)
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="fake-llm-server",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self.stopping.set()  # wakes handlers sleeping on latency, slow or timeout faults
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:  # ends idle keep-alive connections
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """For `anthropic.Anthropic(base_url=...)`: that SDK adds `/v1/...` itself."""
        if self._httpd is None:
            raise RuntimeError("the fake LLM server is not running (use it as a context manager)")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        """For `openai.OpenAI(base_url=...)`: that SDK expects `/v1` in the base URL."""
        return f"{self.base_url}/v1"

    # ---- script and faults -------------------------------------------------------------------

    def set_answer(self, key: str, answer: Mapping[str, Any]) -> None:
        with self._lock:
            self._answers[key] = answer

    def add_fault(self, rule: FaultRule) -> None:
        self._faults.add(rule)

    def clear_faults(self) -> None:
        self._faults.clear()

    def set_batch_outcome(self, custom_id: str, outcome: BatchOutcome) -> None:
        with self._lock:
            self._batch_outcomes[custom_id] = outcome

    @property
    def batch_polls(self) -> int:
        return self._batches.polls

    @batch_polls.setter
    def batch_polls(self, polls: int) -> None:
        self._batches.polls = polls

    # ---- what happened -----------------------------------------------------------------------

    @property
    def requests(self) -> list[LoggedRequest]:
        with self._lock:
            return list(self._log)

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    @property
    def internal_errors(self) -> list[str]:
        """Errors of the fake itself (a responder that raised, a bug): tests assert it empty."""
        with self._lock:
            return list(self._internal_errors)

    # ---- the App protocol (called on handler threads) ----------------------------------------

    def dispatch(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        path = urlsplit(path).path.rstrip("/")
        for route_method, pattern, endpoint, handler in self._routes:
            match = pattern.fullmatch(path)
            if match is None or route_method != method:
                continue
            try:
                reply = handler(endpoint, match, headers, body)
            except Exception as exc:  # a bug, or a responder that raised: say so, loudly
                self.internal_error("".join(traceback.format_exception(exc)))
                reply = self._error(endpoint, 500, "api_error", f"fake: {type(exc).__name__}")
            reply.endpoint = endpoint
            return reply
        api: Api = "anthropic" if path.startswith("/v1/messages") else "openai"
        return _api_error(api, 404, "not_found_error", f"no route {method} {path}")

    def headers_for(self, reply: Reply) -> dict[str, str]:
        if reply.endpoint is None or reply.endpoint.value.startswith("anthropic"):
            headers = self.limiter.anthropic_headers()
            headers["request-id"] = wire.new_id("req_")
        else:
            headers = self.limiter.openai_headers()
            headers["x-request-id"] = wire.new_id("req_")
        headers.update(reply.headers)
        return headers

    def record(self, method: str, path: str, reply: Reply, started: float, seconds: float) -> None:
        entry = LoggedRequest(
            method=method,
            path=urlsplit(path).path,
            endpoint=reply.endpoint,
            model=reply.model,
            key=reply.key,
            status=0 if reply.hang_s > 0 else reply.status,
            fault=reply.fault,
            rate_limited=reply.rate_limited,
            timestamp=started,
            duration_ms=seconds * 1000.0,
            body=reply.logged_body if self.keep_bodies else None,
        )
        with self._lock:
            self._log.append(entry)

    def track(self, connection: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(connection)
                self.connections_opened += 1
            else:
                self._connections.discard(connection)

    def internal_error(self, text: str) -> None:
        with self._lock:
            self._internal_errors.append(text)

    # ---- routes ------------------------------------------------------------------------------

    def _route_table(self) -> list[tuple[str, re.Pattern[str], Endpoint, _Handler]]:
        store = self._batches

        def by_id(action: Callable[[str], Any]) -> _Handler:
            return lambda endpoint, match, _, __: self._call(endpoint, lambda: action(match[1]))

        def with_body(action: Callable[[Mapping[str, Any]], Any]) -> _Handler:
            return lambda endpoint, _, __, body: self._call(endpoint, action, body)

        def retrieve_anthropic(batch_id: str) -> dict[str, Any] | None:
            results_url = f"{self.base_url}/v1/messages/batches/{batch_id}/results"
            return store.retrieve_anthropic(batch_id, results_url)

        def anthropic_results(batch_id: str) -> Reply | None:
            content = store.anthropic_results(batch_id)
            return None if content is None else Reply(200, content, "application/binary")

        def file_object(file_id: str) -> dict[str, Any] | None:
            stored = store.file(file_id)
            return None if stored is None else stored.as_object()

        def file_content(file_id: str) -> Reply | None:
            stored = store.file(file_id)
            return None if stored is None else Reply(200, stored.content, "application/binary")

        anthropic_batches, openai_batches, files, one = (
            "/v1/messages/batches",
            "/v1/batches",
            "/v1/files",
            "/([^/]+)",
        )
        table: list[tuple[str, str, _Handler]] = [
            ("POST", "/v1/messages", lambda e, _, __, b: self._inference(e, "anthropic", b)),
            ("POST", "/v1/chat/completions", lambda e, _, __, b: self._inference(e, "openai", b)),
            ("POST", anthropic_batches, with_body(store.create_anthropic)),
            ("GET", anthropic_batches + one, by_id(retrieve_anthropic)),
            ("GET", anthropic_batches + one + "/results", by_id(anthropic_results)),
            ("POST", anthropic_batches + one + "/cancel", by_id(store.cancel_anthropic)),
            ("POST", files, lambda e, _, headers, b: self._upload(e, headers, b)),
            ("GET", files + one, by_id(file_object)),
            ("GET", files + one + "/content", by_id(file_content)),
            ("POST", openai_batches, with_body(store.create_openai)),
            ("GET", openai_batches + one, by_id(store.retrieve_openai)),
            ("POST", openai_batches + one + "/cancel", by_id(store.cancel_openai)),
        ]
        return [
            (method, re.compile(path), _endpoint_of(path), handler)
            for method, path, handler in table
        ]

    # ---- faults and errors -------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.stopping.wait(seconds)

    def _transport_fault(self, endpoint: Endpoint, rule: FaultRule | None) -> Reply | None:
        """The error answer (or silence) a rule asks for, after its delay; None: go on."""
        if rule is None:
            return None
        reply: Reply | None = None
        if rule.kind is FaultKind.RATE_LIMIT:
            reply = self._rate_limited(endpoint, rule.retry_after_s)
        elif rule.kind is FaultKind.SERVER_ERROR:
            reply = self._error(endpoint, rule.status or 500, "api_error", "Internal server error")
        elif rule.kind is FaultKind.OVERLOADED:
            status = rule.status or (529 if endpoint.value.startswith("anthropic") else 503)
            reply = self._error(endpoint, status, "overloaded_error", "Overloaded")
        elif rule.kind is FaultKind.TIMEOUT:
            reply = Reply(0, b"", hang_s=rule.delay_seconds)
        elif rule.kind is FaultKind.SLOW:
            self._sleep(rule.delay_seconds)
        if reply is not None:
            reply.fault = rule.kind
        return reply

    def _rate_limited(self, endpoint: Endpoint, retry_after_s: float) -> Reply:
        reply = self._error(endpoint, 429, "rate_limit_error", "Rate limit exceeded (fake)")
        reply.headers["retry-after"] = str(max(1, math.ceil(retry_after_s)))
        reply.headers["retry-after-ms"] = str(max(1, round(retry_after_s * 1000)))
        return reply

    @staticmethod
    def _error(endpoint: Endpoint, status: int, error_type: str, message: str) -> Reply:
        api: Api = "anthropic" if endpoint.value.startswith("anthropic") else "openai"
        return _api_error(api, status, error_type, message)

    # ---- inference ---------------------------------------------------------------------------

    def _inference(self, endpoint: Endpoint, api: Api, body: bytes) -> Reply:
        request = _parse_json(body)
        if request is None:
            return self._error(endpoint, 400, "invalid_request_error", "body is not a JSON object")
        info = self._request_info(api, request)
        rule = self._faults.pick(endpoint, info.key)
        fields = {"model": info.model, "key": info.key, "logged_body": request}
        if rule is None or rule.kind is not FaultKind.RATE_LIMIT:  # an injected 429 costs nothing
            wait = self.limiter.admit(_input_tokens(api, request))
            if wait > 0:  # refused at once, as providers do, before any latency
                reply = self._rate_limited(endpoint, wait)
                return _with(reply, rate_limited=True, **fields)
        self._sleep(self.latency_ms / 1000.0)
        failed = self._transport_fault(endpoint, rule)
        if failed is not None:
            return _with(failed, **fields)
        reply = _with(json_reply(200, self._answer_body(info, rule)), **fields)
        if rule is not None:
            reply.fault = rule.kind
            if rule.kind is FaultKind.MALFORMED_JSON:
                reply.body = reply.body[: len(reply.body) // 2]
        return reply

    def _request_info(
        self, api: Api, request: Mapping[str, Any], custom_id: str | None = None
    ) -> RequestInfo:
        parse = wire.anthropic_info if api == "anthropic" else wire.openai_info
        info = parse(request, self.key_pattern, custom_id=custom_id)
        with self._lock:
            self._attempts[info.key] += 1
            attempt = self._attempts[info.key]
        return replace(info, attempt=attempt)

    def _answer_body(self, info: RequestInfo, rule: FaultRule | None) -> dict[str, Any]:
        """The whole Message / ChatCompletion body for one request, content faults applied."""
        kind = rule.kind if rule is not None else None
        answer: Mapping[str, Any]
        if kind is FaultKind.SCHEMA_VIOLATION:
            answer = (rule.payload if rule is not None else None) or SCHEMA_VIOLATING_SIGNALS
        else:
            answer = self._answer(info)
        truncated = kind is FaultKind.TRUNCATED
        output_tokens = wire.estimate_tokens(json.dumps(answer))
        if truncated:
            output_tokens = info.max_tokens or output_tokens // 2
        if info.api == "anthropic":
            usage = wire.anthropic_usage(info.body, output_tokens, self._cache_probe(info))
            return wire.anthropic_message(info, answer, usage=usage, truncated=truncated)
        usage_openai = wire.openai_usage(info.body, output_tokens, self._cache_probe(info))
        return wire.openai_completion(info, answer, usage=usage_openai, truncated=truncated)

    def _answer(self, info: RequestInfo) -> Mapping[str, Any]:
        with self._lock:
            fixed = self._answers.get(info.key) if info.key is not None else None
        answer = fixed if fixed is not None else self.responder(info)
        if not isinstance(answer, Mapping):
            raise TypeError(f"a responder must return a mapping, not {type(answer).__name__}")
        return answer

    def _cache_probe(self, info: RequestInfo) -> Callable[[str], bool]:
        def probe(prefix: str) -> bool:
            digest = hashlib.sha256(f"{info.api}\0{info.model}\0{prefix}".encode()).hexdigest()
            with self._lock:
                seen = digest in self._cached_prefixes
                self._cached_prefixes.add(digest)
            return seen

        return probe

    # ---- batches and files -------------------------------------------------------------------

    def _call(
        self, endpoint: Endpoint, action: Callable[..., Any], body: bytes | None = None
    ) -> Reply:
        """Faults first, then `action` (given the parsed JSON body when there is one).

        The action's None means 404; its BatchRequestError, 400.
        """
        request: Mapping[str, Any] | None = None
        if body is not None:
            request = _parse_json(body)
            if request is None:
                return self._error(endpoint, 400, "invalid_request_error", "body is not JSON")
        rule = self._faults.pick(endpoint, None)
        failed = self._transport_fault(endpoint, rule)
        if failed is not None:
            return failed
        try:
            result = action() if request is None else action(request)
        except BatchRequestError as exc:
            return self._error(endpoint, 400, "invalid_request_error", str(exc))
        if result is None:
            return self._error(endpoint, 404, "not_found_error", "no such object")
        reply = result if isinstance(result, Reply) else json_reply(200, result)
        reply.logged_body = request
        if rule is not None:
            reply.fault = rule.kind
            if rule.kind is FaultKind.MALFORMED_JSON:
                reply.body = reply.body[: len(reply.body) // 2]
        return reply

    def _upload(self, endpoint: Endpoint, headers: Mapping[str, str], body: bytes) -> Reply:
        fields = multipart_fields(headers.get("content-type", ""), body)
        if "file" not in fields:
            return self._error(endpoint, 400, "invalid_request_error", "multipart 'file' missing")
        filename, content = fields["file"]
        purpose = fields.get("purpose", (None, b""))[1].decode()
        return self._call(
            endpoint,
            lambda: self._batches.add_file(filename or "upload", purpose, content).as_object(),
        )

    def _run_batch_item(self, api: Api, custom_id: str, params: Mapping[str, Any]) -> ItemResult:
        """One batch item, answered when its batch ends (called with the batch store locked)."""
        with self._lock:
            outcome = self._batch_outcomes.get(custom_id)
        if outcome in ("expired", "canceled"):
            return outcome, None
        info = self._request_info(api, params, custom_id)
        anthropic = api == "anthropic"
        endpoint = Endpoint.ANTHROPIC_BATCH_ITEMS if anthropic else Endpoint.OPENAI_BATCH_ITEMS
        rule = self._faults.pick(endpoint, info.key)
        if outcome == "errored" or (rule is not None and rule.kind in _ITEM_ERRORS):
            kind = rule.kind if rule is not None and outcome is None else FaultKind.SERVER_ERROR
            error_type, status = _ITEM_ERRORS[kind]
            if anthropic:
                return "errored", wire.anthropic_error(error_type, "Batch item failed (fake)")
            error = wire.openai_error(error_type, "Batch item failed (fake)")
            return "errored", {"status_code": status, **error}
        content_rule = rule if rule is not None and rule.kind in _CONTENT_KINDS else None
        return "succeeded", self._answer_body(info, content_rule)


def _endpoint_of(path: str) -> Endpoint:
    return next(endpoint for prefix, endpoint in _ENDPOINT_OF_PREFIX if path.startswith(prefix))


def _with(reply: Reply, **fields: Any) -> Reply:
    for name, value in fields.items():
        setattr(reply, name, value)
    return reply


def _input_tokens(api: Api, request: Mapping[str, Any]) -> int:
    text = (
        wire.anthropic_input_text(request)
        if api == "anthropic"
        else wire.openai_input_text(request)
    )
    return wire.estimate_tokens(text)


def _parse_json(body: bytes) -> Mapping[str, Any] | None:
    try:
        parsed = json.loads(body or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return parsed if isinstance(parsed, Mapping) else None


def _api_error(api: Api, status: int, error_type: str, message: str) -> Reply:
    if api == "anthropic":
        return json_reply(status, wire.anthropic_error(error_type, message))
    openai_type = {"rate_limit_error": "requests", "not_found_error": "invalid_request_error"}
    code = {"rate_limit_error": "rate_limit_exceeded"}.get(error_type)
    return json_reply(
        status, wire.openai_error(openai_type.get(error_type, error_type), message, code)
    )
