"""A working day on real processes: ``speechqa serve`` (API, worker, embedded Redis) analyses two
recordings an upstream system sends, people made with the CLI sign in with their keys, and each
role does its day's work in Debian's chromium.

The lead makes a review queue in the app; the reviewer works it (an override submitted without
saving first, no second review offered), exports the list and a transcript; the agent disputes
an item; the lead settles it; two reviewers finish a calibration session the lead made in the
app, and the lead reads its report; the coach reads the team's dashboard."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import EXAMPLES, ROOT, browser_sign_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # the worker runs the speech model

PEOPLE = {  # name: CLI options
    "lena@example.com": ["--role", "lead", "--team", "billing"],
    "rita@example.com": ["--role", "reviewer", "--team", "billing"],
    "rob@example.com": ["--role", "reviewer", "--team", "billing"],
    "carl@example.com": ["--role", "coach", "--team", "billing"],
    "a-17": ["--role", "agent", "--agent", "a-17"],
}
CALLS = ("billing_refund", "address_change")


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "speechqa_service.cli.main", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("day")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPEECHQA_")}
    env["SPEECHQA_DATA_DIR"] = str(root / "var")
    keys = {}
    for name, options in PEOPLE.items():
        _cli(env, "user", "create", name, *options, "--new-team")
        keys[name] = _cli(env, "apikey", "create", "--user", name).strip().splitlines()[-1]
    pbx = _cli(env, "apikey", "create", "--scope", "ingest", "--name", "pbx").splitlines()[-1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = (root / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "speechqa_service.cli.main", "serve", "--port", str(port), "--webhook-workers", "0"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, (root / "serve.log").read_text()
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service never became ready"
            time.sleep(0.3)
        ids = {}
        yesterday = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
        for n, name in enumerate(CALLS):  # as the PBX sends them
            meta = {"agent_id": "a-17", "agent_name": "Sarah", "team": "billing",
                    "external_id": f"pbx-{name}",
                    "started_at": (yesterday + timedelta(hours=n)).isoformat()}  # fmt: skip
            wav = EXAMPLES / f"{name}.wav"
            r = httpx.post(f"{base}/v1/calls", headers={"Authorization": f"Bearer {pbx}"},
                           data={"metadata": json.dumps(meta)},
                           files={"audio": (wav.name, wav.read_bytes(), "audio/wav")},
                           timeout=60)  # fmt: skip
            assert r.status_code == 202, r.text
            ids[name] = r.json()["id"]
        lead = {"Authorization": f"Bearer {keys['lena@example.com']}"}
        deadline = time.monotonic() + 600
        for call_id in ids.values():
            while (
                status := httpx.get(f"{base}/v1/calls/{call_id}", headers=lead).json()["status"]
            ) != "done":
                assert status != "failed" and time.monotonic() < deadline, status
                time.sleep(1)
        yield {"base": base, "keys": keys, "calls": ids, "lead": lead}
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(60)
        log.close()


def _open(browser: Any, day: dict[str, Any], who: str) -> Any:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(15_000)
    return browser_sign_in(page, day["base"], day["keys"][who])


def _review_of(day: dict[str, Any], call_id: str) -> Any:
    return httpx.get(f"{day['base']}/v1/calls/{call_id}", headers=day["lead"]).json().get("review")


def test_a_working_day_for_every_role(day: dict[str, Any], browser: Any) -> None:
    base, calls = day["base"], day["calls"]

    # Morning: the lead makes the day's review queue in the app.
    lena = _open(browser, day, "lena@example.com")
    lena.goto(base + "/queue")
    lena.fill("input[name=name]", "billing daily")
    lena.fill("input[name=per_agent]", "2")
    lena.fill("input[name=days]", "7")
    lena.check("input[name=reviewers][value='rita@example.com']")
    lena.click("text=Create the queue")
    assert lena.locator(".flash").inner_text().startswith("Queue 'billing daily' created; ")

    # The reviewer works her queue: an override submitted without pressing "Save draft".
    rita = _open(browser, day, "rita@example.com")
    rita.goto(base + "/queue")
    rita.locator("#my-queue tbody tr a").first.click()
    call_id = rita.url.split("/calls/")[1].split("?")[0].split("#")[0]
    assert call_id in calls.values()
    other = next(c for c in calls.values() if c != call_id)
    automatic = httpx.get(f"{base}/v1/calls/{call_id}", headers=day["lead"]).json()["score"]
    rita.click("text=Start a review")
    flipped = "fail" if automatic["sections"][0]["items"][0]["passed"] else "pass"
    rita.select_option("select[name='decision-0.0']", flipped)
    rita.fill("input[name='reason-0.0']", "Checked against the recording")
    rita.click("button:has-text('Submit review')")
    review = _review_of(day, call_id)
    assert review["reviewer"] == "rita@example.com" and review["score"] != automatic["value"]
    assert f"Review submitted: final score {review['score']:g}." in rita.content()
    assert rita.locator("text=Start a review").count() == 0  # a second review is not offered
    following = rita.locator(".next-queued a")  # on to the rest of her queue
    assert following.get_attribute("href") == f"/calls/{other}#review"
    greeting = rita.locator(".scorecard .items li[data-key='0.0']").inner_text()
    assert "overridden" in greeting and "Checked against the recording" in greeting
    conversation = rita.locator("table.metrics").inner_text()  # in words and units
    assert "Agent talk time" in conversation and "%" in conversation and "pct" not in conversation
    shot(rita, "day-reviewer-submitted")
    # ... and exports what she worked on: the list as CSV, the transcript as WebVTT.
    rita.goto(base + "/calls")
    with rita.expect_download() as download:
        rita.click("text=Download CSV")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert {r["external_id"] for r in rows} == {f"pbx-{name}" for name in CALLS}
    vtt = httpx.get(f"{base}/v1/calls/{call_id}/transcript?format=vtt",
                    headers={"Authorization": f"Bearer {day['keys']['rita@example.com']}"})  # fmt: skip
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT")

    # The agent disputes the overridden item.
    agent = _open(browser, day, "a-17")
    agent.goto(base + f"/calls/{call_id}")
    agent.locator("label.check-row:has(input[value='0.0'])").click()
    agent.fill("textarea[name=comment]", "Please listen to the start again")
    agent.click("button:has-text('Dispute')")
    assert "Your dispute is with the team lead." in agent.content()
    # ... and looks at her other call herself: a self-review, which never counts.
    agent.goto(base + f"/calls/{other}")
    agent.click("text=Start a self-review")
    agent.click("button:has-text('Submit review')")
    assert "Review submitted" in agent.content()
    assert agent.locator("text=Start a self-review").count() == 0

    # The lead settles it: the machine's answer stands again, and the score with it.
    lena.goto(base + "/disputes")
    dispute = lena.locator("tbody tr").first.inner_text()
    assert "0.0 Greeting" in dispute and "Please listen to the start again" in dispute
    assert "today" in dispute and "Sarah" in dispute
    lena.click("tbody a")
    lena.select_option("select[name=outcome]", "adjusted")
    lena.select_option("select[name='decision-0.0']", "accept")
    lena.fill(".resolve-form input[name=reason]", "The recording bears the agent out")
    lena.click(".resolve-form button:has-text('Resolve')")
    assert "Dispute resolved (adjusted)." in lena.content()
    assert _review_of(day, call_id)["score"] == automatic["value"]
    shot(lena, "day-lead-resolved")

    # Afternoon: calibration on the other call, made in the app, finished by two reviewers.
    lena.goto(base + "/calibrations?team=billing")
    lena.fill("form[action='/calibrations'] input[name=name]", "billing weekly")
    lena.check(f"input[name=calls][value='{other}']")
    lena.check("input[name=reviewers][value='rita@example.com']")
    lena.check("input[name=reviewers][value='rob@example.com']")
    lena.click("text=Create the session")
    assert "Calibration session 'billing weekly' created." in lena.locator(".flash").inner_text()
    session_url = lena.url
    for who, decision in (("rita@example.com", "fail"), ("rob@example.com", "accept")):
        page = rita if who.startswith("rita") else _open(browser, day, who)
        page.goto(session_url)
        page.click("text=Score this call")
        assert "calibration=" in page.url
        page.select_option("select[name='decision-0.0']", decision)
        if decision != "accept":
            page.fill("input[name='reason-0.0']", "The greeting was cut short")
        page.click("button:has-text('Save draft')")
        assert "calibration=" in page.url and "Draft saved." in page.content()
        page.fill("textarea[name=text]", "Discuss on Friday")
        page.click("button:has-text('Add comment')")
        assert "calibration=" in page.url and page.locator("text=Start a review").count() == 0
        page.click("button:has-text('Submit review')")
        assert "Calibration review submitted" in page.content()
    lena.goto(session_url)
    report = lena.locator("#report")
    assert report.locator("tr.disagree").count() >= 1
    assert "The greeting was cut short" in report.inner_text()
    shot(lena, "day-calibration-report")
    # Calibration never counts: the other call still has its automatic score.
    assert httpx.get(f"{base}/v1/calls/{other}", headers=day["lead"]).json().get("review") is None

    # The coach reads the team's dashboard: both calls, the reviewed score counted.
    carl = _open(browser, day, "carl@example.com")
    carl.goto(base + "/teams/billing")
    carl.wait_for_selector("#trend-chart[data-drawn=yes] svg.main-svg")
    assert carl.locator(".card .big").first.inner_text() == "2"
    shot(carl, "day-coach-team")
