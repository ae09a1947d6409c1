"""Background jobs other than call analysis (re-scoring): their status and result."""

from __future__ import annotations

from fastapi import APIRouter, Path

from speechqa.jobs import JobState

from ..deps import Admin, JobsDep
from ..schemas import ERRORS, JobRead

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], responses=ERRORS)


@router.get("/{job_id}", response_model=JobRead)
def get_job(
    jobs: JobsDep, _: Admin, job_id: str = Path(pattern=r"^[A-Za-z0-9_-]{1,100}$")
) -> JobState:
    """Where a re-scoring job stands: status, progress (done/total), result or error."""
    return jobs.job(job_id)
