"""Background jobs other than call analysis (re-scoring): their status and result."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path

from api.deps import Admin, RedisDep
from api.schemas import ERRORS, JobRead
from workers.queue import job_status

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=ERRORS)


@router.get("/{job_id}", response_model=JobRead)
def get_job(
    redis: RedisDep, _: Admin, job_id: str = Path(pattern=r"^[A-Za-z0-9_-]{1,100}$")
) -> dict[str, Any]:
    """Where a re-scoring job stands: status, progress (done/total), result or error."""
    return job_status(redis, job_id)
