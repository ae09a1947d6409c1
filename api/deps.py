"""FastAPI dependencies: settings, database session, the job queue, and the caller's API key.

Authentication runs in a transaction of its own that ends before the route body runs, so a
request never holds two database connections, and an upload holds none while its bytes stream.
A route's own transaction commits before its answer is sent (see ``SessionDep``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.access import Action
from speechqa.apikeys import Principal, authenticate
from speechqa.jobs import JobQueue
from speechqa.settings import Settings
from speechqa.storage.database import answered_scope, session_scope
from speechqa.throttle import FailureLimiter

MAX_ID = 2_147_483_647
"""Ids and versions are 32-bit in the database: larger numbers in a request are a 422."""
Version = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Default: the newest.")]
From = Annotated[
    str | None,
    Query(alias="from", min_length=1, description="Start date (YYYY-MM-DD) or datetime."),
]
"""``from=`` (empty) is refused, and the schema says so; other text is checked by the core."""
To = Annotated[
    str | None,
    Query(min_length=1, description="End date (YYYY-MM-DD, included) or datetime."),
]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    with answered_scope(settings) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
"""The route's transaction. ``scope="function"``: it commits when the route returns, before
the response is sent, so a 2xx means stored and a refused commit answers 500 ``not_stored``
(the default scope would commit after the client had its answer)."""


def get_jobs(request: Request) -> JobQueue:
    jobs: JobQueue = request.app.state.jobs
    return jobs


JobsDep = Annotated[JobQueue, Depends(get_jobs)]
"""The job queue the app factory handed the app (``speechqa_service.app``)."""

_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]


def require(action: Action) -> Callable[..., Principal]:
    """A dependency that authenticates the caller and checks it may do ``action``
    (:mod:`speechqa.access` decides)."""

    def dependency(request: Request, settings: SettingsDep, credentials: Credentials) -> Principal:
        limiter: FailureLimiter = request.app.state.auth_failures
        client = request.client.host if request.client else "unknown"
        token = credentials.credentials.strip() if credentials else None

        def check() -> Principal:
            with session_scope(settings) as session:
                return authenticate(session, token)

        principal = limiter.attempt(client, token, check)  # wrong keys counted, right ones not
        request.state.key_id = principal.key_id  # for the request's log line
        access.require(principal, action)
        return principal

    return dependency


# One alias per action (speechqa.access.Action); a route names what it does.
Ingest = Annotated[Principal, Depends(require(Action.SUBMIT_CALLS))]
Reader = Annotated[Principal, Depends(require(Action.READ_CALLS))]
"""Reviewers and up, and agents (who see only their own calls)."""
OriginalAudio = Annotated[Principal, Depends(require(Action.READ_ORIGINAL_AUDIO))]
Reviewing = Annotated[Principal, Depends(require(Action.REVIEW_CALLS))]
Tagger = Annotated[Principal, Depends(require(Action.TAG_CALLS))]
AnswerReview = Annotated[Principal, Depends(require(Action.ANSWER_REVIEW))]
Resolve = Annotated[Principal, Depends(require(Action.RESOLVE_DISPUTES))]
TeamReports = Annotated[Principal, Depends(require(Action.READ_TEAM_REPORTS))]
WorkQueue = Annotated[Principal, Depends(require(Action.WORK_QUEUE))]
ManageQueues = Annotated[Principal, Depends(require(Action.MANAGE_QUEUES))]
Calibrate = Annotated[Principal, Depends(require(Action.CALIBRATE))]
ManageCalibrations = Annotated[Principal, Depends(require(Action.MANAGE_CALIBRATIONS))]
ReadRulesets = Annotated[Principal, Depends(require(Action.READ_RULESETS))]
ManageRulesets = Annotated[Principal, Depends(require(Action.MANAGE_RULESETS))]
Coach = Annotated[Principal, Depends(require(Action.COACH))]
ReadCoaching = Annotated[Principal, Depends(require(Action.READ_COACHING))]
"""Coaches and up, and agents (who see only their own coaching)."""
AcknowledgeCoaching = Annotated[Principal, Depends(require(Action.ACKNOWLEDGE_COACHING))]
Admin = Annotated[Principal, Depends(require(Action.ADMINISTER))]
