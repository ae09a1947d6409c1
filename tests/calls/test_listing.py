"""The calls list as a reviewer reads it: sorted by the time it shows (the start, else the
arrival), paged without losing or repeating a call when times tie, counted, exported as CSV;
tags and queues set on many calls at once; a mistyped rule name said to be unknown. On SQLite
and on PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from speechqa.apikeys import Principal, Scope
from speechqa.calls import bulk, list_export, listing
from speechqa.errors import Forbidden, InvalidInput, NotFound
from speechqa.reviews import queues
from speechqa.scoring import score_calls
from speechqa.storage.database import session_scope
from speechqa.storage.tables import Agent, Call, QueueItem
from speechqa.users import create_user
from speechqa.zones import ShownZone, choose
from tests.support import reference_transcript, store_call

DAY = datetime(2026, 11, 24, tzinfo=UTC)
LEAD = Principal(1, "lead", frozenset({Scope.LEAD, Scope.COACH, Scope.REVIEW}), user="lena")
REVIEWER = Principal(2, "rita", frozenset({Scope.REVIEW}), user="rita",
                     teams=frozenset({"billing"}))  # fmt: skip
AGENT = Principal(3, "a-17", frozenset({Scope.AGENT}), user="a-17", agent_id="a-17")


def _calls(session, started: list[datetime | None], team: str = "billing") -> list[str]:
    ids = []
    for when in started:
        ids.append(store_call(session, reference_transcript("billing_refund"), agent_id="a-17",
                              team=team, started_at=when))  # fmt: skip
    return ids


def test_the_time_sort_uses_the_time_shown_and_pages_through_ties(settings) -> None:
    with session_scope(settings) as session:
        # Arrival order is the reverse of the start order: 16:12 arrived first, 09:14 last.
        late, early = _calls(session, [DAY.replace(hour=16, minute=12)]), []
        early = _calls(session, [DAY.replace(hour=9, minute=14)])
        ties = _calls(session, [DAY.replace(hour=12)] * 5)
        # Started 10:14 in Berlin: the same moment as 09:14 UTC, whatever the offset it came with.
        berlin = _calls(
            session, [datetime(2026, 11, 24, 10, 14, tzinfo=timezone(timedelta(hours=1)))]
        )
        (unstarted,) = _calls(session, [None])
        session.get(Call, unstarted).created_at = DAY.replace(hour=13)  # type: ignore[union-attr]
    with session_scope(settings) as session:
        seen, cursor = [], None
        while True:
            page = listing.list_calls(session, listing.CallFilters(), limit=2, cursor=cursor)
            seen += page.rows
            cursor = page.next_cursor
            if cursor is None:
                break
        total = listing.count_calls(session, listing.CallFilters())
    ids = [r.id for r in seen]
    assert len(ids) == len(set(ids)) == total == 9
    shown = [r.started_at or r.received_at for r in seen]
    assert shown == sorted(shown, reverse=True)  # type: ignore[type-var]
    assert ids[0] == late[0] and ids[1] == unstarted and set(ids[-2:]) == {early[0], berlin[0]}
    assert ids[2:7] == sorted(ties, reverse=True)  # ties by id, none lost or repeated
    assert seen[-1].started_at == seen[-2].started_at == "2026-11-24T09:14:00+00:00"
    row = next(r for r in seen if r.id == unstarted)
    assert row.started_at is None and str(row.received_at).startswith("2026-11-24T13:00")
    with session_scope(settings) as session:
        up = listing.list_calls(session, listing.CallFilters(), limit=3, descending=False)
        up2 = listing.list_calls(session, listing.CallFilters(), limit=20, descending=False,
                                 cursor=up.next_cursor)  # fmt: skip
    assert [r.id for r in up.rows + up2.rows] == ids[::-1][:3] + ids[::-1][3:]


def test_rows_carry_agent_names_direction_and_disputes_and_filters_count(settings) -> None:
    with session_scope(settings) as session:
        a, b = _calls(session, [DAY, DAY + timedelta(hours=1)])
        session.get(Agent, "a-17").name = "Ann Smith"  # type: ignore[union-attr]
        session.get(Call, a).direction = "inbound"  # type: ignore[union-attr]
        session.get(Call, b).tags = ["vip"]  # type: ignore[union-attr]
        score_calls(session, [a, b])
    with session_scope(settings) as session:
        rows = {r.id: r for r in listing.list_calls(session, listing.CallFilters()).rows}
        assert rows[a].agent_name == "Ann Smith" and rows[a].direction == "inbound"
        assert listing.count_calls(session, listing.CallFilters(tag="vip")) == 1
        assert listing.count_calls(session, listing.CallFilters(rule="greeting")) == 2
        assert listing.unknown_rules(session, listing.CallFilters(rule="greeting")) == []
        assert listing.unknown_rules(session, listing.CallFilters(rule="greting",
                                                                  rule_missed="closing")) == ["greting"]  # fmt: skip


def test_the_csv_is_every_matching_call_in_the_list_order_in_the_viewers_zone(settings) -> None:
    with session_scope(settings) as session:
        ids = _calls(session, [DAY + timedelta(minutes=n) for n in range(7)])
        other = _calls(session, [DAY], team="support")
        session.get(Call, ids[0]).external_id = "=HYPERLINK(1)"  # type: ignore[union-attr]
        (none,) = _calls(session, [None])
    with session_scope(settings) as session:
        filters = listing.CallFilters(teams=frozenset({"billing"}))
        text = "".join(list_export.csv_lines(listing.iter_calls(session, filters),
                                             choose(None, "America/New_York")))  # fmt: skip
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in table] == [none, *ids[::-1]] and other[0] not in text
    first = next(r for r in table if r["id"] == ids[0])
    assert first["time_utc"] == "2026-11-24T00:00:00Z"
    assert first["time_local"] == "2026-11-23 19:00:00" and first["time_zone"] == "America/New_York"
    assert first["external_id"] == "'=HYPERLINK(1)" and first["time_source"] == "started"
    assert table[0]["time_source"] == "received"


def test_bulk_tags_need_a_reviewer_who_sees_every_call(settings) -> None:
    with session_scope(settings) as session:
        mine = _calls(session, [DAY, DAY])
        (theirs,) = _calls(session, [DAY], team="support")
        session.get(Call, mine[0]).tags = ["vip"]  # type: ignore[union-attr]
    with session_scope(settings) as session:
        with pytest.raises(Forbidden):
            bulk.tag_calls(session, AGENT, mine, add=["x"])
        with pytest.raises(NotFound):
            bulk.tag_calls(session, REVIEWER, [*mine, theirs], add=["escalation"])
        with pytest.raises(InvalidInput):
            bulk.tag_calls(session, REVIEWER, mine)
    with session_scope(settings) as session:
        assert all(session.get(Call, c).tags in ([], ["vip"]) for c in mine)  # type: ignore[union-attr]
        done = bulk.tag_calls(session, REVIEWER, mine, add=["escalation", "vip"])
        assert sorted(done.changed) == sorted(mine)
        again = bulk.tag_calls(session, REVIEWER, mine, add=["escalation"])
        assert again.changed == [] and {s.reason for s in again.skipped} == {"no change"}
    with session_scope(settings) as session:
        assert session.get(Call, mine[0]).tags == ["vip", "escalation"]  # type: ignore[union-attr]
        assert session.get(Call, mine[1]).tags == ["escalation", "vip"]  # type: ignore[union-attr]
        bulk.tag_calls(session, REVIEWER, mine, remove=["vip"])
        assert listing.count_calls(session, listing.CallFilters(tag="vip")) == 0


def test_adding_calls_to_a_queue_deals_them_to_reviewers_who_may_review_them(settings) -> None:
    with session_scope(settings) as session:
        for name, teams in (("rita", ["billing"]), ("rob", ["billing"]), ("sue", ["support"])):
            create_user(session, name, "reviewer", teams=teams)
        create_user(session, "lena", "lead", teams=["billing"])
        calls = _calls(session, [DAY + timedelta(minutes=n) for n in range(3)])
        (support,) = _calls(session, [DAY], team="support")
        score_calls(session, [*calls, support])  # a review answers the scorecard
        queue = queues.create(session, "picked", {"kind": "random_per_agent"},
                              ["rita", "rob", "sue"], LEAD)  # fmt: skip
        limited = queues.create(session, "billing only", {"kind": "filter", "teams": ["billing"],
                                "filters": {"team": "billing"}}, ["rita"], LEAD)  # fmt: skip
    with session_scope(settings) as session:
        with pytest.raises(Forbidden):
            bulk.add_to_queue(session, REVIEWER, queue.id, calls)
        result = bulk.add_to_queue(session, LEAD, queue.id, [*calls, support])
        assert result.changed == [*calls, support] and result.assignees[support] == "sue"
        assert {result.assignees[c] for c in calls} == {"rita", "rob"}  # sue sees no billing
        again = bulk.add_to_queue(session, LEAD, queue.id, calls[:1])
        assert again.skipped[0].reason == "already in the queue"
        only = bulk.add_to_queue(session, LEAD, limited.id, [calls[0], support])
        assert only.changed == [calls[0]]
        assert [s.reason for s in only.skipped] == ["outside the queue's teams"]
    with session_scope(settings) as session:
        items = session.scalars(select(QueueItem).where(QueueItem.queue_id == queue.id)).all()
        assert {i.call_id for i in items} == {*calls, support} and items[0].rule["kind"] == "added"
        rita = Principal(9, None, frozenset({Scope.REVIEW}), user="rita",
                         teams=frozenset({"billing"}))  # fmt: skip
        assert {a.call_id for a in queues.my_queue(session, rita)} == {
            c for c, who in result.assignees.items() if who == "rita"
        }


def test_a_zone_is_the_setting_else_the_browser_else_utc() -> None:
    assert choose("Europe/Berlin", "America/New_York") == ShownZone("Europe/Berlin", "setting")
    assert choose(None, "America/New_York").source == "browser"
    assert choose("Not/AZone", "../../etc/passwd") == ShownZone("UTC", "default")
    assert choose(None, "Asia/Kolkata").format("2026-11-24T09:14:00+00:00") == "2026-11-24 14:44"
