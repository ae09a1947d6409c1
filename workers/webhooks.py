"""The webhook queue and its worker: deliveries go out by their own queue and process.

Attempts are RQ jobs on ``<queue_name>-webhooks``, never on the analysis queue, and a webhook
worker loads no model; so a receiver that is down or slow holds up nothing but its own
deliveries. A job is queued only for a delivery that is due in the database, which means the
transaction that emitted it has committed: :func:`dispatch_due` claims due deliveries (safe with
many dispatchers on many machines) and queues one job per attempt. The webhook worker runs it
in a loop beside the RQ worker loop (``speechqa worker --queue webhooks``, and one started by
``speechqa serve``).
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from redis import Redis
from rq import Queue

from speechqa.settings import Settings, get_settings
from speechqa.storage.database import migrate, session_scope
from speechqa.storage.tables import utcnow
from speechqa.webhooks import delivery

from .redis_server import connect, wait_for_redis
from .worker import ObservedWorker

log = logging.getLogger(__name__)

PRUNE_EVERY_S = 3600.0


def webhook_queue(settings: Settings, connection: Redis) -> Queue:
    return Queue(f"{settings.queue_name}-webhooks", connection=connection)


def deliver_webhook(delivery_id: int) -> str:
    """Job: one attempt of a delivery (nothing when it is not due, or has succeeded)."""
    return delivery.attempt(get_settings(), delivery_id)


def dispatch_due(settings: Settings, connection: Redis, limit: int = 100) -> int:
    """Claim the deliveries that are due and queue an attempt of each; how many were queued.
    One whose job is lost (Redis down, a worker killed) is claimed again after the claim
    timeout."""
    with session_scope(settings) as session:
        ids = delivery.claim_due(session, settings.webhook_claim_timeout_s, limit)
    queue = webhook_queue(settings, connection)
    for delivery_id in ids:
        queue.enqueue(
            deliver_webhook,
            delivery_id,
            job_timeout=int(settings.webhook_timeout_s * 3) + 30,
            result_ttl=3600,
            failure_ttl=24 * 3600,
            description=f"webhook delivery {delivery_id}",
        )
    return len(ids)


def prune(settings: Settings) -> int:
    """Forget messages older than the retention (with their deliveries and attempts)."""
    with session_scope(settings) as session:
        cutoff = utcnow() - timedelta(days=settings.webhook_retention_days)
        return delivery.prune(session, cutoff)


class Dispatcher:
    """A thread that dispatches due deliveries every ``webhook_poll_s`` and prunes hourly."""

    def __init__(self, settings: Settings, connection: Redis) -> None:
        self.settings = settings
        self.connection = connection
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="webhook-dispatcher", daemon=True)
        self._pruned_at = 0.0

    def start(self) -> Dispatcher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                while dispatch_due(self.settings, self.connection) and not self._stop.is_set():
                    pass  # a full batch: more may be due
                if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
                    self._pruned_at = time.monotonic()
                    if pruned := prune(self.settings):
                        log.info("pruned %d old webhook message(s)", pruned)
            except Exception:  # the database or Redis is away: the next tick tries again
                log.exception("dispatching webhook deliveries failed")
            self._stop.wait(self.settings.webhook_poll_s)


def build_webhook_worker(settings: Settings, *, name: str | None = None) -> ObservedWorker:
    """An RQ worker of the webhook queue that runs jobs in its own process (no fork per job:
    an attempt is a short HTTP request), each with its log line and job metrics."""
    connection = connect(settings)
    worker = ObservedWorker([webhook_queue(settings, connection)], connection=connection, name=name)
    worker.settings = settings
    return worker


def run_webhook_worker(settings: Settings, *, burst: bool = False) -> None:
    """Migrate, then dispatch due deliveries and work the webhook queue until stopped (with
    ``burst``: dispatch what is due now, send it, and return)."""
    migrate(settings)
    wait_for_redis(settings)
    worker = build_webhook_worker(settings)
    if burst:
        dispatch_due(settings, worker.connection)
        worker.work(burst=True, with_scheduler=False)
        return
    dispatcher = Dispatcher(settings, worker.connection).start()
    try:
        worker.work(with_scheduler=False)
    finally:
        dispatcher.stop()
