"""The RevOps review's API: disagreements, decisions with an audit trail, export to eval/.

Runs on SQLite and PostgreSQL, on a hand-made report and a tmp copy of its cases."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from convsignal.api.apikeys import authenticate, list_api_keys
from convsignal.api.app import create_app
from convsignal.api.routes.review import enable_review
from convsignal.config import Settings
from convsignal.evaluation.signal_dataset import load_case, load_cases
from convsignal.store.engine import make_engine, session_scope
from convsignal.store.review_tables import ReviewDecision
from tests.integration.api_helpers import Keys, make_keys
from tests.integration.review_helpers import CASE_FILES, INJECTION, write_fixture

LLM = "fake/llm"


@pytest.fixture
def fixture_paths(tmp_path: Path) -> tuple[Path, Path]:
    return write_fixture(tmp_path / "eval")


@pytest.fixture
def keys(engine: Engine) -> Keys:
    return make_keys(engine)


@pytest.fixture
def client(engine: Engine, fixture_paths: tuple[Path, Path]) -> Iterator[TestClient]:
    report, cases_dir = fixture_paths
    app = create_app(Settings(database_url=str(engine.url)), engine=engine, workers=False)
    enable_review(app, report, cases_dir)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _decide(client: TestClient, keys: Keys, **body: Any) -> Any:
    payload = {"case_id": "case-alpha", "extractor": LLM, "reviewer": "Ada", **body}
    return client.post("/v1/review/decisions", json=payload, headers=keys.header("write"))


def _slots(case: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(d["kind"], d["label"], d["where"]) for d in case["disagreements"]]


def test_disagreements_per_case_for_the_llm_by_default(client: TestClient, keys: Keys) -> None:
    response = client.get("/v1/review/cases", headers=keys.header("read"))
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["report"]["extractor"] == LLM  # the LLM, not the keyword baseline
    assert data["report"]["case_count"] == 4
    by_id = {case["id"]: case for case in data["cases"]}
    # beta: the LLM agrees with gold; delta: its extraction failed (nothing to accept)
    assert sorted(by_id) == ["case-alpha", "case-gamma"]
    assert _slots(by_id["case-alpha"]) == [
        ("sentiment", "sentiment", "sentiment"),
        ("intents", "seeking_help", "model_only"),
        ("risk_flags", "budget_cuts", "side_mismatch"),
        ("risk_flags", "champion_leaving", "gold_only"),
        ("risk_flags", "evaluating_alternatives", "model_only"),
    ]
    alpha = {d["label"]: d for d in by_id["case-alpha"]["disagreements"]}
    assert alpha["sentiment"]["gold"] == [{"type": "negative", "speaker_role": None}]
    assert alpha["sentiment"]["model"] == [{"type": "escalating", "speaker_role": None}]
    assert alpha["budget_cuts"]["gold"] == [{"type": "budget_cuts", "speaker_role": "customer"}]
    assert alpha["budget_cuts"]["model"] == [{"type": "budget_cuts", "speaker_role": "vendor"}]
    assert alpha["budget_cuts"]["side"] == "vendor"
    assert alpha["champion_leaving"]["model"] == []
    assert alpha["champion_leaving"]["side"] == "customer"
    assert alpha["evaluating_alternatives"]["evidence"] == ["we are looking at other tools"]
    assert alpha["evaluating_alternatives"]["confidence"] == pytest.approx(0.65)
    assert all(d["decision"] is None for d in alpha.values())
    gamma = by_id["case-gamma"]
    assert _slots(gamma) == [("risk_flags", "service_reliability", "model_only")]
    assert gamma["turns"][0]["text"] == INJECTION  # data stays data; the page escapes it


def test_another_extractor_and_an_unknown_one(client: TestClient, keys: Keys) -> None:
    data = client.get("/v1/review/cases?extractor=lexicon", headers=keys.header("read")).json()
    by_id = {case["id"]: _slots(case) for case in data["cases"]}
    assert by_id == {
        "case-alpha": [
            ("risk_flags", "budget_cuts", "gold_only"),
            ("risk_flags", "champion_leaving", "gold_only"),
        ],
        "case-beta": [
            ("intents", "planning_to_renew", "gold_only"),
            ("expansion_signals", "additional_seats", "model_only"),
        ],
        "case-gamma": [("risk_flags", "product_frustration", "gold_only")],
    }
    response = client.get("/v1/review/cases?extractor=gpt-9", headers=keys.header("read"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.extractor"


def test_decisions_are_kept_with_reviewer_and_time_and_the_newest_wins(
    client: TestClient, keys: Keys, engine: Engine
) -> None:
    first = _decide(client, keys, kind="risk_flags", label="champion_leaving", decision="keep_gold")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["reviewer"] == "Ada"
    assert body["created_at"]
    assert body["labels"] == [{"type": "champion_leaving", "speaker_role": "customer"}]
    second = _decide(
        client,
        keys,
        kind="risk_flags",
        label="champion_leaving",
        decision="accept_model",
        reviewer="Grace",
    )
    assert second.status_code == 201
    assert second.json()["labels"] == []  # the model did not find it: accepting removes it

    cases = client.get("/v1/review/cases", headers=keys.header("read")).json()["cases"]
    alpha = {d["label"]: d for d in cases[0]["disagreements"]}
    in_force = alpha["champion_leaving"]["decision"]
    assert (in_force["decision"], in_force["reviewer"]) == ("accept_model", "Grace")

    trail = client.get("/v1/review/decisions?case_id=case-alpha", headers=keys.header("read"))
    assert [(d["reviewer"], d["decision"]) for d in trail.json()] == [
        ("Grace", "accept_model"),
        ("Ada", "keep_gold"),
    ]
    with session_scope(engine) as session:
        rows = session.exec(select(ReviewDecision)).all()
        assert len(rows) == 2  # append-only: the older decision is kept
        assert {row.api_key_id for row in rows} != {None}
        assert all(row.report == "signals-2026-11-26-000000.json" for row in rows)


def test_an_edit_takes_closed_enum_labels_only(client: TestClient, keys: Keys) -> None:
    edit = {"kind": "risk_flags", "label": "budget_cuts", "decision": "edit"}
    ok = _decide(
        client,
        keys,
        **edit,
        labels=[
            {"type": "downgrade_or_seat_reduction", "speaker_role": "customer"},
            {"type": "budget_cuts", "speaker_role": "customer"},
        ],
    )
    assert ok.status_code == 201, ok.text
    assert [label["type"] for label in ok.json()["labels"]] == [
        "downgrade_or_seat_reduction",
        "budget_cuts",
    ]
    cases: list[tuple[dict[str, Any], str]] = [
        ({**edit, "labels": [{"type": "pay_us_more"}]}, "body.labels[0].type"),
        ({**edit, "labels": [{"type": "planning_to_renew"}]}, "body.labels[0].type"),  # an intent
        (
            {**edit, "labels": [{"type": "budget_cuts", "speaker_role": "cfo"}]},
            "body.labels[0].speaker_role",
        ),
        (edit, "body.labels"),
        ({"kind": "risk_flags", "label": "nonexistent", "decision": "keep_gold"}, "body.label"),
        (
            {
                "kind": "sentiment",
                "label": "sentiment",
                "decision": "edit",
                "labels": [{"type": "angry"}],
            },
            "body.labels[0].type",
        ),
        ({"kind": "risk_flags", "label": "budget_cuts", "decision": "shrug"}, "body.decision"),
        ({**edit, "labels": [], "reviewer": "  "}, "body.reviewer"),
    ]
    for body, field in cases:
        response = _decide(client, keys, **body)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in response.json()["errors"]], (body, response.json())
    unknown = _decide(
        client, keys, case_id="case-zeta", kind="sentiment", label="sentiment", decision="keep_gold"
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "body.case_id"
    agreed = _decide(
        client,
        keys,
        case_id="case-beta",
        kind="intents",
        label="planning_to_renew",
        decision="keep_gold",
    )
    assert agreed.status_code == 422  # the LLM agrees with gold there: nothing to decide


def test_export_rewrites_gold_only_and_the_loader_still_loads(
    client: TestClient, keys: Keys, fixture_paths: tuple[Path, Path], engine: Engine
) -> None:
    _, cases_dir = fixture_paths
    decisions = [
        {
            "kind": "sentiment",
            "label": "sentiment",
            "decision": "edit",
            "labels": [{"type": "escalating"}],
        },
        {"kind": "risk_flags", "label": "champion_leaving", "decision": "keep_gold"},
        {"kind": "risk_flags", "label": "budget_cuts", "decision": "accept_model"},
        {"kind": "risk_flags", "label": "evaluating_alternatives", "decision": "keep_gold"},
        {"kind": "intents", "label": "seeking_help", "decision": "accept_model"},
        # the newest decision per slot wins: first keep gold, then accept the model
        {"kind": "risk_flags", "label": "evaluating_alternatives", "decision": "accept_model"},
    ]
    for body in decisions:
        assert _decide(client, keys, **body).status_code == 201
    gamma = _decide(
        client,
        keys,
        case_id="case-gamma",
        kind="risk_flags",
        label="service_reliability",
        decision="keep_gold",
    )
    assert gamma.status_code == 201

    response = client.post("/v1/review/export", headers=keys.header("write"))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["changed"] == ["case-alpha"]
    assert result["unchanged"] == ["case-gamma"]  # keeping gold changes nothing
    assert result["decisions_applied"] == 6
    assert result["audit_lines"] == 7

    alpha = load_case(cases_dir / "case-alpha.yaml").gold
    assert alpha.sentiment == "escalating"
    assert {(i.type, i.speaker_role) for i in alpha.risk_flags} == {
        ("budget_cuts", "vendor"),
        ("champion_leaving", "customer"),
        ("evaluating_alternatives", "customer"),
    }
    assert [(i.type, i.speaker_role) for i in alpha.intents] == [("seeking_help", "customer")]
    assert alpha.trajectory == "declining"
    assert alpha.rationale.startswith("Budget cut")
    assert [case.id for case in load_cases(cases_dir)] == sorted(CASE_FILES)

    text = (cases_dir / "case-alpha.yaml").read_text(encoding="utf-8")
    original = CASE_FILES["case-alpha"]
    head = original.split("gold:")[0]
    assert text.startswith(head)  # turns, comments, everything above gold: byte for byte
    assert "# the gold labels below were written by hand" in text
    assert "  trajectory: declining\n" in text
    assert "  expansion_signals: []\n" in text
    assert "  sentiment: escalating\n" in text
    for untouched in ("case-beta", "case-gamma", "case-delta"):
        assert (cases_dir / f"{untouched}.yaml").read_text(encoding="utf-8") == CASE_FILES[
            untouched
        ]

    audit = [
        json.loads(line) for line in (cases_dir.parent / "reviews.jsonl").read_text().splitlines()
    ]
    assert len(audit) == 7
    assert {entry["reviewer"] for entry in audit} == {"Ada"}
    assert all(entry["decided_at"] and entry["exported_at"] for entry in audit)
    superseded = [e for e in audit if e["label"] == "evaluating_alternatives"]
    assert [(e["decision"], e["applied"]) for e in superseded] == [
        ("keep_gold", False),
        ("accept_model", True),
    ]
    assert INJECTION not in json.dumps(audit)  # labels only

    with session_scope(engine) as session:  # the audit trail in the database: labels only
        rows = session.exec(select(ReviewDecision)).all()
        stored = json.dumps([row.model_dump(mode="json") for row in rows])
    for text in ("cut our software budget", "looking at other tools", "window.__pwned"):
        assert text not in stored

    again = client.post("/v1/review/export", headers=keys.header("write")).json()
    assert again["changed"] == []
    assert again["audit_lines"] == 0
    assert len((cases_dir.parent / "reviews.jsonl").read_text().splitlines()) == 7


def test_scopes_are_enforced(client: TestClient, keys: Keys) -> None:
    body = {
        "case_id": "case-alpha",
        "extractor": LLM,
        "kind": "sentiment",
        "label": "sentiment",
        "decision": "keep_gold",
        "reviewer": "Ada",
    }
    assert client.get("/v1/review/cases").status_code == 401
    assert client.get("/v1/review/decisions").status_code == 401
    assert client.post("/v1/review/decisions", json=body).status_code == 401
    read = keys.header("read")
    assert client.get("/v1/review/cases", headers=read).status_code == 200
    assert client.get("/v1/review/decisions", headers=read).status_code == 200
    assert client.post("/v1/review/decisions", json=body, headers=read).status_code == 403
    assert client.post("/v1/review/export", headers=read).status_code == 403
    assert (
        client.post("/v1/review/decisions", json=body, headers=keys.header("write")).status_code
        == 201
    )
    assert client.post("/v1/review/export", headers=keys.header("admin")).status_code == 200


def test_the_page_is_a_static_shell_with_a_strict_policy(client: TestClient) -> None:
    page = client.get("/review")  # no key needed: it carries no data
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "/review/static/review.js" in page.text
    assert "case-alpha" not in page.text
    script = client.get("/review/static/review.js")
    assert script.status_code == 200
    assert not any(sink in script.text for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML"))
    assert client.get("/review/static/review.css").status_code == 200


def test_a_server_without_a_report_reviews_nothing(engine: Engine, keys: Keys) -> None:
    app = create_app(Settings(database_url=str(engine.url)), engine=engine, workers=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/v1/review/cases", headers=keys.header("read"))
        assert response.status_code == 404
        assert "convsignal review" in response.json()["detail"]
        export = client.post("/v1/review/export", headers=keys.header("write"))
        assert export.status_code == 404


def test_the_command_serves_with_a_key_it_revokes_on_exit(
    sqlite_url: str, fixture_paths: tuple[Path, Path]
) -> None:
    """`convsignal review` for real: the URL carries a working key in its fragment; Ctrl-C
    stops the server and revokes the key."""
    report, cases_dir = fixture_paths
    command = [sys.executable, "-c", "from convsignal.cli import main; main()", "review"]
    command += ["--report", str(report)]
    command += ["--cases", str(cases_dir), "--port", "0", "--database-url", sqlite_url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the URL is printed before the server starts
        match = re.fullmatch(r"(http://127\.0\.0\.1:\d+)/review#key=(csk_\S+)\n", line)
        assert match, line
        base, secret = match.groups()
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(
                    f"{base}/v1/review/cases", headers={"Authorization": f"Bearer {secret}"}
                )
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline, "the review server did not start"
                time.sleep(0.2)
        assert response.status_code == 200
        assert [case["id"] for case in response.json()["cases"]] == ["case-alpha", "case-gamma"]
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=60)
    assert "revoked" in errors
    engine = make_engine(sqlite_url)
    try:
        with session_scope(engine) as session:
            assert authenticate(session, secret) is None  # revoked on exit
            assert len(list_api_keys(session, include_revoked=True)) == 1
    finally:
        engine.dispose()


def test_review_routes_never_fail_on_any_input(
    engine: Engine, keys: Keys, fixture_paths: tuple[Path, Path]
) -> None:
    """schemathesis over the review operations, with a report enabled (the API-wide run in
    test_api_schemathesis.py reaches them only in their 404 state): no 5xx, responses as
    the spec says."""
    from hypothesis import HealthCheck, given, settings
    from schemathesis import GenerationMode
    from schemathesis.checks import not_a_server_error
    from schemathesis.openapi import from_asgi
    from schemathesis.specs.openapi.checks import response_schema_conformance

    report, cases_dir = fixture_paths
    app = create_app(Settings(database_url=str(engine.url)), engine=engine, workers=False)
    enable_review(app, report, cases_dir)
    schema = from_asgi("/openapi.json", app)
    headers = keys.header("write")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/v1/review/"):
            continue
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=20,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def run(case: Any) -> None:
                checks = [not_a_server_error, response_schema_conformance]
                case.call_and_validate(headers=headers, checks=checks)

            try:
                run()
            except Exception as exc:
                if "Unsatisfiable" not in type(exc).__name__:
                    failures.append(f"{operation.label} [{mode.value}]: {exc}"[:2000])
    assert operations == 4
    assert failures == [], "\n\n".join(failures)
    load_cases(cases_dir)  # whatever was exported, the set still loads
