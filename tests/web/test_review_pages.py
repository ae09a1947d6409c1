"""The review loop in a real browser, as its people play it: a reviewer overrides items and
presses Submit without saving; the review is then a record (no second "Start a review"); a lead
re-evaluates it with a reason (the old version kept as superseded, the agent's acknowledgement
reset); the agent disputes items by their labelled rows and the lead settles it; and a
calibration review is saved, commented and submitted without leaving its session."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.support import shot

pytestmark = pytest.mark.browser


def _url(site: dict[str, Any], path: str) -> str:
    return str(site["base"]) + path


def _api(site: dict[str, Any], who: str) -> httpx.Client:
    return httpx.Client(base_url=site["base"], timeout=30,
                        headers={"Authorization": f"Bearer {site['keys'][who]}"})  # fmt: skip


def _score(page: Any) -> int:
    found = re.search(r"Score\s+(\d+)", page.locator(".score").inner_text())
    assert found, page.locator(".score").inner_text()
    return int(found.group(1))


def _item(page: Any, key: str) -> Any:
    return page.locator(f".scorecard .items li[data-key='{key}']")


def test_submit_saves_the_form_and_a_re_evaluation_keeps_the_first(site, page_for):
    call = site["calls"]["billing_refund"]
    api = _api(site, "rita")
    automatic = api.get(f"/v1/calls/{call}").json()["score"]["value"]

    rita = page_for("rita")
    rita.goto(_url(site, f"/calls/{call}"))
    assert "rule greeting" not in rita.locator(".scorecard").inner_text()
    assert _item(rita, "0.0").locator(".item-name").inner_text() == "Greeting"
    rita.click("text=Start a review")
    rita.select_option("select[name='decision-0.0']", "fail")
    rita.fill("input[name='reason-0.0']", "The greeting came after the hold")
    rita.select_option("select[name='decision-0.1']", "fail")  # no reason yet
    rita.fill("textarea[name=text]", "Good empathy here")
    rita.click("button:has-text('Submit review')")
    # Refused, naming the item; everything typed is still in the form, nothing submitted.
    alert = rita.locator("[role=alert]").inner_text()
    assert "An override needs a reason: 0.1 Introduction" in alert and "Nothing was saved" in alert
    assert rita.locator("select[name='decision-0.0']").input_value() == "fail"
    assert rita.locator("select[name='decision-0.1']").input_value() == "fail"
    assert rita.locator("input[name='reason-0.0']").input_value().startswith("The greeting")
    assert rita.locator("textarea[name=text]").input_value() == "Good empathy here"
    assert api.get(f"/v1/calls/{call}").json()["score_source"] == "automatic"
    shot(rita, "review-refused")

    rita.fill("input[name='reason-0.1']", "The agent never said their name")
    rita.click("button:has-text('Submit review')")  # never pressed "Save draft"
    first = api.get(f"/v1/calls/{call}").json()["review"]
    assert f"Review submitted: final score {first['score']:g}." in rita.content()
    assert first["score"] < automatic and _score(rita) == round(first["score"])
    # The review is a record: no second "Start a review"; the scorecard keeps its information.
    assert rita.locator("text=Start a review").count() == 0
    assert rita.locator("button:has-text('Re-evaluate')").count() == 1  # she reviewed it
    greeting = _item(rita, "0.0")
    assert "overridden" in (greeting.get_attribute("class") or "")
    text = greeting.inner_text()
    assert "machine: pass" in text and "reviewer (rita): fail" in text
    assert "The greeting came after the hold" in text
    assert greeting.locator("button.evidence").count() >= 1
    at = float(greeting.locator("button.evidence").first.get_attribute("data-seek") or "-1")
    greeting.locator("button.evidence").first.click()
    rita.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {at}) < 0.3")
    rita.click("summary:has-text('Audit trail')")
    audit = rita.locator("ol.audit").first.inner_text()
    assert (
        "rita overrode 0.0 Greeting: machine pass → fail — “The greeting came after the hold”"
        in audit
    )
    assert "{" not in audit and "UTC" in audit
    shot(rita, "review-submitted")

    ann = page_for("ann")
    ann.goto(_url(site, f"/calls/{call}"))
    ann.click("button:has-text('Acknowledge')")
    assert "You acknowledged the review." in ann.content()

    # A lead re-evaluates, with a reason; the first version stays, superseded.
    lee = page_for("lee")
    lee.goto(_url(site, f"/calls/{call}"))
    assert lee.locator("text=Start a review").count() == 0
    lee.fill("input[name=reason]", "The hold music covered the greeting")
    lee.click("button:has-text('Re-evaluate')")
    assert f"Your re-evaluation of review {first['id']}" in lee.content()
    lee.select_option("select[name='decision-0.0']", "accept")
    lee.select_option("select[name='decision-0.1']", "fail")
    lee.fill("input[name='reason-0.1']", "No name given")
    lee.click("button:has-text('Submit review')")
    second = api.get(f"/v1/calls/{call}").json()["review"]
    assert second["id"] != first["id"] and second["score"] > first["score"]
    assert f"Review {first['id']} is kept as superseded." in lee.content()
    assert _score(lee) == round(second["score"])
    old = lee.locator(f"#review-{first['id']}")
    assert "superseded" in old.locator(".status").inner_text()
    assert f"Superseded by review {second['id']}" in old.inner_text()
    assert "0.0 Greeting: machine pass → fail" in old.inner_text()  # its answers kept
    assert "lee re-evaluated the call in review" in old.locator("ol.audit").inner_text()
    shot(lee, "review-re-evaluated")
    reviews = {r["id"]: r["status"] for r in api.get(f"/v1/calls/{call}/reviews").json()}
    assert reviews == {first["id"]: "superseded", second["id"]: "submitted"}

    # The agent's acknowledgement was of the first version: she answers the new one.
    ann.goto(_url(site, f"/calls/{call}"))
    assert ann.locator("button:has-text('Acknowledge')").count() == 1
    ann.fill("textarea[name=comment]", "I said my name at the start")
    ann.click("button:has-text('Dispute')")  # no item chosen: refused on the page
    assert ann.locator("[role=alert]").inner_text() == "Choose the items you dispute."
    assert ann.locator("textarea[name=comment]").input_value() == "I said my name at the start"
    row = ann.locator("label.check-row:has(input[value='0.1'])")
    assert row.locator("span").first.inner_text() == "Introduction"
    box, label = row.locator("input").bounding_box(), row.locator("span").first.bounding_box()
    assert box and label and abs(box["y"] - label["y"]) < 12 and box["x"] < label["x"]
    row.locator("span").first.click()  # the label's words tick its own box
    assert row.locator("input").is_checked()
    assert ann.locator("input[name=items]:checked").count() == 1
    shot(ann, "review-dispute-rows")
    ann.click("button:has-text('Dispute')")
    assert "Your dispute is with the team lead." in ann.content()
    # The agent sees the same scorecard: both answers, the reason, the evidence.
    assert "No name given" in _item(ann, "0.1").inner_text()
    assert _item(ann, "0.0").locator("button.evidence").count() >= 1

    lee.goto(_url(site, "/disputes"))
    lee.click("tbody a")
    assert lee.locator("button:has-text('Re-evaluate')").count() == 0  # not while disputed
    assert "resolve the dispute before re-evaluating" in lee.content()
    lee.select_option("select[name=outcome]", "adjusted")
    lee.select_option("select[name='decision-0.1']", "accept")
    lee.fill(".resolve-form input[name=reason]", "She said her name")
    lee.click(".resolve-form button:has-text('Resolve')")
    assert "Dispute resolved (adjusted)." in lee.content()
    assert _score(lee) == round(automatic)
    shot(lee, "review-resolved")


def test_a_calibration_review_finishes_in_its_session(site, page_for):
    call = site["calls"]["angry_to_satisfied"]
    made = _api(site, "lee").post("/v1/calibrations", json={
        "name": "weekly", "calls": [call], "reviewers": ["rita", "cara"]})  # fmt: skip
    assert made.status_code == 201, made.text
    sid = made.json()["id"]
    rita = page_for("rita")
    rita.goto(_url(site, f"/calibrations/{sid}"))
    rita.click("button:has-text('Score this call')")
    assert f"calibration={sid}" in rita.url and "Your calibration review" in rita.content()
    rita.select_option("select[name='decision-0.0']", "fail")
    rita.fill("input[name='reason-0.0']", "Greeting was cut off")
    rita.click("button:has-text('Save draft')")
    assert f"calibration={sid}" in rita.url and "Draft saved." in rita.content()
    assert rita.locator("select[name='decision-0.0']").input_value() == "fail"
    rita.click(".utt >> nth=1 >> .comment-on")
    rita.fill("textarea[name=text]", "Calm tone throughout")
    rita.click("button:has-text('Add comment')")
    assert f"calibration={sid}" in rita.url and "Comment added" in rita.content()
    assert rita.locator("text=Start a review").count() == 0  # never a QA review here
    shot(rita, "calibration-draft")
    rita.click("button:has-text('Submit review')")
    assert f"calibration={sid}" in rita.url
    assert "Calibration review submitted" in rita.content()
    assert "Your calibration review of this call is submitted" in rita.content()
    assert rita.locator("text=Start a review").count() == 0
    mine = [r for r in _api(site, "rita").get(f"/v1/calls/{call}/reviews").json()
            if r["kind"] == "calibration"]  # fmt: skip
    assert [(r["status"], r["calibration"]) for r in mine] == [("submitted", sid)]
    assert mine[0]["comments"][0]["text"] == "Calm tone throughout"
    assert _api(site, "rita").get(f"/v1/calls/{call}").json()["score_source"] == "automatic"
    shot(rita, "calibration-submitted")
