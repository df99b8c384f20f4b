"""`kill -9` of a real `convsignal serve` process while it runs a job: a new server
finishes the job, and nothing is stored twice (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, func, select

from convsignal.store.engine import session_scope
from convsignal.store.job_tables import Job
from convsignal.store.tables import ConversationExtraction, ConversationRecord, SignalEventRecord
from tests.integration.queue_helpers import FINAL, api_keys, conversation, wait_until

CONVERSATIONS = 40


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    def __init__(self, database_url: str, tmp_path: Path, queue_key: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "CONVSIGNAL_DATABASE_URL": database_url,
            "CONVSIGNAL_QUEUE_KEY": queue_key,
            "CONVSIGNAL_QUEUE_LEASE_SECONDS": "2",
            "CONVSIGNAL_QUEUE_POLL_SECONDS": "0.05",
        }
        self.log = (tmp_path / f"serve-{self.port}.log").open("wb")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *options: str) -> Server:
        executable = Path(sys.executable).parent / "convsignal"  # the installed command
        command = [str(executable), "serve", "--port", str(self.port), "--no-access-log"]
        command += options
        self.process = subprocess.Popen(
            command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        wait_until(self._healthy, timeout=60, every=0.2)
        return self

    def _healthy(self) -> bool:
        assert self.process is not None
        assert self.process.poll() is None, "convsignal serve exited"
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=60)
        self.log.close()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Every server a test started is killed at the end, whatever happened."""
    started: list[Server] = []
    yield started
    for server in started:
        server.stop(signal.SIGKILL)


def count(engine: Engine, table: Any) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_kill_9_mid_job_then_restart_finishes_it_without_duplicates(
    engine: Engine, database_url: str, tmp_path: Path, servers: list[Server]
) -> None:
    keys = api_keys(engine)
    queue_key = Fernet.generate_key().decode()
    first = Server(database_url, tmp_path, queue_key)
    servers.append(first)
    first.start()
    body = {
        "conversations": [
            conversation(f"call-{i}", occurred_at=f"2026-10-{i % 28 + 1:02d}T{i % 24:02d}:00:00Z")
            for i in range(CONVERSATIONS)
        ]
    }
    accepted = httpx.post(f"{first.url}/v1/conversations", json=body, headers=keys["write"])
    assert accepted.status_code == 202, accepted.text
    job_id = accepted.json()["job_id"]

    def status() -> str:
        response = httpx.get(f"{first.url}/v1/jobs/{job_id}", headers=keys["read"], timeout=5)
        return str(response.json()["status"])

    wait_until(lambda: status() == "running", timeout=60, every=0.02)
    first.stop(signal.SIGKILL)
    with session_scope(engine) as session:
        orphan = session.get(Job, job_id)
        assert orphan is not None
        assert orphan.status == "running"  # held by a dead worker's lease
        assert orphan.payload is not None
    stored_before = count(engine, ConversationExtraction)
    assert stored_before < CONVERSATIONS

    second = Server(database_url, tmp_path, queue_key)
    servers.append(second)
    second.start()

    def finished() -> dict[str, Any] | None:
        response = httpx.get(f"{second.url}/v1/jobs/{job_id}", headers=keys["read"], timeout=5)
        job: dict[str, Any] = response.json()
        return job if job["status"] in FINAL else None

    job = wait_until(finished, timeout=120, every=0.2)
    second.stop(signal.SIGTERM)
    assert job["status"] == "succeeded", job
    assert job["attempts"] == 2
    assert job["counts"]["stored"] + job["counts"]["skipped"] == CONVERSATIONS
    assert count(engine, ConversationRecord) == CONVERSATIONS
    assert count(engine, ConversationExtraction) == CONVERSATIONS  # none twice
    with session_scope(engine) as session:
        expected = session.scalar(select(func.sum(ConversationExtraction.event_count)))
    assert count(engine, SignalEventRecord) == expected


def test_keep_alive_option_closes_idle_connections_after_its_seconds(
    database_url: str, tmp_path: Path, servers: list[Server]
) -> None:
    server = Server(database_url, tmp_path, Fernet.generate_key().decode())
    servers.append(server)
    server.start("--keep-alive", "1")
    request = f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as connection:
        stream = connection.makefile("rb")

        def response() -> bytes:
            head = [stream.readline()]
            while head[-1] not in (b"\r\n", b""):
                head.append(stream.readline())
            length = next(
                int(line.split(b":")[1])
                for line in head
                if line.lower().startswith(b"content-length")
            )
            return head[0] + stream.read(length)

        connection.sendall(request)
        assert response() == b'HTTP/1.1 200 OK\r\n{"status":"ok"}'
        connection.sendall(request)  # at once: the same connection still serves
        assert response() == b'HTTP/1.1 200 OK\r\n{"status":"ok"}'
        connection.settimeout(10)
        assert stream.read(1) == b""  # idle past 1 s: the server closed it
