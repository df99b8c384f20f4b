"""Scrubbing speed: convsignal's scrubber vs vanilla Presidio vs spaCy NER alone.

    .venv/bin/python eval/pii/benchmark.py [--repeat 3] [--rounds 2] [--long]

One corpus (the bundled demo conversations and the PII evaluation snippets, repeated),
the three systems measured side by side in one run, best of `--rounds`, single-threaded
BLAS so that "per core" means one core. The machines are shared and noisy: read the
ratios, not the absolute numbers. Then the scrubber on a process pool with 1, 2 and 4
workers. `--long` also scrubs a 2-hour call and a 5 MB ticket thread and reports the
peak memory. Prints numbers only, never text.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from convsignal.config import Settings
from convsignal.domain import Channel, Conversation, Participant, Role, SourceLocator, Turn
from convsignal.ingest import IngestOptions, read_paths
from convsignal.scrub import Scrubber
from convsignal.scrub.baseline import VanillaPresidio, spacy_ner_only
from convsignal.scrub.parallel import scrub_in_processes

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "src" / "convsignal" / "demo" / "data" / "conversations"


def corpus(repeat: int) -> list[Conversation]:
    demo = [c for c in read_paths([DEMO], IngestOptions()) if isinstance(c, Conversation)]
    snippets = json.loads((ROOT / "eval" / "pii" / "dataset.json").read_text())["snippets"]
    people = [Participant("Pat Example", Role.CUSTOMER)]
    evals = [
        Conversation(s["id"], "eval", Channel(s["style"] if s["style"] != "call" else "call"),
                     datetime(2026, 1, 1, tzinfo=UTC), tuple(people),
                     tuple(Turn("Pat Example", line, Role.CUSTOMER)
                           for line in s["text"].split("\n") if line.strip()),
                     SourceLocator("eval", s["id"]))
        for s in snippets
    ]  # fmt: skip
    base = demo + evals
    return [replace(c, source_id=f"{c.source_id}-{r}") for r in range(repeat) for c in base]


def measure(run: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its finished children)."""
    before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    run()
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(
        a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime
        for a, b in zip(after, before, strict=True)
    )
    return wall, cpu


def main() -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")  # before numpy loads (with the first model)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--long", action="store_true")
    args = parser.parse_args()
    settings = Settings()
    model, allow = settings.spacy_model, settings.effective_allow_list
    conversations = corpus(args.repeat)
    texts = [t.text for c in conversations for t in c.turns]
    chars = sum(map(len, texts))
    print(f"corpus: {len(conversations)} conversations, {len(texts)} turns, {chars:,} chars")
    scrubber, vanilla = Scrubber(spacy_model=model, allow_list=allow), VanillaPresidio(model)
    systems: dict[str, Callable[[], object]] = {
        "spaCy NER alone": lambda: spacy_ner_only(model, texts),
        "convsignal scrubber": lambda: list(scrubber.scrub_many(conversations)),
        "vanilla Presidio": lambda: vanilla.find_pii(texts),
    }
    for run in systems.values():  # warm-up: models loaded, caches filled
        run() if run is not systems["vanilla Presidio"] else vanilla.find_pii(texts[:50])
    best: dict[str, tuple[float, float]] = {}
    for _ in range(args.rounds):
        for name, run in systems.items():
            wall, cpu = measure(run)
            old = best.get(name, (float("inf"), float("inf")))
            best[name] = (min(old[0], wall), min(old[1], cpu))
    floor_cpu = best["spaCy NER alone"][1]
    print(f"\n{'system':22} {'chars/s':>10} {'chars/CPU-s':>12} {'vs NER (CPU)':>13}")
    for name, (wall, cpu) in best.items():
        print(f"{name:22} {chars / wall:>10,.0f} {chars / cpu:>12,.0f} {floor_cpu / cpu:>12.0%}")
    scrub_cpu, vanilla_cpu = best["convsignal scrubber"][1], best["vanilla Presidio"][1]
    print(f"convsignal is {vanilla_cpu / scrub_cpu:.1f}x vanilla Presidio per core")

    print(f"\nprocess pool ({os.cpu_count()} CPUs on this machine)")
    one = None
    for processes in (1, 2, 4):
        wall, _ = measure(lambda n=processes: list(scrub_in_processes(
            conversations, spacy_model=model, allow_list=allow, processes=n, chunk_chars=40_000)))  # fmt: skip  # noqa: E501
        one = one or wall
        print(
            f"{processes} process(es): {chars / wall:>10,.0f} chars/s  speed-up {one / wall:.2f}x"
        )
    if args.long:
        long_inputs(scrubber)


def long_inputs(scrubber: Scrubber) -> None:
    line = "Thanks for the update, the export to the warehouse finished without errors today. "
    call = [Turn(f"Speaker {i % 2}", f"[{i}] {line * 1}", Role.CUSTOMER) for i in range(1_500)]
    thread = Turn("Customer", "\n".join(f"Reply {i}: {line}" for i in range(62_000)))
    for name, turns in (("2-hour call", tuple(call)), ("5 MB ticket thread", (thread,))):
        conversation = Conversation(name, "bench", Channel.TICKET, datetime(2026, 1, 1, tzinfo=UTC),
                                    (), turns, SourceLocator("bench", name))  # fmt: skip
        size = sum(len(t.text) for t in turns)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        wall, _ = measure(lambda c=conversation: scrubber.scrub(c))
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"{name}: {size / 1e6:.2f} MB in {wall:.1f} s; peak RSS {rss_after / 1024:.0f} MB "
              f"(+{(rss_after - rss_before) / 1024:.0f} MB)")  # fmt: skip


if __name__ == "__main__":
    main()
