"""Webhook deliveries to a real local HTTP receiver: Standard Webhooks signatures, retries
with backoff, dead letters, replay, filtering by trigger type (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from typer.testing import CliRunner

from convsignal.api.app import create_app
from convsignal.cli import app as cli
from convsignal.config import Settings
from convsignal.score.profile import load_profile
from convsignal.score.service import recompute
from convsignal.store import repository
from convsignal.store.engine import session_scope
from convsignal.store.job_tables import WebhookAttempt, WebhookDelivery
from convsignal.store.tables import PlaybookTrigger, ScoreSnapshot
from tests.integration.queue_helpers import api_keys, queue_settings, wait_until
from tests.integration.scoring_helpers import (
    CANCEL,
    GOOD,
    POOR,
    RENEW,
    add_conversation,
    add_metrics,
    day,
)


class Receiver:
    """A tiny HTTP server on a free loopback port; answers with the next queued status."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.paths: list[str] = []
        self.statuses: list[int] = []
        self.default_status = 200
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver.lock:
                    receiver.received.append((dict(self.headers.items()), body))
                    receiver.paths.append(self.path)
                    status = (
                        receiver.statuses.pop(0) if receiver.statuses else receiver.default_status
                    )
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/convsignal"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def bodies(self, secret: str) -> list[dict[str, Any]]:
        """Every body received, each verified against its signature headers."""
        verifier = Webhook(secret)
        with self.lock:
            return [verifier.verify(body, headers) for headers, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return queue_settings(database_url, tmp_path)


@pytest.fixture
def keys(engine: Engine) -> dict[str, dict[str, str]]:
    return api_keys(engine)


def raise_trigger(engine: Engine, kind: str, *, account: str = "acme") -> int:
    """What a scoring run writes: a snapshot and a trigger row pointing at it."""
    when = datetime(2026, 11, 24, tzinfo=UTC)
    with session_scope(engine) as session:
        repository.ensure_account(session, account)
        snapshot = ScoreSnapshot(
            account_id=account, as_of=when, score=41.5, band="at_risk", profile_version="p1"
        )
        session.add(snapshot)
        session.flush()
        trigger = PlaybookTrigger(
            account_id=account,
            snapshot_id=snapshot.id,
            kind=kind,
            as_of=when,
            detail={"from": "attention", "to": "at_risk", "score": 41.5},
            profile_version="p1",
        )
        session.add(trigger)
        session.flush()
        assert trigger.id is not None
        return trigger.id


def subscribe(
    client: TestClient, keys: dict[str, dict[str, str]], url: str, triggers: list[str]
) -> dict[str, Any]:
    response = client.post(
        "/v1/webhooks", json={"url": url, "triggers": triggers}, headers=keys["admin"]
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def handed_over(engine: Engine, trigger_id: int) -> bool:
    with session_scope(engine) as session:
        trigger = session.get(PlaybookTrigger, trigger_id)
        return trigger is not None and trigger.delivered_at is not None


def deliveries(engine: Engine) -> list[WebhookDelivery]:
    with session_scope(engine) as session:
        return list(session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)))


def test_triggers_are_delivered_signed_and_filtered_by_type(
    engine: Engine, settings: Settings, keys: dict[str, dict[str, str]], receiver: Receiver
) -> None:
    earlier = raise_trigger(engine, "band_changed")  # before any subscription: not sent
    with TestClient(create_app(settings, engine=engine)) as client:
        everything = subscribe(client, keys, receiver.url + "/all", ["*"])
        band_only = subscribe(client, keys, receiver.url + "/band", ["band_changed"])
        listed = client.get("/v1/webhooks", headers=keys["admin"]).json()
        band = raise_trigger(engine, "band_changed")
        drop = raise_trigger(engine, "score_drop", account="globex")
        wait_until(lambda: len(receiver.received) == 3, timeout=30)

    assert everything["secret"].startswith("whsec_")
    assert {s["id"] for s in listed} == {everything["id"], band_only["id"]}
    assert all("secret" not in s for s in listed)  # shown once only
    sent = deliveries(engine)
    assert all(d.status == "delivered" for d in sent)
    assert sorted((d.subscription_id, d.trigger_id) for d in sent) == sorted(
        [(everything["id"], band), (everything["id"], drop), (band_only["id"], band)]
    )
    assert earlier not in {d.trigger_id for d in sent}
    secrets = {
        "/hooks/convsignal/all": everything["secret"],
        "/hooks/convsignal/band": band_only["secret"],
    }
    payloads: dict[str, list[dict[str, Any]]] = {}
    for path, (headers, body) in zip(receiver.paths, receiver.received, strict=True):
        payloads.setdefault(path, []).append(Webhook(secrets[path]).verify(body, headers))
        other = next(secret for p, secret in secrets.items() if p != path)
        with pytest.raises(WebhookVerificationError):  # signed with its own secret only
            Webhook(other).verify(body, headers)
    assert sorted(p["type"] for p in payloads["/hooks/convsignal/all"]) == [
        "trigger.band_changed", "trigger.score_drop",
    ]  # fmt: skip
    assert [p["type"] for p in payloads["/hooks/convsignal/band"]] == ["trigger.band_changed"]
    drop_payload = next(
        p for p in payloads["/hooks/convsignal/all"] if p["type"] == "trigger.score_drop"
    )
    data = drop_payload["data"]
    assert set(data) == {"account_id", "trigger", "detail", "score", "band", "run_id", "as_of"}
    assert (data["account_id"], data["trigger"], data["score"], data["band"]) == (
        "globex", "score_drop", 41.5, "at_risk",
    )  # fmt: skip
    assert data["detail"] == {"from": "attention", "to": "at_risk", "score": 41.5}


