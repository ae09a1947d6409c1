"""A reviewer's evaluation of a call: a draft beside the automatic answers, then submitted;
the agent acknowledges or disputes it, and a lead settles a dispute.

A review starts from the automatic evaluation that counts for the call, which it never changes.
The reviewer accepts an item's automatic answer or overrides it (pass, fail, not applicable)
with a reason, comments on an utterance or a time span, and submits; the final score is added
up by the same scorecard code as the automatic one (``rules.scorecard.with_answers``), and from
then on the call's KPIs count it (``scoring.evaluations.counted``). Every change is written to
the audit trail with who made it, when, and the value before and after.

A submitted QA review is a record. Looking at the call again is a *re-evaluation*: a new draft
that names the review it revises and why, started by a lead or by the same reviewer (never
while the agent's dispute is open). Submitting it marks the old one ``superseded`` (kept, with
its audit trail, no longer counted); the new one awaits the agent's answer afresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.access import Action
from speechqa.apikeys import Principal
from speechqa.calls import repository
from speechqa.errors import Conflict, Forbidden, InvalidInput, NotFound
from speechqa.rules.scorecard import Answer, Scorecard, with_answers
from speechqa.scoring import evaluations
from speechqa.scoring.evaluations import FINAL
from speechqa.scoring.step import refresh_kpis
from speechqa.storage.tables import (
    CallStatus,
    EvaluationRow,
    Review,
    ReviewEvent,
    ReviewStatus,
    utcnow,
)
from speechqa.webhooks import events, outbox

Decision = Literal["accept", "pass", "fail", "na"]
DECISIONS: tuple[Decision, ...] = ("accept", "pass", "fail", "na")
MAX_TEXT = 2000


class ReviewKind(StrEnum):
    QA = "qa"
    """A reviewer's: the one that counts for KPIs once submitted."""
    SELF = "self"
    """An agent's review of their own call: never counts."""
    CALIBRATION = "calibration"
    """A review in a calibration session: never counts."""


@dataclass(frozen=True)
class Choice:
    """An item's decision as a form or a request holds it: accept the machine's answer, or
    override it (pass, fail, not applicable) with a reason."""

    decision: Decision
    reason: str | None = None


@dataclass(frozen=True)
class MachineAnswer:
    """The automatic evaluation's answer to an item, as a review shows it."""

    applicable: bool
    passed: bool
    earned: float
    reason: str


@dataclass(frozen=True)
class ItemView:
    key: str
    section: str
    item: str
    possible: float
    critical: bool
    automatic: MachineAnswer
    answer: Answer | None
    """The reviewer's answer, None when the automatic one stands."""


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    by: str
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class ReviewView:
    id: int
    call_id: str
    reviewer: str
    status: str
    ruleset: str
    version: int
    automatic_score: float | None
    items: list[ItemView]
    comments: list[dict[str, Any]]
    final: dict[str, Any] | None
    """The final scorecard once submitted."""
    kind: ReviewKind
    dispute: dict[str, Any] | None
    resolution: dict[str, Any] | None
    score: float | None
    critical_fail: bool
    created_at: datetime
    submitted_at: datetime | None
    audit: list[AuditEntry]
    calibration: int | None = None
    """The calibration session of a calibration review."""
    revises: int | None = None
    """A re-evaluation: the review it replaces once submitted."""
    revision_reason: str | None = None
    superseded_by: int | None = None
    """The re-evaluation that replaced this review (status ``superseded``)."""


