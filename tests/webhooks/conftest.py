"""Webhooks' shared setup: a real HTTP receiver on 127.0.0.1 and quick retry settings (draining
the webhook queue in this process, as RQ's tests do, is ``tests.support.deliver_webhooks``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from speechqa.settings import Settings, get_settings

HOOK_ENV = {
    "SPEECHQA_WEBHOOK_BACKOFF_S": "0.5",
    "SPEECHQA_WEBHOOK_MAX_ATTEMPTS": "4",
    "SPEECHQA_WEBHOOK_TIMEOUT_S": "2",
}


@dataclass
class Received:
    at: float
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What an upstream system runs: it records each request and answers ``status``."""

    url: str
    status: int = 200
    delay_s: float = 0.0
    requests: list[Received] = field(default_factory=list)


LOCAL_RECEIVERS = "127.0.0.1,localhost"
"""The test receivers listen on this host: the allow-list an operator would set for them."""


@pytest.fixture(autouse=True)
def local_receivers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Admit receivers on 127.0.0.1 (set before the settings are made; the subprocesses of
    ``speechqa serve`` inherit it)."""
    monkeypatch.setenv("SPEECHQA_WEBHOOK_ALLOWED_NETWORKS", LOCAL_RECEIVERS)
    get_settings.cache_clear()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            got = Received(time.time(), self.path, {k.lower(): v for k, v in self.headers.items()},
                           body)  # fmt: skip
            box[0].requests.append(got)
            time.sleep(box[0].delay_s)
            self.send_response(box[0].status)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.append(Receiver(f"http://127.0.0.1:{server.server_address[1]}/hooks"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield box[0]
    server.shutdown()
    server.server_close()


@pytest.fixture
def hooks(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The test's settings with quick retries (also what the jobs read)."""
    for key, value in HOOK_ENV.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    return get_settings()
