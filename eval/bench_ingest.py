"""Ingest throughput and peak memory on generated exports (parse only: no scrub, no store).

    .venv/bin/python eval/bench_ingest.py                 # 100 MB mbox + 10,000 Gong calls
    .venv/bin/python eval/bench_ingest.py --mbox-mb 20 --gong-calls 2000   # quicker

Generates into a temporary folder: a Gmail-Takeout-style mbox of threaded customer emails
(every reply quotes the whole thread; a third of the messages are HTML with a plain-text
part) and a Gong export as the API pages it (100 calls per /v2/calls/transcript and
/v2/calls/extensive page). Each export is then read by `read_paths` in a fresh child
process, which reports wall time and its peak resident memory (VmHWM), next to the
resident memory after imports, so the reading's own share is visible. The machines are
shared: read the numbers as an order of magnitude, not a threshold.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

VENDOR = "brightmetrics.io"
CUSTOMERS = [f"customer{n:03d}.example" for n in range(200)]
WORDS = [
    "renewal",
    "seats",
    "dashboard",
    "export",
    "budget",
    "pilot",
    "rollout",
    "invoice",
    "team",
    "quarter",
    "forecast",
    "module",
    "adoption",
    "latency",
    "report",
    "integration",
    "contract",
    "training",
    "onboarding",
    "admin",
    "usage",
    "trend",
    "pricing",
    "discount",
    "champion",
    "escalation",
    "roadmap",
    "feature",
    "request",
]


def sentence(rng: random.Random) -> str:
    words = rng.choices(WORDS, k=rng.randint(6, 16))
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))


def generate_mbox(path: Path, megabytes: int, rng: random.Random) -> int:
    """Threads of 2-6 messages until the file reaches `megabytes`; returns messages written."""
    target = megabytes * 1024 * 1024
    written = messages = thread = 0
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    with path.open("wb") as out:
        while written < target:
            thread += 1
            domain = CUSTOMERS[thread % len(CUSTOMERS)]
            people = [(f"Customer {thread}", f"c{thread}@{domain}"), ("Sam Patel", f"sam@{VENDOR}")]
            history: list[str] = []
            ids: list[str] = []
            sent = start + timedelta(minutes=thread * 7)
            for index in range(rng.randint(2, 6)):
                name, address = people[index % 2]
                body = "Hi,\n\n" + "\n\n".join(paragraph(rng) for _ in range(rng.randint(1, 3)))
                quoted = "\n".join("> " + line for old in history for line in old.splitlines())
                header = f"On {format_datetime(sent)} someone wrote:"
                text = body + ("\n\n" + header + "\n" + quoted if quoted else "")
                message = EmailMessage()
                message["From"] = f"{name} <{address}>"
                message["To"] = ", ".join(f"{n} <{a}>" for n, a in people if a != address)
                message["Subject"] = ("Re: " if index else "") + f"Thread {thread}"
                message["Date"] = format_datetime(sent)
                message["Message-ID"] = f"<t{thread}.m{index}@{domain}>"
                message["X-GM-THRID"] = str(1780000000000000000 + thread)
                if ids:
                    message["In-Reply-To"] = ids[-1]
                    message["References"] = " ".join(ids)
                message.set_content(text)
                if index % 3 == 1:
                    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
                    message.add_alternative(
                        f"<html><body>{paragraphs}<div class='gmail_quote'>{header}"
                        f"<blockquote>{quoted}</blockquote></div></body></html>",
                        subtype="html",
                    )
                data = bytes(message).replace(b"\nFrom ", b"\n>From ")
                envelope = f"From {1780000000000000000 + thread}@xxx {sent:%a %b %d %H:%M:%S %Y}\n"
                out.write(envelope.encode() + data + b"\n")
                written += len(envelope) + len(data) + 1
                messages += 1
                history.append(body)
                ids.append(message["Message-ID"])
                sent += timedelta(hours=rng.randint(1, 30))
    return messages


def generate_gong(folder: Path, calls: int, rng: random.Random) -> int:
    """API-shaped pages of 100 calls; returns the number of monologues written."""
    folder.mkdir(parents=True, exist_ok=True)
    monologues = 0
    start = datetime(2026, 1, 5, 15, tzinfo=UTC)
    for page in range(0, calls, 100):
        extensive, transcripts = [], []
        for number in range(page, min(page + 100, calls)):
            call_id = str(7782342274000000000 + number)
            domain = CUSTOMERS[number % len(CUSTOMERS)]
            parties = [
                {"id": f"p{number}a", "speakerId": f"{number}1", "name": "Sam Patel",
                 "emailAddress": f"sam@{VENDOR}", "affiliation": "Internal"},
                {"id": f"p{number}b", "speakerId": f"{number}2", "name": f"Customer {number}",
                 "emailAddress": f"c{number}@{domain}", "title": "VP Ops",
                 "affiliation": "External"},
            ]  # fmt: skip
            duration = rng.randint(900, 3600)
            extensive.append({
                "metaData": {"id": call_id, "title": f"Call {number}", "duration": duration,
                             "started": (start + timedelta(hours=number)).isoformat()},
                "parties": parties,
                "context": [{"system": "Salesforce", "objects": [
                    {"objectType": "Account", "objectId": f"0015g{number % 200:013d}",
                     "fields": [{"name": "Name", "value": domain}]}]}],
            })  # fmt: skip
            offset, monologue = 0, []
            for turn in range(rng.randint(30, 50)):
                sentences = []
                for _ in range(rng.randint(1, 4)):
                    length = rng.randint(2000, 9000)
                    sentences.append({"start": offset, "end": offset + length,
                                      "text": sentence(rng)})  # fmt: skip
                    offset += length + 300
                monologue.append({"speakerId": f"{number}{1 + turn % 2}", "topic": "Discussion",
                                  "sentences": sentences})  # fmt: skip
            monologues += len(monologue)
            transcripts.append({"callId": call_id, "transcript": monologue})
        records = {"totalRecords": calls, "currentPageSize": len(extensive)}
        (folder / f"calls-extensive-{page // 100:04d}.json").write_text(
            json.dumps({"requestId": f"r{page}", "records": records, "calls": extensive})
        )
        (folder / f"transcripts-{page // 100:04d}.json").write_text(
            json.dumps(
                {"requestId": f"t{page}", "records": records, "callTranscripts": transcripts}
            )
        )
    return monologues


def _rss_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(path: str) -> None:
    """Child process: read everything, print one JSON line."""
    from convsignal.errors import IngestError
    from convsignal.ingest import AccountMap, IngestOptions, read_paths

    accounts = AccountMap(accounts=dict.fromkeys(CUSTOMERS), by_domain={d: d for d in CUSTOMERS})
    options = IngestOptions(internal_domains=(VENDOR,), account_map=accounts)
    baseline = _rss_mb("VmRSS")
    started = time.perf_counter()
    conversations = turns = errors = 0
    for item in read_paths([Path(path)], options):
        if isinstance(item, IngestError):
            errors += 1
        else:
            conversations += 1
            turns += len(item.turns)
    seconds = time.perf_counter() - started
    print(json.dumps({"conversations": conversations, "turns": turns, "errors": errors,
                      "seconds": seconds, "baseline_mb": baseline,
                      "peak_mb": _rss_mb("VmHWM")}))  # fmt: skip


def run_child(path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--measure", str(path)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def size_mb(path: Path) -> float:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files) / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mbox-mb", type=int, default=100)
    parser.add_argument("--gong-calls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as folder:
        mbox = Path(folder) / "takeout.mbox"
        gong = Path(folder) / "gong"
        started = time.perf_counter()
        written = generate_mbox(mbox, args.mbox_mb, rng)
        monologues = generate_gong(gong, args.gong_calls, rng)
        print(f"generated in {time.perf_counter() - started:.0f}s: mbox {size_mb(mbox):.0f} MB "
              f"({written} messages), Gong {size_mb(gong):.0f} MB ({args.gong_calls} calls, "
              f"{monologues} monologues)")  # fmt: skip
        header = f"{'export':<8}{'MB':>6}{'convs':>8}{'msgs':>9}{'s':>8}{'msgs/s':>9}"
        print(header + f"{'MB/s':>7}{'RSS base':>10}{'RSS peak':>10}{'errors':>8}")
        for name, path in (("mbox", mbox), ("gong", gong)):
            result = run_child(path)
            seconds = result["seconds"]
            print(f"{name:<8}{size_mb(path):>6.0f}{result['conversations']:>8.0f}"
                  f"{result['turns']:>9.0f}{seconds:>8.1f}{result['turns'] / seconds:>9.0f}"
                  f"{size_mb(path) / seconds:>7.1f}{result['baseline_mb']:>9.0f}M"
                  f"{result['peak_mb']:>9.0f}M{result['errors']:>8.0f}")  # fmt: skip
        print("msgs = email messages with new text / Gong turns (a speaker's consecutive "
              "monologues); RSS in MB for the reading child process")  # fmt: skip


if __name__ == "__main__":
    main()
