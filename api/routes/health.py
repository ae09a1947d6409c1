"""Liveness and readiness: no API key, for load balancers and orchestrators."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from speechqa.errors import ServiceUnavailable
from speechqa.storage import database as db

from ..deps import JobsDep, SettingsDep
from ..schemas import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, responses={503: {"model": Readiness}})
async def readyz(settings: SettingsDep, jobs: JobsDep) -> JSONResponse:
    """The database and the queue's Redis answer, and a worker is there to analyse calls.

    Each check says ``ok`` or what is wrong, naming the part, never an address or credential.
    """
    checks: dict[str, Any] = {}
    probes: dict[str, Callable[[], None]] = {
        "database": partial(db.ping, settings),
        "redis": jobs.ping,
    }
    for name, probe in probes.items():
        try:
            await run_in_threadpool(probe)
            checks[name] = "ok"
        except ServiceUnavailable as exc:
            checks[name] = exc.message
    if checks["redis"] == "ok":
        try:
            count = await run_in_threadpool(jobs.worker_count)
            checks["workers"] = "ok" if count else "No worker is running: calls wait in the queue."
        except ServiceUnavailable:
            checks["workers"] = "Workers cannot be counted."
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
