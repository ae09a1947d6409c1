"""The calls list (search, filters, sorting, paging), one call's page, its audio, and the review
actions taken on it (draft or re-evaluation, the review form; acknowledge, dispute, resolve)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Literal, cast
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from starlette.datastructures import FormData

from speechqa import access
from speechqa.access import Action
from speechqa.calls import listing, recordings, repository, view
from speechqa.calls.document import CallDocument
from speechqa.calls.timeline import timeline
from speechqa.errors import Conflict, InvalidInput, SpeechQAError
from speechqa.reviews import queues, reading, workflow
from speechqa.rules.matching import Hit
from speechqa.storage.tables import CallStatus, ReviewStatus
from speechqa_service.http import recording_response, status_for

from .. import charts
from ..deps import PageRoute, Viewer, allowed, back, database, form_of, render, settings_of

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


@dataclass(frozen=True)
class ListAsked:
    """What a call list (the page or its CSV) was asked for: filters the viewer may see."""

    params: dict[str, str]
    sort: listing.Sort
    order: str
    filters: listing.CallFilters

    @property
    def descending(self) -> bool:
        return self.order != "asc"


def list_asked(request: Request, who: Viewer) -> ListAsked:
    params = {k: v for k, v in request.query_params.items() if v}
    sort = params.get("sort", "time")
    if sort not in SORTS:
        raise InvalidInput(f"Sort by one of {', '.join(SORTS)}.")
    filters = filters_from(params).seen_by(who.principal)
    return ListAsked(params, cast(listing.Sort, sort), params.get("order", "desc"), filters)


@router.get("/calls")
def calls_page(request: Request, who: Reader) -> Response:
    asked = list_asked(request, who)
    params, sort, order, filters = asked.params, asked.sort, asked.order, asked.filters
    with database(request) as session:
        page = listing.list_calls(
            session,
            filters,
            limit=PAGE,
            cursor=params.get("cursor"),
            sort=sort,
            descending=asked.descending,
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
    filters = listing.CallFilters(disputed=True).seen_by(who.principal)
    with database(request) as session:
        page = listing.list_calls(session, filters, limit=200)
        disputes = []
        for row in page.rows:  # the disputed review of each: what, why, since when
            review = next(
                (
                    r
                    for r in workflow.for_call(session, row.id, who.principal)
                    if r.status == "disputed"
                ),
                None,
            )
            if review is not None and review.dispute:
                names = {i.key: workflow.readable(i.item) for i in review.items}
                items = [f"{k} {names.get(k, '')}".strip() for k in review.dispute["items"]]
                opened = datetime.fromisoformat(review.dispute["at"])
                disputes.append((row, review, items, opened))
    disputes.sort(key=lambda d: d[3])  # the oldest first: it has waited longest
    return render(request, "disputes.html", who, disputes=disputes, now=datetime.now(UTC))


@router.get("/calls/{call_id}")
def call_page(call_id: str, request: Request, who: Reader) -> Response:
    raw = request.query_params.get("calibration") or ""
    return _call_page(request, who, call_id, int(raw) if raw.isdigit() else None)


@dataclass(frozen=True)
class Typed:
    """What a refused form held, shown again as it was typed."""

    choices: dict[str, workflow.Choice] = field(default_factory=dict)
    comment: str = ""
    utterance: str = ""
    reason: str = ""


def _call_page(
    request: Request,
    who: Viewer,
    call_id: str,
    calibration: int | None,
    *,
    typed: Typed | None = None,
    problem: str | None = None,
    problem_at: str = "review",
    status: int = 200,
) -> Response:
    """The call page; ``calibration``: in that session (its draft, never a QA review); after a
    refused form, what it held (``typed``) and why (``problem``)."""
    with database(request) as session:
        call = repository.get_call(session, call_id)
        access.check_call(who.principal, call)
        doc = view.call_document(session, call)
        reviews = workflow.for_call(session, call.id, who.principal)
        speech = call.speech
        queued = queues.my_queue(session, who.principal) if who.may("WORK_QUEUE") else []
        audio_gone = call.audio_deleted_at is not None
    counted = next((r for r in reviews if doc.review and r.id == doc.review.id), None)
    mine = next(
        (
            r
            for r in reviews
            if r.reviewer == who.principal.who
            and r.status == ReviewStatus.DRAFT
            and r.calibration == calibration
        ),
        None,
    )
    own = who.agent_id is not None and who.agent_id == doc.agent_id
    reviewable = who.may("REVIEW_CALLS") and doc.status == CallStatus.DONE and bool(doc.score)
    offer = None  # what the review box offers when there is no draft of the viewer's
    if mine is None and calibration is None and reviewable and own:
        if not any(
            r.kind == workflow.ReviewKind.SELF and r.reviewer == who.principal.who for r in reviews
        ):
            offer = "self"  # an agent's own look at their call: it never counts
    elif mine is None and calibration is None and reviewable:
        if counted is None:
            offer = "start"
        elif workflow.may_reevaluate(who.principal, counted.reviewer):
            offer = "disputed" if counted.status == ReviewStatus.DISPUTED else "re-evaluate"
    stale = (
        mine is not None
        and mine.kind == workflow.ReviewKind.QA
        and mine.revises is None
        and counted is not None
        and counted.id != mine.id
    )
    shown = mine or counted
    page = render(
        request,
        "call.html",
        who,
        doc=doc,
        timeline=timeline(doc, speech),
        reviews=reviews,
        draft=mine,
        counted=counted,
        stale=stale,
        may_reevaluate=counted is not None
        and workflow.may_reevaluate(who.principal, counted.reviewer),
        offer=offer,
        calibration=calibration,
        lines=reading.scorecard(doc.score, shown) if doc.score else [],
        audits={r.id: reading.audit(r) for r in reviews},
        names={r.id: workflow.item_names(r) for r in reviews},
        verdict=reading.verdict,
        typed=typed or Typed(),
        problem=problem,
        problem_at=problem_at,
        own=own,
        audio_gone=audio_gone,
        next_queued=next((a for a in queued if a.call_id != call_id), None),
        queue_left=len(queued),
        done=doc.status == CallStatus.DONE,
        q=request.query_params.get("q", ""),
        hits=_hits(doc),
        mood_chart=charts.sentiment_quarters(doc.sentiment),
    )
    page.status_code = status
    return page


@dataclass(frozen=True)
class RuleHit:
    """A hit in the page's list of rule hits: the rule's id beside it."""

    rule: str
    hit: Hit


def _hits(doc: CallDocument) -> list[RuleHit]:
    return sorted((RuleHit(r.id, h) for r in doc.rules for h in r.hits), key=lambda h: h.hit.start)


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
# Each form answers by redirecting to the call page (keeping ?calibration=N for a calibration
# review); a form that is refused shows the call page again with what it held and why, and
# changes nothing.


def _review_url(review: workflow.ReviewView) -> str:
    if review.calibration is not None:
        return f"/calls/{review.call_id}?calibration={review.calibration}#review"
    return f"/calls/{review.call_id}#review"


def _refused(
    request: Request,
    who: Viewer,
    call_id: str,
    calibration: int | None,
    exc: SpeechQAError,
    typed: Typed,
    at: str = "review",
) -> Response:
    """The call page again, with what the refused form held and, beside it, why."""
    return _call_page(
        request,
        who,
        call_id,
        calibration,
        typed=typed,
        problem=exc.message,
        problem_at=at,
        status=status_for(exc),
    )


@router.post("/calls/{call_id}/review")
async def start_review(call_id: str, request: Request, who: Reviewer) -> Response:
    """Start a review; once one counts, a re-evaluation of it (with its ``reason``)."""
    form = await form_of(request, who)
    reason = str(form.get("reason") or "").strip()
    try:
        with database(request) as session:
            review, _ = workflow.start(session, call_id, who.principal, reason=reason or None)
    except (Conflict, InvalidInput) as exc:
        return _refused(request, who, call_id, None, exc, Typed(reason=reason))
    if review.revises is not None:
        return back(_review_url(review), f"Re-evaluating review {review.revises}.")
    return back(_review_url(review))


def _typed(form: FormData, review: workflow.ReviewView) -> Typed:
    """The review form's answers (the items it holds), comment and re-evaluation reason."""
    choices = {}
    for item in review.items:
        raw = form.get(f"decision-{item.key}")
        if raw is None:
            continue
        decision = str(raw)
        if decision not in workflow.DECISIONS:
            raise InvalidInput(f"Item {item.key}: choose accept, pass, fail or not applicable.")
        reason = str(form.get(f"reason-{item.key}") or "")
        choices[item.key] = workflow.Choice(decision, reason)
    return Typed(
        choices=choices,
        comment=str(form.get("text") or "").strip(),
        utterance=str(form.get("utterance") or "").strip(),
        reason=str(form.get("revision_reason") or "").strip(),
    )


