"""Coaching over HTTP: examples with addresses that play them, the clip library, sessions with
their impact, and the agent's acknowledgement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from speechqa.apikeys import create_key
from speechqa.scoring import score_calls
from speechqa.storage.database import session_scope
from speechqa.users import create_user
from tests.support import reference_transcript, store_call


@pytest.fixture
def world(settings, client):
    start = datetime.now(UTC) - timedelta(days=3)
    with session_scope(settings) as session:
        calls = [store_call(session, reference_transcript("billing_refund"), agent_id="ann",
                            team="north", started_at=start + timedelta(hours=n))
                 for n in range(3)]  # fmt: skip
        score_calls(session, calls)
        keys = {}
        for name, role, agent in (("carla", "coach", None), ("ann", "agent", "ann")):
            create_user(session, name, role, agent_id=agent)
            keys[name] = {"Authorization": f"Bearer {create_key(session, [], user=name)}"}
    return {"client": client, "calls": calls, "keys": keys}


def test_examples_carry_an_address_that_plays_the_span(world):
    client, coach = world["client"], world["keys"]["carla"]
    r = client.get("/v1/coaching/examples?quality=good&rule=empathy&limit=2", headers=coach)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert len(items) == 2 and {i["call_id"] for i in items} <= set(world["calls"])
    first = items[0]
    assert first["audio_url"] == f"/v1/calls/{first['call_id']}/audio?start=14.14&end=21.28"
    assert "sorry to hear that" in first["text"] and first["reason"]
    bad = client.get("/v1/coaching/examples?quality=good&kpi=qa_score", headers=coach)
    assert bad.status_code == 422 and bad.json()["error"]["details"] == {"parameter": "kpi"}
    assert client.get("/v1/coaching/examples?rule=empathy", headers=coach).status_code == 422


def test_the_clip_library(world):
    client, coach, call = world["client"], world["keys"]["carla"], world["calls"][0]
    r = client.post("/v1/coaching/collections", headers=coach,
                    json={"name": "great empathy", "description": "After a complaint"})  # fmt: skip
    assert r.status_code == 201, r.text
    collection = r.json()["id"]
    assert client.post("/v1/coaching/collections", headers=coach,
                       json={"name": "great empathy"}).status_code == 409  # fmt: skip
    url = f"/v1/coaching/collections/{collection}/clips"
    clip = client.post(url, headers=coach, json={"call_id": call, "start": 14.1, "end": 21.3,
                                                 "note": "listen to the pause"})  # fmt: skip
    assert clip.status_code == 201, clip.text
    body = clip.json()
    assert body["text"].startswith("I am sorry to hear that") and body["added_by"] == "carla"
    assert body["audio_url"] == f"/v1/calls/{call}/audio?start=14.1&end=21.3"
    assert client.post(url, headers=coach,
                       json={"call_id": call, "start": 14.1, "end": 21.3}).status_code == 409  # fmt: skip
    assert client.post(url, headers=coach,
                       json={"call_id": call, "start": 5, "end": 2}).status_code == 422  # fmt: skip
    assert client.post(url, headers=coach,
                       json={"call_id": "nope", "start": 1, "end": 2}).status_code == 404  # fmt: skip
    listed = client.get("/v1/coaching/collections", headers=coach).json()
    assert [(c["name"], c["clip_count"]) for c in listed] == [("great empathy", 1)]
    one = client.get(f"/v1/coaching/collections/{collection}", headers=coach).json()
    assert [c["note"] for c in one["clips"]] == ["listen to the pause"]
    assert client.delete(f"{url}/{body['id']}", headers=coach).status_code == 204
    assert client.delete(f"{url}/{body['id']}", headers=coach).status_code == 404
    assert client.get("/v1/coaching/collections/999", headers=coach).status_code == 404


def test_a_session_with_impact_and_the_agents_acknowledgement(world):
    client, coach, ann = world["client"], world["keys"]["carla"], world["keys"]["ann"]
    body = {
        "agent_id": "ann",
        "focus": [{"kpi": "qa_score"}, {"item": "2.0", "ruleset": "default"}],
        "clips": [{"call_id": world["calls"][0], "start": 14.1, "end": 21.3, "note": "this"}],
        "notes": "Empathy first, then the fix.",
        "goals": [{"focus": {"kpi": "qa_score"}, "target": 90, "due": "2026-12-31"}],
    }
    r = client.post("/v1/coaching/sessions", headers=coach, json=body)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["coach"] == "carla" and created["team"] == "north"
    assert created["clips"][0]["audio_url"].endswith("start=14.1&end=21.3")
    read = client.get(f"/v1/coaching/sessions/{created['id']}", headers=ann)
    assert read.status_code == 200, read.text
    qa, item = read.json()["impact"]
    # Three calls, all before the session: no estimate, said in words.
    assert qa["agent"]["before"]["calls"] == 3 and qa["agent"]["after"]["calls"] == 0
    assert qa["agent"]["verdict"] == "not enough calls" and qa["agent"]["change"] is None
    assert item["label"] == "item 2.0 of default pass rate"
    assert item["agent"]["before"]["value"] == 1.0
    assert read.json()["goals"] == [{"focus": {"kpi": "qa_score"}, "target": 90.0,
                                     "due": "2026-12-31", "current": None, "met": None}]  # fmt: skip
    url = f"/v1/coaching/sessions/{created['id']}/acknowledge"
    assert client.post(url, headers=coach).status_code == 403
    assert client.post(url, headers=ann).json()["acknowledged_by"] == "ann"
    assert client.post(url, headers=ann).status_code == 409
    assert [s["id"] for s in client.get("/v1/coaching/sessions", headers=ann).json()] == [
        created["id"]
    ]
    unknown = client.post("/v1/coaching/sessions", headers=coach,
                          json={**body, "agent_id": "nobody"})  # fmt: skip
    assert unknown.status_code == 404
    stray = client.post("/v1/coaching/sessions", headers=coach,
                        json={**body, "goals": [{"focus": {"kpi": "aht"}, "target": 1}]})  # fmt: skip
    assert stray.status_code == 422 and "one of the session's focus" in stray.text
    assert client.get("/v1/coaching/sessions/12345", headers=coach).status_code == 404
