"""What tests share besides fixtures: paths, required services, reference text, API helpers,
the rulesets and transcripts several tests read, webhook and worker helpers, commits the database
refuses, live servers and the browser's sign-in. A test module imports from here, never from
another test module."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from speechqa_service.workers.redis_server import connect
from speechqa_service.workers.webhooks import build_webhook_worker, dispatch_due
from sqlalchemy import text
from sqlalchemy.orm import Session

from speechqa.analysis import prepare
from speechqa.analysis.stored import save
from speechqa.apikeys import Scope, create_key
from speechqa.calls import repository
from speechqa.contracts import Interval, Transcript, Utterance, Word
from speechqa.scoring import score_calls
from speechqa.settings import Settings
from speechqa.storage.database import get_engine, session_scope
from speechqa.storage.tables import Agent, Call, CallStatus
from speechqa.users import create_user
from speechqa.webhooks import endpoints, outbox
from speechqa_service.app import create_app

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
    from speechqa_service.workers.worker import build_worker

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


# -- rulesets and transcripts written for the tests -------------------------------------------

RULESET = """\
name: billing
hotwords: [Acme Telecom]
rules:
  - id: greeting
    speaker: agent
    window: {first: 30}
    match: '"thank you for calling"'
  - id: complaint
    speaker: customer
    match: '"charged twice" OR "not happy"'
  - id: empathy
    speaker: agent
    match: '"sorry to hear" OR understand'
  - id: rude
    speaker: agent
    match: stupid OR idiot
  - id: closing
    speaker: agent
    window: {last: 30}
    match: goodbye OR "great day"
script:
  steps: [greeting, empathy, closing]
scorecard:
  sections:
    - name: Opening
      items:
        - {rule: greeting, points: 10}
    - name: Handling
      items:
        - {rule: empathy, points: 10, when: complaint, within: 30}
    - name: Compliance
      items:
        - {rule: rude, expect: absent, points: 10, critical: true}
        - {rule: closing, points: 10}