async def _review_form(
    review_id: int, request: Request, who: Viewer, then: Literal["save", "comment", "submit"]
) -> Response:
    """The one review form, whichever button was pressed: every answer it holds is saved
    (and a comment typed into it added), then the review is submitted if asked; or, when an
    answer lacks its reason, nothing is, and the page says which."""
    form = await form_of(request, who)
    with database(request) as session:
        review = workflow.get(session, review_id, who.principal)
    typed = _typed(form, review)
    try:
        with database(request) as session:
            if typed.reason and review.kind == workflow.ReviewKind.QA and review.revises is None:
                workflow.start(session, review.call_id, who.principal, reason=typed.reason)
            workflow.answer_all(session, review_id, who.principal, typed.choices)
            if typed.comment:
                utterance = int(typed.utterance) if typed.utterance.isdigit() else None
                workflow.comment(
                    session, review_id, who.principal, typed.comment, utterance=utterance
                )
            elif then == "comment":
                raise InvalidInput("Write the comment first.")
            if then == "submit":
                review = workflow.submit(session, review_id, who.principal)
    except (Conflict, InvalidInput) as exc:
        return _refused(request, who, review.call_id, review.calibration, exc, typed)
    if then == "submit":
        what = "Calibration review" if review.kind == workflow.ReviewKind.CALIBRATION else "Review"
        told = f"{what} submitted: final score {review.score:g}."
        if review.revises is not None:
            told += f" Review {review.revises} is kept as superseded."
        return back(_review_url(review), told)
    if then == "comment":
        return back(_review_url(review), "Comment added; your answers are saved.")
    return back(_review_url(review), "Draft saved.")


