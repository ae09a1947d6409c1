"""Calls: submission by upstream systems, status, and the call document for reviewers."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from speechqa import access, zones
from speechqa.access import Action
from speechqa.calls import (
    bulk,
    ingest,
    list_export,
    listing,
    recordings,
    repository,
    transcript_export,
    view,
)
from speechqa.calls.document import CallDocument
from speechqa.errors import (
    InvalidInput,
    InvalidMetadata,
    ServiceUnavailable,
    SpeechQAError,
    UploadTooLarge,
)
from speechqa.settings import Settings
from speechqa.storage.database import session_scope
from speechqa.storage.tables import CallStatus
from speechqa_service.http import recording_response

from ..deps import Admin, From, Ingest, JobsDep, Reader, SessionDep, SettingsDep, Tagger, To
from ..schemas import (
    ERRORS,
    BulkTags,
    CallAccepted,
    CallList,
    CallStatusRead,
    ErrorResponse,
    TranscriptFile,
)

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/calls", tags=["calls"], responses=ERRORS)


@router.post(
    "",
    status_code=202,
    response_model=CallAccepted,
    summary="Submit a recording (multipart: 'audio' file and 'metadata' JSON)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["audio", "metadata"],
                        "properties": {
                            "audio": {"type": "string", "format": "binary"},
                            "metadata": {
                                "type": "string",
                                "description": "JSON: agent_id (required), external_id, team...",
                            },
                        },
                    }
                }
            },
        }
    },
)
async def submit_call(
    request: Request, settings: SettingsDep, jobs: JobsDep, _: Ingest
) -> JSONResponse:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.max_upload_bytes + 64 * 1024:
        raise UploadTooLarge(f"The upload is over the limit of {settings.max_upload_bytes} bytes.")
    try:
        form = await request.form(
            max_files=2, max_fields=10, max_part_size=ingest.MAX_METADATA_BYTES
        )
    except SpeechQAError:
        raise  # the body went over the size limit while it streamed
    except (MultiPartException, HTTPException) as exc:  # Starlette wraps the first in the second
        problem = exc.message if isinstance(exc, MultiPartException) else str(exc.detail)
        if "maximum size" in problem:
            raise InvalidMetadata(
                f"A form field is over {ingest.MAX_METADATA_BYTES} bytes; "
                "the metadata may hold at most that much."
            ) from exc
        raise InvalidInput(f"The multipart body is malformed: {problem}") from exc
    except Exception as exc:  # not multipart at all, or a broken body
        raise InvalidInput(
            "Send multipart/form-data with an 'audio' file and a 'metadata' JSON field."
        ) from exc
    try:
        audio = form.get("audio")
        if not isinstance(audio, UploadFile):
            raise InvalidInput("The 'audio' file part is missing.")
        raw_meta = form.get("metadata")
        if isinstance(raw_meta, UploadFile):
            meta = ingest.parse_metadata(await raw_meta.read(ingest.MAX_METADATA_BYTES + 1))
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

    accepted = await run_in_threadpool(ingest.accept, settings, upload, meta)
    if accepted.status not in (CallStatus.DONE, CallStatus.FAILED):
        try:
            await run_in_threadpool(jobs.enqueue_analysis, accepted.id)
        except ServiceUnavailable:
            # The call is stored; workers re-queue calls without a job when they next sweep.
            log.exception(
                "could not enqueue call %s; it will be re-queued by a worker", accepted.id
            )
    body = CallAccepted(
        id=accepted.id,
        external_id=accepted.external_id,
        status=accepted.status,
        status_url=str(request.url_for("call_status", call_id=accepted.id)),
        call_url=str(request.url_for("get_call", call_id=accepted.id)),
        created=accepted.created,
    )
    return JSONResponse(body.model_dump(mode="json"), status_code=202 if accepted.created else 200)


@router.get(
    "",
    response_model=CallList,
    summary="List calls by agent, team, period, status, rule hit and score",
    responses={
        200: {
            "content": {"text/csv": {}},
            "description": "JSON, or every matching call as CSV with Accept: text/csv",
        }
    },
)
def list_calls(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
    q: Annotated[
        str | None,
        Query(max_length=500, description='Search the transcripts: words, "a phrase", prefix*'),
    ] = None,
    agent_id: str | None = None,
    team: str | None = None,
    from_: From = None,
    to: To = None,
    status: str | None = None,
    rule: Annotated[str | None, Query(description="A rule that was hit")] = None,
    rule_missed: Annotated[str | None, Query(description="A rule that was not hit")] = None,
    critical_fail: bool | None = None,
    min_score: Annotated[float | None, Query(ge=0, le=100)] = None,
    max_score: Annotated[float | None, Query(ge=0, le=100)] = None,
    customer_sentiment: Annotated[
        Literal["negative", "neutral", "positive"] | None,
        Query(description="The customer's overall sentiment"),
    ] = None,
    tag: str | None = None,
    reviewed: Annotated[
        bool | None, Query(description="With a submitted review, or without")
    ] = None,
    disputed: Annotated[bool | None, Query(description="With an open dispute")] = None,
    reviewer: Annotated[str | None, Query(max_length=200)] = None,
    sort: Literal["time", "score", "duration", "sentiment_shift"] = "time",
    order: Literal["asc", "desc"] = "desc",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    time_zone: Annotated[
        str | None, Query(max_length=64, description="CSV: local times in this zone")
    ] = None,
) -> CallList | Response:
    """The calls behind any KPI figure (the same filters give the same calls), or a search.

    With ``q``, each call lists the utterances that match, with speaker, times and the text with
    the matched words in ``<mark>``. Sorted by time: ``started_at``, else ``received_at``.
    With ``Accept: text/csv``, every matching call (all pages, ``limit`` and ``cursor`` unused)
    streams as CSV, times in UTC and in ``time_zone`` (default: the user's setting, else UTC).
    """
    filters = (
        listing.CallFilters(
            agent_id=agent_id,
            team=team,
            status=status,
            rule=rule,
            rule_missed=rule_missed,
            critical_fail=critical_fail,
            min_score=min_score,
            max_score=max_score,
            customer_sentiment=customer_sentiment,
            tag=tag,
            reviewed=reviewed,
            disputed=disputed,
            reviewer=reviewer,
        )
        .between(from_, to)
        .searching(q)
    )
    filters = filters.seen_by(principal)
    if "text/csv" in request.headers.get("accept", ""):
        if time_zone:
            zones.check_zone(time_zone)
        zone = zones.choose(time_zone or principal.time_zone, None)
        return _csv(settings, filters, sort, order == "desc", zone)
    page = listing.list_calls(
        session, filters, limit=limit, cursor=cursor, sort=sort, descending=order == "desc"
    )
    return CallList(
        calls=[
            replace(row, url=str(request.url_for("get_call", call_id=row.id))) for row in page.rows
        ],
        next_cursor=page.next_cursor,
    )


def _csv(
    settings: Settings,
    filters: listing.CallFilters,
    sort: listing.Sort,
    descending: bool,
    zone: zones.ShownZone,
) -> Response:
    def lines() -> Iterator[str]:
        with session_scope(settings) as session:  # the request's session ends before the body
            rows = listing.iter_calls(session, filters, sort=sort, descending=descending)
            yield from list_export.csv_lines(rows, zone)

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="calls.csv"'},
    )


@router.get(
    "/{call_id}/transcript",
    response_class=Response,
    responses={
        200: {
            "model": TranscriptFile,
            "content": {"application/json": {}, "text/plain": {}, "text/vtt": {}},
            "description": "The transcript as text, JSON or WebVTT",
        }
    },
)
def get_transcript(
    call_id: str,
    session: SessionDep,
    principal: Reader,
    format: Annotated[
        Literal["txt", "json", "vtt"], Query(description="txt, json or vtt (WebVTT captions)")
    ] = "txt",
) -> Response:
    """The call's transcript (redacted where redaction is on) with speaker labels and times."""
    call = repository.get_call(session, call_id)
    access.check_call(principal, call)
    made = transcript_export.export(
        repository.header(call), repository.utterances(session, call.id), format
    )
    disposition = f'attachment; filename="{made.filename}"'
    return Response(
        made.body, media_type=made.media_type, headers={"Content-Disposition": disposition}
    )


@router.post("/tags", response_model=bulk.BulkResult)
def tag_calls(body: BulkTags, session: SessionDep, principal: Tagger) -> bulk.BulkResult:
    """Add and remove tags on many calls (a reviewer's; every call must be one they see)."""
    return bulk.tag_calls(session, principal, body.calls, add=body.add, remove=body.remove)


@router.get("/{call_id}/status", response_model=CallStatusRead)
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


@router.get("/{call_id}", response_model=CallDocument)
def get_call(call_id: str, session: SessionDep, principal: Reader) -> CallDocument:
    """The call document: metadata, status and the transcript with word timings."""
    call = repository.get_call(session, call_id)
    access.check_call(principal, call)
    return view.call_document(session, call)


@router.get(
    "/{call_id}/audio",
    response_class=Response,
    responses={
        200: {"content": {"audio/*": {}}, "description": "The recording, or a WAV clip"},
        206: {"content": {"audio/*": {}}, "description": "The byte range asked for"},
        410: {"model": ErrorResponse, "description": "The recording was removed by retention"},
        416: {"model": ErrorResponse, "description": "The range or span lies outside it"},
    },
)
def get_audio(
    call_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    principal: Reader,
    start: Annotated[float | None, Query(ge=0, le=1e6, description="Clip start (s)")] = None,
    end: Annotated[float | None, Query(gt=0, le=1e6, description="Clip end (s)")] = None,
    original: Annotated[
        bool, Query(description="The unredacted recording (admin only), where it is kept")
    ] = False,
) -> Response:
    """The call's recording, with personal data silenced where it was redacted. Players seek with
    ``Range: bytes=...`` (206); ``start`` and ``end`` (seconds) cut a clip, sent as 16-bit WAV
    with the recording's rate and channels."""
    call = repository.get_call(session, call_id)
    access.check_call(principal, call)
    if original:
        access.require(principal, Action.READ_ORIGINAL_AUDIO)
        source = recordings.recording(settings, call, original=True)
        return recording_response(source, request.headers.get("range"))
    if start is not None or end is not None:
        lo = start or 0.0
        hi = end if end is not None else lo + recordings.MAX_CLIP_S
        data = recordings.clip(settings, call, lo, hi)
        return Response(
            data,
            media_type="audio/wav",
            headers={"Content-Disposition": f'inline; filename="{call.id}-{lo:g}-{hi:g}.wav"'},
        )
    source = recordings.recording(settings, call)
    return recording_response(source, request.headers.get("range"))


@router.delete("/{call_id}", status_code=204, response_class=Response)
def delete_call(call_id: str, session: SessionDep, settings: SettingsDep, _: Admin) -> Response:
    """Remove a call: its recording, transcript, scores, KPI rows and journal entries."""
    recordings.delete_call(session, settings, call_id)
    return Response(status_code=204)