def start(
    session: Session,
    call_id: str,
    principal: Principal,
    calibration: int | None = None,
    *,
    reason: str | None = None,
) -> tuple[ReviewView, bool]:
    """The reviewer's open draft on the call (in a calibration session, if given), or a new
    one; (review, created). Once a QA review of the call counts, a new QA review is a
    re-evaluation of it: it needs ``reason`` and a lead or that review's reviewer
    (:func:`check_reevaluation`)."""
    access.require(principal, Action.REVIEW_CALLS)
    if calibration is not None:
        access.require(principal, Action.CALIBRATE)
    call = repository.get_call(session, call_id)
    access.check_call(principal, call)
    if call.status != CallStatus.DONE:
        raise Conflict(f"The call is {call.status}, not analysed yet: nothing to review.")
    automatic = evaluations.current(session, call_id)
    if automatic is None or not (automatic.result or {}).get("score"):
        raise Conflict("The call's ruleset has no scorecard to review.")
    mine = select(Review).where(
        Review.call_id == call_id,
        Review.reviewer == principal.who,
        Review.calibration_id.is_(None)
        if calibration is None
        else Review.calibration_id == calibration,
    )
    own_call = principal.agent_id is not None  # access.check_call: it is theirs
    qa = calibration is None and not own_call
    counted = _counted_review(session, call_id) if qa else None
    draft = session.scalar(mine.where(Review.status == ReviewStatus.DRAFT))
    if draft is not None:
        if counted is not None and draft.revises is None and reason and reason.strip():
            # A draft begun before someone else's review was submitted becomes a re-evaluation.
            given = check_reevaluation(principal, counted, reason)
            draft.revises, draft.revision_reason = counted.id, given
            _audit(
                session,
                draft,
                principal,
                "re-evaluation",
                None,
                {"revises": counted.id, "reason": given},
            )
        return view(session, draft), False
    if calibration is not None and session.scalar(mine) is not None:
        raise Conflict("You have submitted your review of this call in this session.")
    if own_call and calibration is not None:
        raise Forbidden("Agents do not take part in calibration.")
    why = check_reevaluation(principal, counted, reason) if counted is not None else None
    review = Review(
        call_id=call_id,
        evaluation_id=automatic.id,
        reviewer=principal.who,
        calibration_id=calibration,
        self_review=own_call,
        status=ReviewStatus.DRAFT,
        answers={},
        comments=[],
        critical_fail=False,
        created_at=utcnow(),
        revises=counted.id if counted is not None else None,
        revision_reason=why,
    )
    session.add(review)
    session.flush()
    created: dict[str, Any] = {"evaluation": automatic.id}
    if counted is not None:
        created.update(revises=counted.id, reason=why)
    _audit(session, review, principal, "created", None, created)
    return view(session, review), True


def may_reevaluate(principal: Principal, reviewer: str) -> bool:
    """Whether ``principal`` may re-evaluate a call whose counted review ``reviewer`` made: a
    lead, or that reviewer."""
    return reviewer == principal.who or access.may(principal, Action.REEVALUATE_REVIEWS)


def check_reevaluation(principal: Principal, counted: Review, reason: str | None) -> str:
    """The reason for re-evaluating the call ``counted`` is the counted review of, if
    ``principal`` may; Conflict naming who reviewed it otherwise."""
    details = {"review_id": counted.id, "reviewer": counted.reviewer, "status": counted.status}
    score = f", score {counted.score:g}" if counted.score is not None else ""
    if not may_reevaluate(principal, counted.reviewer):
        raise Conflict(
            f"{counted.reviewer} has reviewed this call (review {counted.id}, "
            f"{counted.status}{score}); only a lead or {counted.reviewer} may re-evaluate it.",
            details=details,
        )
    if counted.status == ReviewStatus.DISPUTED:
        raise Conflict(
            f"Review {counted.id} by {counted.reviewer} is disputed: resolve the dispute before "
            "re-evaluating the call.",
            details=details,
        )
    why = (reason or "").strip()
    if not why:
        raise Conflict(
            f"{counted.reviewer} has reviewed this call (review {counted.id}, "
            f"{counted.status}{score}): a re-evaluation needs a reason.",
            details={**details, "field": "reason"},
        )
    return why[:MAX_TEXT]


def counted_review(session: Session, call_id: str) -> ReviewView | None:
    """The submitted QA review whose final score counts for the call, if any."""
    found = _counted_review(session, call_id)
    return view(session, found) if found is not None else None


def _counted_review(session: Session, call_id: str) -> Review | None:
    found = evaluations.counted(session, [call_id]).get(call_id)
    if found is None or found.review_id is None:
        return None
    return session.get(Review, found.review_id)


def answer(
    session: Session,
    review_id: int,
    principal: Principal,
    key: str,
    decision: Decision,
    reason: str | None,
) -> ReviewView:
    """Accept an item's automatic answer, or override it with a reason."""
    review = _own_draft(session, review_id, principal)
    keys = _item_keys(session, review)
    if key not in keys:
        raise InvalidInput(
            f"Item {key!r} is not on this call's scorecard.", details={"items": sorted(keys)}
        )
    if decision != "accept" and not (reason or "").strip():
        raise InvalidInput(
            "Overriding the automatic answer needs a reason.",
            details={"field": "reason", "items": [key]},
        )
    _set_answer(session, review, principal, key, Choice(decision, reason))
    return view(session, review)


