"""Benchmark: the API under concurrent uploads and reads, on SQLite and on PostgreSQL.

Starts ``speechqa serve --workers 0`` (the API alone) on a loopback port with an empty data
folder, then, from this process:

1. 50 concurrent uploads of the sample calls (every one must be accepted);
2. 2,000 reads (call documents and the call list, alternating) at 10 and at 50 concurrent
   clients, with p50 / p99 / max latency and the errors;
3. the same number of ``/healthz`` requests at the same concurrency as the baseline: what the
   server and this client cost without the database.

Everything is bounded (a fixed number of requests, a timeout on each) and goes to 127.0.0.1 only.

    python -m bench.load                                                    # SQLite, embedded Redis
    python -m bench.load --database-url postgresql://postgres@127.0.0.1:5432/bench \\
                         --redis-url redis://127.0.0.1:6379/14
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.common import ROOT

EXAMPLES = ROOT / "examples"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(client: httpx.Client, method: str, url: str, **kw: object) -> tuple[float, int]:
    t0 = time.perf_counter()
    try:
        status = client.request(method, url, **kw).status_code  # type: ignore[arg-type]
    except httpx.HTTPError:
        status = 0
    return (time.perf_counter() - t0) * 1000, status


def run(
    base: str, headers: dict[str, str], concurrency: int, requests: list[tuple[str, str]]
) -> tuple[list[float], int]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    with (
        httpx.Client(base_url=base, headers=headers, timeout=30, limits=limits) as client,
        ThreadPoolExecutor(concurrency) as pool,
    ):
        results = list(pool.map(lambda r: timed(client, r[0], r[1]), requests))
    latencies = [ms for ms, _ in results]
    errors = sum(1 for _, status in results if status != 200)
    return latencies, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--api-processes", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPEECHQA_")}
        env["SPEECHQA_DATA_DIR"] = str(Path(tmp) / "var")
        if args.database_url:
            env["SPEECHQA_DATABASE_URL"] = args.database_url
            _reset_postgres(args.database_url)
        if args.redis_url:
            env["SPEECHQA_REDIS_URL"] = args.redis_url
            _flush_redis(args.redis_url)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "speechqa_service.cli.main",
                "serve",
                "--workers",
                "0",
                "--port",
                str(port),
                "--api-processes",
                str(args.api_processes),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_up(base)
            key = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "speechqa_service.cli.main",
                    "apikey",
                    "create",
                    "--scope",
                    "admin",
                ],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()[-1]
            headers = {"Authorization": f"Bearer {key}"}
            backend = "PostgreSQL" if args.database_url else "SQLite"
            print(
                f"{backend}, the API alone in {args.api_processes} process(es) "
                f"(speechqa serve --workers 0 --api-processes {args.api_processes}), 127.0.0.1"
            )

            samples = sorted(EXAMPLES.glob("*.wav"))
            bodies = [(p.name, p.read_bytes()) for p in samples]

            def upload(i: int) -> tuple[float, int]:
                name, data = bodies[i % len(bodies)]
                meta = {"agent_id": f"load-agent-{i % 3}", "external_id": f"load-{i}"}
                with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
                    return timed(
                        client,
                        "POST",
                        "/v1/calls",
                        files={"audio": (name, data, "audio/wav")},
                        data={"metadata": json.dumps(meta)},
                    )

            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.uploads) as pool:
                uploads = list(pool.map(upload, range(args.uploads)))
            wall = time.perf_counter() - t0
            accepted = sum(1 for _, s in uploads if s == 202)
            ms = [m for m, _ in uploads]
            print(
                f"  {args.uploads} concurrent uploads: {accepted} accepted, "
                f"{args.uploads - accepted} errors, p50 {percentile(ms, 0.5):.0f} ms, "
                f"max {max(ms):.0f} ms, all done in {wall:.1f} s"
            )

            listed = httpx.get(f"{base}/v1/calls?limit=200", headers=headers).json()["calls"]
            ids = [c["id"] for c in listed]
            reads = [
                ("GET", f"/v1/calls/{ids[i % len(ids)]}")
                if i % 2
                else ("GET", "/v1/calls?limit=20")
                for i in range(args.reads)
            ]
            for concurrency in (10, 50):
                base_ms, base_err = run(base, {}, concurrency, [("GET", "/healthz")] * args.reads)
                read_ms, read_err = run(base, headers, concurrency, reads)
                print(
                    f"  {args.reads} reads at {concurrency:>2} clients: "
                    f"p50 {percentile(read_ms, 0.5):6.1f} ms  "
                    f"p99 {percentile(read_ms, 0.99):6.1f} ms  "
                    f"max {max(read_ms):6.1f} ms  errors {read_err}   "
                    f"(/healthz baseline: p50 {percentile(base_ms, 0.5):5.1f} ms  "
                    f"p99 {percentile(base_ms, 0.99):5.1f} ms, errors {base_err}; "
                    f"read p50 = {statistics.median(read_ms) / statistics.median(base_ms):.1f}x)"
                )
        finally:
            server.terminate()
            server.wait(60)
    return 0


def _wait_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("the service did not start")


def _reset_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def _flush_redis(url: str) -> None:
    from redis import Redis

    Redis.from_url(url).flushdb()


if __name__ == "__main__":
    sys.exit(main())
