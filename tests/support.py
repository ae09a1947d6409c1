"""What tests share besides fixtures: paths, required services, reference text, API helpers."""

from __future__ import annotations

import functools
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from speechqa.analysis import prepare
from speechqa.analysis.stored import save
from speechqa.apikeys import Scope, create_key
from speechqa.contracts import Interval, Transcript, Utterance, Word
from speechqa.settings import Settings
from speechqa.storage.database import session_scope
from speechqa.storage.tables import Agent, Call, CallStatus

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SHARED_AUDIO = Path(
    os.environ.get("SPEECHQA_TEST_SHARED_AUDIO", ROOT.parent / "shared" / "data" / "audio")
)
POSTGRES_URL = os.environ.get(
    "SPEECHQA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
EXTERNAL_REDIS_URL = os.environ.get("SPEECHQA_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(message + " (CI must provide it)")
    pytest.skip(message)


S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
"""What boto3 needs to talk to the test S3 server (moto accepts any key)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class S3Server:
    """moto's standalone S3 server, a real HTTP server speaking the S3 protocol, on 127.0.0.1."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> S3Server:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while not _reachable("127.0.0.1", self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"moto's S3 server did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    @functools.cached_property
    def client(self) -> Any:
        import boto3

        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip

    def new_bucket(self) -> str:
        name = f"speechqa-test-{uuid.uuid4().hex[:12]}"
        self.client.create_bucket(Bucket=name)
        return name


def stored_audio(settings: Settings) -> list[str]:
    """Every recording the settings' audio store holds, and any upload left in its spool folder."""
    from speechqa.storage.audio import S3AudioStore, audio_store

    store = audio_store(settings)
    spooled = [str(p) for p in store.spool_dir.parent.rglob("*") if p.is_file()]
    if not isinstance(store, S3AudioStore):
        return [str(p) for p in settings.audio_dir.rglob("*") if p.is_file()]
    if not any(b["Name"] == store.bucket for b in store.client.list_buckets()["Buckets"]):
        return spooled  # a test removed the bucket
    pages = store.client.get_paginator("list_objects_v2").paginate(
        Bucket=store.bucket, Prefix=store.prefix
    )
    return [o["Key"] for page in pages for o in page.get("Contents", [])] + spooled


def shared_audio(relative: str) -> Path:
    """A real recording from the shared data folder (beside the checkout, as in CI)."""
    path = SHARED_AUDIO / relative
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing: CI lays shared/ beside the checkout")
        pytest.skip(f"{path} is not present")
    return path


def reference(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}.json").read_text())
    return data


def reference_text(name: str, speaker: str) -> str:
    return " ".join(t["text"] for t in reference(name)["turns"] if t["speaker"] == speaker)


def key_for(settings: Settings, *scopes: Scope) -> dict[str, str]:
    """Authorization headers with a new API key holding ``scopes``."""
    with session_scope(settings) as session:
        key = create_key(session, list(scopes), name="test")
    return {"Authorization": f"Bearer {key}"}


def web_sign_in(http: Any, key: str, base: str = "", **form: str) -> Any:
    """``POST /login`` as the sign-in form does, with the form token its page handed out.

    ``http`` is a TestClient (``base`` empty) or httpx (``base`` the running app's address).
    The token's cookie is Secure, which httpx keeps only for https, so it is sent by hand; the
    answer's session cookie is :func:`session_token` of it.
    """
    page = http.get(base + "/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None, page.text
    return http.post(base + "/login", data={"key": key, "csrf": token.group(1), **form},
                     headers={"Cookie": f"speechqa_signin={token.group(1)}"},
                     follow_redirects=False)  # fmt: skip


def session_token(signed_in: Any) -> str:
    """The web session token a successful :func:`web_sign_in` set."""
    found = re.search(r"speechqa_session=([^;]+)", signed_in.headers.get("set-cookie", ""))
    assert found is not None, signed_in.headers
    return found.group(1)


def submit(
    client: Any,
    headers: dict[str, str],
    path: Path = EXAMPLES / "address_change.wav",
    meta: dict[str, Any] | str | None = None,
    content_type: str = "audio/wav",
    **kw: Any,
) -> Any:
    """POST a recording to /v1/calls as an upstream system would (multipart audio + metadata)."""
    meta = {"agent_id": "a-1", "external_id": path.stem} if meta is None else meta
    data = {"metadata": meta if isinstance(meta, str) else json.dumps(meta)}
    files = {"audio": (path.name, path.read_bytes() if path.exists() else b"", content_type)}
    return client.post("/v1/calls", headers=headers, files=files, data=data, **kw)


def work(settings: Settings) -> None:
    """Work the queue until it is empty, in this process, with the worker ``speechqa worker`` runs."""
    from workers.worker import build_worker

    build_worker(settings).work(burst=True, with_scheduler=False)


def reference_transcript(name: str) -> Transcript:
    """A sample call's reference turns as a transcript (words spread evenly over each turn)."""
    ref = reference(name)
    utterances = []
    speech: dict[str, list[Interval]] = {}
    for i, turn in enumerate(ref["turns"]):
        tokens = turn["text"].split()
        step = (turn["end"] - turn["start"]) / len(tokens)
        words = [
            Word(
                tok,
                round(turn["start"] + k * step, 3),
                round(turn["start"] + (k + 1) * step, 3),
                0.9,
            )
            for k, tok in enumerate(tokens)
        ]
        utterances.append(
            Utterance(i, turn["speaker"], turn["start"], turn["end"], turn["text"], words)
        )
        speech.setdefault(turn["speaker"], []).append(Interval(turn["start"], turn["end"]))
    return Transcript(
        duration_s=ref["duration_s"],
        source_channels=2,
        channels=ref["channels"],
        language="en",
        utterances=utterances,
        speech=speech,
    )


def store_call(
    session: Session,
    transcript: Transcript,
    *,
    agent_id: str = "a-1",
    team: str | None = None,
    ruleset: str | None = None,
    started_at: datetime | None = None,
) -> str:
    """A call as the worker leaves it after transcription (not yet scored), without audio."""
    if session.get(Agent, agent_id) is None:
        session.add(Agent(id=agent_id, team=team))
    call = Call(
        id=uuid.uuid4().hex, agent_id=agent_id, team=team, ruleset=ruleset, started_at=started_at,
        audio_path="-", audio_sha256="-", audio_bytes=0, status=CallStatus.DONE, tags=[], extra={},
    )  # fmt: skip
    session.add(call)
    session.flush()
    save(session, call, prepare(transcript), "reference")
    return call.id


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
"""Prometheus samples by (name, labels)."""


def metric_samples(exposition: str) -> Samples:
    """The samples of a ``/metrics`` answer."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }


def metric_value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 where it has not been counted yet."""
    return float(samples.get((name, frozenset(labels.items())), 0.0))
