"""The calls list (search, filters, sorting, paging), one call's page, its audio, and the review
actions taken on it (draft, answers, comments, submit; acknowledge, dispute, resolve)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response

from api.recording import recording_response
from speechqa import access
from speechqa.access import Action
from speechqa.calls import listing, recordings, repository
from speechqa.calls.document import build_document
from speechqa.calls.timeline import timeline
from speechqa.errors import InvalidInput
from speechqa.reviews import queues, workflow
from speechqa.scoring import evaluations
from speechqa.storage.tables import CallStatus
from web import charts
from web.deps import PageRoute, Viewer, allowed, back, database, form_of, render, settings_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CallsAgent = Annotated[Viewer, Depends(allowed(Action.ANSWER_REVIEW))]
Reader = Annotated[Viewer, Depends(allowed(Action.READ_CALLS))]
Resolver = Annotated[Viewer, Depends(allowed(Action.RESOLVE_DISPUTES))]
Reviewer = Annotated[Viewer, Depends(allowed(Action.REVIEW_CALLS))]

FILTERS = (
    "q",
    "agent_id",
    "team",
    "from",
    "to",
    "status",
    "rule",
    "rule_missed",
    "critical_fail",
    "min_score",
    "max_score",
    "customer_sentiment",
    "reviewed",
    "disputed",
    "tag",
)
SORTS = ("time", "score", "duration", "sentiment_shift")
PAGE = 25


def _flag(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def _number(params: dict[str, str], name: str) -> float | None:
    raw = params.get(name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput(f"'{name}' must be a number.") from None
    if not 0 <= value <= 100:
        raise InvalidInput(f"'{name}' is a score from 0 to 100.")
    return value


def filters_from(params: dict[str, str]) -> listing.CallFilters:
    """The call-list filters a page's query string asks for (the API's, by the same names)."""
    sentiment = params.get("customer_sentiment") or None
    return (
        listing.CallFilters(
            agent_id=params.get("agent_id") or None,
            team=params.get("team") or None,
            status=params.get("status") or None,
            rule=params.get("rule") or None,
            rule_missed=params.get("rule_missed") or None,
            critical_fail=_flag(params.get("critical_fail")),
            min_score=_number(params, "min_score"),
            max_score=_number(params, "max_score"),
            customer_sentiment=sentiment,
            reviewed=_flag(params.get("reviewed")),
            disputed=_flag(params.get("disputed")),
            tag=params.get("tag") or None,
        )
        .between(params.get("from") or None, params.get("to") or None)
        .searching(params.get("q") or None)
    )


@router.get("/calls")
def calls_page(request: Request, who: Reader) -> Response:
    params = {k: v for k, v in request.query_params.items() if v}
    sort = params.get("sort", "time")
    if sort not in SORTS:
        raise InvalidInput(f"Sort by one of {', '.join(SORTS)}.")
    order = params.get("order", "desc")
    filters = access.limit(who.principal, filters_from(params))
    with database(request) as session:
        page = listing.list_calls(
            session,
            filters,
            limit=PAGE,
            cursor=params.get("cursor"),
            sort=cast(listing.Sort, sort),
            descending=order != "asc",
        )
        total = listing.count_calls(session, filters)
        unknown = listing.unknown_rules(session, filters)
        lists_queues = who.may("MANAGE_QUEUES")
        queue_list = queues.list_queues(session, who.principal) if lists_queues else []
    kept = {k: v for k, v in params.items() if k in FILTERS}

    def link(**changes: str | None) -> str:
        query = {**kept, "sort": sort, "order": order, **changes}
        return "/calls?" + urlencode({k: v for k, v in query.items() if v})

    def sort_link(column: str) -> str:
        flip = "asc" if (sort == column and order == "desc") else "desc"
        return link(sort=column, order=flip, cursor=None)

    return render(
        request,
        "calls.html",
        who,
        rows=page.rows,
        total=total,
        unknown_rules=unknown,
        queues=queue_list,
        params=kept,
        sort=sort,
        order=order,
        sort_link=sort_link,
        here=link(cursor=params.get("cursor")),
        csv_link="/calls.csv?" + urlencode({**kept, "sort": sort, "order": order}),
        next_link=link(cursor=page.next_cursor) if page.next_cursor else None,
        first_link=link(cursor=None) if params.get("cursor") else None,
    )


@router.get("/disputes")
def disputes_page(request: Request, who: Resolver) -> Response:
    """Calls with an open dispute, for the lead who settles them."""
    filters = access.limit(who.principal, listing.CallFilters(disputed=True))
    with database(request) as session:
        page = listing.list_calls(session, filters, limit=200)
    return render(request, "disputes.html", who, rows=page.rows)


@router.get("/calls/{call_id}")
def call_page(call_id: str, request: Request, who: Reader) -> Response:
    with database(request) as session:
        call = repository.get_call(session, call_id)
        access.check_call(who.principal, call)
        automatic, review = evaluations.for_document(session, call.id)
        doc = build_document(
            repository.header(call),
            repository.utterances(session, call.id),
            automatic,
            call.metrics,
            review,
        )
        reviews = workflow.for_call(session, call.id, who.principal)
        speech = call.speech
        audio_gone = call.audio_deleted_at is not None
    in_calibration = "calibration" in request.query_params
    mine = next(
        (
            r
            for r in reviews
            if r.reviewer == who.principal.who
            and r.status == "draft"
            and (r.kind == "calibration") == in_calibration
        ),
        None,
    )
    own = who.agent_id is not None and who.agent_id == doc["agent_id"]
    return render(
        request,
        "call.html",
        who,
        doc=doc,
        timeline=timeline(doc, speech),
        reviews=reviews,
        draft=mine,
        own=own,
        audio_gone=audio_gone,
        done=doc["status"] == CallStatus.DONE,
        can_review=who.can("review") and doc["status"] == CallStatus.DONE and bool(doc["score"]),
        q=request.query_params.get("q", ""),
        hits=_hits(doc),
        mood_chart=charts.sentiment_quarters(doc),
    )


def _hits(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted(
        ({"rule": r["id"], **h} for r in doc.get("rules", []) for h in r.get("hits", [])),
        key=lambda h: h["start"],
    )


@router.get("/calls/{call_id}/audio")
def call_audio(call_id: str, request: Request, who: Reader) -> Response:
    """The recording for the page's player (Range requests seek), or a WAV clip."""
    settings = settings_of(request)
    with database(request) as session:
        call = repository.get_call(session, call_id)
        access.check_call(who.principal, call)
        start, end = request.query_params.get("start"), request.query_params.get("end")
        if start is not None or end is not None:
            try:
                lo = float(start or 0.0)
                hi = float(end) if end is not None else lo + recordings.MAX_CLIP_S
            except ValueError:
                raise InvalidInput("'start' and 'end' are seconds.") from None
            return Response(recordings.clip(settings, call, lo, hi), media_type="audio/wav")
        source = recordings.recording(settings, call)
    return recording_response(source, request.headers.get("range"))


