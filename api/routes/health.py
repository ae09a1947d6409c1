"""Liveness and readiness: no API key, for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import SettingsDep
from speechqa import db
from speechqa.errors import ServiceUnavailable
from workers import redis_server

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
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
