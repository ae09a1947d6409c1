"""A running speechqa (API and web app on a real port) with sample calls, and Debian's Chromium
driven by Playwright, for the web app's end-to-end tests.

The calls are the sample recordings with their reference transcripts, scored by the real
scoring step (no speech model: the tests are about the pages); the browser is the system's
``/usr/bin/chromium`` (Playwright's own browser download cannot work offline).
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from speechqa.apikeys import create_key
from speechqa.pipeline import sentiment
from speechqa.scoring import score_calls
from speechqa.settings import Settings
from speechqa.storage.database import dispose_engines, migrate, session_scope
from speechqa.storage.tables import Call
from speechqa.users import create_user
from speechqa_service.app import create_app
from tests.support import EXAMPLES, IN_CI, browser_sign_in, reference_transcript, store_call

CHROMIUM = Path("/usr/bin/chromium")
USERS = {  # name: role, teams, agent
    "rita": ("reviewer", ["north"], None),
    "sam": ("reviewer", ["south"], None),
    "ann": ("agent", [], "ann"),
    "lee": ("lead", [], None),
    "cara": ("coach", [], None),
}
CALLS = [  # sample, agent, team, days ago
    ("billing_refund", "ann", "north", 2),
    ("angry_to_satisfied", "ann", "north", 1),
    ("address_change", "bob", "north", 3),
    ("internet_outage", "sue", "south", 1),
]


def _store(settings: Settings) -> dict[str, str]:
    ids: dict[str, str] = {}
    model = sentiment.load_model()
    now = datetime.now(UTC).replace(microsecond=0)
    with session_scope(settings) as session:
        for sample, agent, team, days in CALLS:
            transcript = reference_transcript(sample)
            scored = sentiment.score_utterances(model, transcript.utterances)
            transcript = replace(transcript, utterances=scored)
            call_id = store_call(session, transcript, agent_id=agent, team=team,
                                 started_at=now - timedelta(days=days, hours=len(ids)))  # fmt: skip
            wav = EXAMPLES / f"{sample}.wav"
            settings.audio_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy(wav, settings.audio_dir / f"{call_id}.wav")
            call = session.get(Call, call_id)
            assert call is not None
            call.audio_path, call.audio_bytes = f"{call_id}.wav", wav.stat().st_size
            call.content_type, call.format_name, call.external_id = "audio/wav", "wav", sample
            ids[sample] = call_id
        score_calls(session, list(ids.values()))
        # Calls a reviewer meets that are not plain: failed, still in analysis, audio deleted.
        for state in ("failed", "transcribing", "deleted"):
            call_id = store_call(
                session,
                reference_transcript("address_change"),
                agent_id="bob",
                team="north",
                started_at=now - timedelta(days=5),
            )
            call = session.get(Call, call_id)
            assert call is not None
            call.external_id = state
            if state == "deleted":  # scored before the retention policy took its audio
                score_calls(session, [call_id])
                call.audio_deleted_at = now
            else:
                call.status = state
                call.status_reason = "the audio could not be decoded" if state == "failed" else None
            ids[state] = call_id
    return ids


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedded_redis: str) -> Iterator[dict[str, Any]]:
    """The service on a free port with the sample calls, users and their keys."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("web") / "data", redis_url=embedded_redis)
    migrate(settings)
    calls = _store(settings)
    keys = {}
    with session_scope(settings) as session:
        for name, (role, teams, agent) in USERS.items():
            create_user(session, name, role, teams=teams, agent_id=agent)
            keys[name] = create_key(session, [], user=name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                           log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the web app did not start"
        time.sleep(0.05)
    yield {"base": f"http://127.0.0.1:{port}", "calls": calls, "keys": keys,
           "settings": settings}  # fmt: skip
    server.should_exit = True
    thread.join(10)
    dispose_engines()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("Debian's chromium is missing: scripts/system-deps.sh installs it")
        pytest.skip("Debian's chromium is not installed (scripts/system-deps.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--autoplay-policy=no-user-gesture-required"])  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page_for(site: dict[str, Any], browser: Any) -> Iterator[Any]:
    """``page_for(name)``: a new browser context signed in as ``name`` (or not, with None)."""
    contexts = []

    def open_as(name: str | None, width: int = 1280) -> Any:
        context = browser.new_context(viewport={"width": width, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        if name is not None:
            browser_sign_in(page, site["base"], site["keys"][name])
        return page

    yield open_as
    for context in contexts:
        context.close()
