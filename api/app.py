"""The API's FastAPI application: routes, error mapping, middleware and metrics.

It is built by the app factory (``speechqa_service.app``), which hands it the job queue and puts
the web pages beside it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

from speechqa import __version__
from speechqa.jobs import JobQueue
from speechqa.settings import Settings
from speechqa.storage import datadir
from speechqa.storage.audio import audio_store, clean_spool
from speechqa.storage.database import migrate
from speechqa.throttle import FailureLimiter

from . import errors, metrics
from .guards import RequestGuard
from .headers import SecurityHeaders
from .requestlog import RequestLog
from .routes import (
    apikeys,
    calibration,
    calls,
    coaching,
    health,
    jobs,
    kpis,
    queue_calls,
    queues,
    reviews,
    rulesets,
    users,
    webhooks,
)


def create_api(settings: Settings, job_queue: JobQueue, *, every_process: bool) -> FastAPI:
    """The API on ``job_queue`` (closed when the app stops); ``every_process``: ``/metrics``
    adds up every process's metrics (see :func:`api.metrics.install`)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        datadir.secure(settings)
        migrate(settings)
        clean_spool(audio_store(settings))  # uploads cut off by a crash of an earlier API
        yield
        job_queue.close()

    app = FastAPI(
        title="speechqa",
        version=__version__,
        description="Speech analytics for contact-center call review.",
        lifespan=lifespan,
        docs_url=None,  # served below from the installed package, not a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.jobs = job_queue
    app.state.auth_failures = FailureLimiter(settings.auth_failures_per_minute)
    errors.install(app)
    app.add_middleware(RequestGuard, settings=settings)
    metrics.install(app, settings, job_queue, every_process=every_process)  # no API key
    app.add_middleware(RequestLog)
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, errors too
    app.include_router(health.router)
    app.include_router(calls.router)
    app.include_router(rulesets.router)
    app.include_router(jobs.router)
    app.include_router(kpis.router)
    app.include_router(apikeys.router)
    app.include_router(users.router)
    app.include_router(reviews.router)
    app.include_router(queues.router)
    app.include_router(queue_calls.router)
    app.include_router(calibration.router)
    app.include_router(webhooks.router)
    app.include_router(coaching.router)
    return app


def install_docs(app: FastAPI, url: Callable[[str], str]) -> None:
    """/docs (Swagger UI) and /redoc with their scripts from the app itself (``url``: the address
    of a static file the app serves): they work offline."""
    oauth2_redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="speechqa API",
            oauth2_redirect_url=oauth2_redirect,
            swagger_js_url=url("docs/swagger-ui-bundle.js"),
            swagger_css_url=url("docs/swagger-ui.css"),
            swagger_favicon_url=url("favicon.png"),
        )

    @app.get(oauth2_redirect, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="speechqa API",
            redoc_js_url=url("docs/redoc.standalone.js"),
            redoc_favicon_url=url("favicon.png"),
            with_google_fonts=False,
        )