# -- review actions -------------------------------------------------------------------------


@router.post("/calls/{call_id}/review")
async def start_review(call_id: str, request: Request, who: Reviewer) -> Response:
    await form_of(request, who)
    with database(request) as session:
        workflow.start(session, call_id, who.principal)
    return back(f"/calls/{call_id}#review")


@router.post("/reviews/{review_id}/answers")
async def save_answers(review_id: int, request: Request, who: Reviewer) -> Response:
    """Every item's decision from the review form: accept, or override with a reason. An
    override without a reason is not saved (and said so); the other answers are."""
    form = await form_of(request, who)
    missing: list[str] = []
    with database(request) as session:
        review = workflow.get(session, review_id, who.principal)
        for item in review.items:
            key = item.key
            decision = str(form.get(f"decision-{key}") or "accept")
            reason = str(form.get(f"reason-{key}") or "").strip()
            if decision not in ("accept", "pass", "fail", "na"):
                raise InvalidInput(f"Item {key}: choose accept, pass, fail or not applicable.")
            before = item.answer
            unchanged = (decision == "accept" and before is None) or (
                before is not None
                and decision == _decision_of(before)
                and reason == (before.get("reason") or "")
            )
            if unchanged:
                continue
            if decision != "accept" and not reason:
                missing.append(key)
                continue
            decided = cast(workflow.Decision, decision)
            workflow.answer(session, review_id, who.principal, key, decided, reason)
    url = f"/calls/{review.call_id}#review"
    if missing:
        items = ", ".join(missing)
        return back(
            url,
            f"Not saved: item {items} - an override needs a reason. The other answers are saved.",
        )
    return back(url, "Answers saved.")


def _decision_of(answer: dict[str, Any]) -> str:
    if not answer.get("applicable", True):
        return "na"
    return "pass" if answer.get("passed") else "fail"


@router.post("/reviews/{review_id}/comments")
async def add_comment(review_id: int, request: Request, who: Reviewer) -> Response:
    form = await form_of(request, who)
    raw = str(form.get("utterance") or "")
    with database(request) as session:
        review = workflow.comment(
            session,
            review_id,
            who.principal,
            str(form.get("text") or ""),
            utterance=int(raw) if raw.isdigit() else None,
        )
    return back(f"/calls/{review.call_id}#review", "Comment added.")


@router.post("/reviews/{review_id}/submit")
async def submit_review(review_id: int, request: Request, who: Reviewer) -> Response:
    await form_of(request, who)
    with database(request) as session:
        review = workflow.submit(session, review_id, who.principal)
    return back(f"/calls/{review.call_id}", f"Review submitted: final score {review.score:g}.")


@router.post("/reviews/{review_id}/acknowledge")
async def acknowledge_review(review_id: int, request: Request, who: CallsAgent) -> Response:
    await form_of(request, who)
    with database(request) as session:
        review = workflow.acknowledge(session, review_id, who.principal)
    return back(f"/calls/{review.call_id}", "You acknowledged the review.")


@router.post("/reviews/{review_id}/dispute")
async def dispute_review(review_id: int, request: Request, who: CallsAgent) -> Response:
    form = await form_of(request, who)
    items = [str(v) for v in form.getlist("items")]
    with database(request) as session:
        review = workflow.dispute(
            session,
            review_id,
            who.principal,
            items,
            str(form.get("comment") or ""),
            settings_of(request).dispute_days,
        )
    return back(f"/calls/{review.call_id}", "Your dispute is with the team lead.")


@router.post("/reviews/{review_id}/resolve")
async def resolve_dispute(review_id: int, request: Request, who: Resolver) -> Response:
    form = await form_of(request, who)
    outcome = str(form.get("outcome") or "")
    if outcome not in ("upheld", "adjusted"):
        raise InvalidInput("Uphold the review or adjust it.")
    answers: dict[str, tuple[workflow.Decision, str | None]] = {}
    for key in form.getlist("items"):
        decision = str(form.get(f"decision-{key}") or "accept")
        answers[str(key)] = (cast(workflow.Decision, decision), None)
    with database(request) as session:
        review = workflow.resolve(
            session,
            review_id,
            who.principal,
            cast(Literal["upheld", "adjusted"], outcome),
            str(form.get("reason") or ""),
            answers,
        )
    return back(f"/calls/{review.call_id}", f"Dispute resolved ({outcome}).")
