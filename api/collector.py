"""A Prometheus collector of what the database and Redis hold, read at each scrape.

Calls by status, analysed audio, queue depths, failed jobs and live workers are the same
whichever API process or machine is scraped, so they are read from where they are kept rather
than counted in one process. A source that cannot be read is reported by ``speechqa_state_up``
and its metrics are left out of that scrape. The queues are read through the job queue the app
was handed (:class:`speechqa.jobs.JobQueue`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from speechqa.calls import totals
from speechqa.errors import ServiceUnavailable
from speechqa.jobs import JobQueue
from speechqa.settings import Settings
from speechqa.storage.database import session_scope

log = logging.getLogger(__name__)


class StateCollector(Collector):
    def __init__(self, settings: Settings, jobs: JobQueue) -> None:
        self.settings = settings
        self.jobs = jobs

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "speechqa_state_up",
            "Whether this scrape could read the source (database, redis).",
            labels=["source"],
        )
        try:
            yield from self._database()
            up.add_metric(["database"], 1)
        except SQLAlchemyError as exc:
            log.warning("metrics: the database cannot be read: %s", type(exc).__name__)
            up.add_metric(["database"], 0)
        try:
            yield from self._queues()
            up.add_metric(["redis"], 1)
        except ServiceUnavailable as exc:
            log.warning("metrics: the queue cannot be read: %s", exc.message)
            up.add_metric(["redis"], 0)
        yield up

    def _database(self) -> list[Metric]:
        with session_scope(self.settings) as session:
            counts = totals.calls_by_status(session)
            audio_s = totals.analysed_audio_s(session)
        calls = GaugeMetricFamily("speechqa_calls", "Stored calls, by status.", labels=["status"])
        for status, count in counts.items():
            calls.add_metric([status.value], count)
        audio = GaugeMetricFamily(
            "speechqa_audio_analysed_seconds",
            "Seconds of audio in the calls whose analysis is done.",
            value=audio_s,
        )
        return [calls, audio]

    def _queues(self) -> list[Metric]:
        waiting = GaugeMetricFamily(
            "speechqa_queue_jobs", "Jobs waiting in the queue.", labels=["queue"]
        )
        failed = GaugeMetricFamily(
            "speechqa_queue_failed_jobs", "Jobs in the queue's failed registry.", labels=["queue"]
        )
        workers = GaugeMetricFamily(
            "speechqa_workers", "Live workers listening on the queue.", labels=["queue"]
        )
        for queue in self.jobs.queues():
            waiting.add_metric([queue.name], queue.waiting)
            failed.add_metric([queue.name], queue.failed)
            workers.add_metric([queue.name], queue.workers)
        return [waiting, failed, workers]
