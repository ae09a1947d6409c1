"""The review and coaching loop end to end, on real processes: ``speechqa serve`` (API, worker,
embedded Redis), users made with the CLI, and every step over HTTP as the people would take it."""

from __future__ import annotations

import io
import json
import wave

import httpx
import pytest

from tests.support import EXAMPLES, run_cli, wait_for

pytestmark = pytest.mark.slow  # it runs the speech model on two calls


def test_the_review_loop(service):
    base, env = service
    for name, role, extra in (("lee", "lead", []), ("rita", "reviewer", ["--team", "sales"]),
                              ("rob", "reviewer", ["--team", "sales"]),
                              ("ann", "agent", ["--agent", "ann"]),
                              ("cara", "coach", ["--team", "sales"])):  # fmt: skip
        run_cli(
            "user", "create", name, "--role", role, *extra, "--new-team", env=env
        )  # no calls yet
    key = {n: run_cli("apikey", "create", "--user", n, env=env).split()[-1]
           for n in ("lee", "rita", "rob", "ann", "cara")}  # fmt: skip
    ingest = run_cli("apikey", "create", "--scope", "ingest", env=env).split()[-1]
    http = {n: httpx.Client(base_url=base, headers={"Authorization": f"Bearer {k}"}, timeout=60)
            for n, k in {**key, "pbx": ingest}.items()}  # fmt: skip

    # An upstream system submits two calls; the worker analyses them.
    calls = {}
    for name in ("billing_refund", "angry_to_satisfied"):
        path = EXAMPLES / f"{name}.wav"
        channels = json.loads(path.with_suffix(".json").read_text())["channels"]
        meta = {"agent_id": "ann", "team": "sales", "external_id": name, "channels": channels}
        r = http["pbx"].post("/v1/calls", files={"audio": (path.name, path.read_bytes(), "audio/wav")},
                             data={"metadata": json.dumps(meta)})  # fmt: skip
        assert r.status_code == 202, r.text
        calls[name] = r.json()["id"]
    for cid in calls.values():
        status = wait_for(lambda cid=cid: (s := http["pbx"].get(f"/v1/calls/{cid}/status").json())
                      ["status"] in ("done", "failed") and s, "analysis")  # fmt: skip
        assert status["status"] == "done", status

    # A queue samples them for rita.
    queue = http["lee"].post("/v1/queues", json={
        "name": "ann", "reviewers": ["rita"],
        "rule": {"kind": "filter", "filters": {"agent_id": "ann"}, "limit": 5}}).json()  # fmt: skip
    assert len(http["lee"].post(f"/v1/queues/{queue['id']}/sample").json()["sampled"]) == 2
    assert {i["call_id"] for i in http["rita"].get("/v1/me/queue").json()["items"]} == set(
        calls.values()
    )

    # rita searches, opens the call, listens to a range, overrides an item and submits.
    found = http["rita"].get("/v1/calls", params={"q": '"charged twice"'}).json()["calls"]
    assert [c["id"] for c in found] == [calls["billing_refund"]]
    match = found[0]["matches"][0]
    assert match["start"] < match["end"] and "<mark>" in match["text"]
    call = calls["billing_refund"]
    assert http["rita"].get(f"/v1/calls/{call}").json()["status"] == "done"
    part = http["rita"].get(f"/v1/calls/{call}/audio", headers={"Range": "bytes=0-1023"})
    assert part.status_code == 206 and len(part.content) == 1024
    review = http["rita"].post(f"/v1/calls/{call}/reviews").json()
    target = next(
        i for i in review["items"] if i["automatic"]["applicable"] and i["automatic"]["passed"]
    )
    rid = review["id"]
    http["rita"].put(f"/v1/reviews/{rid}/items/{target['key']}",
                     json={"decision": "fail", "reason": "Not what the script asks"})  # fmt: skip
    submitted = http["rita"].post(f"/v1/reviews/{rid}/submit").json()
    assert submitted["score"] < review["automatic_score"]

    # ann disputes; lee adjusts; ann's KPIs show the final score.
    disputed = http["ann"].post(f"/v1/reviews/{rid}/dispute",
                                json={"items": [target["key"]], "comment": "I did say it"})  # fmt: skip
    assert disputed.status_code == 200, disputed.text
    resolved = http["lee"].post(f"/v1/reviews/{rid}/resolve", json={
        "outcome": "adjusted", "reason": "It was said",
        "answers": {target["key"]: {"decision": "accept"}}}).json()  # fmt: skip
    assert resolved["status"] == "resolved" and resolved["score"] == review["automatic_score"]
    rows = {c["id"]: c for c in http["ann"].get("/v1/calls").json()["calls"]}
    assert rows[call]["score_source"] == "review" and rows[call]["score"] == resolved["score"]
    kpis = http["ann"].get("/v1/agents/ann/kpis").json()["totals"]["metrics"]["qa_score"]
    assert kpis["mean"] == pytest.approx(
        (resolved["score"] + rows[calls["angry_to_satisfied"]]["score"]) / 2, abs=0.01
    )

    # A calibration session with two reviewers reports agreement and the machine's precision.
    session = http["lee"].post("/v1/calibrations", json={
        "name": "weekly", "calls": [call], "reviewers": ["rita", "rob"]}).json()  # fmt: skip
    for reviewer, override in (("rita", True), ("rob", False)):
        mine = http[reviewer].post(f"/v1/calibrations/{session['id']}/calls/{call}/reviews").json()
        if override:
            http[reviewer].put(f"/v1/reviews/{mine['id']}/items/{target['key']}",
                               json={"decision": "fail", "reason": "Missed"})  # fmt: skip
        assert http[reviewer].post(f"/v1/reviews/{mine['id']}/submit").status_code == 200
    report = http["lee"].get(f"/v1/calibrations/{session['id']}").json()
    assert 0 < report["percent_agreement"] < 1
    assert report["submitted"] == {"rita": 1, "rob": 1}
    assert any(m["precision"] is not None for m in report["machine"].values())

    # A coach pulls good and bad examples of stating the resolution: the shop call's agent says
    # "refunded"; the billing call's refund is lost to recognition (tiny.en hears "I can miss
    # you"), so it counts as a miss. Each address plays its span.
    for quality, expected in (("good", "angry_to_satisfied"), ("bad", "billing_refund")):
        found = http["cara"].get("/v1/coaching/examples",
                                 params={"rule": "resolution", "quality": quality}).json()  # fmt: skip
        assert [e["call_id"] for e in found["items"]] == [calls[expected]], (quality, found)
        example = found["items"][0]
        clip = http["cara"].get(example["audio_url"])
        assert clip.status_code == 200 and clip.headers["content-type"] == "audio/wav"
        with wave.open(io.BytesIO(clip.content)) as wav:
            seconds = wav.getnframes() / wav.getframerate()
        assert seconds == pytest.approx(example["end"] - example["start"], abs=0.01)
    good = http["cara"].get("/v1/coaching/examples",
                            params={"rule": "resolution", "quality": "good"}).json()["items"][0]  # fmt: skip
    assert "refund" in good["text"].lower() and good["speaker"] == "agent"
    assert "between the script steps" in example["reason"]  # the bad one: where it belonged

    # cara keeps the clip, coaches ann on it, and ann acknowledges.
    library = http["cara"].post("/v1/coaching/collections", json={"name": "verify first"}).json()
    saved = http["cara"].post(f"/v1/coaching/collections/{library['id']}/clips", json={
        "call_id": example["call_id"], "start": example["start"], "end": example["end"]})  # fmt: skip
    assert saved.status_code == 201, saved.text
    coached = http["cara"].post("/v1/coaching/sessions", json={
        "agent_id": "ann", "focus": [{"rule": "resolution"}, {"kpi": "qa_score"}],
        "clips": [{k: example[k] for k in ("call_id", "start", "end")}],
        "notes": "Verify the caller before anything else."}).json()  # fmt: skip
    impact = http["ann"].get(f"/v1/coaching/sessions/{coached['id']}").json()["impact"]
    assert impact[0]["agent"]["before"]["calls"] == 2
    assert impact[0]["agent"]["verdict"] == "not enough calls"
    ack = http["ann"].post(f"/v1/coaching/sessions/{coached['id']}/acknowledge")
    assert ack.status_code == 200 and ack.json()["acknowledged_by"] == "ann"
