"""One scoring step: after a re-score, every view of a call agrees with the evaluation that counts.

Calls are stored as the worker leaves them after transcription (from the sample calls'
reference text, so no ASR runs) and scored by the same step the worker uses; re-scoring goes
through the API and the queue as a QA lead would run it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from speechqa.scoring import score_calls
from speechqa.storage.database import session_scope
from tests.support import RULESET, reference_transcript, store_call, work

PERIOD = "from=2026-10-01&to=2026-10-31"
# A stricter version: the agent's "I understand" now counts as forbidden language.
STRICTER = RULESET.replace("stupid OR idiot", "stupid OR idiot OR understand")


def put(client, headers, text: str) -> int:
    r = client.put("/v1/rulesets/billing", headers=headers, content=text.encode())
    assert r.status_code in (200, 201), r.text
    version: int = r.json()["version"]
    return version


def rescore(client, settings, headers, version: int | None = None) -> dict[str, Any]:
    url = "/v1/rulesets/billing/rescore" + (f"?version={version}" if version else "")
    job = client.post(url, headers=headers)
    assert job.status_code == 202, job.text
    work(settings)
    status = client.get(job.json()["status_url"], headers=headers).json()
    assert status["status"] == "finished", status
    result: dict[str, Any] = status["result"]
    return result


@pytest.fixture
def calls(settings, client, admin):
    """Two billing-refund calls by Ann (she says "I understand") and an address change by Bob."""
    assert put(client, admin, RULESET) == 1
    refund, address = reference_transcript("billing_refund"), reference_transcript("address_change")
    with session_scope(settings) as session:
        ids = {
            "ann1": store_call(session, refund, agent_id="ann", team="billing", ruleset="billing",
                               started_at=datetime(2026, 10, 5, 9, tzinfo=UTC)),
            "ann2": store_call(session, refund, agent_id="ann", team="billing", ruleset="billing",
                               started_at=datetime(2026, 10, 6, 9, tzinfo=UTC)),
            "bob": store_call(session, address, agent_id="bob", team="billing", ruleset="billing",
                              started_at=datetime(2026, 10, 7, 9, tzinfo=UTC)),
        }  # fmt: skip
        score_calls(session, list(ids.values()))
    return ids


def listed(client, headers, query: str) -> dict[str, dict[str, Any]]:
    r = client.get(f"/v1/calls?{query}", headers=headers)
    assert r.status_code == 200, r.text
    return {row["id"]: row for row in r.json()["calls"]}


def journal(client, headers, counter: str) -> list[str]:
    r = client.get(f"/v1/reports/kpi-journal?{PERIOD}&counter={counter}", headers=headers)
    return sorted(e["call_id"] for e in r.json()["events"])


def test_rescoring_moves_the_document_list_kpis_leaderboard_and_journal(
    client, settings, admin, calls
):
    ann = sorted([calls["ann1"], calls["ann2"]])
    # Version 1: nobody fails.
    assert listed(client, admin, "critical_fail=true") == {}
    before = client.get(f"/v1/agents/ann/kpis?{PERIOD}", headers=admin).json()["totals"]
    assert before["critical_fail_rate"] == 0.0 and before["metrics"]["qa_score"]["mean"] > 0

    assert put(client, admin, STRICTER) == 2
    assert rescore(client, settings, admin) == {"ruleset": "billing", "version": 2, "calls": 3}

    # The document
    doc = client.get(f"/v1/calls/{calls['ann1']}", headers=admin).json()
    assert doc["score"]["version"] == 2
    assert doc["score"]["critical_fail"] is True and doc["score"]["value"] == 0.0
    # The call list: its filters and its score column
    failed = listed(client, admin, "critical_fail=true")
    assert sorted(failed) == ann
    assert all(row["score"] == 0.0 and row["critical_fail"] is True for row in failed.values())
    assert sorted(listed(client, admin, "max_score=50")) == ann
    assert sorted(listed(client, admin, "rule=rude")) == ann
    assert list(listed(client, admin, "critical_fail=false")) == [calls["bob"]]
    # Agent and team KPIs
    ann_kpis = client.get(f"/v1/agents/ann/kpis?{PERIOD}", headers=admin).json()["totals"]
    assert ann_kpis["critical_fail_rate"] == 1.0
    assert ann_kpis["metrics"]["qa_score"]["mean"] == 0.0
    assert ann_kpis["rule_hit_rate"]["rude"] == 1.0
    bob_kpis = client.get(f"/v1/agents/bob/kpis?{PERIOD}", headers=admin).json()["totals"]
    assert bob_kpis["critical_fail_rate"] == 0.0
    team = client.get(f"/v1/teams/billing/kpis?{PERIOD}", headers=admin).json()["totals"]
    assert team["critical_fail_rate"] == round(2 / 3, 4)
    # The leaderboard
    board = client.get(f"/v1/leaderboard?{PERIOD}&metric=qa_score", headers=admin).json()
    assert [(r["agent_id"], r["mean"]) for r in board["agents"]][-1] == ("ann", 0.0)
    assert board["agents"][0]["agent_id"] == "bob"
    # The journal
    assert journal(client, admin, "critical_fail") == ann
    assert journal(client, admin, "rule:rude") == ann

    # Re-scoring again changes nothing; re-scoring with the older version keeps its history but
    # the newest version still counts.
    assert rescore(client, settings, admin)["calls"] == 3
    assert rescore(client, settings, admin, version=1)["version"] == 1
    assert sorted(listed(client, admin, "critical_fail=true")) == ann
    assert journal(client, admin, "critical_fail") == ann
    doc = client.get(f"/v1/calls/{calls['ann1']}", headers=admin).json()
    assert doc["score"]["version"] == 2 and doc["score"]["critical_fail"] is True


def test_a_fixed_version_clears_the_fail_everywhere(client, settings, admin, calls):
    put(client, admin, STRICTER)
    rescore(client, settings, admin)
    assert sorted(listed(client, admin, "critical_fail=true")) == sorted(
        [calls["ann1"], calls["ann2"]]
    )
    # The lead takes the rule back: version 3 has the original text.
    assert put(client, admin, RULESET) == 3
    rescore(client, settings, admin)
    assert listed(client, admin, "critical_fail=true") == {}
    assert journal(client, admin, "critical_fail") == []
    kpis = client.get(f"/v1/agents/ann/kpis?{PERIOD}", headers=admin).json()["totals"]
    assert kpis["critical_fail_rate"] == 0.0 and kpis["metrics"]["qa_score"]["mean"] > 0
