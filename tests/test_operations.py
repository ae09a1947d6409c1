"""Operations end to end, on real processes: ``speechqa serve`` with two API processes and a
worker writing metrics to one multiprocess folder, scraped before and after a call is analysed,
and JSON log lines from all of them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support import EXAMPLES, ROOT, Samples, metric_samples, metric_value

pytestmark = pytest.mark.slow  # it runs the speech model on a call


def scrape(base: str) -> Samples:
    r = httpx.get(f"{base}/metrics")
    assert r.status_code == 200
    return metric_samples(r.text)


def wait(check, what: str, limit_s: float = 180):
    deadline = time.monotonic() + limit_s
    while not (result := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.3)
    return result


def test_metrics_and_logs_follow_a_call_through_serve(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPEECHQA_", "PROMETHEUS"))}
    env["SPEECHQA_DATA_DIR"] = str(tmp_path / "var")
    env["SPEECHQA_LOG_FORMAT"] = "json"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "speechqa_service.cli.main", "serve", "--port", str(port), "--api-processes", "2"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log_file,
        )  # fmt: skip
    try:

        def ready() -> bool:
            try:
                return httpx.get(f"{base}/readyz").status_code == 200
            except httpx.TransportError:
                return False

        wait(ready, "serve did not become ready", 90)
        out = subprocess.run([sys.executable, "-m", "speechqa_service.cli.main", "apikey", "create", "--scope", "ingest"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert out.returncode == 0, out.stderr
        http = httpx.Client(base_url=base, timeout=60,
                            headers={"Authorization": f"Bearer {out.stdout.split()[-1]}"})  # fmt: skip

        before = scrape(base)
        path = EXAMPLES / "address_change.wav"
        meta = {"agent_id": "ann", "external_id": "ops-1",
                "channels": json.loads(path.with_suffix(".json").read_text())["channels"]}  # fmt: skip
        r = http.post("/v1/calls", files={"audio": (path.name, path.read_bytes(), "audio/wav")},
                      data={"metadata": json.dumps(meta)}, headers={"X-Request-ID": "ops-upload"})  # fmt: skip
        assert r.status_code == 202, r.text
        assert r.headers["X-Request-ID"] == "ops-upload"
        call_id = r.json()["id"]
        status = wait(lambda: (s := http.get(f"/v1/calls/{call_id}/status").json())["status"]
                      in ("done", "failed") and s, "analysis")  # fmt: skip
        assert status["status"] == "done", status
        duration = json.loads(path.with_suffix(".json").read_text())["duration_s"]
        after = scrape(base)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)

    def moved(name: str, **labels: str) -> float:
        return metric_value(after, name, **labels) - metric_value(before, name, **labels)

    # Job metrics come from the worker process, request counts from both API processes.
    assert moved("speechqa_job_duration_seconds_count", function="analyze_call") == 1
    assert moved("speechqa_job_failures_total", function="analyze_call") == 0
    assert moved("speechqa_audio_transcribed_seconds_total") == pytest.approx(duration, abs=0.5)
    assert moved("speechqa_calls", status="done") == 1
    assert moved("speechqa_audio_analysed_seconds") == pytest.approx(duration, abs=0.5)
    assert (
        moved("speechqa_http_requests_total", method="POST", route="/v1/calls", status="202") == 1
    )
    polls = metric_value(after, "speechqa_http_requests_total", method="GET",
                  route="/v1/calls/{call_id}/status", status="200")  # fmt: skip
    assert polls >= 2
    assert metric_value(after, "speechqa_workers", queue="speechqa") == 1
    assert metric_value(after, "speechqa_jobs_running", function="analyze_call") == 0

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    upload = [line for line in lines if line.get("request_id") == "ops-upload"]
    assert [
        (u["logger"], u["route"], u["status"]) for u in upload if u["logger"] == "api.requests"
    ] == [("api.requests", "/v1/calls", 202)]
    jobs = [line for line in lines if line.get("function") == "analyze_call" and "outcome" in line]
    assert [(j["subject"], j["outcome"]) for j in jobs] == [(call_id, "finished")]
