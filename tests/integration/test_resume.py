"""A run killed with SIGKILL resumes: nothing lost, nothing doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from convsignal.store.engine import make_engine
from convsignal.store.tables import ConversationExtraction, ConversationRecord, SignalEventRecord
from tests.integration.helpers import write_transcript

FILES = 60


def _count(url: str, table: type) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(table)).scalar_one())
    finally:
        engine.dispose()


def _ingest(url: str, folder: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CONVSIGNAL_DATABASE_URL": url}
    return subprocess.Popen(
        [sys.executable, "-c", "from convsignal.cli import main; main()", "ingest", str(folder)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def test_sigkill_mid_run_then_rerun(tmp_path: Path, database_url: str) -> None:
    exports = tmp_path / "exports"
    exports.mkdir()
    for index in range(FILES):
        write_transcript(
            exports,
            f"call-{index:03d}",
            occurred_at=f"2026-10-{1 + index % 28:02d}T10:00:00Z",
            lines=[
                "Sam Patel: How are things going this quarter?",
                f"Dana Whitfield: Ticket {index} is still open and our budget was cut.",
                "Dana Whitfield: We are evaluating Mixpanel, honestly.",
            ],
        )
    process = _ingest(database_url, exports)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            done = _count(database_url, ConversationExtraction)
        except Exception:  # tables not created yet
            done = 0
        if done >= 5:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    killed_at = _count(database_url, ConversationExtraction)
    assert killed_at < FILES, "the run finished before it could be killed; raise FILES"

    rerun = _ingest(database_url, exports)
    output, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, output.decode(errors="replace")
    assert _count(database_url, ConversationRecord) == FILES
    assert _count(database_url, ConversationExtraction) == FILES
    events = _count(database_url, SignalEventRecord)
    # every conversation says the same kinds of thing: same number of events each
    assert events % FILES == 0
    assert events > 0
