"""Liveness and readiness: no API key, for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import SettingsDep
from api.schemas import Health, Readiness
from speechqa.errors import ServiceUnavailable
from speechqa.storage import database as db
from workers import redis_server

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(settings: SettingsDep) -> JSONResponse:
    """The database and the queue's Redis answer."""
    checks: dict[str, Any] = {}
    for name, probe in (("database", db.ping), ("redis", redis_server.ping)):
        try:
            await run_in_threadpool(probe, settings)
            checks[name] = "ok"
        except ServiceUnavailable as exc:
            checks[name] = exc.message
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
