"""The background jobs the edges start and read, as a protocol.

The API and the web pages queue a call's analysis or a re-scoring and read where a job stands
through :class:`JobQueue`, never through the queue's own code: ``workers/queue.py`` implements it
on RQ and the app factory (``speechqa_service.app``) hands that implementation to both. A test
can hand them another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class JobState:
    """Where a background job stands."""

    id: str
    status: str
    """queued, started, finished, failed... (unknown when the queue no longer says)"""
    progress: dict[str, int] | None
    """``{"done": n, "total": m}`` while a re-scoring runs"""
    result: Any
    """What the job returned, once finished"""
    error: str | None
    """The last line of the error of a failed job"""


@dataclass(frozen=True)
class QueueState:
    """One queue's depth, failed jobs and live workers, for the metrics."""

    name: str
    waiting: int
    failed: int
    workers: int


class JobQueue(Protocol):
    """The queue as the edges use it. Every operation raises
    :class:`speechqa.errors.ServiceUnavailable` when the queue cannot be reached."""

    def enqueue_analysis(self, call_id: str) -> str:
        """Queue the analysis of a stored call (once: not again while a job for it is queued or
        running); the job's id."""
        ...

    def enqueue_rescore(self, name: str, version: int) -> str:
        """Queue a re-scoring of ruleset ``name`` at ``version`` over its stored transcripts;
        the job's id."""
        ...

    def job(self, job_id: str) -> JobState:
        """Where the job stands (:class:`speechqa.errors.NotFound` for an unknown id)."""
        ...

    def ping(self) -> None:
        """Return when the queue answers; raise ServiceUnavailable (naming no address)."""
        ...

    def worker_count(self) -> int:
        """Live workers of the analysis queue."""
        ...

    def queues(self) -> list[QueueState]:
        """The state of each queue the metrics report."""
        ...

    def close(self) -> None:
        """Let go of the connection (at the app's shutdown)."""
        ...
