"""Calls: submission by upstream systems, status, and the call document for reviewers."""

from __future__ import annotations

import base64
import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError
from starlette.datastructures import UploadFile

from api.deps import Ingest, RedisDep, Review, SessionDep, SettingsDep
from api.schemas import CallAccepted, CallDocument, CallStatusRead, ErrorResponse
from speechqa import ingest, kpis, repository, ruleset_store
from speechqa.db import session_scope
from speechqa.document import build_document
from speechqa.errors import Conflict, InvalidInput, InvalidMetadata, UploadTooLarge
from speechqa.models import CallStatus
from speechqa.settings import Settings
from workers.queue import enqueue_analysis

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/calls", tags=["calls"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 409, 413, 415, 422, 503)
}


def _accept(
    settings: Settings, upload: ingest.StoredUpload, meta: ingest.CallMetadata
) -> tuple[str, str | None, str, bool]:
    """Store the call (or find the existing one) and commit: (id, external_id, status, created)."""
    sub: ingest.Submission | None = None
    try:
        with session_scope(settings) as session:
            sub = ingest.submit(session, meta, upload, settings)
            return sub.call.id, sub.call.external_id, sub.call.status, sub.created
    except Exception as exc:
        if sub is not None and sub.created:
            ingest.discard_audio(sub.call, settings)  # the row was not committed
        if not isinstance(exc, IntegrityError):
            raise
    # A concurrent request stored the same external_id between our lookup and our commit.
    with session_scope(settings) as session:
        existing = ingest.find_existing(session, meta.external_id, upload.sha256)
        if existing is None:
            raise Conflict("The call could not be stored; try again.")
        return existing.id, existing.external_id, existing.status, False


def _check_ruleset(settings: Settings, name: str, upload: ingest.StoredUpload) -> None:
    with session_scope(settings) as session:
        if not ruleset_store.exists(session, name):
            upload.path.unlink(missing_ok=True)
            raise InvalidMetadata(f"The metadata names ruleset {name!r}, which does not exist.")


@router.post(
    "",
    status_code=202,
    response_model=CallAccepted,
    responses=_ERRORS,
    summary="Submit a recording (multipart: 'audio' file and 'metadata' JSON)",
)
async def submit_call(
    request: Request, settings: SettingsDep, redis: RedisDep, _: Ingest
) -> JSONResponse:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.max_upload_bytes + 64 * 1024:
        raise UploadTooLarge(f"The upload is over the limit of {settings.max_upload_bytes} bytes.")
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception as exc:  # malformed multipart bodies raise several kinds
        raise InvalidInput(
            "Send multipart/form-data with an 'audio' file and a 'metadata' JSON field."
        ) from exc
    try:
        audio = form.get("audio")
        if not isinstance(audio, UploadFile):
            raise InvalidInput("The 'audio' file part is missing.")
        raw_meta = form.get("metadata")
        if isinstance(raw_meta, UploadFile):
            meta = ingest.parse_metadata(await raw_meta.read())
        else:
            meta = ingest.parse_metadata(raw_meta)
        upload = await run_in_threadpool(
            ingest.receive,
            ingest.read_file(audio.file),
            settings,
            filename=audio.filename,
            content_type=audio.content_type,
        )
    finally:
        await form.close()

    if meta.ruleset is not None:
        await run_in_threadpool(_check_ruleset, settings, meta.ruleset, upload)
    call_id, external_id, status, created = await run_in_threadpool(_accept, settings, upload, meta)
    if status not in (CallStatus.DONE, CallStatus.FAILED):
        try:
            await run_in_threadpool(enqueue_analysis, settings, redis, call_id)
        except RedisError:
            # The call is stored; workers re-queue calls without a job when they next sweep.
            log.exception("could not enqueue call %s; it will be re-queued by a worker", call_id)
    body = CallAccepted(
        id=call_id,
        external_id=external_id,
        status=status,
        status_url=str(request.url_for("call_status", call_id=call_id)),
        call_url=str(request.url_for("get_call", call_id=call_id)),
        created=created,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=202 if created else 200)


@router.get("", summary="List calls by agent, team, period, status, rule hit and score")
def list_calls(
    request: Request,
    session: SessionDep,
    _: Review,
    agent_id: str | None = None,
    team: str | None = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: str | None = None,
    status: str | None = None,
    rule: str | None = None,
    critical_fail: bool | None = None,
    min_score: float | None = None,
    max_score: float | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """The calls behind any KPI figure: the same filters give the same calls."""
    start = end = None
    if from_ is not None or to is not None:
        start, end, _bucket = kpis.parse_period(from_ or "1970-01-01", to or "2999-12-31", None)
    after = None
    if cursor:
        try:
            stamp, call_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
            after = (datetime.fromisoformat(stamp), call_id)
        except ValueError:
            raise InvalidInput(
                "The cursor is not one this API returned.", details={"parameter": "cursor"}
            ) from None
    rows = repository.list_calls(
        session,
        agent_id=agent_id,
        team=team,
        start=start,
        end=end,
        status=status,
        rule=rule,
        critical_fail=critical_fail,
        min_score=min_score,
        max_score=max_score,
        limit=limit,
        after=after,
    )
    items = []
    for call, stats in rows:
        values = stats.values if stats else {}
        items.append(
            {
                "id": call.id,
                "external_id": call.external_id,
                "agent_id": call.agent_id,
                "team": call.team,
                "status": call.status,
                "started_at": call.started_at.isoformat() if call.started_at else None,
                "duration_s": call.duration_s,
                "score": values.get("qa_score"),
                "critical_fail": stats.critical_fail if stats else None,
                "url": str(request.url_for("get_call", call_id=call.id)),
            }
        )
    next_cursor = None
    if len(rows) == limit:
        last = rows[-1][0]
        next_cursor = base64.urlsafe_b64encode(
            f"{last.created_at.isoformat()}|{last.id}".encode()
        ).decode()
    return {"calls": items, "next_cursor": next_cursor}


@router.get("/{call_id}/status", response_model=CallStatusRead, responses=_ERRORS)
def call_status(call_id: str, session: SessionDep, principal: Ingest) -> CallStatusRead:
    """Where the analysis of a call stands: queued, transcribing, analyzing, done or failed."""
    call = repository.get_call(session, call_id)
    return CallStatusRead(
        id=call.id,
        status=call.status,
        progress=call.progress,
        reason=call.status_reason,
        attempts=call.attempts,
        updated_at=call.updated_at,
    )


@router.get("/{call_id}", response_model=CallDocument, responses=_ERRORS)
def get_call(call_id: str, session: SessionDep, _: Review) -> dict[str, Any]:
    """The call document: metadata, status and the transcript with word timings."""
    call = repository.get_call(session, call_id)
    evaluation = ruleset_store.current_evaluation(session, call.id)
    return build_document(
        repository.header(call),
        repository.utterances(session, call.id),
        evaluation.result if evaluation else None,
        call.metrics,
    )