def answer_all(
    session: Session, review_id: int, principal: Principal, answers: Mapping[str, Choice]
) -> ReviewView:
    """Every item's decision at once (a form's): all of them are saved, or, when an item is
    unknown or an override lacks its reason, none (InvalidInput naming them)."""
    review = _own_draft(session, review_id, principal)
    _apply(session, review, principal, answers)
    return view(session, review)


def _apply(
    session: Session, review: Review, principal: Principal, answers: Mapping[str, Choice]
) -> None:
    keys = _item_keys(session, review)
    unknown = sorted(set(answers) - keys)
    if unknown:
        raise InvalidInput(
            f"Not on this call's scorecard: {', '.join(unknown)}.",
            details={"items": sorted(keys), "unknown": unknown},
        )
    bad = sorted(k for k, c in answers.items() if c.decision not in DECISIONS)
    if bad:
        raise InvalidInput(
            f"Items {', '.join(bad)}: choose accept, pass, fail or na.", details={"items": bad}
        )
    missing = sorted(
        (k for k, c in answers.items() if c.decision != "accept" and not (c.reason or "").strip()),
        key=_order,
    )
    if missing:
        names = _item_names(session, review)
        listed = ", ".join(f"{k} {names[k]}" for k in missing)
        raise InvalidInput(
            f"An override needs a reason: {listed}. Nothing was saved.",
            details={"field": "reason", "items": missing},
        )
    for key in sorted(answers, key=_order):
        _set_answer(session, review, principal, key, answers[key])


def _set_answer(
    session: Session, review: Review, principal: Principal, key: str, choice: Choice
) -> None:
    """One item's answer, written (and audited) only when it changes."""
    before = review.answers.get(key)
    after = (
        None
        if choice.decision == "accept"
        else _answer_of(choice.decision, (choice.reason or "").strip()[:MAX_TEXT])
    )
    if after == before:
        return
    answers = dict(review.answers)
    if after is None:
        answers.pop(key, None)
    else:
        answers[key] = after
    review.answers = answers
    _audit(session, review, principal, f"answer {key}", before, after)


def _order(key: str) -> tuple[int, ...]:
    return tuple(int(p) for p in key.split(".") if p.isdigit())


def comment(
    session: Session,
    review_id: int,
    principal: Principal,
    text: str,
    *,
    utterance: int | None = None,
    start: float | None = None,
    end: float | None = None,
) -> ReviewView:
    """A comment on the call, an utterance, or a time span."""
    review = _own_draft(session, review_id, principal)
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise InvalidInput(f"A comment is 1 to {MAX_TEXT} characters.")
    if start is not None and end is not None and end <= start:
        raise InvalidInput("A comment's span ends after it starts.")
    entry = {
        "text": text,
        "utterance": utterance,
        "start": start,
        "end": end,
        "by": principal.who,
        "at": utcnow().isoformat(),
    }
    review.comments = [*review.comments, entry]
    _audit(session, review, principal, "comment", None, entry)
    return view(session, review)


def submit(
    session: Session,
    review_id: int,
    principal: Principal,
    answers: Mapping[str, Choice] | None = None,
) -> ReviewView:
    """Save ``answers`` (all or none, as :func:`answer_all`), add up the final score and make
    it count for the call's KPIs. A re-evaluation supersedes the review it revises."""
    review = _own_draft(session, review_id, principal)
    qa = review.calibration_id is None and not review.self_review
    revised = _revised(session, review) if qa else None
    if answers:
        _apply(session, review, principal, answers)
    _add_up(session, review)
    review.status = ReviewStatus.SUBMITTED
    review.submitted_at = utcnow()
    _audit(
        session,
        review,
        principal,
        "submitted",
        {"status": "draft"},
        {"status": "submitted", "score": review.score},
    )
    previous: dict[str, Any] = {}
    if revised is not None:
        previous = {
            "revises": revised.id,
            "previous_status": revised.status,
            "previous_score": revised.score,
            "reason": review.revision_reason,
        }
        after = {
            "status": ReviewStatus.SUPERSEDED,
            "review": review.id,
            "reason": review.revision_reason,
        }
        _audit(
            session, revised, principal, ReviewStatus.SUPERSEDED, {"status": revised.status}, after
        )
        revised.status = ReviewStatus.SUPERSEDED
    session.flush()
    submitted = view(session, review)
    if qa:
        refresh_kpis(session, [review.call_id])
        overridden = [i.key for i in submitted.items if i.answer is not None]
        data = _event_data(session, submitted, overridden)
        if revised is None:
            outbox.emit(session, events.REVIEW_SUBMITTED, data)
        else:
            outbox.emit(session, events.REVIEW_UPDATED, {**data, **previous})
    return submitted


