"""Many machines, nothing shared but PostgreSQL, Redis and an S3 bucket.

The API and two analysis workers run as separate ``speechqa`` processes, each with its own empty
data folder, as on three machines: calls submitted over HTTP are analysed by either worker and
listened to through the API, and no recording ever lands in a data folder.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from redis import Redis
from rq import Worker
from sqlalchemy import text

from speechqa.apikeys import Scope
from speechqa.settings import Settings
from speechqa.storage.database import dispose_engines, get_engine, migrate
from speechqa.storage.tables import Base
from tests.support import (
    EXAMPLES,
    EXTERNAL_REDIS_URL,
    S3Server,
    free_port,
    key_for,
    require_service,
    stored_audio,
)

pytestmark = pytest.mark.slow  # two workers run the real ASR model

SAMPLES = sorted(EXAMPLES.glob("*.wav"))


def digest(data: bytes) -> str:
    """Compared instead of the bytes: a failing comparison of two recordings would take ages
    to print."""
    return hashlib.sha256(data).hexdigest()


AUDIO_SUFFIXES = {".wav", ".mp3", ".ogg", ".opus", ".flac", ".m4a", ".part"}


class Machine:
    """One ``speechqa`` process with its own data folder and log file."""

    def __init__(self, name: str, root: Path, env: dict[str, str], *args: str) -> None:
        self.name = name
        self.url = ""
        self.data_dir = root / name / "data"
        self.data_dir.mkdir(parents=True)
        self.log = root / name / "log.txt"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "speechqa_service.cli.main", *args],
                env={**env, "SPEECHQA_DATA_DIR": str(self.data_dir)},
                cwd=root / name,  # no .env of the checkout is read
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def check_running(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(f"{self.name} exited: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def audio_files(self) -> list[Path]:
        return [p for p in self.data_dir.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES]


@pytest.fixture
def shared_services(postgres_url: str, s3_server: S3Server, tmp_path: Path) -> Iterator[Settings]:
    """The three shared services, empty; the settings the test itself uses to make a key."""
    require_service("Redis", "127.0.0.1", 6379)
    settings = Settings(
        data_dir=tmp_path / "test-process",
        database_url=postgres_url,
        redis_url=EXTERNAL_REDIS_URL,
        audio_store=f"s3://{s3_server.new_bucket()}/speechqa",
        s3_endpoint_url=s3_server.url,
    )
    migrate(settings)
    with get_engine(settings).begin() as conn:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    Redis.from_url(EXTERNAL_REDIS_URL).flushdb()
    yield settings
    Redis.from_url(EXTERNAL_REDIS_URL).flushdb()
    dispose_engines()


@pytest.fixture
def machines(shared_services: Settings, tmp_path: Path) -> Iterator[dict[str, Machine]]:
    s = shared_services
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEECHQA_")}
    env.update({
        "SPEECHQA_DATABASE_URL": str(s.database_url),
        "SPEECHQA_REDIS_URL": str(s.redis_url),
        "SPEECHQA_AUDIO_STORE": s.audio_store,
        "SPEECHQA_S3_ENDPOINT_URL": str(s.s3_endpoint_url),
        "SPEECHQA_ASR_THREADS": "1",  # two workers on a small CI machine
    })  # fmt: skip
    port = free_port()
    api_only = ["serve", "--port", str(port), "--workers", "0", "--webhook-workers", "0"]
    started = {
        "api": Machine("api", tmp_path, env, *api_only),
        "worker-1": Machine("worker-1", tmp_path, env, "worker"),
        "worker-2": Machine("worker-2", tmp_path, env, "worker"),
    }
    started["api"].url = f"http://127.0.0.1:{port}"
    try:
        yield started
    finally:
        for machine in started.values():
            machine.stop()


def _wait(what: str, check, machines: dict[str, Machine], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        for machine in machines.values():
            machine.check_running()
        if time.monotonic() > deadline:
            logs = {name: m.log.read_text()[-1500:] for name, m in machines.items()}
            pytest.fail(f"timed out waiting for {what}: {logs}")
        time.sleep(0.5)


def test_calls_are_analysed_by_either_worker_with_nothing_shared_but_the_services(
    shared_services, machines
):
    api = machines["api"]
    url = api.url
    redis = Redis.from_url(EXTERNAL_REDIS_URL)

    def up() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    _wait("the API", up, machines, 60)
    _wait("both workers", lambda: len(Worker.all(connection=redis)) == 2, machines, 60)
    admin = key_for(shared_services, Scope.ADMIN)

    ids = []
    with httpx.Client(base_url=url, headers=admin, timeout=30) as client:
        for sample in SAMPLES:
            r = client.post(
                "/v1/calls",
                files={"audio": (sample.name, sample.read_bytes(), "audio/wav")},
                data={"metadata": f'{{"agent_id": "a-1", "external_id": "{sample.stem}"}}'},
            )
            assert r.status_code == 202, r.text
            ids.append(r.json()["id"])

        def all_done() -> bool:
            answers = [client.get(f"/v1/calls/{i}/status").json() for i in ids]
            states = [a.get("status") for a in answers]
            assert None not in states, answers
            assert "failed" not in states, states
            return all(s == "done" for s in states)

        _wait("the calls to be analysed", all_done, machines, 480)

        redacted: set[str] = set()
        for cid, sample in zip(ids, SAMPLES, strict=True):
            doc = client.get(f"/v1/calls/{cid}").json()
            words = " ".join(u["text"] for u in doc["utterances"]).split()
            assert len(words) > 20, doc["utterances"]
            assert 0 <= doc["score"]["value"] <= 100, doc["score"]
            audio = client.get(f"/v1/calls/{cid}/audio")
            assert audio.status_code == 200
            if audio.headers["content-type"] == "audio/flac":  # personal data silenced
                redacted.add(sample.stem)
                served = audio.content
            else:
                served = sample.read_bytes()
                assert digest(audio.content) == digest(served)
            part = client.get(f"/v1/calls/{cid}/audio", headers={"Range": "bytes=44-1043"})
            assert part.status_code == 206 and digest(part.content) == digest(served[44:1044])

    # Either worker took calls: each logged the analyses it ran, and together they ran all.
    by_worker = {
        name: {
            cid for cid in ids if f"analyze_call({cid}) finished" in machines[name].log.read_text()
        }
        for name in ("worker-1", "worker-2")
    }
    assert all(by_worker.values()), by_worker
    assert set().union(*by_worker.values()) == set(ids)
    # The recordings are in the bucket only: no data folder holds one, not even a temporary copy.
    stored = stored_audio(shared_services)
    assert "card_payment" in redacted  # its customer reads out a card number
    assert len(stored) == len(SAMPLES) + len(redacted), stored
    assert {name: m.audio_files() for name, m in machines.items()} == {n: [] for n in machines}
