"""Downloads and bulk actions from the calls list: the filtered list as CSV, a call's transcript
(text, JSON, WebVTT), and tagging or queueing the selected calls.

The formats are the core's (:mod:`speechqa.calls.list_export`,
:mod:`speechqa.calls.transcript_export`); what a caller may see and do is
:mod:`speechqa.access`'s, as for the list and the call page.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from speechqa import access
from speechqa.access import Action
from speechqa.calls import bulk, list_export, listing, repository, transcript_export
from speechqa.errors import InvalidInput

from .. import times
from ..deps import PageRoute, Viewer, allowed, back, database, form_of
from .calls import list_asked

router = APIRouter(route_class=PageRoute, include_in_schema=False)
Reader = Annotated[Viewer, Depends(allowed(Action.READ_CALLS))]
Tagger = Annotated[Viewer, Depends(allowed(Action.TAG_CALLS))]


@router.get("/calls.csv")
def calls_csv(request: Request, who: Reader) -> Response:
    """Every call the list shows with these filters (all pages), in its order."""
    asked = list_asked(request, who)
    zone = times.zone_of(request, who.principal)

    def lines() -> Iterator[str]:
        with database(request) as session:
            rows = listing.iter_calls(
                session, asked.filters, sort=asked.sort, descending=asked.descending
            )
            yield from list_export.csv_lines(rows, zone)

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="calls-{stamp}.csv"'},
    )


@router.get("/calls/{call_id}/transcript.{fmt}")
def transcript(call_id: str, fmt: str, request: Request, who: Reader) -> Response:
    """The call's transcript as the call page shows it (redacted), as txt, json or vtt."""
    with database(request) as session:
        call = repository.get_call(session, call_id)
        access.check_call(who.principal, call)
        made = transcript_export.export(
            repository.header(call), repository.utterances(session, call.id), fmt
        )
    return Response(
        made.body,
        media_type=made.media_type,
        headers={"Content-Disposition": f'attachment; filename="{made.filename}"'},
    )


def _return_to(raw: str) -> str:
    """Back to the list the form was on (only a path of this app's calls list)."""
    parts = urlsplit(raw)
    if parts.scheme or parts.netloc or parts.path != "/calls":
        return "/calls"
    return "/calls" + (f"?{parts.query}" if parts.query else "")


def _said(result: bulk.BulkResult, done: str) -> str:
    message = f"{done} {len(result.changed)} call{'s' if len(result.changed) != 1 else ''}."
    if result.skipped:
        reasons: dict[str, int] = {}
        for s in result.skipped:
            reasons[s.reason] = reasons.get(s.reason, 0) + 1
        message += " Skipped " + "; ".join(f"{n}: {r}" for r, n in reasons.items()) + "."
    return message


@router.post("/calls/bulk")
async def bulk_action(request: Request, who: Tagger) -> Response:
    """Tag, untag or queue the calls ticked in the list."""
    form = await form_of(request, who)
    calls = [str(v) for v in form.getlist("call")]
    action = str(form.get("action") or "")
    url = _return_to(str(form.get("back") or "/calls"))
    tags = [t for t in str(form.get("tag") or "").split(",") if t.strip()]
    with database(request) as session:
        if action == "tag":
            result = bulk.tag_calls(session, who.principal, calls, add=tags)
            message = _said(result, f"Tagged “{', '.join(t.strip() for t in tags)}” on")
        elif action == "untag":
            result = bulk.tag_calls(session, who.principal, calls, remove=tags)
            message = _said(result, f"Removed “{', '.join(t.strip() for t in tags)}” from")
        elif action == "queue":
            raw = str(form.get("queue") or "")
            if not raw.isdigit():
                raise InvalidInput("Choose a review queue.")
            result = bulk.add_to_queue(session, who.principal, int(raw), calls)
            message = _said(result, "Added to the queue:")
        else:
            raise InvalidInput("Choose what to do with the selected calls: tag, untag or queue.")
    return back(url, message)
