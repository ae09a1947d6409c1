"""The app factory: the API, the web pages beside it, and the job queue both are handed.

uvicorn runs it as ``speechqa_service.app:create_app`` (``--factory``); ``speechqa serve`` runs
:func:`create_app`, and each of its ``--api-processes N`` processes :func:`from_environment`.
Nothing below this module imports another edge: the API and the pages reach the queue only
through the :class:`speechqa.jobs.JobQueue` set here on ``app.state.jobs``.
"""

from __future__ import annotations

from fastapi import FastAPI

from speechqa.logs import configure_logging
from speechqa.settings import Settings, get_settings
from speechqa_service.api.app import create_api, install_docs
from speechqa_service.web import app as web
from speechqa_service.workers.metrics import multiprocess_mode
from speechqa_service.workers.queue import RQJobs
from speechqa_service.workers.redis_server import connect


def create_app(settings: Settings | None = None) -> FastAPI:
    """The service's one application for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    connection = connect(settings)
    app: FastAPI = create_api(
        settings, RQJobs(settings, connection), every_process=multiprocess_mode()
    )
    app.state.redis = connection  # the queue's Redis connection, the one RQJobs uses
    web.install(app)  # the pages for people, beside the API
    install_docs(app, web.ASSETS.url)
    return app


def from_environment() -> FastAPI:
    """The app of each of ``speechqa serve --api-processes N``'s processes: settings from the
    environment, logging as they say."""
    settings = get_settings()
    configure_logging(settings)
    return create_app(settings)
