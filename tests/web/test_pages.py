"""The web app in a real browser (Debian's Chromium, driven by Playwright), as its people use it:
sign in, search and filter, open a call and listen, review, dispute, dashboards, coaching,
rulesets; and what must not happen (another team's call, a form without its token)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from speechqa.storage.database import session_scope
from speechqa.storage.tables import WebSession, utcnow
from tests.support import session_token, shot, web_sign_in

pytestmark = pytest.mark.browser


def _url(site: dict[str, Any], path: str) -> str:
    return str(site["base"]) + path


def test_sign_in_keeps_the_session_in_a_safe_cookie_and_signs_out(site, page_for):
    page = page_for(None)
    page.goto(_url(site, "/calls"))
    assert "/login" in page.url and "Sign in to continue" in page.content()
    page.fill("#key", "sqa_not-a-key")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "The API key is not valid."
    shot(page, "sign-in")
    page.fill("#key", site["keys"]["rita"])
    page.click("button[type=submit]")
    page.wait_for_url("**/calls")
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert set(cookies) == {"speechqa_session", "speechqa_tz"}  # the browser's time zone
    cookie = cookies["speechqa_session"]
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    assert site["keys"]["rita"] not in page.url and cookie["value"] not in page.url
    page.click("text=Sign out")
    page.wait_for_url("**/login**")
    assert "You are signed out." in page.content()
    page.goto(_url(site, "/calls"))
    assert "/login" in page.url


def test_an_expired_session_goes_back_to_sign_in_with_a_message(site, page_for):
    page = page_for("rita")
    with session_scope(site["settings"]) as session:
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(minutes=1)))
    page.goto(_url(site, "/queue"))
    assert "/login" in page.url and "Your session has expired" in page.content()
    # Signing in again lands on the page that was asked for.
    page.fill("#key", site["keys"]["rita"])
    page.click("button[type=submit]")
    page.wait_for_url("**/queue")


def test_search_filter_and_sort_the_calls(site, page_for):
    page = page_for("rita")
    rows = page.locator("table.calls tbody tr")
    assert rows.count() == 6  # rita sees team north: 3 samples and 3 calls in other states
    shot(page, "calls")
    page.fill("input[name=q]", '"charged twice"')
    page.click("text=Show calls")
    assert rows.count() == 1 and "charged" in rows.first.inner_text()
    assert "<mark>" not in rows.first.inner_text()  # the match is highlighted, not escaped
    assert rows.first.locator("mark").count() >= 1
    page.goto(_url(site, "/calls?agent_id=bob&status=done"))
    assert rows.count() == 2  # address_change and the one whose audio was deleted
    page.goto(_url(site, "/calls"))
    page.click("th >> text=Score")
    scores = [s for s in page.locator("tbody td:nth-child(4)").all_inner_texts() if s.isdigit()]
    assert scores == sorted(scores, key=int, reverse=True)
    page.select_option("select[name=critical_fail]", "yes")
    page.click("text=Show calls")
    assert page.locator("tbody").inner_text().strip() == "No calls match."


def test_a_call_page_seeks_where_the_reviewer_clicks(site, page_for):
    page = page_for("rita")
    page.goto(_url(site, f"/calls/{site['calls']['billing_refund']}?q=charged"))
    page.wait_for_function("document.getElementById('player').readyState >= 1")
    hit = page.locator("button.hit[data-rule=closing]").first
    at = float(hit.get_attribute("data-seek") or "0")
    assert at > 50
    hit.click()
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {at}) < 0.3")
    word = page.locator(".w", has_text="refund").first
    word.click()
    start = float(word.get_attribute("data-start") or "0")
    page.wait_for_function(
        f"Math.abs(document.getElementById('player').currentTime - {start}) < 0.3"
    )
    page.locator("h1").click()  # keyboard: the arrow keys seek 5 s
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        f"Math.abs(document.getElementById('player').currentTime - {start + 5}) < 0.3"
    )
    # The search match and the timeline are there, speakers told apart, and the scorecard.
    assert page.locator("#matches li").count() >= 1
    assert page.locator(".tl.silence").count() >= 1 and page.locator(".tl.hit").count() > 5
    assert page.locator(".utt.agent").count() > 0 and page.locator(".utt.customer").count() > 0
    assert page.locator(".mood").count() > 0
    assert page.locator("[data-drawn=yes]").count() == 1  # the sentiment trend chart
    assert "Scorecard" in page.content()
    shot(page, "call")
    page.set_viewport_size({"width": 800, "height": 1000})
    shot(page, "call-tablet")


def test_the_player_follows_playback(site, page_for):
    page = page_for("rita")
    page.goto(_url(site, f"/calls/{site['calls']['angry_to_satisfied']}#t=13.8"))
    page.wait_for_function("Math.abs(document.getElementById('player').currentTime - 13.8) < 0.3")
    page.evaluate("document.getElementById('player').muted = true")
    page.evaluate("document.getElementById('player').play()")
    page.wait_for_function("document.querySelector('.w.now') !== null")
    now = page.locator(".w.now").first
    assert 13.0 < float(now.get_attribute("data-start") or "0") < 20.0


def test_review_override_persists_and_the_agent_disputes_it(site, page_for):
    call = site["calls"]["billing_refund"]
    rita = page_for("rita")
    rita.goto(_url(site, f"/calls/{call}"))
    rita.click("text=Start a review")
    rita.select_option("select[name='decision-0.0']", "fail")
    rita.fill("input[name='reason-0.0']", "The greeting came after the hold")
    rita.select_option("select[name='decision-0.1']", "fail")  # no reason: nothing saved, said so
    rita.click("text=Save draft")
    assert "An override needs a reason: 0.1 Introduction." in rita.content()
    assert rita.locator("select[name='decision-0.1']").input_value() == "fail"  # as typed
    rita.select_option("select[name='decision-0.1']", "accept")
    rita.click("text=Save draft")
    assert "Draft saved." in rita.content()
    rita.reload()
    assert rita.locator("select[name='decision-0.0']").input_value() == "fail"
    assert rita.locator("input[name='reason-0.0']").input_value() == (
        "The greeting came after the hold"
    )
    rita.click(".utt >> nth=2 >> .comment-on")
    assert rita.locator("#comment-utterance").input_value() == "2"
    rita.fill("textarea[name=text]", "Good empathy here")
    rita.click("text=Add comment")
    shot(rita, "review")
    rita.click("text=Submit review")
    assert "Review submitted: final score 90." in rita.content()

    ann = page_for("ann")
    assert ann.locator("table.calls tbody tr").count() == 2  # her own calls only
    ann.goto(_url(site, f"/calls/{call}"))
    assert "Good empathy here" in ann.content()
    ann.check("input[name=items][value='0.0']")
    ann.fill("textarea[name=comment]", "I greeted at the start")
    ann.click("button:has-text('Dispute')")
    assert "Your dispute is with the team lead." in ann.content()
    assert "Disputed 0.0 Greeting" in ann.content()

    lee = page_for("lee")
    lee.goto(_url(site, "/disputes"))
    lee.click("tbody a")
    lee.select_option("select[name=outcome]", "adjusted")
    lee.select_option("select[name='decision-0.0']", "accept")
    lee.fill("input[name=reason]", "The greeting is in the first seconds")
    lee.click(".resolve-form button:has-text('Resolve')")
    assert "Dispute resolved (adjusted)." in lee.content()
    assert re.search(r"Score\s+100", lee.locator(".score").inner_text())


def test_a_reviewer_of_another_team_cannot_open_the_call(site, page_for):
    page = page_for("sam")
    response = page.goto(_url(site, f"/calls/{site['calls']['billing_refund']}"))
    assert response is not None and response.status == 404
    assert "No call with id" in page.content()
    audio = page.goto(_url(site, f"/calls/{site['calls']['billing_refund']}/audio"))
    assert audio is not None and audio.status == 404
    assert page.goto(_url(site, "/agents/ann")).status == 404


def test_a_form_without_its_token_is_refused(site):
    cookies = {"speechqa_session": session_token(web_sign_in(httpx, site["keys"]["rita"],
                                                             site["base"]))}  # fmt: skip
    call = site["calls"]["angry_to_satisfied"]
    forged = httpx.post(_url(site, f"/calls/{call}/review"), cookies=cookies, data={})
    assert forged.status_code == 403 and "token" in forged.text
    wrong = httpx.post(_url(site, f"/calls/{call}/review"), cookies=cookies,
                       data={"csrf": "guess"})  # fmt: skip
    assert wrong.status_code == 403


def test_calls_in_other_states_say_so_in_plain_words(site, page_for):
    page = page_for("rita")
    page.goto(_url(site, f"/calls/{site['calls']['failed']}"))
    assert "could not be analysed: the audio could not be decoded" in page.content()
    page.goto(_url(site, f"/calls/{site['calls']['transcribing']}"))
    assert "still being analysed (transcribing)" in page.content()
    page.goto(_url(site, f"/calls/{site['calls']['deleted']}"))
    assert "recording was deleted by the retention policy" in page.content()
    assert page.locator("#player").count() == 0


def test_dashboards_draw_their_charts_and_link_to_the_calls(site, page_for):
    page = page_for("lee")
    page.goto(_url(site, "/agents/ann?bucket=day"))
    page.wait_for_selector("#trend-chart[data-drawn=yes] svg.main-svg")
    assert page.locator("#spread-chart[data-drawn=yes]").count() == 1
    shot(page, "agent")
    page.click(".card >> text=calls")
    assert "agent_id=ann" in page.url
    assert page.locator("table.calls tbody tr").count() == 2
    page.goto(_url(site, "/teams/north"))
    page.wait_for_selector("#trend-chart[data-drawn=yes]")
    assert page.locator("text=Agents by QA score").count() == 1
    shot(page, "team")
    # Measures in words and units; the journal shows what stands out, rule hits on request.
    assert "Agent talk time" in page.content() and "agent_talk_pct" not in page.content()
    journal = page.locator("section.panel", has_text="KPI journal")
    assert "rule:" not in journal.inner_text() and "Rule '" not in journal.inner_text()
    page.click("text=Show every rule hit too")
    assert (
        "Rule 'greeting' hit" in page.locator("section.panel", has_text="KPI journal").inner_text()
    )
    with page.expect_download() as download:
        page.click("text=Download the journal (CSV)")
    assert download.value.suggested_filename == "kpi-journal.csv"
    header = Path(download.value.path()).read_text().splitlines()[0]
    assert header.startswith("id,at,agent_id,team,call_id,counter")


def test_a_coach_finds_examples_keeps_one_and_records_a_session(site, page_for):
    page = page_for("cara")
    page.goto(_url(site, "/coaching"))
    page.fill("input[name=rule]", "empathy")
    page.click("text=Find examples")
    examples = page.locator("article.example")
    assert examples.count() >= 2
    first = examples.first
    src = first.locator("audio").get_attribute("src") or ""
    clip = page.request.get(_url(site, src))
    assert clip.status == 200 and clip.headers["content-type"] == "audio/wav"
    shot(page, "coaching")
    first.locator("input[name=new_collection]").fill("great empathy")
    first.locator("text=Keep clip").click()
    assert "Clip kept." in page.content() and "great empathy" in page.content()
    kept = page.url
    # Typing the name of a collection there is adds the clip to it (no 409 page).
    page.goto(_url(site, "/coaching?rule=empathy"))
    second = page.locator("article.example").nth(1)
    second.locator("input[name=new_collection]").fill("great empathy")
    second.locator("text=Keep clip").click()
    assert "Clip kept." in page.content() and page.url == kept
    assert page.locator("audio").count() == 2
    page.click("text=Use in a session")
    page.fill("textarea[name=focus]", "kpi qa_score\nrule empathy")
    page.fill("textarea[name=notes]", "Keep the apology short, then fix.")
    held = (datetime.now(UTC) - timedelta(days=3)).date()
    page.fill("input[name=held_on]", held.isoformat())
    page.click("text=Record the session")
    assert "Session recorded." in page.content()
    assert held.isoformat() in page.content()  # a session held days ago, measured from then
    assert page.locator(".statement").first.inner_text().startswith("QA score: ")
    page.wait_for_selector(".impact-chart[data-drawn=yes] svg.main-svg")
    shot(page, "coaching-session")


def test_a_lead_sees_ruleset_problems_at_their_line(site, page_for):
    page = page_for("lee")
    page.goto(_url(site, "/rulesets/default"))
    source = page.locator("#source").input_value()
    page.fill("#source", source.replace("window: {first: 30}", "window: {first: -5}", 1))
    page.click("text=Check and store")
    alert = page.locator("[role=alert]").inner_text()
    assert "was not stored" in alert and "window 'first' is negative" in alert
    line = page.locator(".line-error").first.inner_text()
    assert "first: -5" in line
    shot(page, "ruleset-problem")
    page.goto(_url(site, "/rulesets/default"))
    assert "version 1" in page.locator("h1").inner_text()
