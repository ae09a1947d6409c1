"""What the KPI pages and the journal routes read (speechqa.kpis.dashboards): a page of the
journal with its cursor, and the agents a caller may see by team."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from speechqa.apikeys import Principal, Scope
from speechqa.kpis.dashboards import AgentEntry, JournalQuery, journal_page, visible_agents
from speechqa.scoring import score_calls
from speechqa.storage.database import session_scope
from tests.support import reference_transcript, store_call

STARTED = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def lead(teams: frozenset[str] | None = None) -> Principal:
    return Principal(key_id=1, name="lead", scopes=frozenset({Scope.LEAD}), teams=teams)


def test_a_full_page_of_the_journal_says_where_the_next_one_starts(settings):
    with session_scope(settings) as session:
        transcript = reference_transcript("billing_refund")
        at = [STARTED, STARTED + timedelta(minutes=5)]
        score_calls(session, [store_call(session, transcript, started_at=t) for t in at])
    period = JournalQuery(STARTED, STARTED + timedelta(days=1), limit=10_000)
    with session_scope(settings) as session:
        whole = journal_page(session, period)
        first = journal_page(session, JournalQuery(period.start, period.end, limit=1))
        second = journal_page(
            session, JournalQuery(period.start, period.end, limit=1, after=first.next_cursor)
        )
    every = whole.rows
    assert len(every) >= 2 and whole.next_cursor is None  # not full: nothing follows
    assert first.rows == every[:1] and first.next_cursor == every[0]["id"]
    assert second.rows == every[1:2]


def test_the_teams_page_lists_only_the_agents_a_caller_may_see(settings):
    with session_scope(settings) as session:
        store_call(session, reference_transcript("billing_refund"), agent_id="ann", team="billing")
        store_call(session, reference_transcript("billing_refund"), agent_id="cy", team="tech")
    with session_scope(settings) as session:
        assert visible_agents(session, lead()) == {
            "billing": [AgentEntry("ann", None, "billing")],
            "tech": [AgentEntry("cy", None, "tech")],
        }
        assert visible_agents(session, lead(frozenset({"tech"}))) == {
            "tech": [AgentEntry("cy", None, "tech")]
        }
