"""The calls list in a real browser (Debian's Chromium) set to New York time: times shown in the
browser's zone and said so, sorted by what is shown; the filtered list downloaded as CSV; calls
selected on the page and tagged at once."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from speechqa.storage.database import session_scope
from speechqa.storage.tables import Call
from tests.support import browser_sign_in, shot

pytestmark = pytest.mark.browser
NEW_YORK = "America/New_York"


def _signed_in(site: dict[str, Any], browser: Any, name: str, zone: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id=zone,
                                  accept_downloads=True)  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(10_000)
    return browser_sign_in(page, site["base"], site["keys"][name])


def test_times_in_the_browsers_zone_sorted_csv_and_a_bulk_tag(site, browser) -> None:
    page = _signed_in(site, browser, "lee", NEW_YORK)
    assert page.inner_text("#time-zone") == f"Times in {NEW_YORK} (your browser)"
    with session_scope(site["settings"]) as session:
        started = {c.id: c.started_at for c in session.query(Call).all() if c.started_at}
    shown = page.locator("tbody tr[data-call]")
    ids = [shown.nth(i).get_attribute("data-call") for i in range(shown.count())]
    times = page.locator("a.when").all_inner_texts()
    expected = [started[i].astimezone(ZoneInfo(NEW_YORK)).strftime("%Y-%m-%d %H:%M") for i in ids]
    assert times == expected and times == sorted(times, reverse=True)
    assert page.inner_text("#total") == f"{len(ids)} calls"
    shot(page, "calls-list-new-york")

    with page.expect_download() as download:
        page.click("#download-csv")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in table] == ids
    assert {r["time_zone"] for r in table} == {NEW_YORK}
    assert table[0]["time_local"][:16] == times[0]

    page.check("#pick-all")
    assert all(b.is_checked() for b in page.locator('input[name="call"]').all())
    page.locator('input[name="call"]').last.uncheck()
    assert not page.is_checked("#pick-all")
    page.fill("#bulk input[name=tag]", "escalation")
    page.click("#bulk button[value=tag]")
    page.wait_for_selector("p.flash")
    assert page.inner_text("p.flash") == f"Tagged “escalation” on {len(ids) - 1} calls."
    tags = page.locator("td.tags").all_inner_texts()
    assert tags[:-1] == ["escalation"] * (len(ids) - 1) and tags[-1] == ""
    shot(page, "calls-list-tagged")
    page.click("td.tags a >> nth=0")
    page.wait_for_url("**tag=escalation**")
    assert page.inner_text("#total") == f"{len(ids) - 1} calls"
    page.context.close()


def test_a_mistyped_rule_is_said_to_be_unknown_and_utc_is_named(site, browser) -> None:
    page = _signed_in(site, browser, "rita", "UTC")
    assert page.inner_text("#time-zone").startswith("Times in UTC")
    page.goto(site["base"] + "/calls?rule=greting")
    assert "No rule is named “greting”" in page.inner_text("[role=alert]")
    box = page.locator("input[name=q]").bounding_box()
    assert box is not None and box["width"] > 600  # the placeholder fits
    shot(page, "calls-list-unknown-rule")
    page.context.close()
