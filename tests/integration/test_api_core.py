"""The API's frame: keys and scopes, problem+json errors, size limit, request ids, health,
readiness and metrics. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select
from typer.testing import CliRunner

from convsignal.api.apikeys import authenticate, hash_key
from convsignal.api.observability import RequestIdFilter
from convsignal.cli import app as cli
from convsignal.store.api_tables import ApiKey
from convsignal.store.engine import session_scope
from tests.integration.api_helpers import Keys, api_client, make_keys, seed_accounts

PROBLEM = "application/problem+json"


@pytest.fixture
def keys(engine: Engine) -> Keys:
    return make_keys(engine)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with api_client(engine, api_max_body_bytes=4096) as client:
        yield client


def test_only_a_hash_and_prefix_of_a_key_are_stored(engine: Engine, keys: Keys) -> None:
    with session_scope(engine) as session:
        rows = session.exec(select(ApiKey)).all()
        assert {row.key_hash for row in rows} == {
            hash_key(k) for k in (keys.read, keys.write, keys.admin)
        }
        for row in rows:
            assert keys.read not in (row.prefix, row.key_hash)
            assert len(row.prefix) < 16
            assert keys.read.startswith(row.prefix) == (row.scope == "read")
        assert authenticate(session, keys.read) is not None
        assert authenticate(session, keys.read + "x") is None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/accounts", None),
        ("GET", "/v1/accounts/acme/score", None),
        ("GET", "/v1/accounts/acme/events", None),
        ("POST", "/v1/score", {}),
        ("PUT", "/v1/accounts/acme/metrics", {"as_of": "2026-11-01", "measures": {}}),
        ("POST", "/v1/accounts/acme/override", {"score": 50, "reason": "x"}),
        ("GET", "/v1/api-keys", None),
        ("GET", "/metrics", None),
    ],
)
def test_every_route_but_health_needs_a_key(
    client: TestClient, method: str, path: str, body: object
) -> None:
    for headers in ({}, {"Authorization": "Bearer csk_not-a-key"}, {"Authorization": "Basic x"}):
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (path, headers)
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.json()["status"] == 401


def test_health_and_readiness_need_no_key(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_readiness_fails_when_migrations_are_pending(database_url: str) -> None:
    from convsignal.store.engine import make_engine, upgrade

    engine = make_engine(database_url)
    upgrade(engine, "0004")
    try:
        with api_client(engine) as client:
            response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "migrations pending"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("scope", "method", "path", "body", "allowed"),
    [
        ("read", "GET", "/v1/accounts", None, True),
        (
            "read",
            "PUT",
            "/v1/accounts/acme/metrics",
            {"as_of": "2026-11-01", "measures": {}},
            False,
        ),
        (
            "write",
            "PUT",
            "/v1/accounts/acme/metrics",
            {"as_of": "2026-11-01", "measures": {}},
            True,
        ),
        ("read", "POST", "/v1/accounts/acme/override", {"score": 50, "reason": "call"}, False),
        ("write", "POST", "/v1/accounts/acme/override", {"score": 50, "reason": "call"}, True),
        ("write", "GET", "/v1/api-keys", None, False),
        ("admin", "GET", "/v1/api-keys", None, True),
        ("admin", "GET", "/v1/accounts", None, True),
    ],
)
def test_scopes_nest_read_write_admin(
    engine: Engine,
    client: TestClient,
    keys: Keys,
    scope: str,
    method: str,
    path: str,
    body: object,
    allowed: bool,
) -> None:
    seed_accounts(engine)
    response = client.request(method, path, json=body, headers=keys.header(scope))
    if allowed:
        assert response.status_code < 300, response.text
    else:
        assert response.status_code == 403
        assert response.headers["content-type"] == PROBLEM
        assert scope in response.json()["detail"]


def test_a_revoked_key_is_refused_on_its_next_request(
    engine: Engine, client: TestClient, keys: Keys
) -> None:
    assert client.get("/v1/accounts", headers=keys.header()).status_code == 200
    listed = client.get("/v1/api-keys", headers=keys.header("admin")).json()
    read_key = next(k for k in listed if k["scope"] == "read")
    assert "key_hash" not in read_key
    assert keys.read.startswith(read_key["prefix"])
    revoked = client.delete(f"/v1/api-keys/{read_key['id']}", headers=keys.header("admin"))
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"]
    assert client.get("/v1/accounts", headers=keys.header()).status_code == 401
    assert client.delete("/v1/api-keys/999999", headers=keys.header("admin")).status_code == 404


def test_apikey_cli_creates_lists_and_revokes(engine: Engine, database_url: str) -> None:
    runner = CliRunner()
    created = runner.invoke(
        cli,
        ["apikey", "create", "--scope", "write", "--name", "ci", "--database-url", database_url],
    )
    assert created.exit_code == 0, created.output
    secret = created.output.split()[0]
    assert secret.startswith("csk_")
    assert len(secret) > 40
    listed = runner.invoke(cli, ["apikey", "list", "--database-url", database_url])
    assert listed.exit_code == 0
    assert secret[:12] in listed.output
    assert secret not in listed.output
    with session_scope(engine) as session:
        principal = authenticate(session, secret)
    assert principal is not None
    assert principal.scope == "write"
    revoked = runner.invoke(
        cli, ["apikey", "revoke", str(principal.key_id), "--database-url", database_url]
    )
    assert revoked.exit_code == 0, revoked.output
    with session_scope(engine) as session:
        assert authenticate(session, secret) is None
    again = runner.invoke(cli, ["apikey", "revoke", secret[:12], "--database-url", database_url])
    assert again.exit_code != 0
    assert "no active API key" in str(again.exception)
    bad = runner.invoke(
        cli, ["apikey", "create", "--scope", "root", "--name", "x", "--database-url", database_url]
    )
    assert bad.exit_code != 0


def test_validation_errors_name_the_field(client: TestClient, keys: Keys) -> None:
    body = {
        "items": [
            {"account_id": "a", "as_of": "2026-11-01", "measures": {"nps": 10}},
            {"account_id": "b", "as_of": "2026-11-01", "measures": {"nps": "lots"}},
            {"account_id": "c", "as_of": "not a date", "measures": {}},
        ]
    }
    response = client.post("/v1/metrics:batch", json=body, headers=keys.header("write"))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"body.items[1].measures.nps", "body.items[2].as_of"}
    query = client.get("/v1/accounts?limit=0", headers=keys.header())
    assert query.status_code == 422
    assert [e["field"] for e in query.json()["errors"]] == ["query.limit"]


def test_validation_errors_never_echo_the_input(client: TestClient, keys: Keys) -> None:
    secret_text = "The amber heron inspects every ledger at midnight"
    response = client.post(
        "/v1/score", json={"events": [{"kind": secret_text}]}, headers=keys.header()
    )
    assert response.status_code == 422
    assert secret_text not in response.text


@pytest.mark.parametrize(("path", "status"), [("/nowhere", 404), ("/v1/accounts/x/nothing", 404)])
def test_unknown_routes_are_problems(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["instance"] == path


def test_wrong_method_is_a_problem(client: TestClient) -> None:
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


def test_bodies_over_the_limit_get_413_announced_or_chunked(client: TestClient, keys: Keys) -> None:
    big = b'{"items": [' + b" " * 5000 + b"]}"
    announced = client.post(
        "/v1/metrics:batch",
        content=big,
        headers={**keys.header("write"), "content-type": "application/json"},
    )
    assert announced.status_code == 413
    assert announced.headers["content-type"] == PROBLEM

    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    chunked = client.post(
        "/v1/metrics:batch",
        content=chunks(),
        headers={**keys.header("write"), "content-type": "application/json"},
    )
    assert chunked.status_code == 413
    assert chunked.json()["status"] == 413
    small = client.post(
        "/v1/metrics:batch",
        content=b"not json",
        headers={**keys.header("write"), "content-type": "application/json"},
    )
    assert small.status_code == 422


def test_request_id_in_and_out_and_on_log_records(
    client: TestClient, keys: Keys, caplog: pytest.LogCaptureFixture
) -> None:
    given = client.get("/v1/accounts", headers={**keys.header(), "X-Request-ID": "req-42.a"})
    assert given.headers["x-request-id"] == "req-42.a"
    made = client.get("/v1/accounts", headers=keys.header())
    assert len(made.headers["x-request-id"]) == 32
    insane = client.get("/healthz", headers={"X-Request-ID": "x" * 100})
    assert insane.headers["x-request-id"] != "x" * 100
    problem = client.get(
        "/v1/accounts/nobody/score", headers={**keys.header(), "X-Request-ID": "r-7"}
    )
    assert problem.json()["request_id"] == "r-7"

    from convsignal.api.observability import request_id_var

    record = logging.LogRecord("convsignal.api", logging.INFO, __file__, 1, "hello", None, None)
    token = request_id_var.set("r-8")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    assert record.request_id == "r-8"  # type: ignore[attr-defined]


def test_metrics_are_labelled_by_route_template(client: TestClient, keys: Keys) -> None:
    client.get("/v1/accounts/some-account-id/score", headers=keys.header())
    text = client.get("/metrics", headers=keys.header()).text
    assert 'route="/v1/accounts/{account_id}/score"' in text
    assert "some-account-id" not in text
    assert "convsignal_http_request_duration_seconds_bucket" in text


def test_openapi_declares_problems_and_security(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/v1/accounts/{account_id}/score"]["get"]
    assert {"401", "403", "404", "422"} <= set(operation["responses"])
    assert PROBLEM in operation["responses"]["404"]["content"]
    assert operation["security"] == [{"ApiKey": []}]
    assert "security" not in spec["paths"]["/healthz"]["get"]
    assert client.get("/docs").status_code == 200


def test_access_log_lines_drop_the_query_string() -> None:
    from convsignal.api.observability import DropQueryString

    args = ("127.0.0.1:5000", "GET", "/v1/accounts?segment=secret+words", "1.1", 200)
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, "%s %s %s %s %d", args, None
    )
    DropQueryString().filter(record)
    assert record.getMessage() == "127.0.0.1:5000 GET /v1/accounts 1.1 200"


def test_a_key_cached_in_one_process_is_refused_after_its_ttl(engine: Engine, keys: Keys) -> None:
    """Revoked elsewhere (CLI, another worker): refused once the cache entry expires."""
    from convsignal.api.apikeys import revoke_api_key

    with api_client(engine, api_key_cache_seconds=0.5) as client:
        assert client.get("/v1/accounts", headers=keys.header()).status_code == 200
        with session_scope(engine) as session:
            principal = authenticate(session, keys.read)
            assert principal is not None
            revoke_api_key(session, principal.key_id)
        assert client.get("/v1/accounts", headers=keys.header()).status_code == 200  # cached
        time.sleep(0.6)
        assert client.get("/v1/accounts", headers=keys.header()).status_code == 401


def test_a_served_app_hides_its_startup_heap_from_the_collector(engine: Engine) -> None:
    """A served app freezes what is alive at startup (gc.freeze): full collections then
    walk only what requests allocate, instead of pausing every request for the whole heap.
    With CONVSIGNAL_FREEZE_HEAP=0 (as this suite sets) it freezes nothing."""
    from convsignal.api.app import create_app
    from convsignal.config import Settings

    settings = Settings(database_url=str(engine.url))
    assert settings.freeze_heap is False  # tests/conftest.py
    gc.unfreeze()
    try:
        with TestClient(create_app(settings, engine=engine, workers=False)) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_freeze_count() == 0
        served = settings.model_copy(update={"freeze_heap": True})
        app = create_app(served, engine=engine, workers=False)
        with TestClient(app) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_freeze_count() > 10_000  # modules, models, caches
    finally:
        gc.unfreeze()
