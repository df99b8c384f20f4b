"""Scorer API under open-loop load: get-score and list, 10,000 accounts in PostgreSQL, one worker.

    .venv/bin/python eval/bench_api.py                      # 300 req/s, 20 s per endpoint
    .venv/bin/python eval/bench_api.py --rate 300 --seconds 20 --ramp 100,200,300,400

1. Seeds a fresh PostgreSQL schema (created here, dropped at the end) with eval/
   bench_scoring.py's generator: 10,000 accounts, their metrics, conversations and 200,000
   events (ids, numbers and labels; no text), then runs one score run and makes a read key.
2. Starts `convsignal serve --workers 1` as a subprocess on a free loopback port.
3. Drives it from another process with an OPEN-LOOP generator: requests are scheduled at a
   fixed arrival rate, whatever the server does, and each latency is measured from the
   request's *scheduled* send time, so a stalled server shows up as latency instead of
   silently slowing the generator (no coordinated omission). Keep-alive connections are
   opened as needed (up to --connections); a request waiting for one is still timed from
   its schedule.
   - get-score: GET /v1/accounts/{random account}/score
   - list: GET /v1/accounts?band={random band}&limit=50
4. Prints achieved throughput, p50/p95/p99/max and errors per endpoint, then a short ramp of
   rising rates (mixed endpoints) and the highest rate sustained (≥ 95% of the offered rate
   completed, no errors, p99 < 50 ms).

The goal (p99 < 50 ms at 300 req/s on one worker) is printed beside the result, never
asserted: the machines are shared; the generator and the server share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import bench_scoring

POSTGRES_URL = bench_scoring.POSTGRES_URL
GOAL_P99_MS = 50.0
GOAL_RATE = 300
KEEPALIVE_EXPIRY = 5.0  # seconds, httpx's default; `serve` keeps connections 75 s
BANDS = ["healthy", "attention", "at_risk", "critical"]


# ---------------------------------------------------------------- set-up


@contextmanager
def postgres_schema() -> Iterator[str]:
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from convsignal.store.engine import make_engine

    schema = f"bench_api_{uuid.uuid4().hex[:10]}"
    admin = make_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        raise SystemExit(
            f"eval/bench_api.py needs PostgreSQL: {type(exc.orig).__name__} at "
            f"{admin.url.render_as_string(hide_password=True)} "
            "(set CONVSIGNAL_TEST_POSTGRES_URL to another server)"
        ) from None
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seed(url: str, accounts: int, events: int) -> tuple[str, list[str]]:
    """Generate the store, run one score run, make a read key; (key, account ids)."""
    from convsignal.api.apikeys import create_api_key
    from convsignal.score.profile import load_profile
    from convsignal.score.service import recompute
    from convsignal.store.engine import make_engine, session_scope

    started = time.perf_counter()
    bench_scoring.generate(url, accounts, events, seed=7)
    generated = time.perf_counter() - started
    engine = make_engine(url)
    try:
        started = time.perf_counter()
        with session_scope(engine) as session:
            earlier = bench_scoring.AS_OF - timedelta(days=30)
            recompute(session, load_profile(), earlier)  # so trends and history exist
            summary = recompute(session, load_profile(), bench_scoring.AS_OF)
        scored = time.perf_counter() - started
        with session_scope(engine) as session:
            _, key = create_api_key(session, scope="read", name="bench")
        # As an operator would after a bulk load: without it, autovacuum wakes up on the
        # freshly inserted tables in the middle of the measurement.
        with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")
    finally:
        engine.dispose()
    print(
        f"seeded {accounts:,} accounts and {events:,} events in {generated:.0f} s; "
        f"two score runs in {scored:.0f} s ({summary.scored:,} scored)"
    )
    return key, [f"acct-{n:06d}" for n in range(accounts)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(url: str, port: int, workers: int) -> Iterator[subprocess.Popen[bytes]]:
    command = [
        str(Path(sys.executable).parent / "convsignal"), "serve", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--no-access-log",
        "--log-level", "warning", "--graceful-timeout", "5",
    ]  # fmt: skip
    env = {**os.environ, "CONVSIGNAL_DATABASE_URL": url}
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    try:
        _wait_ready(port, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"convsignal serve exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("convsignal serve did not become ready in 120 s")


# ---------------------------------------------------------------- the load generator


class Connection:
    """One keep-alive HTTP/1.1 connection speaking just enough of the protocol."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.last_used = time.perf_counter()

    def reusable(self, now: float) -> bool:
        """As an HTTP client's pool decides (httpx: keepalive_expiry=5 s, and a connection
        the server has closed is dropped): idle for less than KEEPALIVE_EXPIRY and not
        closed by the server. Without this, reusing a connection the server is closing
        counts as an error that no real client would see."""
        if now - self.last_used > KEEPALIVE_EXPIRY or self.reader.at_eof():
            self.writer.close()
            return False
        return not self.writer.is_closing()

    async def get(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status


async def open_loop(
    port: int, requests: list[bytes], rate: float, max_connections: int
) -> dict[str, Any]:
    """Send `requests` at `rate` per second on schedule; latencies from the schedule.

    Times are `time.perf_counter()` (uvloop's `loop.time()` ticks in whole milliseconds)."""
    idle: list[Connection] = []
    opened = 0
    slot = asyncio.Semaphore(max_connections)
    latencies: list[float] = []
    worst = [0.0, 0.0]  # the slowest request's latency and its scheduled send (s from start)
    errors: dict[str, int] = {}
    start = time.perf_counter() + 0.2

    def idle_connection() -> Connection | None:
        now = time.perf_counter()
        while idle:
            connection = idle.pop()
            if connection.reusable(now):
                return connection
        return None

    async def one(scheduled: float, request: bytes) -> None:
        nonlocal opened
        async with slot:
            connection = idle_connection()
            try:
                if connection is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    connection, opened = Connection(reader, writer), opened + 1
                status = await asyncio.wait_for(connection.get(request), timeout=30)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            connection.last_used = time.perf_counter()
            latencies.append(connection.last_used - scheduled)
            worst[:] = max(worst, [connection.last_used - scheduled, scheduled - start])
            if status != 200:
                errors[f"HTTP {status}"] = errors.get(f"HTTP {status}", 0) + 1
            idle.append(connection)

    tasks = []
    for index, request in enumerate(requests):
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, request)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    for connection in idle:
        connection.writer.close()
    return {
        "latencies": latencies,
        "errors": errors,
        "elapsed": elapsed,
        "sent": len(requests),
        "connections": opened,
        "worst_at_s": worst[1],
    }


