"""Background jobs other than call analysis (re-scoring): their status and result."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from rq.exceptions import NoSuchJobError
from rq.job import Job

from api.deps import Admin, RedisDep
from speechqa.errors import NotFound

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get("/{job_id}")
def get_job(job_id: str, redis: RedisDep, _: Admin) -> dict[str, Any]:
    try:
        job = Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        raise NotFound(f"No job with id {job_id!r}.") from None
    status = job.get_status(refresh=True)
    error = None
    latest = job.latest_result() if job.is_failed else None
    if latest is not None and latest.exc_string:
        error = latest.exc_string.strip().splitlines()[-1]
    return {
        "id": job.id,
        "status": str(status.value if status is not None else "unknown"),
        "progress": job.meta.get("progress"),
        "result": job.return_value() if status is not None and status.value == "finished" else None,
        "error": error,
    }