@router.post("/reviews/{review_id}/answers")
async def save_answers(review_id: int, request: Request, who: Reviewer) -> Response:
    return await _review_form(review_id, request, who, "save")


@router.post("/reviews/{review_id}/comments")
async def add_comment(review_id: int, request: Request, who: Reviewer) -> Response:
    return await _review_form(review_id, request, who, "comment")


@router.post("/reviews/{review_id}/submit")
async def submit_review(review_id: int, request: Request, who: Reviewer) -> Response:
    return await _review_form(review_id, request, who, "submit")


@router.post("/reviews/{review_id}/acknowledge")
async def acknowledge_review(review_id: int, request: Request, who: CallsAgent) -> Response:
    await form_of(request, who)
    with database(request) as session:
        review = workflow.acknowledge(session, review_id, who.principal)
    return back(f"/calls/{review.call_id}#review", "You acknowledged the review.")


@router.post("/reviews/{review_id}/dispute")
async def dispute_review(review_id: int, request: Request, who: CallsAgent) -> Response:
    form = await form_of(request, who)
    items = [str(v) for v in form.getlist("items")]
    comment = str(form.get("comment") or "")
    with database(request) as session:
        call_id = workflow.get(session, review_id, who.principal).call_id
    try:
        with database(request) as session:
            workflow.dispute(
                session, review_id, who.principal, items, comment, settings_of(request).dispute_days
            )
    except (Conflict, InvalidInput) as exc:
        typed = Typed(choices={k: workflow.Choice("accept") for k in items}, comment=comment)
        return _refused(request, who, call_id, None, exc, typed, "dispute")
    return back(f"/calls/{call_id}#review", "Your dispute is with the team lead.")


@router.post("/reviews/{review_id}/resolve")
async def resolve_dispute(review_id: int, request: Request, who: Resolver) -> Response:
    form = await form_of(request, who)
    outcome = str(form.get("outcome") or "")
    if outcome not in ("upheld", "adjusted"):
        raise InvalidInput("Uphold the review or adjust it.")
    answers: dict[str, tuple[workflow.Decision, str | None]] = {}
    for key in form.getlist("items"):
        decision = str(form.get(f"decision-{key}") or "accept")
        if decision not in workflow.DECISIONS:
            raise InvalidInput(f"Item {key}: choose accept, pass, fail or not applicable.")
        answers[str(key)] = (decision, None)
    with database(request) as session:
        review = workflow.resolve(
            session,
            review_id,
            who.principal,
            cast(Literal["upheld", "adjusted"], outcome),
            str(form.get("reason") or ""),
            answers,
        )
    return back(f"/calls/{review.call_id}#review", f"Dispute resolved ({outcome}).")