def _revised(session: Session, review: Review) -> Review | None:
    """The counted review a QA draft replaces on submit (None when none counts yet); Conflict
    when submitting it would silently replace another review."""
    counted = _counted_review(session, review.call_id)
    if counted is None or counted.id == review.id:
        return None
    details = {"review_id": counted.id, "reviewer": counted.reviewer, "status": counted.status}
    if review.revises is None:
        raise Conflict(
            f"{counted.reviewer} submitted a review of this call (review {counted.id}) while "
            "this one was a draft; re-evaluate the call with a reason to replace it.",
            details=details,
        )
    if review.revises != counted.id:
        raise Conflict(
            f"Review {review.revises} was re-evaluated meanwhile: review {counted.id} by "
            f"{counted.reviewer} counts now.",
            details=details,
        )
    if counted.status == ReviewStatus.DISPUTED:
        raise Conflict(
            f"Review {counted.id} is disputed: resolve the dispute before re-evaluating.",
            details=details,
        )
    return counted


def get(session: Session, review_id: int, principal: Principal) -> ReviewView:
    access.require(principal, Action.READ_CALLS)
    return view(session, _visible(session, review_id, principal))


def for_call(session: Session, call_id: str, principal: Principal) -> list[ReviewView]:
    access.require(principal, Action.READ_CALLS)
    call = repository.get_call(session, call_id)
    access.check_call(principal, call)
    reviews = session.scalars(select(Review).where(Review.call_id == call_id).order_by(Review.id))
    return [view(session, r) for r in reviews if _may_read(session, r, principal)]


def item_names(review: ReviewView) -> dict[str, str]:
    """Each item's name as people read it, by key."""
    return {i.key: readable(i.item) for i in review.items}


def readable(label: str) -> str:
    """A scorecard item's label as people read it: a ruleset's description as written, a bare
    rule or KPI reference (``rule further_help``) as words (``Further help``)."""
    kind, _, name = label.partition(" ")
    if kind in ("rule", "kpi") and name and " " not in name:
        words = name.replace("_", " ").replace("-", " ").strip()
        return words[:1].upper() + words[1:]
    return label


def view(session: Session, review: Review) -> ReviewView:
    score = _automatic(session, review)
    items = [
        ItemView(
            key=key,
            section=section.name,
            item=item.item,
            possible=item.possible,
            critical=item.critical,
            automatic=MachineAnswer(item.applicable, item.passed, item.earned, item.reason),
            answer=Answer(**review.answers[key]) if key in review.answers else None,
        )
        for key, section, item in score.keyed()
    ]
    audit = session.scalars(
        select(ReviewEvent).where(ReviewEvent.review_id == review.id).order_by(ReviewEvent.id)
    )
    superseded_by = (
        session.scalar(
            select(Review.id).where(
                Review.revises == review.id, Review.status != ReviewStatus.DRAFT
            )
        )
        if review.status == ReviewStatus.SUPERSEDED
        else None
    )
    return ReviewView(
        id=review.id,
        call_id=review.call_id,
        reviewer=review.reviewer,
        status=review.status,
        ruleset=score.ruleset or "",
        version=score.version or 0,
        automatic_score=score.value,
        items=items,
        comments=list(review.comments),
        final=review.result,
        dispute=review.dispute,
        resolution=review.resolution,
        kind=_kind(review),
        score=review.score,
        critical_fail=review.critical_fail,
        created_at=review.created_at,
        submitted_at=review.submitted_at,
        audit=[AuditEntry(e.at, e.by, e.action, e.before, e.after) for e in audit],
        calibration=review.calibration_id,
        revises=review.revises,
        revision_reason=review.revision_reason,
        superseded_by=superseded_by,
    )


