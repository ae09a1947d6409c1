"""The job queue the API and the pages are handed (speechqa.jobs.JobQueue) on RQ: what it queues,
what it says of a job, and a 503-able error when Redis is away."""

from __future__ import annotations

import pytest
from redis import Redis
from speechqa_service.workers.queue import RQJobs
from speechqa_service.workers.redis_server import connect

from speechqa.errors import NotFound, ServiceUnavailable
from speechqa.jobs import JobQueue, JobState, QueueState
from speechqa.settings import Settings
from speechqa.storage.database import session_scope
from tests.support import reference_transcript, store_call, work


def test_a_call_is_queued_once_and_its_job_read_back(settings):
    jobs: JobQueue = RQJobs(settings, connect(settings))
    with session_scope(settings) as session:
        with_call = store_call(session, reference_transcript("address_change"))
    first = jobs.enqueue_analysis(with_call)
    assert jobs.enqueue_analysis(with_call) == first  # not twice while it waits
    assert jobs.job(first) == JobState(first, "queued", None, None, None)
    waiting = {q.name: q for q in jobs.queues()}
    assert waiting[settings.queue_name] == QueueState(settings.queue_name, 1, 0, 0)
    assert waiting[f"{settings.queue_name}-webhooks"].waiting == 0


def test_a_rescore_reports_its_result_or_its_error(settings):
    jobs = RQJobs(settings, connect(settings))
    job_id = jobs.enqueue_rescore("no-such-ruleset", 1)
    work(settings)
    failed = jobs.job(job_id)
    assert failed.status == "failed" and failed.result is None
    assert failed.error and "no-such-ruleset" in failed.error
    with pytest.raises(NotFound):
        jobs.job("no-such-job")


def test_every_operation_says_the_queue_is_unavailable_when_redis_is_away(tmp_path):
    settings = Settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:1/0")
    jobs = RQJobs(settings, Redis.from_url(settings.redis_url or "", socket_connect_timeout=1))
    for operation in (
        lambda: jobs.enqueue_analysis("c"),
        lambda: jobs.enqueue_rescore("default", 1),
        lambda: jobs.job("j"),
        jobs.ping,
        jobs.worker_count,
        jobs.queues,
    ):
        with pytest.raises(ServiceUnavailable):
            operation()
