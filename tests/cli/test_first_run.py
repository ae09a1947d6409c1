"""What ``make run`` (``speechqa serve --samples examples``) gives a newcomer: sample calls with
agents, teams and start times, a key per role that signs in, and progress bars not drowned in
rq's job lines."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support import EXAMPLES, ROOT


@pytest.mark.slow
def test_serve_with_samples_prints_a_key_per_role_and_sends_who_and_when(tmp_path):
    samples = tmp_path / "samples"
    samples.mkdir()
    for name in ("billing_refund.wav", "billing_refund.json"):
        shutil.copy(EXAMPLES / name, samples / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEECHQA_")}
    env["SPEECHQA_DATA_DIR"] = str(tmp_path / "var")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "speechqa_service.cli.main", "serve", "--port", str(port), "--samples", str(samples),
         "--webhook-workers", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        assert server.stdout is not None
        deadline = time.monotonic() + 400
        while not any("More people:" in line for line in lines):
            assert time.monotonic() < deadline and server.poll() is None, "".join(lines)
            lines.append(server.stdout.readline())
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
    out = "".join(lines)
    keys = dict(re.findall(r"(\S+@example\.com|a-17)\s.*?(sqa_\S+)", out))
    assert set(keys) == {"lead@example.com", "coach@example.com", "reviewer@example.com", "a-17"}
    assert "Job OK" not in out and "result is kept" not in out, out
    # The keys sign in and see what their role sees (the service's data, read again here).
    server = subprocess.Popen([sys.executable, "-m", "speechqa_service.cli.main", "serve", "--port", str(port),
                               "--webhook-workers", "0"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.2)
        for who, count in (("lead@example.com", 1), ("reviewer@example.com", 1), ("a-17", 1)):
            r = httpx.get(f"{base}/v1/calls", headers={"Authorization": f"Bearer {keys[who]}"})
            assert r.status_code == 200 and len(r.json()["calls"]) == count, (who, r.text)
        call = httpx.get(
            f"{base}/v1/calls", headers={"Authorization": f"Bearer {keys['lead@example.com']}"}
        ).json()["calls"][0]
        assert (call["agent_id"], call["team"]) == ("a-17", "billing")
        started = datetime.fromisoformat(call["started_at"].replace("Z", "+00:00"))
        assert started.date() == (datetime.now(UTC) - timedelta(days=1)).date()
        assert started.strftime("%H:%M") == "09:14"
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
