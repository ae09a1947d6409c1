"""A lead makes a review queue and a calibration session in the browser; reviewers see only
calls they may open; the lead follows each queue's progress and reads the calibration report."""

from __future__ import annotations

import re
from typing import Any

import httpx

from speechqa.apikeys import create_key
from speechqa.scoring import score_calls
from speechqa.storage.database import session_scope
from speechqa.users import create_user
from tests.support import reference_transcript, shot, store_call


def _api(site: dict[str, Any], who: str, method: str, path: str, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {site['keys'][who]}"}
    r = httpx.request(method, site["base"] + path, headers=headers, timeout=30, **kw)
    assert r.status_code < 300, r.text
    return r.json()


def _review(
    site: dict[str, Any], who: str, start: str, answers: dict[str, tuple[str, str]]
) -> None:
    """Start a review over the API, answer items (key: decision, reason) and submit it."""
    review = _api(site, who, "POST", start)
    for key, (decision, reason) in answers.items():
        _api(site, who, "PUT", f"/v1/reviews/{review['id']}/items/{key}",
             json={"decision": decision, "reason": reason})  # fmt: skip
    _api(site, who, "POST", f"/v1/reviews/{review['id']}/submit")


def test_a_lead_makes_a_queue_and_a_calibration_and_follows_them(site, page_for):
    calls = site["calls"]
    with session_scope(site["settings"]) as session:  # a north lead, and a call of no team
        create_user(session, "nora", "lead", teams=["north"])
        site["keys"]["nora"] = create_key(session, [], user="nora")
        loose = store_call(session, reference_transcript("billing_refund"), agent_id="zed")
        score_calls(session, [loose])
    _review(site, "rita", f"/v1/calls/{calls['angry_to_satisfied']}/reviews", {})

    nora = page_for("nora")
    nora.goto(site["base"] + "/queue")
    # Only people who see north calls are offered: not sam (south).
    offered = nora.locator("input[name=reviewers]").evaluate_all("e => e.map(i => i.value)")
    assert "rita" in offered and "sam" not in offered and "ann" not in offered
    nora.fill("input[name=name]", "north weekly")
    nora.fill("input[name=per_agent]", "5")
    nora.fill("input[name=days]", "30")
    nora.click("text=Create the queue")  # no reviewer ticked: refused in the page
    problem = nora.locator("p.problem").inner_text()
    assert "The queue was not created: A queue needs at least one reviewer." in problem
    assert nora.locator("input[name=name]").input_value() == "north weekly"
    assert nora.locator("input[name=per_agent]").input_value() == "5"
    shot(nora, "work-queue-refused")
    nora.check("input[name=reviewers][value=rita]")
    nora.check("input[name=reviewers][value=cara]")
    nora.click("text=Create the queue")
    flash = nora.locator(".flash").inner_text()
    assert flash.startswith("Queue 'north weekly' created; ") and " dealt (" in flash, flash

    rita = page_for("rita")
    rita.goto(site["base"] + "/queue")
    rows = rita.locator("#my-queue tbody tr")
    links = rows.locator("a").evaluate_all("e => e.map(a => a.getAttribute('href'))")
    dealt = {h.split("/")[2].split("#")[0] for h in links}
    # North calls she has not reviewed, never the south call, the no-team call or her own review.
    assert dealt and dealt <= {calls[k] for k in ("billing_refund", "address_change", "deleted")}
    assert calls["angry_to_satisfied"] not in dealt and calls["internet_outage"] not in dealt
    assert loose not in dealt
    text = rows.first.inner_text()
    assert "north" in text and ":" in text  # label, score and duration
    assert re.search(r"Times in [A-Za-z_/+-]+\.", rita.content())  # the zone they are shown in
    shot(rita, "work-reviewer-queue")
    for href in links:
        response = rita.goto(site["base"] + href)
        assert response is not None and response.status == 200, href
    first = links[0].split("/")[2].split("#")[0]
    _review(site, "rita", f"/v1/calls/{first}/reviews", {})

    nora.goto(site["base"] + "/queue")
    queue = nora.locator("section.queue", has_text="north weekly")
    row = queue.locator("tr", has_text="rita").inner_text().split()
    assert row[:5] == ["rita", str(len(dealt)), "1", "0", str(len(dealt) - 1)], row
    assert queue.locator("tr", has_text="cara").count() == 1
    shot(nora, "work-lead-progress")
    nora.click("section.queue:has-text('north weekly') >> text=Deal new calls")
    assert "No call to deal now" in nora.locator(".flash").inner_text()

    # Calibration: lee picks two north calls by a filter and names two reviewers.
    lee = page_for("lee")
    lee.goto(site["base"] + "/calibrations?team=north")
    assert "create one below" in lee.content()
    lee.fill("form[action='/calibrations'] input[name=name]", "north december")
    picked = [calls["billing_refund"], calls["address_change"]]
    for call_id in picked:
        lee.check(f"input[name=calls][value='{call_id}']")
    lee.check("input[name=reviewers][value=rita]")
    lee.click("text=Create the session")
    assert "Tick at least two reviewers" in lee.locator("p.problem").inner_text()
    assert all(lee.is_checked(f"input[name=calls][value='{c}']") for c in picked)
    lee.check("input[name=reviewers][value=sam]")  # sam cannot see north calls
    lee.click("text=Create the session")
    assert "sam cannot see every call of the session" in lee.locator("p.problem").inner_text()
    shot(lee, "work-calibration-refused")
    lee.uncheck("input[name=reviewers][value=sam]")
    lee.check("input[name=reviewers][value=cara]")
    lee.click("text=Create the session")
    assert "Calibration session 'north december' created." in lee.locator(".flash").inner_text()
    session_id = int(lee.url.rstrip("/").split("/")[-1])

    rita.goto(site["base"] + "/calibrations")
    assert "you scored 0 of 2" in rita.locator("#sessions").inner_text()
    rita.click("text=north december")
    listed = rita.locator("#session-calls").inner_text()
    assert "billing_refund · ann · " in listed and "address_change · bob · " in listed
    assert rita.locator("text=Score this call").count() == 2
    start = f"/v1/calibrations/{session_id}/calls/{calls['billing_refund']}/reviews"
    _review(site, "rita", start, {"0.0": ("na", "The greeting was the hold message")})
    _review(site, "cara", start, {})
    rita.reload()
    assert "scored ✓" in rita.locator("#session-calls").inner_text()
    assert rita.locator("text=Score this call").count() == 1
    shot(rita, "work-reviewer-calibration")

    lee.goto(site["base"] + f"/calibrations/{session_id}")
    disagree = lee.locator("#report tr.disagree")
    assert disagree.count() >= 1
    row = disagree.first.inner_text()
    assert "undecided" in row and "rita: The greeting was the hold message" in row
    cards = lee.locator(".cards").inner_text()
    assert "100%\nrita with the consensus" not in cards and "with the consensus undecided" in cards
    assert "billing_refund · ann" in lee.locator("#report").inner_text()
    shot(lee, "work-calibration-report")
