"""The call list and transcripts downloaded over the API, and tags set on many calls: the CSV is
every call the same filters list (no other team's), streamed; a user's time zone is its local
column; the transcript comes as text, JSON and WebVTT."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from speechqa.apikeys import create_key
from speechqa.storage.database import session_scope
from speechqa.users import create_user
from tests.support import reference_transcript, store_call

START = datetime(2026, 11, 24, 9, 14, tzinfo=UTC)


def test_csv_transcripts_and_bulk_tags_over_the_api(settings, client) -> None:
    with session_scope(settings) as session:
        create_user(session, "rita", "reviewer", teams=["billing"], time_zone="Europe/Berlin")
        key = {"Authorization": f"Bearer {create_key(session, [], user='rita')}"}
        ids = [store_call(session, reference_transcript("billing_refund"), agent_id="a-17",
                          team="billing", started_at=START + timedelta(hours=n))
               for n in range(60)]  # fmt: skip
        other = store_call(session, reference_transcript("billing_refund"), agent_id="a-30",
                           team="support", started_at=START)  # fmt: skip
    r = client.get("/v1/calls", headers={**key, "Accept": "text/csv"}, params={"limit": 5})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["id"] for row in table] == ids[::-1] and other not in r.text  # every page
    first = table[-1]
    assert (first["time_utc"], first["time_local"], first["time_zone"]) == (
        "2026-11-24T09:14:00Z", "2026-11-24 10:14:00", "Europe/Berlin")  # fmt: skip
    asked = client.get("/v1/calls", headers={**key, "Accept": "text/csv"},
                       params={"time_zone": "Asia/Tokyo", "sort": "time", "order": "asc"})  # fmt: skip
    assert next(csv.DictReader(io.StringIO(asked.text)))["time_local"] == "2026-11-24 18:14:00"
    bad = client.get(
        "/v1/calls", headers={**key, "Accept": "text/csv"}, params={"time_zone": "Mars/Base"}
    )
    assert bad.status_code == 422 and "time zone" in bad.json()["error"]["message"]

    vtt = client.get(f"/v1/calls/{ids[0]}/transcript", headers=key, params={"format": "vtt"})
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT")
    assert vtt.headers["content-type"].startswith("text/vtt")
    txt = client.get(f"/v1/calls/{ids[0]}/transcript", headers=key)
    assert "] Agent: " in txt.text
    doc = client.get(f"/v1/calls/{ids[0]}/transcript", headers=key, params={"format": "json"})
    assert doc.json()["utterances"][0]["label"] == "Agent"
    assert client.get(f"/v1/calls/{other}/transcript", headers=key).status_code == 404

    tagged = client.post("/v1/calls/tags", headers=key, json={"calls": ids[:3], "add": ["vip"]})
    assert tagged.status_code == 200 and sorted(tagged.json()["changed"]) == sorted(ids[:3])
    listed = client.get("/v1/calls", headers=key, params={"tag": "vip"}).json()["calls"]
    assert {c["id"] for c in listed} == set(ids[:3]) and listed[0]["tags"] == ["vip"]
    refused = client.post("/v1/calls/tags", headers=key, json={"calls": [other], "add": ["x"]})
    assert refused.status_code == 404