def _kind(review: Review) -> ReviewKind:
    if review.calibration_id is not None:
        return ReviewKind.CALIBRATION
    return ReviewKind.SELF if review.self_review else ReviewKind.QA


def _visible(session: Session, review_id: int, principal: Principal) -> Review:
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound(f"No review {review_id}.")
    access.check_review(session, principal, review)
    if not _may_read(session, review, principal):
        raise NotFound(f"No review {review_id}.")
    return review


def _may_read(session: Session, review: Review, principal: Principal) -> bool:
    """In a calibration session, reviewers see each other's answers only once they have
    submitted their own for that call (leads always do)."""
    if review.calibration_id is None or review.reviewer == principal.who:
        return True
    if access.may(principal, Action.MANAGE_CALIBRATIONS):
        return True
    own = session.scalar(
        select(Review.id).where(
            Review.calibration_id == review.calibration_id,
            Review.call_id == review.call_id,
            Review.reviewer == principal.who,
            Review.status.in_(FINAL),
        )
    )
    return own is not None


def _own_draft(session: Session, review_id: int, principal: Principal) -> Review:
    access.require(principal, Action.REVIEW_CALLS)
    review = _visible(session, review_id, principal)
    if review.reviewer != principal.who:
        raise NotFound(f"No review {review_id} of yours.")
    if review.status != ReviewStatus.DRAFT:
        raise Conflict(
            f"The review is {review.status}; only a draft can change.",
            details={"status": review.status},
        )
    return review


def _item_names(session: Session, review: Review) -> dict[str, str]:
    return {key: readable(item.item) for key, _, item in _automatic(session, review).keyed()}


def _item_keys(session: Session, review: Review) -> set[str]:
    return {key for key, _, _ in _automatic(session, review).keyed()}


def _answer_of(decision: Decision, reason: str) -> dict[str, Any]:
    """An override as stored: ``na`` is not applicable, ``pass``/``fail`` applicable."""
    return asdict(Answer(decision != "na", decision == "pass", reason))


def _add_up(session: Session, review: Review) -> None:
    """The review's final scorecard, from the automatic one and the reviewer's answers."""
    final = with_answers(
        _automatic(session, review), {k: Answer(**v) for k, v in review.answers.items()}
    )
    review.result, review.score = final.as_dict(), final.value
    review.critical_fail = final.critical_fail


def _automatic(session: Session, review: Review) -> Scorecard:
    """The automatic scorecard a review starts from (a review is only made on a scored call)."""
    row = session.get(EvaluationRow, review.evaluation_id)
    assert row is not None  # the foreign key keeps it
    return Scorecard.from_stored(row.result["score"])


def _audit(
    session: Session,
    review: Review,
    principal: Principal,
    action: str,
    before: Any,
    after: Any,
) -> None:
    session.add(
        ReviewEvent(
            review_id=review.id,
            by=principal.who,
            action=action,
            at=utcnow(),
            before=before,
            after=after,
        )
    )
    session.flush()


def acknowledge(session: Session, review_id: int, principal: Principal) -> ReviewView:
    """The agent accepts the review."""
    review = _agents_submitted(session, review_id, principal, "acknowledge")
    review.status = ReviewStatus.ACKNOWLEDGED
    _audit(
        session,
        review,
        principal,
        "acknowledged",
        {"status": "submitted"},
        {"status": "acknowledged"},
    )
    return view(session, review)


def dispute(
    session: Session,
    review_id: int,
    principal: Principal,
    items: list[str],
    comment: str,
    dispute_days: int,
) -> ReviewView:
    """The agent disputes items of a submitted review, within ``dispute_days`` of submission."""
    review = _agents_submitted(session, review_id, principal, "dispute")
    assert review.submitted_at is not None
    submitted = review.submitted_at
    closes = (submitted if submitted.tzinfo else submitted.replace(tzinfo=UTC)) + timedelta(
        days=dispute_days
    )
    if utcnow() > closes:
        raise Conflict(
            f"The dispute window closed on {closes:%Y-%m-%d %H:%M} UTC.",
            details={"status": review.status, "closed_at": closes.isoformat()},
        )
    keys = _item_keys(session, review)
    unknown = sorted(set(items) - keys)
    if not items:
        raise InvalidInput("Choose the items you dispute.", details={"items": sorted(keys)})
    if unknown:
        raise InvalidInput(
            "Not on this call's scorecard: " + ", ".join(unknown) + ".",
            details={"items": sorted(keys), "unknown": unknown},
        )
    comment = comment.strip()
    if not comment or len(comment) > MAX_TEXT:
        raise InvalidInput(f"Say why, in 1 to {MAX_TEXT} characters.")
    review.dispute = {
        "items": sorted(set(items)),
        "comment": comment,
        "by": principal.who,
        "at": utcnow().isoformat(),
    }
    review.status = ReviewStatus.DISPUTED
    _audit(session, review, principal, "disputed", {"status": "submitted"}, review.dispute)
    disputed = view(session, review)
    data = _event_data(session, disputed, review.dispute["items"])
    outbox.emit(session, events.REVIEW_DISPUTED, {**data, "comment": comment})
    return disputed