def test_failures_are_retried_with_backoff_until_delivered(
    engine: Engine, settings: Settings, keys: dict[str, dict[str, str]], receiver: Receiver
) -> None:
    receiver.statuses = [500, 503]
    with TestClient(create_app(settings, engine=engine)) as client:
        subscription = subscribe(client, keys, receiver.url, ["band_changed"])
        raise_trigger(engine, "band_changed")
        wait_until(lambda: deliveries(engine) and deliveries(engine)[0].status == "delivered")
    [delivery] = deliveries(engine)
    assert delivery.attempts == 3
    with session_scope(engine) as session:
        attempts = session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.attempt)).all()
    assert [(a.attempt, a.status_code) for a in attempts] == [(1, 500), (2, 503), (3, 200)]
    assert all(a.latency_ms >= 0 for a in attempts)
    # one message, three attempts: the same webhook-id each time, each signature valid
    ids = {headers["webhook-id"] for headers, _ in receiver.received}
    assert ids == {delivery.message_id}
    assert len(receiver.bodies(subscription["secret"])) == 3


def test_dead_letter_after_max_attempts_then_replay_delivers(
    engine: Engine,
    settings: Settings,
    database_url: str,
    keys: dict[str, dict[str, str]],
    receiver: Receiver,
) -> None:
    receiver.default_status = 500
    with TestClient(create_app(settings, engine=engine)) as client:
        subscription = subscribe(client, keys, receiver.url, ["sustained_risk"])
        raise_trigger(engine, "sustained_risk")
        wait_until(lambda: deliveries(engine) and deliveries(engine)[0].status == "dead")
        [dead] = deliveries(engine)
        assert dead.attempts == settings.webhook_max_attempts
        assert dead.last_status_code == 500
        assert len(receiver.received) == settings.webhook_max_attempts

        receiver.default_status = 204
        env = {
            "CONVSIGNAL_DATABASE_URL": database_url,
            "CONVSIGNAL_QUEUE_KEY": settings.queue_key or "",
        }
        result = CliRunner().invoke(
            cli, ["webhooks", "replay", "--delivery", str(dead.id)], env=env
        )
        assert result.exit_code == 0, result.output
        assert "1 delivery queued again" in result.output
        wait_until(lambda: deliveries(engine)[0].status == "delivered")
        listed = client.get("/v1/webhooks/deliveries?status=delivered", headers=keys["admin"])
        assert [d["id"] for d in listed.json()] == [dead.id]
        # the API replays too: everything since a time, here the delivered one once more
        again = client.post(
            "/v1/webhooks/replay", json={"since": "2026-01-01T00:00:00Z"}, headers=keys["admin"]
        )
        assert again.json() == {"queued": 1}
        wait_until(lambda: len(receiver.received) == settings.webhook_max_attempts + 2)
        wait_until(lambda: deliveries(engine)[0].status == "delivered")
        refused = client.post("/v1/webhooks/replay", json={}, headers=keys["admin"])
        assert refused.status_code == 422
    assert len(receiver.received) == settings.webhook_max_attempts + 2
    assert receiver.received[-1][0]["webhook-id"] == dead.message_id  # receivers can dedupe
    receiver.bodies(subscription["secret"])  # every one verifies


