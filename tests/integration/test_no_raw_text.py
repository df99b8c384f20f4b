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
