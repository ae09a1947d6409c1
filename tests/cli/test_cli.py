"""The ``speechqa`` command as a user runs it: real processes, real files."""

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

from speechqa.pipeline.wer import wer
from tests.support import EXAMPLES, ROOT, reference_text


def speechqa(
    *args: str, env: dict[str, str], timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "speechqa_service.cli.main", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SPEECHQA_")}
    clean["SPEECHQA_DATA_DIR"] = str(tmp_path / "var")
    return clean


def test_apikey_create_prints_the_key_alone_on_the_last_line(env):
    result = speechqa("apikey", "create", "--scope", "review", "--name", "qa", env=env)
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip().splitlines()[-1]
    assert key.startswith("sqa_") and " " not in key


def test_apikey_create_rejects_an_unknown_scope(env):
    result = speechqa("apikey", "create", "--scope", "superuser", env=env)
    assert result.returncode == 1
    assert "Unknown scope 'superuser'" in result.stderr


@pytest.mark.slow
def test_analyze_prints_the_call_document_as_json(env):
    result = speechqa("analyze", str(EXAMPLES / "address_change.wav"), "--json", env=env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["channels"] == {"left": "agent", "right": "customer"}
    agent = " ".join(u["text"] for u in doc["utterances"] if u["speaker"] == "agent")
    assert wer(reference_text("address_change", "agent"), agent) < 0.45
    assert doc["utterances"][0]["words"]
    customer = " ".join(u["text"] for u in doc["utterances"] if u["speaker"] == "customer")
    assert "[DOB]" in customer and "1980" not in customer  # redacted as the worker does


@pytest.mark.slow
def test_analyze_with_swapped_channels_and_readable_output(env):
    result = speechqa(
        "analyze", str(EXAMPLES / "address_change.wav"), "--channels", "customer,agent", env=env
    )
    assert result.returncode == 0, result.stderr
    first_line = next(line for line in result.stdout.splitlines() if "customer" in line)
    assert "calling" in first_line.lower()


def test_analyze_a_file_that_is_not_audio(env, tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("meeting notes, not a recording\n" * 10)
    result = speechqa("analyze", str(path), env=env)
    assert result.returncode == 1
    assert "not a recording we can read" in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_runs_everything_on_one_machine_with_embedded_defaults(env):
    """``speechqa serve`` with nothing configured: SQLite, embedded Redis, API and a worker."""
    port = _free_port()
    data_dir = Path(env["SPEECHQA_DATA_DIR"])
    server = subprocess.Popen(
        [sys.executable, "-m", "speechqa_service.cli.main", "serve", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not become ready"
            time.sleep(0.2)
        key = speechqa("apikey", "create", "--scope", "admin", env=env).stdout.split()[-1]
        client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        path = EXAMPLES / "address_change.wav"
        r = client.post(
            "/v1/calls",
            files={"audio": (path.name, path.read_bytes(), "audio/wav")},
            data={"metadata": json.dumps({"agent_id": "lisa", "external_id": "serve-1"})},
        )
        assert r.status_code == 202, r.text
        status_url = r.json()["status_url"]
        deadline = time.monotonic() + 180
        while (status := client.get(status_url).json())["status"] not in ("done", "failed"):
            assert time.monotonic() < deadline, status
            time.sleep(0.3)
        assert status["status"] == "done", status
        doc = client.get(r.json()["call_url"]).json()
        customer = " ".join(u["text"] for u in doc["utterances"] if u["speaker"] == "customer")
        assert wer(reference_text("address_change", "customer"), customer) < 0.5
        assert (data_dir / "speechqa.db").is_file()
        assert (data_dir / "redis" / "redis.sock").exists()
        # Only the owner can read the data: folders 0700, files 0600.
        assert data_dir.stat().st_mode & 0o777 == 0o700
        for private in (data_dir / "speechqa.db", data_dir / "redis" / "redis.log"):
            assert private.stat().st_mode & 0o777 == 0o600, private
        assert all(p.stat().st_mode & 0o077 == 0 for p in (data_dir / "audio").rglob("*"))

        # A worker killed under serve is replaced, and readiness says so meanwhile.
        record = json.loads((data_dir / "serve.json").read_text())
        worker, webhook_worker = record["workers"]  # the analysis worker, then the webhook one
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while worker in json.loads((data_dir / "serve.json").read_text())["workers"]:
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.2)
        while httpx.get(f"{base}/readyz").status_code != 200:
            assert time.monotonic() < deadline, httpx.get(f"{base}/readyz").text
            time.sleep(0.2)
        children = [*json.loads((data_dir / "serve.json").read_text())["workers"], *record["redis"]]
        assert webhook_worker in children and len(children) == 3
    finally:
        server.send_signal(signal.SIGTERM)  # as systemd or docker stop it
        server.wait(60)
    # Stopping serve stops its worker and the embedded redis-server: no orphans.
    assert not _redis_alive(data_dir)
    assert all(not Path(f"/proc/{pid}").exists() for pid in children), children
    assert not (data_dir / "serve.json").exists()


def _redis_alive(data_dir: Path) -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        return bool(Redis(unix_socket_path=str(data_dir / "redis" / "redis.sock")).ping())
    except RedisError:
        return False


def test_a_users_time_zone_is_set_checked_and_listed(env):
    made = speechqa("user", "create", "rita", "--role", "reviewer", "--time-zone",
                    "Europe/Berlin", env=env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "times in Europe/Berlin" in made.stdout
    wrong = speechqa("user", "update", "rita", "--time-zone", "Europe/Berln", env=env)
    assert wrong.returncode != 0 and "not a time zone" in wrong.stdout + wrong.stderr
    changed = speechqa("user", "update", "rita", "--time-zone", "America/New_York", env=env)
    assert changed.returncode == 0 and "America/New_York" in changed.stdout
    listed = speechqa("user", "list", env=env)
    assert "America/New_York" in listed.stdout
