"""Shared by the jobs-queue and webhook tests: settings, keys, conversations, waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from convsignal.api.apikeys import create_api_key
from convsignal.config import Settings
from convsignal.store.engine import session_scope

FINAL = {"succeeded", "partial", "failed"}


def queue_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "queue_key": Fernet.generate_key().decode(),
        "queue_poll_seconds": 0.05,
        "queue_lease_seconds": 2.0,
        "queue_shutdown_seconds": 0.0,
        "webhook_poll_seconds": 0.05,
        "webhook_backoff_seconds": 0.05,
        "webhook_backoff_max_seconds": 0.2,
        "webhook_timeout_seconds": 2.0,
        "webhook_max_attempts": 3,
    }
    values.update(overrides)
    return Settings(**values)


def api_keys(engine: Engine) -> dict[str, dict[str, str]]:
    """Authorization headers for one key of each scope."""
    headers = {}
    with session_scope(engine) as session:
        for scope in ("read", "write", "admin"):
            _, secret = create_api_key(session, scope=scope, name=f"test-{scope}")
            headers[scope] = {"Authorization": f"Bearer {secret}"}
    return headers


def conversation(
    source_id: str,
    *,
    account_id: str = "acme",
    lines: list[tuple[str, str]] | None = None,
    occurred_at: str = "2026-11-01T10:00:00Z",
) -> dict[str, Any]:
    """The normalised shape; `lines` are (speaker, text) with Dana the customer."""
    lines = lines or [
        ("Sam Patel", "How is the rollout going?"),
        ("Dana Whitfield", "Our budget was cut and we are evaluating Mixpanel."),
    ]
    return {
        "source_id": source_id,
        "account_id": account_id,
        "channel": "call",
        "occurred_at": occurred_at,
        "participants": [
            {"name": "Dana Whitfield", "email": "dana@acme.example", "role": "customer"},
            {"name": "Sam Patel", "email": "sam@vendor.example", "role": "vendor"},
        ],
        "turns": [{"speaker": speaker, "text": text} for speaker, text in lines],
    }


def wait_until(condition: Callable[[], Any], *, timeout: float = 90.0, every: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(every)


def wait_for_job(
    client: TestClient, job_id: str, headers: dict[str, str], timeout: float = 120.0
) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        return body if body["status"] in FINAL else None

    result: dict[str, Any] = wait_until(finished, timeout=timeout)
    return result