"""


def utt(i: int, speaker: str, start: float, text: str, *, step: float = 0.4) -> Utterance:
    words = [Word(w, round(start + k * step, 3), round(start + (k + 1) * step - 0.05, 3), 0.9)
             for k, w in enumerate(text.split())]  # fmt: skip
    return Utterance(i, speaker, words[0].start, words[-1].end, text, words)


SCRIPTED_CALL = [
    utt(0, "agent", 1.0, "Thank you for calling Acme, my name is Sarah."),
    utt(1, "customer", 5.0, "Hi, I was charged twice and I want to cancel my subscription."),
    utt(2, "agent", 11.0, "I'm sorry to hear that. Can I have your account number please?"),
    utt(3, "customer", 16.0, "It is 4 5 6 7 and the price is really high for me."),
    utt(
        4,
        "agent",
        22.0,
        "I have cancelled the duplicate charge and issued a refund of forty dollars.",
    ),
    utt(5, "customer", 28.0, "That's great. I don't cancel then."),
    utt(6, "agent", 32.0, "Is there anything else? Have a great day, goodbye."),
]


def heard(i: int, speaker: str, start: float, words: list[tuple[str, float]]) -> Utterance:
    ws = [Word(w, round(start + k * 0.4, 2), round(start + k * 0.4 + 0.35, 2), p)
          for k, (w, p) in enumerate(words)]  # fmt: skip
    return Utterance(i, speaker, ws[0].start, ws[-1].end, " ".join(w for w, _ in words), ws)


# billing_refund's agent as tiny.en heard it: the lines that decide its resolution and closing
REFUND_CALL = [
    heard(0, "agent", 0.4, [("Thank", 0.19), ("you", 0.93), ("for", 0.98), ("calling.", 0.99)]),
    heard(1, "agent", 19.4, [("Can", 0.94), ("I", 0.93), ("have", 0.79), ("your", 0.98),
                             ("account?", 0.92)]),
    heard(2, "agent", 43.1, [("Yes,", 0.45), ("I", 0.96), ("can", 0.89), ("wish", 0.29),
                             ("you", 0.98), ("no", 0.28), ("reason.", 0.73)]),
    heard(3, "agent", 54.8, [("Is", 0.9), ("there", 0.9), ("anything", 0.95), ("else", 1.0)]),
]  # fmt: skip


# -- webhooks -----------------------------------------------------------------------------------


def register_webhook(settings, events, url="https://example.com/hook") -> int:
    with session_scope(settings) as session:
        view, _ = endpoints.register(session, url, events, None, "test")
    return view.id


EVENT_DATA = {"call_id": "c-1", "external_id": "pbx-1", "status": "done", "score": 87.5}


def emit_event(settings, event="call.analyzed", data=EVENT_DATA):
    with session_scope(settings) as session:
        outbox.emit(session, event, data)


def delivery_log(client, admin, endpoint_id, **params):
    r = client.get(f"/v1/webhooks/{endpoint_id}/deliveries", headers=admin, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def deliver_webhooks(settings: Settings) -> int:
    """Dispatch what is due and work the webhook queue until it is empty; how many were sent."""
    worker = build_webhook_worker(settings)
    queued: int = dispatch_due(settings, worker.connection)
    worker.work(burst=True, with_scheduler=False)
    return queued


def deliver_webhooks_until(
    settings: Settings, done: Callable[[], bool], limit_s: float = 30
) -> None:
    """Send each attempt as soon as it is due, until ``done()``."""
    connection = connect(settings)
    deadline = time.monotonic() + limit_s
    while not done():
        assert time.monotonic() < deadline, "deliveries did not finish in time"
        if dispatch_due(settings, connection):
            build_webhook_worker(settings).work(burst=True, with_scheduler=False)
        else:
            time.sleep(0.02)


def webhook_signature(secret: str, headers: dict[str, str], body: bytes) -> str:
    """The spec's v1 signature, computed here by hand (not with the code under test)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body.decode()}".encode()
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


# -- calls through the API and the worker processes ----------------------------------------------


def submit_sample(settings, path=EXAMPLES / "billing_refund.wav", external_id="crash-1") -> str:
    with TestClient(create_app(settings)) as client:
        meta = {"agent_id": "a-1", "external_id": external_id}
        r = submit(client, key_for(settings, Scope.ADMIN), path, meta)
    assert r.status_code == 202, r.text
    call_id: str = r.json()["id"]
    return call_id


def call_status(settings, call_id):
    with session_scope(settings) as session:
        call = repository.get_call(session, call_id)
        return call.status, call.attempts


def start_worker(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "speechqa_service.cli.main", "worker", "--heartbeat", "3", *args],
        cwd=ROOT,
        env=dict(os.environ),
    )


# -- commits the database refuses, and the routes that write -------------------------------------


@contextmanager
def refused_commits(settings: Settings, table: str) -> Iterator[None]:
    """Every transaction that writes ``table`` fails at COMMIT (not before) while this lasts."""
    engine = get_engine(settings)
    if engine.dialect.name == "postgresql":
        install = [
            "CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'commit refused by the test'; END $$",
            f"CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT OR UPDATE OR DELETE ON {table}"
            " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit()",
        ]
        remove = [f"DROP TRIGGER refuse_commit ON {table}", "DROP FUNCTION refuse_commit()"]
    else:
        install = [
            "CREATE TABLE refuse_parent (id INTEGER PRIMARY KEY)",
            "CREATE TABLE refuse_child (parent INTEGER"
            " REFERENCES refuse_parent (id) DEFERRABLE INITIALLY DEFERRED)",
        ] + [
            f"CREATE TRIGGER refuse_{op.lower()} AFTER {op} ON {table}"
            " BEGIN INSERT INTO refuse_child VALUES (-1); END"
            for op in ("INSERT", "UPDATE", "DELETE")
        ]
        remove = [f"DROP TRIGGER refuse_{op}" for op in ("insert", "update", "delete")]
        remove += ["DROP TABLE refuse_child", "DROP TABLE refuse_parent"]
    with engine.begin() as conn:
        for statement in install:
            conn.execute(text(statement))
    try:
        yield
    finally:
        with engine.begin() as conn:
            for statement in remove:
                conn.execute(text(statement))


