"""Worker processes: a crashed worker's job is retried by another without duplicate results."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from speechqa.apikeys import Scope
from speechqa.calls import repository
from speechqa.storage.database import session_scope
from tests.support import EXAMPLES, ROOT, key_for, submit
from workers.redis_server import connect
from workers.worker import requeue_orphans

pytestmark = pytest.mark.slow  # they run the speech model


def _submit(settings, path=EXAMPLES / "billing_refund.wav", external_id="crash-1") -> str:
    with TestClient(create_app(settings)) as client:
        meta = {"agent_id": "a-1", "external_id": external_id}
        r = submit(client, key_for(settings, Scope.ADMIN), path, meta)
    assert r.status_code == 202, r.text
    call_id: str = r.json()["id"]
    return call_id


def _status(settings, call_id):
    with session_scope(settings) as session:
        call = repository.get_call(session, call_id)
        return call.status, call.attempts


def _worker(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cli.main", "worker", "--heartbeat", "3", *args],
        cwd=ROOT,
        env=dict(os.environ),
    )


def test_a_killed_workers_job_is_retried_by_another_worker(settings):
    call_id = _submit(settings)
    first = _worker()
    try:
        deadline = time.monotonic() + 60
        while _status(settings, call_id)[0] != "transcribing":
            assert time.monotonic() < deadline, "the worker never started the job"
            assert first.poll() is None, "the worker exited"
            time.sleep(0.05)
    finally:
        first.send_signal(signal.SIGKILL)  # a crash: no clean-up of any kind
        first.wait()
    assert _status(settings, call_id) == ("transcribing", 1)

    time.sleep(4)  # the dead worker's heartbeat (3 s) runs out
    second = _worker("--burst")
    assert second.wait(120) == 0
    status, attempts = _status(settings, call_id)
    assert (status, attempts) == ("done", 2)
    with session_scope(settings) as session:
        utterances = repository.utterances(session, call_id)
    assert [u.id for u in utterances] == list(range(len(utterances)))
    # One transcript, not two appended: a speaker's utterances never overlap each other.
    for speaker in ("agent", "customer"):
        mine = [u for u in utterances if u.speaker == speaker]
        assert mine, speaker
        assert all(a.end <= b.start for a, b in itertools.pairwise(mine)), speaker


def test_calls_whose_jobs_were_lost_are_queued_again(settings):
    call_id = _submit(settings, path=EXAMPLES / "address_change.wav", external_id="lost-1")
    connect(settings).flushdb()  # Redis lost its data (e.g. restarted without persistence)
    assert requeue_orphans(settings) == [call_id]
    assert requeue_orphans(settings) == []  # already queued: not twice


def test_a_running_worker_requeues_a_call_whose_enqueue_was_lost(settings):
    """The API stores a call, then Redis is unreachable for the enqueue: the call is not lost."""
    from datetime import timedelta

    from rq import Queue

    from speechqa.storage.tables import utcnow
    from workers.worker import build_worker

    call_id = _submit(settings, path=EXAMPLES / "address_change.wav", external_id="lost-2")
    connect(settings).flushdb()
    worker = build_worker(settings, heartbeat_s=30)
    worker.run_maintenance_tasks()
    queue = Queue(settings.queue_name, connection=connect(settings))
    assert queue.count == 0  # too recent: an API request may still be enqueueing it
    with session_scope(settings) as session:
        repository.get_call(session, call_id).updated_at = utcnow() - timedelta(minutes=5)
    worker.run_maintenance_tasks()
    assert queue.job_ids == [f"analyze-{call_id}"]