def test_webhook_routes_need_an_admin_key_and_validate(
    engine: Engine, settings: Settings, keys: dict[str, dict[str, str]]
) -> None:
    with TestClient(create_app(settings, engine=engine, workers=False)) as client:
        body = {"url": "http://127.0.0.1:9/x", "triggers": ["*"]}
        assert client.post("/v1/webhooks", json=body, headers=keys["write"]).status_code == 403
        bad_type = client.post(
            "/v1/webhooks", json=body | {"triggers": ["churned"]}, headers=keys["admin"]
        )
        bad_url = client.post("/v1/webhooks", json=body | {"url": "ftp://x"}, headers=keys["admin"])
        missing = client.delete("/v1/webhooks/999", headers=keys["admin"])
        created = client.post("/v1/webhooks", json=body, headers=keys["admin"]).json()
        removed = client.delete(f"/v1/webhooks/{created['id']}", headers=keys["admin"])
        after = client.get("/v1/webhooks", headers=keys["admin"]).json()
    assert bad_type.status_code == 422
    assert bad_type.json()["errors"][0]["field"].startswith("body.triggers[0]")
    assert bad_url.status_code == 422
    assert bad_url.json()["errors"][0]["field"] == "body.url"
    assert missing.status_code == 404
    assert removed.status_code == 204
    assert after == []


def test_deleting_a_subscription_cancels_its_pending_deliveries(
    engine: Engine, settings: Settings, keys: dict[str, dict[str, str]], receiver: Receiver
) -> None:
    receiver.default_status = 500
    slow_retries = settings.model_copy(update={"webhook_backoff_seconds": 600.0})
    with TestClient(create_app(slow_retries, engine=engine)) as client:
        subscription = subscribe(client, keys, receiver.url, ["*"])
        raise_trigger(engine, "score_drop")
        wait_until(lambda: deliveries(engine) and deliveries(engine)[0].attempts == 1)
        assert deliveries(engine)[0].status == "pending"  # next try in minutes
        removed = client.delete(f"/v1/webhooks/{subscription['id']}", headers=keys["admin"])
        later = raise_trigger(engine, "score_drop")
        wait_until(lambda: handed_over(engine, later))
    assert removed.status_code == 204
    assert [d.status for d in deliveries(engine)] == ["cancelled"]  # and none for `later`
    assert len(receiver.received) == 1


def test_a_real_scoring_run_reaches_the_subscriber(
    engine: Engine, settings: Settings, keys: dict[str, dict[str, str]], receiver: Receiver
) -> None:
    """recompute (what `convsignal score` runs) writes triggers; the server delivers them."""
    with session_scope(engine) as session:
        add_metrics(session, "acme", day(-45), GOOD)
        add_conversation(session, "acme", day(-60), RENEW)
        recompute(session, load_profile(), day(-40))  # healthy, nothing fires
    with TestClient(create_app(settings, engine=engine)) as client:
        subscription = subscribe(client, keys, receiver.url, ["band_changed", "score_drop"])
        with session_scope(engine) as session:
            add_metrics(session, "acme", day(-5), POOR)
            add_conversation(session, "acme", day(-3), CANCEL)
            recompute(session, load_profile(), day(0))
        wait_until(lambda: len(receiver.received) == 2, timeout=30)
    payloads = receiver.bodies(subscription["secret"])
    assert sorted(p["type"] for p in payloads) == ["trigger.band_changed", "trigger.score_drop"]
    change = next(p["data"] for p in payloads if p["data"]["trigger"] == "band_changed")
    assert change["account_id"] == "acme"
    assert change["detail"]["from"] == "healthy"
    assert change["band"] == change["detail"]["to"]
    assert change["run_id"] is not None


def test_the_cli_adds_lists_and_removes_subscriptions(
    engine: Engine, settings: Settings, database_url: str
) -> None:
    env = {
        "CONVSIGNAL_DATABASE_URL": database_url,
        "CONVSIGNAL_QUEUE_KEY": settings.queue_key or "",
    }
    runner = CliRunner()
    added = runner.invoke(
        cli,
        ["webhooks", "add", "https://hooks.example.com/cs", "--trigger", "score_drop"],
        env=env,
    )
    assert added.exit_code == 0, added.output
    secret = added.output.split("secret (shown once; verify signatures with it): ")[1].split()[0]
    assert secret.startswith("whsec_")
    listed = runner.invoke(cli, ["webhooks", "list", "--format", "json"], env=env)
    [row] = json.loads(listed.output)
    assert (row["url"], row["triggers"]) == ("https://hooks.example.com/cs", ["score_drop"])
    assert secret not in listed.output
    unknown = runner.invoke(
        cli, ["webhooks", "add", "https://x.example", "--trigger", "churn"], env=env
    )
    assert unknown.exit_code != 0
    empty = runner.invoke(cli, ["webhooks", "deliveries", "--format", "json"], env=env)
    assert json.loads(empty.output) == []
    removed = runner.invoke(cli, ["webhooks", "remove", str(row["id"])], env=env)
    assert removed.exit_code == 0, removed.output
    assert (
        json.loads(runner.invoke(cli, ["webhooks", "list", "--format", "json"], env=env).output)
        == []
    )
    nothing = runner.invoke(cli, ["webhooks", "replay"], env=env)
    assert nothing.exit_code != 0
