"""The FastAPI application: routes, error mapping and the connections they share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.routes import calls, health, jobs, kpis, rulesets
from speechqa import __version__
from speechqa.settings import Settings, get_settings
from speechqa.storage.database import migrate
from workers.redis_server import connect


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(settings)
        yield
        app.state.redis.close()

    app = FastAPI(
        title="speechqa",
        version=__version__,
        description="Speech analytics for contact-center call review.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.redis = connect(settings)
    errors.install(app)
    app.include_router(health.router)
    app.include_router(calls.router)
    app.include_router(rulesets.router)
    app.include_router(jobs.router)
    app.include_router(kpis.router)
    return app
