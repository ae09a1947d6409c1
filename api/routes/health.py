"""Liveness and readiness: no API key, for load balancers and orchestrators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from api.deps import RedisDep, SettingsDep
from api.schemas import Health, Readiness
from speechqa.errors import ServiceUnavailable
from speechqa.storage import database as db
from workers import redis_server
from workers.queue import worker_count

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(settings: SettingsDep, redis: RedisDep) -> JSONResponse:
    """The database and the queue's Redis answer, and a worker is there to analyse calls.

    Each check says ``ok`` or what is wrong, naming the part, never an address or credential.
    """
    checks: dict[str, Any] = {}
    for name, probe in (("database", db.ping), ("redis", redis_server.ping)):
        try:
            await run_in_threadpool(probe, settings)
            checks[name] = "ok"
        except ServiceUnavailable as exc:
            checks[name] = exc.message
    if checks["redis"] == "ok":
        try:
            count = await run_in_threadpool(worker_count, settings, redis)
            checks["workers"] = "ok" if count else "No worker is running: calls wait in the queue."
        except RedisError:
            checks["workers"] = "Workers cannot be counted."
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
