"""Backing services going away under the API: clients get answers they can act on.

A PostgreSQL server of the test's own (never the machine's) is stopped and started again while
the API runs: uploads in between get a 503 to retry, never a 202 for a call that was not stored.
The same holds for an S3 server that stops, or a bucket that is not there.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from speechqa.apikeys import Scope
from speechqa.settings import Settings
from speechqa.storage.database import dispose_engines, session_scope
from speechqa.storage.tables import Call
from speechqa_service.app import create_app
from tests.support import EXAMPLES, IN_CI, S3Server, key_for, stored_audio, submit

SAMPLE = EXAMPLES / "address_change.wav"


def test_an_unexpected_error_is_a_500_that_closes_the_connection(settings):
    app = create_app(settings)

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/v1/boom", boom, include_in_schema=False)

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/v1/boom")
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error" and "a bug" not in r.text
    assert r.headers["connection"] == "close"


class OwnPostgres:
    """A throwaway PostgreSQL cluster in a temporary folder, run as the postgres user."""

    def __init__(self, folder: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found or shutil.which("runuser") is None:
            message = "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
            if IN_CI:
                pytest.fail(message)
            pytest.skip(message)
        self.bin = Path(found[-1]).parent
        self.folder = folder
        self.data = folder / "cluster"
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True,
                       capture_output=True, timeout=120)  # fmt: skip

    def init(self) -> OwnPostgres:
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.chown(self.folder, "postgres")
        os.chmod(self.folder, 0o700)
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust",
                          "-U", "postgres", "--no-sync")  # fmt: skip
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
                          "-l", str(self.folder / "log"), "-w", "start")  # fmt: skip

    def stop(self) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                          "stop")  # fmt: skip


@pytest.fixture
def own_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnPostgres]:
    folder = Path("/tmp") / f"speechqa-pg-{os.getpid()}-{tmp_path_factory.getbasetemp().name}"
    server = OwnPostgres(folder).init()
    server.start()
    try:
        yield server
    finally:
        dispose_engines()
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def test_a_database_restart_during_ingest_gets_503_then_recovers(
    own_postgres, embedded_redis, tmp_path
):
    settings = Settings(data_dir=tmp_path / "data", database_url=own_postgres.url,
                        redis_url=embedded_redis)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        admin = key_for(settings, Scope.ADMIN)
        first = submit(client, admin, SAMPLE, meta={"agent_id": "a", "external_id": "before"})
        assert first.status_code == 202, first.text

        own_postgres.stop()
        during = submit(client, admin, SAMPLE, meta={"agent_id": "a", "external_id": "during"})
        assert during.status_code == 503, during.text
        assert during.json()["error"]["code"] == "service_unavailable"
        assert "retry-after" in during.headers
        stored = [p for p in settings.audio_dir.rglob("*") if p.is_file()]
        assert len(stored) == 1  # only the first call's audio

        own_postgres.start()
        after = submit(client, admin, SAMPLE, meta={"agent_id": "a", "external_id": "after"})
        assert after.status_code == 202, after.text
        listed = client.get("/v1/calls", headers=admin).json()["calls"]
        assert sorted(c["external_id"] for c in listed) == ["after", "before"]


@pytest.mark.parametrize("outage", ["no bucket", "server stopped"])
def test_an_audio_store_that_cannot_be_written_gets_503_and_keeps_nothing(
    s3_server, embedded_redis, tmp_path, outage
):
    """No call row, no spooled upload: the client retries and nothing is half stored."""
    own = S3Server(tmp_path / "own-s3.log").start() if outage == "server stopped" else s3_server
    store = f"s3://{own.new_bucket() if outage == 'server stopped' else 'not-a-bucket'}/audio"
    settings = Settings(data_dir=tmp_path / "data", redis_url=embedded_redis, audio_store=store,
                        s3_endpoint_url=own.url)  # fmt: skip
    try:
        with TestClient(create_app(settings)) as client:
            admin = key_for(settings, Scope.ADMIN)
            if outage == "server stopped":
                first = submit(client, admin, SAMPLE, meta={"agent_id": "a", "external_id": "1"})
                assert first.status_code == 202, first.text
                own.stop()
            r = submit(client, admin, SAMPLE, meta={"agent_id": "a", "external_id": "2"})
            assert r.status_code == 503, r.text
            assert r.json()["error"]["code"] == "storage_unavailable"
            assert r.headers["retry-after"] == "5"
            with session_scope(settings) as session:
                assert [c.external_id for c in session.query(Call)] == (
                    ["1"] if outage == "server stopped" else []
                )
            assert [p for p in (tmp_path / "data").rglob("*.part")] == []
            if outage == "server stopped":  # nor can the recording be listened to until it is back
                cid = first.json()["id"]
                listen = client.get(f"/v1/calls/{cid}/audio", headers=admin)
                assert listen.status_code == 503 and listen.headers["retry-after"] == "5"
            else:
                assert stored_audio(settings) == []
    finally:
        if own is not s3_server:
            own.stop()
        dispose_engines()
