"""Queue jobs. Each takes an id, runs a core use case, and is idempotent.

A job only decides what a failure means: input problems (undecodable audio, too long) fail the
call at once; an outage (the audio store) and unexpected errors are retried by RQ, and the call
fails only when no retry is left.
"""

from __future__ import annotations

from typing import Any

from rq import get_current_job
from rq.job import Job

from speechqa.analysis import stored
from speechqa.errors import ServiceUnavailable, SpeechQAError
from speechqa.scoring import rescore
from speechqa.settings import get_settings


def analyze_call(call_id: str) -> str:
    """Analyse a stored call and keep the result; a finished call is left as it is."""
    settings = get_settings()
    try:
        return stored.analyse_call(settings, call_id).outcome.value
    except Exception as exc:
        if isinstance(exc, SpeechQAError) and not isinstance(exc, ServiceUnavailable):
            stored.fail(settings, call_id, exc.message)
            return "failed"
        job = get_current_job()
        if job is not None and job.retries_left:
            stored.requeue(settings, call_id, f"retrying after an error: {exc!r}")
        else:
            stored.fail(settings, call_id, f"internal error: {exc!r}")
        raise


def on_analysis_failure(job: Job, connection: Any, exc_type: Any, value: Any, tb: Any) -> None:
    """RQ failure callback: also runs when a crashed worker's job is found abandoned."""
    if job.retries_left:
        return
    reason = f"analysis failed: {exc_type.__name__ if exc_type else 'unknown error'}"
    stored.abandon(get_settings(), job.args[0], reason)


def rescore_ruleset(name: str, version: int | None = None) -> dict[str, Any]:
    """Re-score the stored transcripts of ruleset ``name``'s calls (no transcription)."""
    job = get_current_job()

    def report(done: int, total: int) -> None:
        if job is not None:
            job.meta["progress"] = {"done": done, "total": total}
            job.save_meta()  # type: ignore[no-untyped-call]

    used, calls = rescore(get_settings(), name, version, report)
    return {"ruleset": name, "version": used, "calls": calls}
