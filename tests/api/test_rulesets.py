"""Rulesets over HTTP: versions, validation, scored calls and re-scoring without transcription."""

from __future__ import annotations

import json

import pytest

from speechqa.apikeys import Scope
from speechqa.storage.database import session_scope
from tests.support import EXAMPLES, RULESET, key_for, submit, work


def yaml_body(text):
    return {"content": text.encode()}


def submit_sample(client, headers, name, external_id, ruleset=None):
    meta = {"agent_id": "a-1", "external_id": external_id}
    if ruleset:
        meta["ruleset"] = ruleset
    return submit(client, headers, EXAMPLES / f"{name}.wav", meta)


def test_put_get_versions_and_validate(client, settings):
    admin = key_for(settings, Scope.ADMIN)
    first = client.put("/v1/rulesets/billing", headers=admin, **yaml_body(RULESET))
    assert first.status_code == 201, first.text
    assert first.json() == {"name": "billing", "version": 1, "created": True, "rules": 5}
    same = client.put("/v1/rulesets/billing", headers=admin, **yaml_body(RULESET))
    assert same.status_code == 200 and same.json()["version"] == 1
    changed = RULESET.replace("stupid OR idiot", "stupid OR idiot OR dumb")
    second = client.put(
        "/v1/rulesets/billing",
        headers={**admin, "content-type": "application/json"},
        content=json.dumps({"source": changed}),
    )
    assert second.status_code == 201 and second.json()["version"] == 2
    got = client.get("/v1/rulesets/billing", headers=admin).json()
    assert got["version"] == 2 and [v["version"] for v in got["versions"]] == [1, 2]
    assert "dumb" in got["source"]
    old = client.get("/v1/rulesets/billing?version=1", headers=admin).json()
    assert "dumb" not in old["source"]
    names = client.get("/v1/rulesets", headers=admin).json()["rulesets"]
    assert {"name": "billing", "version": 2} in names and any(n["name"] == "default" for n in names)
    ok = client.post("/v1/rulesets/validate", headers=admin, **yaml_body(RULESET))
    assert ok.json() == {
        "valid": True,
        "name": "billing",
        "rules": 5,
        "script_steps": 3,
        "scorecard_items": 4,
    }


def test_an_invalid_ruleset_is_422_with_every_problem_and_changes_nothing(client, settings):
    admin = key_for(settings, Scope.ADMIN)
    client.put("/v1/rulesets/billing", headers=admin, **yaml_body(RULESET))
    broken = RULESET.replace(
        "match: '\"sorry to hear\" OR understand'", "match: sorry hear"
    ).replace("steps: [greeting", "steps: [ghost")
    for method, path in (("put", "/v1/rulesets/billing"), ("post", "/v1/rulesets/validate")):
        r = client.request(method, path, headers=admin, **yaml_body(broken))
        assert r.status_code == 422
        error = r.json()["error"]
        assert error["code"] == "invalid_ruleset"
        wheres = [p["where"] for p in error["details"]]
        assert "rule 'empathy'" in wheres and "script step 1" in wheres
    assert client.get("/v1/rulesets/billing", headers=admin).json()["version"] == 1
    renamed = client.put("/v1/rulesets/other", headers=admin, **yaml_body(RULESET))
    assert renamed.status_code == 422 and "named 'billing'" in renamed.json()["error"]["message"]


def test_ruleset_routes_need_the_right_scope(client, settings):
    review = key_for(settings, Scope.REVIEW)
    assert (
        client.put("/v1/rulesets/billing", headers=review, **yaml_body(RULESET)).status_code == 403
    )
    assert client.get("/v1/rulesets/nope", headers=review).status_code == 404
    assert client.post("/v1/rulesets/default/rescore", headers=review).status_code == 403


@pytest.mark.slow
def test_a_call_is_scored_with_its_ruleset_and_rescored_without_transcribing(client, settings):
    admin = key_for(settings, Scope.ADMIN)
    assert (
        client.put("/v1/rulesets/billing", headers=admin, **yaml_body(RULESET)).status_code == 201
    )
    unknown = submit_sample(client, admin, "billing_refund", "x-1", ruleset="nonexistent")
    assert unknown.status_code == 422 and "nonexistent" in unknown.json()["error"]["message"]
    call = submit_sample(client, admin, "billing_refund", "bill-1", ruleset="billing").json()["id"]
    work(settings)

    doc = client.get(f"/v1/calls/{call}", headers=admin).json()
    matched = {r["id"]: r["matched"] for r in doc["rules"]}
    assert matched == {
        "greeting": True,
        "complaint": True,
        "empathy": True,
        "rude": False,
        "closing": True,
    }
    complaint = next(r for r in doc["rules"] if r["id"] == "complaint")
    hit = complaint["hits"][0]
    assert hit["speaker"] == "customer" and "charged twice" in hit["text"].lower()
    assert (
        hit["start"] < hit["end"] and doc["utterances"][hit["utterance"]]["speaker"] == "customer"
    )
    assert doc["script"]["adherence"] == 1.0
    assert doc["score"]["value"] == 100.0 and doc["score"]["version"] == 1

    # A stricter version: the agent's "I understand" now counts as a critical miss.
    stricter = RULESET.replace("stupid OR idiot", "stupid OR idiot OR understand")
    assert (
        client.put("/v1/rulesets/billing", headers=admin, **yaml_body(stricter)).json()["version"]
        == 2
    )
    utterances_before = doc["utterances"]
    job = client.post("/v1/rulesets/billing/rescore", headers=admin)
    assert job.status_code == 202
    work(settings)
    status = client.get(job.json()["status_url"], headers=admin).json()
    assert status["status"] == "finished" and status["result"] == {
        "ruleset": "billing",
        "version": 2,
        "calls": 1,
    }
    rescored = client.get(f"/v1/calls/{call}", headers=admin).json()
    assert rescored["utterances"] == utterances_before  # no new transcription
    assert rescored["score"]["version"] == 2
    assert rescored["score"]["critical_fail"] is True and rescored["score"]["value"] == 0.0

    from sqlalchemy import select

    from speechqa.storage.tables import EvaluationRow

    with session_scope(settings) as session:
        history = session.execute(
            select(EvaluationRow.version, EvaluationRow.score)
            .where(EvaluationRow.call_id == call)
            .order_by(EvaluationRow.id)
        ).all()
    assert [tuple(h) for h in history] == [(1, 100.0), (2, 0.0)]


@pytest.mark.slow
def test_calls_without_a_ruleset_get_the_default(client, settings):
    admin = key_for(settings, Scope.ADMIN)
    call = submit_sample(client, admin, "address_change", "addr-1").json()["id"]
    work(settings)
    doc = client.get(f"/v1/calls/{call}", headers=admin).json()
    score = doc["score"]
    assert score["ruleset"] == "default" and score["version"] == 1
    matched = {r["id"] for r in doc["rules"] if r["matched"]}
    assert {"greeting", "introduction", "identification", "further_help", "closing"} <= matched
    items = {i["item"]: i for s in score["sections"] for i in s["items"]}
    empathy = items["Empathy within a minute of the customer's complaint"]
    assert (
        empathy["applicable"] is False and "did not occur" in empathy["reason"]
    )  # N/A: no complaint
    assert items["No forbidden language"]["passed"] is True
    assert score["critical_fail"] is False and score["value"] >= 80
