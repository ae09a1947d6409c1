"""Prometheus metrics of the API, and the ``/metrics`` endpoint that serves every metric.

- :class:`HTTPMetrics` counts requests by method, route template and status, and times them.
- ``/metrics`` answers without an API key (scrape it from the private network; do not route it
  from the internet) and is left out of the OpenAPI schema. It serves this process's metrics,
  or, under ``speechqa serve`` (``PROMETHEUS_MULTIPROC_DIR`` set), those of every API and worker
  process of the machine added up; plus what the database and Redis hold
  (:mod:`api.collector`), read at each scrape.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from speechqa.jobs import JobQueue
from speechqa.settings import Settings

from .collector import StateCollector
from .requestlog import route_template

REQUESTS = Counter(
    "speechqa_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "speechqa_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
)

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Prometheus text exposition; no API key."""
    registry: CollectorRegistry = request.app.state.metrics
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class HTTPMetrics:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sent(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sent)
        finally:
            method, route = scope["method"], route_template(scope)
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)


class _ThisProcess(Collector):
    """The default registry's metrics (this process's), for a registry of our own."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def install(app: FastAPI, settings: Settings, jobs: JobQueue, *, every_process: bool) -> None:
    """Count the app's requests and serve ``/metrics``: every process's metrics added up with
    ``every_process`` (prometheus_client writes to ``PROMETHEUS_MULTIPROC_DIR``), else this
    process's."""
    registry = CollectorRegistry()
    if every_process:
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    registry.register(StateCollector(settings, jobs))
    app.state.metrics = registry
    app.add_middleware(HTTPMetrics)
    app.include_router(router)