def table_rows(settings: Settings, table: str) -> list[tuple[Any, ...]]:
    with get_engine(settings).connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))]


@dataclass
class Floor:
    """A scored billing call, a second one, users of every role with keys, and what the write
    routes act on."""

    client: Any
    keys: dict[str, dict[str, str]]
    calls: list[str]

    def post(self, who: str, url: str, body: Any = None) -> Any:
        return self.client.post(url, headers=self.keys[who], json=body)

    def review(self, call: str, *, submitted: bool = False, disputed: bool = False) -> str:
        """rita's open draft on the call; once her review counts, her re-evaluation of it (a
        dispute of it is settled first: no re-evaluation while one is open)."""
        start = self.post("rita", f"/v1/calls/{call}/reviews", {"reason": "another look"})
        if start.status_code == 409 and start.json()["error"]["details"]["status"] == "disputed":
            counted = start.json()["error"]["details"]["review_id"]
            settled = {"outcome": "upheld", "reason": "stands"}
            assert self.post("lee", f"/v1/reviews/{counted}/resolve", settled).status_code == 200
            start = self.post("rita", f"/v1/calls/{call}/reviews", {"reason": "another look"})
        review = start.json()
        url = f"/v1/reviews/{review['id']}"
        if submitted or disputed:
            assert self.post("rita", f"{url}/submit").status_code == 200
        if disputed:
            body = {"items": ["2.1"], "comment": "I did close"}
            assert self.post("ann", f"{url}/dispute", body).status_code == 200
        return url


def make_floor(settings: Settings, client: Any) -> Floor:
    admin_key = None
    with session_scope(settings) as session:
        calls = [store_call(session, reference_transcript("billing_refund"), agent_id="ann",
                            team="billing", ruleset=None) for _ in range(2)]  # fmt: skip
        score_calls(session, calls)
        keys = {}
        for name, role, agent in (("rita", "reviewer", None), ("rob", "reviewer", None),
                                  ("ann", "agent", "ann"), ("lee", "lead", None),
                                  ("carla", "coach", None), ("ada", "admin", None)):  # fmt: skip
            create_user(session, name, role, agent_id=agent)
            keys[name] = {"Authorization": f"Bearer {create_key(session, [], user=name)}"}
        admin_key = keys["ada"]
    assert admin_key is not None
    put = client.put("/v1/rulesets/billing", headers=admin_key, content=RULESET.encode())
    assert put.status_code == 201, put.text
    return Floor(client, keys, calls)


COACHING_SESSION = {"agent_id": "ann", "focus": [{"kpi": "qa_score"}], "notes": "n"}


# -- the app and the CLI as real processes and servers, and the browser -------------------------


@contextmanager
def live_server(settings) -> Iterator[int]:
    """The app on a real loopback socket (the test client reads a request body whole)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(30)


def run_cli(*args: str, env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-m", "speechqa_service.cli.main", *args], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def wait_for(check: Any, what: str, limit_s: float = 180) -> Any:
    deadline = time.monotonic() + limit_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


BROWSER_ARTIFACTS = ROOT / "var" / "test-artifacts" / "web"


def browser_sign_in(page: Any, base: str, key: str) -> Any:
    """Sign ``page`` in with ``key`` through the sign-in form, as a person does."""
    page.goto(base + "/login")
    page.fill("#key", key)
    page.click("button[type=submit]")
    page.wait_for_url("**/calls")
    return page


def shot(page: Any, name: str) -> Path:
    """Save a screenshot of the page as a test artifact."""
    BROWSER_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = BROWSER_ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
