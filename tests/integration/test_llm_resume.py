"""kill -9 during an LLM run, then resume: the same final rows as a clean run, in one process
and with the LLM calls sharded over worker processes (whose workers must not outlive it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from convsignal.store.engine import make_engine
from convsignal.testing import FakeLLMServer, FaultKind, FaultRule, signals_answer
from tests.integration.llm_helpers import write_keyed

FILES = 40


def _extract(url: str, folder: Path, base_url: str, processes: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CONVSIGNAL_DATABASE_URL": url,
        "CONVSIGNAL_LLM_BASE_URL": base_url,
        "CONVSIGNAL_LLM_CONCURRENCY": "4",
        "CONVSIGNAL_LLM_PROCESSES": str(processes),
        "ANTHROPIC_API_KEY": "test-key",
    }
    command = "from convsignal.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", command, "extract", str(folder),
         "--extractor", "anthropic/claude-sonnet-4-test"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _rows(url: str) -> tuple[int, set[tuple[str, str, str, str]]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            extractions = connection.execute(
                text("SELECT count(*) FROM conversation_extractions")
            ).scalar_one()
            events = connection.execute(
                text(
                    "SELECT c.content_hash, e.kind, e.signal_type, e.speaker_role "
                    "FROM signal_events e JOIN conversations c ON c.id = e.conversation_id"
                )
            ).all()
    finally:
        engine.dispose()
    rows = {tuple(str(v) for v in row) for row in events}
    assert len(rows) == len(events), "an event was stored twice"
    return int(extractions), rows  # type: ignore[return-value]


def _extracted(url: str) -> int:
    try:
        return _rows(url)[0]
    except Exception:  # not migrated yet
        return 0


def _children(pid: int) -> set[int]:
    """The live processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:  # gone meanwhile
            continue
        fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
        if fields.get("PPid", "").strip() == str(pid) and not fields["State"].startswith("Z"):
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def test_kill_then_resume_equals_a_clean_run(tmp_path: Path, database_url: str) -> None:
    _kill_then_resume(tmp_path, database_url, processes=1)


@pytest.mark.postgres
def test_kill_then_resume_with_worker_processes(tmp_path: Path, postgres_url: str) -> None:
    """Sharding does not touch the store, so one database is enough here."""
    _kill_then_resume(tmp_path, postgres_url, processes=2)


def _kill_then_resume(tmp_path: Path, database_url: str, *, processes: int) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    keys = write_keyed(exports, FILES)
    answers = {key: signals_answer("negative", risk_flags=["budget_cuts"]) for key in keys[::2]}
    clean_url = f"sqlite:///{tmp_path / 'clean.db'}"
    slow = [FaultRule(FaultKind.SLOW, delay_ms=150)]
    with FakeLLMServer(answers=answers, faults=slow) as server:
        killed = _extract(database_url, exports, server.base_url, processes)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and killed.poll() is None:
            if _extracted(database_url) >= 5:
                break
            time.sleep(0.05)
        workers = _children(killed.pid) if sys.platform == "linux" else set()
        if processes > 1 and sys.platform == "linux":
            assert len(workers) >= processes, "the LLM worker processes were not running"
        killed.send_signal(signal.SIGKILL)
        killed.communicate()
        at_kill = _extracted(database_url)
        assert 0 < at_kill < FILES, "kill landed outside the run; adjust FILES or the delay"
        # a worker sees its parent's pipe close, finishes what it holds, and exits
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "a worker process outlived its parent"

        resumed = _extract(database_url, exports, server.base_url, processes)
        output, _ = resumed.communicate(timeout=300)
        assert resumed.returncode == 0, output.decode(errors="replace")
        assert f"{at_kill} skipped" in output.decode(errors="replace")

        clean = _extract(clean_url, exports, server.base_url, 1)
        output, _ = clean.communicate(timeout=300)
        assert clean.returncode == 0, output.decode(errors="replace")

    resumed_count, resumed_rows = _rows(database_url)
    clean_count, clean_rows = _rows(clean_url)
    assert resumed_count == clean_count == FILES
    assert resumed_rows == clean_rows
