"""Invariant 1: no raw text at rest, none in logs or output.

Conversations are seeded with unique canaries: participant names, names mentioned in
passing, emails, phone numbers, a card number, and distinctive non-PII sentences. After the
whole CLI flow (ingest with debug logging, metrics import, score as table and JSON), every
row of every table, the raw database file(s), all log records and all console output are
searched for every canary.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, select
from typer.testing import CliRunner

from convsignal.cli import app
from convsignal.store.engine import make_engine
from tests.integration.helpers import write_transcript

PII_CANARIES = [
    "Quillon Brackenridge",  # customer participant
    "Quillon",
    "Brackenridge",
    "Ysolde Farrowmere",  # vendor participant
    "quillon.b@zephyrcanary.example",
    "ysolde@vendor.example",
    "Thaddeus Pemberwick",  # mentioned in passing, not a participant
    "+1 415 555 0199",
    "4111 1111 1111 1111",
    "marisol.okonkwo-vance@canarymail.example",
    "+44 20 7946 0321",  # international phone
    "DE89 3704 0044 0532 0130 00",  # IBAN
    "536-22-8726",  # US SSN
    "1187 Quillfeather Lane",  # street address
    "1987-03-14",  # date of birth
    "linkedin.com/in/thaddeus-pemberwick",  # URL with a personal path
    "203.0.113.77",  # IP address
]
SENTENCE_CANARIES = [
    "The amber heron inspects every ledger at midnight",
    "Seventeen velvet accordions arrived in the basement archive",
    "Our quarterly kite festival uses the blue dashboard",
]
CANARIES = PII_CANARIES + SENTENCE_CANARIES
PARTICIPANTS = [
    {"name": "Quillon Brackenridge", "email": "quillon.b@zephyrcanary.example", "role": "customer"},
    {"name": "Ysolde Farrowmere", "email": "ysolde@vendor.example", "role": "vendor"},
]


def seed(folder: Path) -> None:
    write_transcript(
        folder,
        "canary-call",
        account="zephyr",
        participants=PARTICIPANTS,
        subject="Renewal chat with Quillon",
        lines=[
            "Ysolde Farrowmere: Hi Quillon, thanks for making time.",
            f"Quillon Brackenridge: {SENTENCE_CANARIES[0]}. Call me on +1 415 555 0199.",
            "Quillon Brackenridge: Thaddeus Pemberwick is leaving the company next month.",
            "Quillon Brackenridge: Our budget was cut, so Quillon is frustrated.",
            f"Ysolde Farrowmere: {SENTENCE_CANARIES[1]}.",
        ],
    )
    write_transcript(
        folder,
        "canary-ticket",
        account="zephyr",
        channel="ticket",
        occurred_at="2026-11-10T09:00:00Z",
        participants=PARTICIPANTS,
        lines=[
            "Quillon Brackenridge: The invoice is overdue because card 4111 1111 1111 1111 failed.",
            f"Quillon Brackenridge: {SENTENCE_CANARIES[2]}; write to "
            "marisol.okonkwo-vance@canarymail.example or quillon.b@zephyrcanary.example.",
            "Ysolde Farrowmere: Thanks Quillon, Ysolde here, we will fix it.",
            "Quillon Brackenridge: Refund to IBAN DE89 3704 0044 0532 0130 00, or call "
            "+44 20 7946 0321. Ship the token to 1187 Quillfeather Lane, Springfield, IL 62704.",
            "Quillon Brackenridge: An agent pasted SSN 536-22-8726 and date of birth "
            "1987-03-14 from linkedin.com/in/thaddeus-pemberwick; login came from 203.0.113.77.",
        ],
    )
    (folder / "metrics.csv").write_text(
        "account_id,as_of,nps,csat,days_since_last_contact\nzephyr,2026-11-20,10,4.1,3\n"
    )


def dump_tables(engine: Engine) -> str:
    metadata = MetaData()
    metadata.reflect(engine)
    parts = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def test_no_canary_at_rest_in_logs_or_output(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    seed(exports)
    runner = CliRunner()
    env = {"CONVSIGNAL_DATABASE_URL": database_url}
    caplog.set_level(logging.DEBUG)
    outputs = []
    for args in (
        ["ingest", str(exports / "canary-call.txt"), str(exports / "canary-ticket.txt")],
        ["metrics", "import", str(exports / "metrics.csv")],
        ["score", "--as-of", "2026-11-24"],
        ["score", "--as-of", "2026-11-24", "--format", "json"],
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)

    engine = make_engine(database_url)
    tables = dump_tables(engine)
    engine.dispose()
    assert "budget_cuts" in tables  # the flow really ran and stored events
    haystacks = {"tables": tables, "logs": caplog.text, "output": "\n".join(outputs)}
    if database_url.startswith("sqlite"):
        db_file = Path(database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
        haystacks["database file"] = raw.decode("utf-8", errors="replace")
    for where, haystack in haystacks.items():
        lowered = haystack.lower()
        for canary in CANARIES:
            assert canary.lower() not in lowered, f"canary {canary!r} found in {where}"


def test_no_canary_from_the_api_queue_at_rest_in_logs_or_responses(
    engine: Engine, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Canary text submitted to POST /v1/conversations: encrypted while queued, gone once
    the job ran, never in a log line (DEBUG), a table, the database file or a response
    (including the 422 for a bad record that quotes it)."""
    from fastapi.testclient import TestClient

    from convsignal.api.app import create_app
    from tests.integration.queue_helpers import api_keys, queue_settings, wait_for_job

    caplog.set_level(logging.DEBUG)
    settings = queue_settings(database_url, tmp_path)
    keys = api_keys(engine)
    speakers = {p["name"] for p in PARTICIPANTS}
    call = (tmp_path / "exports").resolve()
    call.mkdir()
    seed(call)
    conversations = []
    for index, name in enumerate(("canary-call", "canary-ticket")):
        text = (call / f"{name}.txt").read_text().split("---\n", 2)[2]
        turns = [
            {"speaker": line.split(": ", 1)[0], "text": line.split(": ", 1)[1]}
            for line in text.splitlines()
            if line.split(": ", 1)[0] in speakers
        ]
        conversations.append(
            {
                "source_id": f"canary-{index}",
                "account_id": "zephyr",
                "channel": "call",
                "occurred_at": f"2026-11-1{index}T09:00:00Z",
                "subject": "Renewal chat with Quillon",
                "participants": PARTICIPANTS,
                "turns": turns,
            }
        )
    bad_record = {"type": "conversation", "id": 7, "source": {"body": SENTENCE_CANARIES[0]}}
    responses = []
    haystacks: dict[str, str] = {}
    with TestClient(create_app(settings, engine=engine, workers=False)) as client:
        accepted = client.post(
            "/v1/conversations", json={"conversations": conversations}, headers=keys["write"]
        )
        assert accepted.status_code == 202, accepted.text
        refused = client.post(
            "/v1/conversations",
            json={"format": "intercom", "account_id": "zephyr", "records": [bad_record]},
            headers=keys["write"],
        )
        assert refused.status_code == 422
        missing_speaker = client.post(
            "/v1/conversations",
            json={"conversations": [conversations[0] | {"turns": [{"text": CANARIES[0]}]}]},
            headers=keys["write"],
        )
        assert missing_speaker.status_code == 422
        responses += [accepted.text, refused.text, missing_speaker.text]
    haystacks["tables while queued"] = dump_tables(engine)

    with TestClient(create_app(settings, engine=engine)) as client:
        job = wait_for_job(client, accepted.json()["job_id"], keys["read"])
        assert job["status"] == "succeeded", job
        responses.append(client.get(f"/v1/jobs/{job['job_id']}", headers=keys["read"]).text)
        events = client.get("/v1/accounts/zephyr/events", headers=keys["read"])
        responses.append(events.text)
    tables = dump_tables(engine)
    assert "budget_cuts" in tables  # the job really ran and stored events
    haystacks |= {"tables": tables, "logs": caplog.text, "responses": "\n".join(responses)}
    if database_url.startswith("sqlite"):
        db_file = Path(database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
        haystacks["database file"] = raw.decode("utf-8", errors="replace")
    for where, haystack in haystacks.items():
        lowered = haystack.lower()
        for canary in CANARIES:
            assert canary.lower() not in lowered, f"canary {canary!r} found in {where}"


def test_no_canary_through_the_score_and_metrics_endpoints(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Canary text sent where the read/write endpoints take no text (what-if events, measure
    values and names, query filters, cursors, request ids) is refused or dropped: never
    echoed in a response or a log line (DEBUG), never stored."""
    from fastapi.testclient import TestClient

    from convsignal.api.apikeys import create_api_key
    from convsignal.api.app import create_app
    from convsignal.config import Settings
    from convsignal.store.engine import session_scope

    caplog.set_level(logging.DEBUG)
    with session_scope(engine) as session:
        read = {"Authorization": f"Bearer {create_api_key(session, scope='read', name='r')[1]}"}
        write = {"Authorization": f"Bearer {create_api_key(session, scope='write', name='w')[1]}"}
    text = SENTENCE_CANARIES[0]
    pii = PII_CANARIES[0]
    event = {"kind": "risk_flag", "occurred_at": "2026-11-20T00:00:00Z"}
    calls: list[tuple[str, str, dict[str, object], dict[str, object] | None]] = [
        ("POST", "/v1/score", read, {"events": [{**event, "signal_type": text}]}),
        ("POST", "/v1/score", read, {"events": [{**event, "kind": text, "signal_type": pii}]}),
        ("POST", "/v1/score", read, {"measures": {"nps": text}}),
        ("POST", "/v1/score", read, {"measures": {text: 1}}),
        ("POST", "/v1/score", read, {"note": text}),
        ("POST", "/v1/metrics:batch", write, {"items": [
            {"account_id": "zephyr", "as_of": "2026-11-20", "measures": {"nps": text}},
            {"account_id": "zephyr", "as_of": text, "measures": {"csat": 4}},
        ]}),
        ("PUT", "/v1/accounts/zephyr/metrics", write,
         {"as_of": "2026-11-20", "measures": {pii: 2}}),
        ("POST", "/v1/accounts/zephyr/override", write, {"score": 50, "reason": text * 20}),
        ("GET", f"/v1/accounts?segment=x&cursor={text}", read, None),
        ("GET", f"/v1/accounts?band={text}", read, None),
        ("GET", f"/v1/accounts/zephyr/events?kind={text}", read, None),
        ("GET", "/v1/accounts", {**read, "X-Request-ID": text}, None),
    ]  # fmt: skip
    responses = []
    settings = Settings(database_url=str(engine.url))
    with TestClient(create_app(settings, engine=engine, workers=False)) as client:
        for method, path, headers, body in calls:
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code in {200, 400, 404, 422}, (path, response.text)
            responses.append(f"{response.headers}\n{response.text}")
    assert sum("422" in r or "400" in r for r in responses) >= 9  # they really were refused
    haystacks = {
        "responses": "\n".join(responses),
        "logs": caplog.text,
        "tables": dump_tables(engine),
    }
    for where, haystack in haystacks.items():
        lowered = haystack.lower()
        for canary in (text, pii):
            assert canary.lower() not in lowered, f"canary {canary!r} found in {where}"
