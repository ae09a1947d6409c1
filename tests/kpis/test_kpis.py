"""Per-agent and team KPIs, the journal and the summary report, on both databases."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from speechqa.apikeys import Scope
from speechqa.kpis import records
from speechqa.storage.database import session_scope
from speechqa.storage.tables import Agent, Call
from tests.support import key_for

DAY0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)  # a Monday


def add_call(
    session,
    agent,
    team,
    at,
    *,
    score,
    silence_ratio,
    rules,
    critical=False,
    speech=None,
    shift=None,
):
    call = Call(
        id=uuid.uuid4().hex, agent_id=agent, team=team, started_at=at, audio_path="-", audio_sha256="-",
        audio_bytes=0, status="done", duration_s=60.0, tags=[], extra={}, speech=speech or {},
    )  # fmt: skip
    session.add(call)
    session.flush()
    evaluation = {
        "rules": [{"id": r, "matched": True, "hits": [{"start": 1.5, "text": r}]} for r in rules],
        "score": {"value": score, "critical_fail": critical},
        "script": {"adherence": 1.0},
    }
    measured = {"silence_ratio": silence_ratio}
    if shift is not None:
        measured["customer_sentiment_shift"] = shift
    records.write(session, [records.rows_for(call, evaluation, measured)])
    return call.id


@pytest.fixture
def data(settings, client):
    with session_scope(settings) as session:
        session.add_all([Agent(id="ann", name="Ann", team="billing"), Agent(id="bob", team="billing"),
                         Agent(id="cy", team="tech")])  # fmt: skip
        session.flush()
        ids = {
            "a1": add_call(session, "ann", "billing", DAY0, score=80, silence_ratio=0.1, rules=["greeting"]),
            "a2": add_call(session, "ann", "billing", DAY0 + timedelta(days=1), score=60, silence_ratio=0.3,
                           rules=["greeting", "empathy"], speech={"agent": [[0, 5]], "customer": [[20, 30]]}),
            "a3": add_call(session, "ann", "billing", DAY0 + timedelta(days=8), score=0, silence_ratio=0.2,
                           rules=["rude"], critical=True, shift=-0.9),
            "b1": add_call(session, "bob", "billing", DAY0 + timedelta(days=2), score=90, silence_ratio=0.05,
                           rules=["greeting"]),
            "c1": add_call(session, "cy", "tech", DAY0, score=70, silence_ratio=0.5, rules=[]),
            "old": add_call(session, "ann", "billing", DAY0 - timedelta(days=200), score=10, silence_ratio=0.9,
                            rules=[]),
        }  # fmt: skip
    return client, key_for(settings, Scope.REVIEW), ids


PERIOD = "from=2026-10-01&to=2026-10-31"


def test_agent_kpis_over_a_period(data):
    client, auth, _ = data
    r = client.get(f"/v1/agents/ann/kpis?{PERIOD}", headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    totals = body["totals"]
    assert totals["calls"] == 3  # the call 200 days earlier is outside the period
    assert totals["metrics"]["qa_score"] == {
        "mean": pytest.approx(140 / 3, abs=1e-3),
        "median": 60.0,
        "calls": 3,
    }
    assert totals["metrics"]["silence_ratio"]["median"] == 0.2
    assert totals["critical_fail_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert totals["rule_hit_rate"] == {"empathy": pytest.approx(1 / 3, abs=1e-3), "greeting": pytest.approx(2 / 3, abs=1e-3),
                                       "rude": pytest.approx(1 / 3, abs=1e-3)}  # fmt: skip
    assert body["agent_name"] == "Ann" and body["team"] == "billing"


def test_buckets_by_week_and_the_calls_behind_a_figure(data):
    client, auth, ids = data
    body = client.get(f"/v1/agents/ann/kpis?{PERIOD}&bucket=week", headers=auth).json()
    assert [(b["start"], b["calls"]) for b in body["buckets"]] == [
        ("2026-10-05", 2),
        ("2026-10-12", 1),
    ]
    behind = client.get(body["calls_url"], headers=auth).json()["calls"]
    assert {c["id"] for c in behind} == {ids["a1"], ids["a2"], ids["a3"]}
    monthly = client.get(f"/v1/agents/ann/kpis?{PERIOD}&bucket=month", headers=auth).json()
    assert [(b["start"], b["calls"]) for b in monthly["buckets"]] == [("2026-10-01", 3)]


def test_team_kpis_and_leaderboard(data):
    client, auth, _ = data
    team = client.get(f"/v1/teams/billing/kpis?{PERIOD}", headers=auth).json()
    assert team["totals"]["calls"] == 4 and team["agents"] == ["ann", "bob"]
    board = client.get(f"/v1/leaderboard?metric=qa_score&{PERIOD}", headers=auth).json()["agents"]
    assert [(a["rank"], a["agent_id"]) for a in board] == [(1, "bob"), (2, "cy"), (3, "ann")]
    silence = client.get(
        f"/v1/leaderboard?metric=silence_ratio&order=asc&team=billing&{PERIOD}", headers=auth
    ).json()
    assert [a["agent_id"] for a in silence["agents"]] == ["bob", "ann"]


def test_call_list_filters(data):
    client, auth, ids = data
    get = lambda q: {c["id"] for c in client.get(f"/v1/calls?{q}", headers=auth).json()["calls"]}  # noqa: E731
    assert get("rule=greeting") == {ids["a1"], ids["a2"], ids["b1"]}
    assert get("critical_fail=true") == {ids["a3"]}
    assert get("min_score=75") == {ids["a1"], ids["b1"]}
    assert get(f"team=tech&{PERIOD}") == {ids["c1"]}
    first = client.get("/v1/calls?limit=2", headers=auth).json()
    second = client.get(f"/v1/calls?limit=2&cursor={first['next_cursor']}", headers=auth).json()
    third = client.get(f"/v1/calls?limit=2&cursor={second['next_cursor']}", headers=auth).json()
    seen = [c["id"] for page in (first, second, third) for c in page["calls"]]
    assert sorted(seen) == sorted(ids.values()) and len(set(seen)) == 6


def test_journal_summary_and_csv(data):
    client, auth, _ids = data
    journal = client.get(f"/v1/reports/kpi-journal?agent_id=ann&{PERIOD}", headers=auth).json()[
        "events"
    ]
    counters = sorted(e["counter"] for e in journal)
    assert counters == ["critical_fail", "customer_sentiment_drop", "rule:empathy", "rule:greeting",
                        "rule:greeting", "rule:rude", "silence_over_10s", "silence_over_10s"]  # fmt: skip
    silences = sorted(
        (e["offset_s"], e["value"]) for e in journal if e["counter"] == "silence_over_10s"
    )
    assert silences == [(5.0, 15.0), (30.0, 30.0)]  # between the turns, and to the end of the call
    page = client.get(f"/v1/reports/kpi-journal?{PERIOD}&limit=3", headers=auth).json()
    assert len(page["events"]) == 3 and page["next_cursor"] is not None
    summary = client.get(f"/v1/reports/summary?{PERIOD}&bucket=month", headers=auth).json()["rows"]
    ann = next(r for r in summary if r["agent_id"] == "ann")
    assert (
        ann["calls"] == 3
        and ann["counters"]["rule:greeting"] == 2
        and ann["period"] == "2026-10-01"
    )
    as_csv = client.get(f"/v1/reports/summary?{PERIOD}", headers={**auth, "Accept": "text/csv"})
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {r["agent_id"] for r in rows} == {"ann", "bob", "cy"}
    assert next(r for r in rows if r["agent_id"] == "ann")["critical_fail"] == "1"
    journal_csv = client.get(
        f"/v1/reports/kpi-journal?{PERIOD}", headers={**auth, "Accept": "text/csv"}
    )
    assert journal_csv.text.splitlines()[0].startswith("id,at,agent_id")


@pytest.mark.parametrize(
    ("path", "status", "parameter"),
    [
        ("/v1/agents/nobody/kpis", 404, None),
        ("/v1/teams/nowhere/kpis", 404, None),
        ("/v1/agents/ann/kpis?bucket=year", 422, "bucket"),
        ("/v1/agents/ann/kpis?from=yesterday", 422, "from"),
        ("/v1/agents/ann/kpis?from=2026-10-10&to=2026-10-01", 422, "to"),
        ("/v1/reports/summary?bucket=hour", 422, "bucket"),
    ],
)
def test_bad_requests(data, path, status, parameter):
    client, auth, _ = data
    r = client.get(path, headers=auth)
    assert r.status_code == status
    if parameter:
        assert r.json()["error"]["details"]["parameter"] == parameter


def test_a_period_without_calls_gives_zero_counts(data):
    client, auth, _ = data
    body = client.get(
        "/v1/agents/bob/kpis?from=2020-01-01&to=2020-03-31&bucket=week", headers=auth
    ).json()
    assert (
        body["totals"]["calls"] == 0
        and body["buckets"] == []
        and body["totals"]["critical_fail_rate"] == 0.0
    )


def test_csv_exports_do_not_carry_formulas(settings, data):
    """Agent ids and teams come from upstream systems: a spreadsheet must show them as text."""
    client, auth, _ = data
    evil_agent = '=HYPERLINK("http://evil.example/x","click")'
    evil_team = "+cmd|' /C calc'!A0"
    with session_scope(settings) as session:
        session.add(Agent(id=evil_agent, team=evil_team))
        session.flush()
        add_call(session, evil_agent, evil_team, DAY0, score=50, silence_ratio=0.1,
                 rules=["greeting"], shift=-0.9)  # fmt: skip
    csv_headers = {**auth, "Accept": "text/csv"}
    journal = client.get(f"/v1/reports/kpi-journal?{PERIOD}", headers=csv_headers).text
    rows = list(csv.DictReader(io.StringIO(journal)))
    mine = [r for r in rows if r["agent_id"].endswith('click")')]
    assert mine and all(r["agent_id"] == "'" + evil_agent for r in mine)
    assert all(r["team"] == "'" + evil_team for r in mine)
    drop = next(r for r in mine if r["counter"] == "customer_sentiment_drop")
    assert drop["value"] == "-0.9"  # a negative number is not a formula
    summary = client.get(f"/v1/reports/summary?{PERIOD}", headers=csv_headers).text
    assert "'" + evil_agent in {r["agent_id"] for r in csv.DictReader(io.StringIO(summary))}
    assert not any(line.startswith(("=", "+", "-", "@")) for line in summary.splitlines())