def _generator_process(args: tuple[int, list[bytes], float, int], out: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    out.send(asyncio.run(open_loop(*args)))


def drive(port: int, requests: list[bytes], rate: float, max_connections: int) -> dict[str, Any]:
    """Run the generator in its own process (it must not share the server's interpreter)."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.Process(
        target=_generator_process, args=((port, requests, rate, max_connections), sender)
    )
    process.start()
    result: dict[str, Any] = receiver.recv()
    process.join()
    return result


def request_bytes(path: str, key: str, port: int) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {key}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc), to turn the server's CPU per
    request into the capacity of one dedicated core, which the shared machine cannot show."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def summarise(name: str, rate: float, result: dict[str, Any]) -> dict[str, Any]:
    latencies = sorted(result["latencies"])
    ok = len(latencies) - sum(v for k, v in result["errors"].items() if k.startswith("HTTP"))
    errors = sum(result["errors"].values())
    row = {
        "endpoint": name,
        "offered_rps": rate,
        "achieved_rps": ok / result["elapsed"] if result["elapsed"] else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p95_ms": percentile(latencies, 95) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": (latencies[-1] * 1000) if latencies else float("nan"),
        "errors": errors,
        "error_kinds": result["errors"],
        "requests": result["sent"],
        "connections": result["connections"],
        "worst_at_s": result["worst_at_s"],
    }
    print(
        f"  {name:10} offered {rate:6.0f}/s  achieved {row['achieved_rps']:7.1f}/s  "
        f"p50 {row['p50_ms']:7.1f} ms  p95 {row['p95_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms  "
        f"max {row['max_ms']:7.1f} ms (at {row['worst_at_s']:4.1f} s)  errors {errors}  "
        f"connections {result['connections']}",
        flush=True,
    )
    return row


def workload(kind: str, count: int, accounts: list[str], key: str, port: int) -> list[bytes]:
    rng = random.Random(count)
    out = []
    for index in range(count):
        chosen = kind if kind != "mixed" else ("get-score" if index % 2 else "list")
        if chosen == "get-score":
            path = f"/v1/accounts/{rng.choice(accounts)}/score"
        else:
            path = f"/v1/accounts?band={rng.choice(BANDS)}&limit=50"
        out.append(request_bytes(path, key, port))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rate", type=float, default=GOAL_RATE, help="requests per second")
    parser.add_argument("--seconds", type=float, default=20.0, help="per endpoint")
    parser.add_argument("--ramp", default="50,100,150,200,250,300,400", help="rates; empty: none")
    parser.add_argument("--ramp-seconds", type=float, default=6.0)
    parser.add_argument("--connections", type=int, default=256, help="most open at once")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    results: dict[str, Any] = {"endpoints": [], "ramp": []}
    with postgres_schema() as url:
        key, accounts = seed(url, args.accounts, args.events)
        port = free_port()
        with server(url, port, args.workers) as process:
            warm = workload("mixed", 300, accounts, key, port)
            drive(port, warm, 100, args.connections)  # connections, caches, JIT-less warm-up
            print(
                f"\nopen loop at {args.rate:.0f} req/s for {args.seconds:.0f} s per endpoint, "
                f"{args.workers} worker(s):"
            )
            count = int(args.rate * args.seconds)
            for name in ("get-score", "list"):
                requests = workload(name, count, accounts, key, port)
                cpu = cpu_seconds(process.pid)
                row = summarise(name, args.rate, drive(port, requests, args.rate, args.connections))
                per_request = (cpu_seconds(process.pid) - cpu) / max(count, 1) * 1000
                row["server_cpu_ms_per_request"] = per_request
                print(f"  {'':10} server CPU {per_request:.2f} ms/request: one dedicated core "
                      f"would serve about {1000 / per_request:.0f} req/s")  # fmt: skip
                results["endpoints"].append(row)
            rates = [float(r) for r in args.ramp.split(",") if r.strip()]
            if rates:
                print(f"\nramp (mixed get-score/list, {args.ramp_seconds:.0f} s per step):")
            sustained = 0.0
            for rate in rates:
                requests = workload("mixed", int(rate * args.ramp_seconds), accounts, key, port)
                row = summarise("mixed", rate, drive(port, requests, rate, args.connections))
                results["ramp"].append(row)
                held = (
                    row["achieved_rps"] >= 0.95 * rate
                    and row["errors"] == 0
                    and row["p99_ms"] < GOAL_P99_MS
                )
                if not held:
                    break
                sustained = rate
    results["max_sustained_rps"] = sustained
    print(f"\nhighest rate sustained (≥ 95% done, no errors, p99 < {GOAL_P99_MS:.0f} ms): "
          f"{sustained:.0f} req/s")  # fmt: skip
    for row in results["endpoints"]:
        met = "met" if row["p99_ms"] < GOAL_P99_MS and row["errors"] == 0 else "NOT met"
        print(f"goal p99 < {GOAL_P99_MS:.0f} ms at {args.rate:.0f} req/s, {row['endpoint']}: {met}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