def resolve(
    session: Session,
    review_id: int,
    principal: Principal,
    outcome: Literal["upheld", "adjusted"],
    reason: str,
    answers: dict[str, tuple[Decision, str | None]],
) -> ReviewView:
    """A lead settles a dispute: the review stands (upheld) or its answers change (adjusted),
    with a reason; an adjusted final score counts for KPIs at once."""
    access.require(principal, Action.RESOLVE_DISPUTES)
    review = _visible(session, review_id, principal)
    if review.status != ReviewStatus.DISPUTED:
        raise Conflict(
            f"Only a disputed review can be resolved; this one is {review.status}.",
            details={"status": review.status},
        )
    reason = reason.strip()
    if not reason:
        raise InvalidInput("A resolution needs a reason.", details={"field": "reason"})
    before = {"score": review.score, "answers": dict(review.answers)}
    if outcome == "adjusted":
        if not answers:
            raise InvalidInput("An adjustment names the items it changes.")
        keys = _item_keys(session, review)
        merged = dict(review.answers)
        for key, (decision, why) in answers.items():
            if key not in keys:
                raise InvalidInput(f"Item {key!r} is not on this call's scorecard.")
            if decision == "accept":
                merged.pop(key, None)
            else:
                merged[key] = _answer_of(decision, why or reason)
        review.answers = merged
        _add_up(session, review)
    review.resolution = {
        "outcome": outcome,
        "reason": reason,
        "by": principal.who,
        "at": utcnow().isoformat(),
    }
    review.status = ReviewStatus.RESOLVED
    _audit(
        session,
        review,
        principal,
        f"resolved ({outcome})",
        before,
        {"score": review.score, "answers": review.answers, **review.resolution},
    )
    session.flush()
    refresh_kpis(session, [review.call_id])
    return view(session, review)


def _event_data(session: Session, review: ReviewView, keys: list[str]) -> dict[str, Any]:
    """A review event's data; ``items``: the overridden (submitted) or disputed items."""
    call = repository.get_call(session, review.call_id)
    wanted = set(keys)
    items = [
        {
            "key": i.key,
            "section": i.section,
            "item": i.item,
            "passed": (i.answer or i.automatic).passed,
            "applicable": (i.answer or i.automatic).applicable,
            "automatic_passed": i.automatic.passed,
        }
        for i in review.items
        if i.key in wanted
    ]
    return {
        "review_id": review.id,
        "call_id": review.call_id,
        "external_id": call.external_id,
        "agent_id": call.agent_id,
        "team": call.team,
        "reviewer": review.reviewer,
        "status": review.status,
        "score": review.score,
        "automatic_score": review.automatic_score,
        "critical_fail": review.critical_fail,
        "items": items,
        "url": f"/v1/reviews/{review.id}",
        "call_url": f"/v1/calls/{review.call_id}",
    }


def _agents_submitted(session: Session, review_id: int, principal: Principal, move: str) -> Review:
    access.require(principal, Action.ANSWER_REVIEW)
    review = _visible(session, review_id, principal)
    call = repository.get_call(session, review.call_id)
    if principal.agent_id is None or principal.agent_id != call.agent_id:
        raise Forbidden(f"Only the call's agent can {move} its review.")
    if review.calibration_id is not None or review.self_review:
        raise Conflict(
            "Only a QA review is the agent's to answer.", details={"status": review.status}
        )
    if review.status != ReviewStatus.SUBMITTED:
        raise Conflict(
            f"The review is {review.status}; only a submitted review can be "
            f"{'acknowledged' if move == 'acknowledge' else 'disputed'}.",
            details={"status": review.status},
        )
    return review
