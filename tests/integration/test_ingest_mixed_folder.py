"""`convsignal ingest` on a folder mixing every export format, as a user would run it:
accounts mapped, sides set, broken files dead-lettered, unmapped conversations listed by
id and kept, a re-run adds nothing, and fixing the map resolves the unmapped letters."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from convsignal.cli import app
from convsignal.store.engine import make_engine, session_scope
from convsignal.store.tables import Account, ConversationRecord, DeadLetter

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ingest"
FOLDERS = ("gong", "gong_merged", "zoom", "teams", "srt", "otter", "email", "zendesk",
           "zendesk_export", "intercom", "freshdesk", "csv")  # fmt: skip
runner = CliRunner()


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    for name in FOLDERS:
        shutil.copytree(FIXTURES / name, folder / name)
    (folder / "empty.eml").write_bytes(b"")
    (folder / "scan.pdf").write_bytes(b"%PDF-1.4 binary")
    return folder


def ingest(folder: Path, database_url: str, account_map: Path) -> str:
    result = runner.invoke(
        app,
        ["ingest", str(folder), "--internal-domain", "brightmetrics.io",
         "--account-map", str(account_map), "--database-url", database_url],
    )  # fmt: skip
    assert result.exit_code == 1, result.output  # some items failed: said by the exit code
    return result.output


def test_mixed_folder_end_to_end(mixed: Path, database_url: str, tmp_path: Path) -> None:
    output = ingest(mixed, database_url, FIXTURES / "maps" / "account-map.yaml")
    assert "15 processed" in output
    assert "3 conversation(s) map to no account" in output
    for unmapped_id in ("newsletter-77@news.example-saas.com", "ticket 4602", "line 5"):
        assert unmapped_id in output
    assert "Five tips" not in output
    assert "API rate limits" not in output

    engine = make_engine(database_url)
    try:
        with session_scope(engine) as session:
            records = session.exec(select(ConversationRecord)).all()
            letters = session.exec(select(DeadLetter)).all()
            accounts = {a.id for a in session.exec(select(Account)).all()}
        assert len(records) == 15
        assert {"northwind-logistics", "kestrel-media", "ferrox-payments",
                "copperline-outfitters", "juniper-mobility"} <= accounts  # fmt: skip
        stages = sorted(letter.stage for letter in letters)
        assert stages == ["ingest"] * 4 + ["unmapped"] * 3
        unmapped = [letter for letter in letters if letter.stage == "unmapped"]
        assert all(letter.content_hash for letter in unmapped)

        again = ingest(mixed, database_url, FIXTURES / "maps" / "account-map.yaml")
        assert "0 processed, 15 skipped" in again

        fixed_map = tmp_path / "fixed.yaml"
        fixed_map.write_text(
            (FIXTURES / "maps" / "account-map.yaml").read_text()
            + "  example-saas:\n    domains: [example-saas.com]\n"
            + "  juniper-mobility:\n    domains: [junipermobility.com]\n"
        )
        fixed = ingest(mixed, database_url, fixed_map)
        assert "2 processed" in fixed
        assert "1 conversation(s) map to no account" in fixed  # ticket 4602 still unknown
        with session_scope(engine) as session:
            open_unmapped = session.exec(
                select(DeadLetter).where(
                    DeadLetter.stage == "unmapped", col(DeadLetter.resolved_at).is_(None)
                )
            ).all()
        assert {letter.source_record for letter in open_unmapped} == {"line 3 (ticket 4602)"}
    finally:
        engine.dispose()


def test_formats_command_lists_every_format_with_an_example() -> None:
    result = runner.invoke(app, ["formats"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    for name in ("gong", "zoom-vtt", "teams-vtt", "srt", "otter", "plaintext", "email",
                 "zendesk", "intercom", "freshdesk", "csv"):  # fmt: skip
        assert name in result.output
    assert "GMT20261002-150000_Recording.transcript.vtt" in result.output
    assert "--account-map" in result.output


def test_bad_account_map_is_one_line_naming_file_and_line(mixed: Path, tmp_path: Path) -> None:
    bad = tmp_path / "map.csv"
    bad.write_text("account_id,domains\na,acme.com\nb,acme.com\n")
    result = subprocess.run(
        [sys.executable, "-c", "from convsignal.cli import main; main()", "ingest", str(mixed),
         "--account-map", str(bad), "--database-url", f"sqlite:///{tmp_path / 'x.db'}"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "COLUMNS": "500"},
    )  # fmt: skip
    assert result.returncode == 2
    assert f"{bad}:line 3" in result.stderr
    assert "mapped to two accounts" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
