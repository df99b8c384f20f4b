"""HTTP plumbing for the fake LLM server: a threaded HTTP/1.1 server that never prints.

The SDKs keep pooled keep-alive connections (httpx), so every answer carries Content-Length
and the request body is always read in full (Content-Length or chunked). Nothing is written to
stdout/stderr: request lines and tracebacks can carry conversation text.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from convsignal.testing.faults import Endpoint, FaultKind

QUIET_ERRORS = (ConnectionError, TimeoutError, OSError)
"""A client that went away (a timeout fault, a closed pool): not the fake's bug."""


@dataclass
class Reply:
    """An answer, plus what the request log should say about it."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    endpoint: Endpoint | None = None
    model: str | None = None
    key: str | None = None
    fault: FaultKind | None = None
    rate_limited: bool = False
    logged_body: Any = None
    hang_s: float = 0.0
    """Send nothing: hold the connection this long, then close it (a timeout fault)."""


def json_reply(status: int, payload: Any, **fields: Any) -> Reply:
    return Reply(status, json.dumps(payload).encode(), **fields)


class App(Protocol):
    stopping: threading.Event

    def dispatch(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> Reply: ...

    def headers_for(self, reply: Reply) -> dict[str, str]: ...

    def record(
        self, method: str, path: str, reply: Reply, started: float, seconds: float
    ) -> None: ...

    def track(self, connection: socket.socket, *, add: bool) -> None: ...

    def internal_error(self, text: str) -> None: ...


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default backlog of 5 drops connects under concurrency 64

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Never print (the default prints a traceback to stderr); keep real bugs in memory."""
        if not isinstance(sys.exc_info()[1], QUIET_ERRORS):
            self.app.internal_error(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 300  # an idle pooled connection is dropped after this
    server: Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK hold the body back ~40 ms on every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.app.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.app.track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: request lines must not reach stderr."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        started, clock = time.time(), time.perf_counter()
        app = self.server.app
        body = self._read_body()
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = app.dispatch(method, self.path, headers, body)
        if reply.hang_s > 0:
            app.record(method, self.path, reply, started, time.perf_counter() - clock)
            app.stopping.wait(reply.hang_s)
            self.close_connection = True
            return
        all_headers = app.headers_for(reply)
        app.record(method, self.path, reply, started, time.perf_counter() - clock)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in all_headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except QUIET_ERRORS:
            self.close_connection = True

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""


def multipart_fields(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """The fields of a multipart/form-data body: name → (filename, bytes)."""
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if match is None:
        return {}
    delimiter = b"--" + match.group(1).encode()
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, _, data = part.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        disposition = head.decode("latin-1")
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if name is not None:
            fields[name.group(1)] = (
                filename.group(1) if filename else None,
                data.removesuffix(b"\r\n"),
            )
    return fields
