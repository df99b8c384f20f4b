"""`convsignal eval run` end to end: real scrubber, lexicon and an LLM extractor (real SDK and
instructor against the shipped fake LLM server), report files, gates and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from convsignal.cli import app
from convsignal.cli.eval_signals import DEFAULT_CASES
from convsignal.evaluation.signal_dataset import load_cases
from convsignal.testing import FakeLLMServer, FaultKind, FaultRule, signals_answer

runner = CliRunner()
LLM = "anthropic/claude-sonnet-4-test"  # priced by the table's anthropic/claude-sonnet-4 row

PEOPLE = [
    {"name": "Dana Whitfield", "email": "dana@acme-pay.example", "role": "customer"},
    {"name": "Sam Ortiz", "email": "sam@vendor.example", "role": "vendor"},
]
# (id, tags, customer's lines, gold). The key line lets the fake model answer per case; it is
# no PII, so it survives scrubbing.
CASES: list[tuple[str, list[str], list[str], dict[str, Any]]] = [
    (
        "budget-001",
        [],
        ["Our budget was cut this quarter, Sam.", "We have to talk about the contract."],
        {
            "sentiment": "negative",
            "risk_flags": [{"type": "budget_cuts"}],
            "rationale": "Dana Whitfield says the budget was cut; Sam listens.",
        },
    ),
    (
        "renew-002",
        ["negation"],
        ["We are not looking at other vendors.", "We will renew for another year."],
        {"sentiment": "positive", "intents": [{"type": "planning_to_renew"}]},
    ),
    (
        "chat-003",
        ["low_signal"],
        ["Thanks, talk next week."],
        {"sentiment": "neutral"},
    ),
]


@pytest.fixture
def cases_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "cases"
    folder.mkdir()
    for ident, tags, lines, gold in CASES:
        turns = [{"speaker": "Sam Ortiz", "text": f"Hi Dana. conversation-key: {ident}"}]
        turns += [{"speaker": "Dana Whitfield", "text": line} for line in lines]
        case = {
            "id": ident,
            "channel": "call",
            "industry": "fintech",
            "occurred_at": "2026-03-02T15:00:00Z",
            "tags": tags,
            "participants": PEOPLE,
            "turns": turns,
            "gold": gold,
        }
        (folder / f"{ident}.yaml").write_text(yaml.safe_dump(case, sort_keys=False))
    return folder


def gold_answers() -> dict[str, dict[str, Any]]:
    """The fake model answers the gold labels; for budget-001 it quotes a participant's name
    in the evidence (a leak the re-scan has to catch)."""
    answers = {}
    for ident, _, _, gold in CASES:
        answers[ident] = signals_answer(
            gold["sentiment"],
            intents=[item["type"] for item in gold.get("intents", [])],
            risk_flags=[item["type"] for item in gold.get("risk_flags", [])],
            evidence=(
                "Dana Whitfield says the budget was cut"
                if ident == "budget-001"
                else "<CUSTOMER_1> said so"
            ),
        )
    return answers


def report(out: Path) -> dict[str, Any]:
    (path,) = out.glob("signals-*.json")
    assert path.with_suffix(".html").is_file()
    return dict(json.loads(path.read_text()))


def test_lexicon_run_writes_the_report_and_a_failing_gate_exits_1(
    cases_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    result = runner.invoke(
        app,
        [
            "eval", "run", "--cases", str(cases_dir), "--out", str(out),
            "--min", "risk_flags.micro_f1=0.2", "--min", "sentiment.accuracy=1.01",
        ],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "gate failed" in result.output
    assert "lexicon: sentiment.accuracy" in result.output  # the failing one is named …
    assert "< 1.01" in result.output
    assert "risk_flags.micro_f1" not in result.output.split("gate failed")[1]  # … alone
    assert "not an LLM" in result.output
    data = report(out)
    assert data["case_count"] == 3
    (lexicon,) = data["extractors"]
    assert (lexicon["name"], lexicon["is_llm"]) == ("lexicon", False)
    budget = next(c for c in data["cases"] if c["id"] == "budget-001")
    said = budget["predictions"]["lexicon"]
    assert [(i["kind"], i["type"]) for i in said["items"]] == [("risk_flags", "budget_cuts")]
    assert lexicon["metrics"]["risk_flags"]["per_label"]["budget_cuts"]["f1"] == 1.0
    assert lexicon["metrics"]["tags"]["negation"]["cases"] == 1
    # the review data is scrubbed: placeholders, no participant names anywhere in the JSON
    assert budget["turns"][0]["speaker"] == "<VENDOR_1>"
    assert (
        budget["gold"]["rationale"] == "<CUSTOMER_1> says the budget was cut; <VENDOR_1> listens."
    )
    text = json.dumps(data)
    for name in ("Dana", "Whitfield", "Ortiz", "dana@acme-pay.example"):
        assert name not in text
    html = next(out.glob("signals-*.html")).read_text()
    assert "budget-001" in html
    assert "Our budget was cut" not in html


def test_unknown_metric_or_tag_is_a_usage_error_listing_what_is_valid(cases_dir: Path) -> None:
    result = runner.invoke(
        app, ["eval", "run", "--cases", str(cases_dir), "--min", "risk_flags.f1=0.5"]
    )
    assert result.exit_code == 2
    assert "unknown metric 'risk_flags.f1'" in result.output
    assert "risk_flags.micro_f1" in result.output
    assert "sentiment.macro_f1" in result.output
    bad = runner.invoke(app, ["eval", "run", "--cases", str(cases_dir), "--min", "exact_match"])
    assert bad.exit_code == 2
    assert "METRIC=NUMBER" in bad.output
    tag = runner.invoke(app, ["eval", "run", "--cases", str(cases_dir), "--tag", "sarcastic"])
    assert tag.exit_code == 2
    assert "sarcasm" in tag.output


def test_default_cases_are_the_checkouts_labelled_set() -> None:
    assert DEFAULT_CASES.parts[-3:] == ("eval", "signals", "cases")
    assert load_cases(DEFAULT_CASES)  # readable from any working directory


def test_llm_side_by_side_with_the_lexicon_against_the_fake_server(
    cases_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    with FakeLLMServer(answers=gold_answers()) as server:
        result = runner.invoke(
            app,
            [
                "eval", "run", "--cases", str(cases_dir), "--out", str(out),
                "--extractor", "lexicon", "--extractor", LLM, "--base-url", server.base_url,
                "--max", "pii.leaks_after_rescan=0",
            ],
            env={"ANTHROPIC_API_KEY": "test-key"},
        )  # fmt: skip
        answered = [r for r in server.requests if r.status == 200]
    assert result.exit_code == 0, result.output
    assert "1 gate(s) passed" in result.output
    assert len(answered) == 3
    data = report(out)
    assert [e["name"] for e in data["extractors"]] == ["lexicon", LLM]
    llm = data["extractors"][1]
    assert llm["is_llm"] is True
    metrics = llm["metrics"]
    for path in ("exact_match", "sentiment.accuracy", "sentiment.macro_f1", "sentiment.kappa"):
        section, _, key = path.rpartition(".")
        assert (metrics[section] if section else metrics)[key] == 1.0, path
    for kind in ("intents", "risk_flags", "risk_flags_with_side"):
        assert metrics[kind]["micro_f1"] == 1.0
        assert metrics[kind]["macro_f1"] == 1.0
    assert metrics["errors"] == 0
    assert metrics["cost"]["requests"] == 3
    assert metrics["cost"]["input_tokens"] > 0
    assert metrics["cost"]["output_tokens"] > 0
    assert metrics["cost"]["usd"] > 0
    assert metrics["latency"]["p95_seconds"] > 0
    # the name in the evidence is counted, the re-scan redacts it, nothing leaks into storage
    pii = metrics["pii"]
    assert pii["leaks_in_output"] == 1
    assert pii["rescan_redactions"] >= 1
    assert pii["leaks_after_rescan"] == 0
    budget = next(c for c in data["cases"] if c["id"] == "budget-001")
    said = budget["predictions"][LLM]
    assert said["pii"]["found"] == ["output:full_name:p1"]
    assert "Whitfield" not in said["items"][0]["evidence"]
    assert said["fully_right"] is True
    # the lexicon's numbers sit beside it, computed on the same cases
    assert data["extractors"][0]["metrics"]["cost"]["usd"] == 0.0
    assert data["extractors"][0]["metrics"]["cases"] == 3


def test_a_case_the_model_keeps_failing_is_an_error_with_its_tokens_counted(
    cases_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "reports"
    always_invalid = FaultRule(FaultKind.SCHEMA_VIOLATION, keys={"chat-003"})
    with FakeLLMServer(answers=gold_answers(), faults=[always_invalid]) as server:
        result = runner.invoke(
            app,
            [
                "eval", "run", "--cases", str(cases_dir), "--out", str(out),
                "--extractor", LLM, "--base-url", server.base_url, "--max", "errors=0",
            ],
            env={"ANTHROPIC_API_KEY": "test-key", "CONVSIGNAL_LLM_VALIDATION_RETRIES": "1"},
        )  # fmt: skip
        calls_for_bad = [r for r in server.requests if r.key == "chat-003"]
    assert len(calls_for_bad) == 2  # the first answer and one validation re-ask
    assert result.exit_code == 1, result.output
    assert f"{LLM}: errors = 1 > 0" in result.output
    data = report(out)
    metrics = data["extractors"][0]["metrics"]
    assert metrics["errors"] == 1
    failed = next(c for c in data["cases"] if c["id"] == "chat-003")["predictions"][LLM]
    assert failed["error"]
    assert failed["sentiment"] is None
    assert failed["tokens"]["input"] > 0  # the tokens of a failed case are billed too
    assert failed["cost_usd"] > 0
    assert "never matched the response schema" in failed["error"]
    assert metrics["sentiment"]["accuracy"] == pytest.approx(0.6667)
