"""Listening: the recording with byte ranges for seeking players, clips, deletion, retention."""

from __future__ import annotations

import io
import wave
from datetime import timedelta

import pytest

from speechqa.apikeys import Scope
from speechqa.calls import recordings
from speechqa.calls.recordings import apply_retention
from speechqa.storage.database import session_scope
from speechqa.storage.tables import Call, utcnow
from tests.support import EXAMPLES, key_for, stored_audio, submit

SAMPLE = EXAMPLES / "billing_refund.wav"


@pytest.fixture
def call_id(client, admin) -> str:
    r = submit(client, admin, SAMPLE)
    assert r.status_code == 202, r.text
    cid: str = r.json()["id"]
    return cid


def test_the_whole_recording_and_byte_ranges(client, admin, call_id):
    original = SAMPLE.read_bytes()
    whole = client.get(f"/v1/calls/{call_id}/audio", headers=admin)
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "audio/wav"
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.content == original

    part = client.get(f"/v1/calls/{call_id}/audio", headers={**admin, "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(original)}"
    assert part.content == original[100:200]
    tail = client.get(f"/v1/calls/{call_id}/audio", headers={**admin, "Range": "bytes=-64"})
    assert tail.status_code == 206 and tail.content == original[-64:]


@pytest.mark.parametrize(
    ("range_header", "status"),
    [("bytes=999999999-", 416), ("bytes=-0", 416), ("items=0-1", 422), ("bytes=5-1", 422),
     ("bytes=x-y", 422)],
)  # fmt: skip
def test_ranges_outside_the_file_or_malformed(client, admin, call_id, range_header, status):
    r = client.get(f"/v1/calls/{call_id}/audio", headers={**admin, "Range": range_header})
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] in ("range_not_satisfiable", "invalid_input")
    if status == 416:
        assert r.headers["content-range"] == f"bytes */{SAMPLE.stat().st_size}"


def test_a_clip_is_the_same_samples_as_the_recording(client, admin, call_id):
    r = client.get(f"/v1/calls/{call_id}/audio?start=10&end=12.5", headers=admin)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(r.content)) as clip, wave.open(str(SAMPLE)) as source:
        assert (clip.getnchannels(), clip.getframerate()) == (2, source.getframerate())
        rate = source.getframerate()
        assert clip.getnframes() == int(2.5 * rate)
        source.setpos(10 * rate)
        expected = source.readframes(int(2.5 * rate))
        assert clip.readframes(clip.getnframes()) == expected


def test_a_clip_past_the_end_stops_at_the_end(client, admin, call_id):
    r = client.get(f"/v1/calls/{call_id}/audio?start=60&end=900", headers=admin)
    assert r.status_code == 200, r.text
    with wave.open(io.BytesIO(r.content)) as clip, wave.open(str(SAMPLE)) as source:
        expected = source.getnframes() - 60 * source.getframerate()
        assert abs(clip.getnframes() - expected) <= source.getframerate() // 100


@pytest.mark.parametrize(
    ("query", "status"),
    [("start=500&end=510", 416), ("start=5&end=5", 422), ("start=0&end=20", 422),
     ("start=-1&end=2", 422), ("start=nan&end=2", 422)],
)  # fmt: skip
def test_bad_clip_spans(client, admin, call_id, query, status, monkeypatch):
    monkeypatch.setattr(recordings, "MAX_CLIP_S", 15.0)
    r = client.get(f"/v1/calls/{call_id}/audio?{query}", headers=admin)
    assert r.status_code == status, r.text


def test_listening_needs_the_review_scope_and_a_known_call(client, settings, call_id):
    ingest = key_for(settings, Scope.INGEST)
    assert client.get(f"/v1/calls/{call_id}/audio", headers=ingest).status_code == 403
    review = key_for(settings, Scope.REVIEW)
    assert client.get("/v1/calls/nope/audio", headers=review).status_code == 404


def test_deleting_a_call_removes_its_audio_and_everything_derived(client, settings, admin, call_id):
    review = key_for(settings, Scope.REVIEW)
    assert client.delete(f"/v1/calls/{call_id}", headers=review).status_code == 403
    assert client.delete(f"/v1/calls/{call_id}", headers=admin).status_code == 204
    assert client.get(f"/v1/calls/{call_id}", headers=admin).status_code == 404
    assert stored_audio(settings) == []
    assert client.delete(f"/v1/calls/{call_id}", headers=admin).status_code == 404


def test_retention_removes_old_audio_and_keeps_the_call(client, settings, admin, call_id):
    with session_scope(settings) as session:
        call = session.get(Call, call_id)
        assert call is not None
        call.status = "done"
        call.created_at = utcnow() - timedelta(days=40)
        assert apply_retention(session, settings, days=60) == 0
        assert apply_retention(session, settings, days=30) == 1
    gone = client.get(f"/v1/calls/{call_id}/audio", headers=admin)
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "gone"
    assert client.get(f"/v1/calls/{call_id}", headers=admin).status_code == 200
    assert stored_audio(settings) == []
