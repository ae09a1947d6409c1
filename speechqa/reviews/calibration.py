"""Calibration: reviewers score the same calls on their own, then see where they disagree.

A session names calls and reviewers. Each reviewer starts a calibration review of each call
(it never counts for KPIs) and cannot read the others' answers on a call until they have
submitted their own. The report, per scorecard item: each reviewer's final answer (pass, fail
or n/a) on each call, the percent of reviewer pairs that agree, Fleiss' kappa (agreement beyond
chance) over all items answered by every reviewer, each reviewer's agreement with the consensus
(the majority answer; an item without a majority, as any disagreement between two reviewers,
has an undecided consensus and counts as agreement for nobody), the reasons reviewers gave for
their answers, and the machine's answers against the consensus: the precision and recall of
each item's automatic "pass" as judged by people.

Sessions name reviewers who may calibrate and see every call in it, so nobody is asked to score
a call they cannot open.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.access import Action
from speechqa.apikeys import Principal
from speechqa.errors import Conflict, Forbidden, InvalidInput, NotFound
from speechqa.reviews import workflow
from speechqa.rules.scorecard import item_key
from speechqa.scoring.evaluations import FINAL
from speechqa.storage.tables import (
    CalibrationSession,
    Call,
    CallStats,
    EvaluationRow,
    Review,
    ReviewStatus,
    utcnow,
)
from speechqa.users import principals


@dataclass(frozen=True)
class CalibrationInfo:
    id: int
    name: str
    call_ids: list[str]
    reviewers: list[str]
    created_by: str
    created_at: datetime


@dataclass
class ItemAgreement:
    call_id: str
    key: str
    item: str
    automatic: str
    answers: dict[str, str]
    """Reviewer -> pass, fail or na."""
    consensus: str | None
    """The majority answer; None on a tie."""
    agreement: float | None
    """Share of reviewer pairs giving the same answer."""
    reasons: dict[str, str] = field(default_factory=dict)
    """Reviewer -> the reason they gave for changing the machine's answer."""

    @property
    def disagreement(self) -> bool:
        return len(set(self.answers.values())) > 1


@dataclass(frozen=True)
class CalibrationCall:
    """A call of a session as people tell calls apart, and where the viewer is with it."""

    call_id: str
    external_id: str | None
    agent_id: str
    team: str | None
    started_at: datetime | None
    received_at: datetime
    duration_s: float | None
    score: float | None
    mine: ReviewStatus | None
    """The viewer's calibration review of it: None, a draft, or submitted."""
    submitted: int
    """How many of the session's reviewers have submitted theirs."""


@dataclass
class Report:
    session: CalibrationInfo
    submitted: dict[str, int]
    """Reviews submitted per reviewer."""
    items: list[ItemAgreement] = field(default_factory=list)
    percent_agreement: float | None = None
    fleiss_kappa: float | None = None
    reviewer_agreement: dict[str, float | None] = field(default_factory=dict)
    """Each reviewer's share of answers equal to the consensus (an undecided one is equal to
    nobody's)."""
    undecided: int = 0
    """Items answered by two or more reviewers with no majority answer."""
    machine: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per item label: automatic vs consensus (agreement, precision, recall, counts)."""


def create(
    session: Session, name: str, call_ids: list[str], reviewers: list[str], by: Principal
) -> CalibrationInfo:
    """A session over calls ``by`` may see (others are unknown to them: 422)."""
    access.require(by, Action.MANAGE_CALIBRATIONS)
    if len(set(reviewers)) < 2:
        raise InvalidInput("A calibration session needs at least two reviewers.")
    people = principals(session, reviewers)
    calls = {
        row.id: row
        for row in session.execute(
            select(Call.id, Call.agent_id, Call.team, Call.external_id).where(Call.id.in_(call_ids))
        )
        if access.sees_call(by, row)
    }
    missing = sorted(set(reviewers) - set(people)) + sorted(set(call_ids) - set(calls))
    if missing or not call_ids:
        raise InvalidInput("Name existing calls and users.", details={"unknown": missing})
    access.require_each(people, Action.CALIBRATE, "cannot take part in calibration")
    for person, principal in people.items():
        hidden = [c for c in calls.values() if not access.sees_call(principal, c)]
        if hidden:
            shown = ", ".join(c.external_id or c.id[:8] for c in hidden)
            raise InvalidInput(
                f"{person} cannot see every call of the session ({shown}: team "
                f"{hidden[0].team or 'none'}), so could not score it.",
                details={"reviewer": person, "calls": [c.id for c in hidden]},
            )
    row = CalibrationSession(
        name=name,
        call_ids=list(dict.fromkeys(call_ids)),
        reviewers=list(dict.fromkeys(reviewers)),
        created_by=by.who,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise Conflict(f"A calibration session named {name!r} exists.") from None
    return _info(row)


def visible_sessions(session: Session, principal: Principal) -> list[CalibrationInfo]:
    """The sessions a reviewer takes part in; every session for a lead; either way only
    sessions over calls of the caller's teams."""
    access.require(principal, Action.CALIBRATE)
    rows = session.scalars(
        select(CalibrationSession).order_by(CalibrationSession.created_at.desc())
    )
    lead = access.may(principal, Action.MANAGE_CALIBRATIONS)
    return [
        _info(r)
        for r in rows
        if (lead or principal.who in r.reviewers) and _sees(session, principal, r)
    ]


def get_visible(session: Session, principal: Principal, calibration_id: int) -> CalibrationInfo:
    """A session the caller takes part in (or, for a lead, any over calls of their teams):
    NotFound when it is over other teams' calls, Forbidden when they are not in it."""
    access.require(principal, Action.CALIBRATE)
    row = _get(session, calibration_id, principal)
    if not access.may(principal, Action.MANAGE_CALIBRATIONS) and principal.who not in row.reviewers:
        raise Forbidden("You do not take part in this calibration session.")
    return _info(row)


def start_review(
    session: Session, calibration_id: int, call_id: str, principal: Principal
) -> tuple[workflow.ReviewView, bool]:
    access.require(principal, Action.CALIBRATE)
    row = _get(session, calibration_id, principal)
    if principal.who not in row.reviewers:
        raise NotFound(f"No calibration session {calibration_id} of yours.")
    if call_id not in row.call_ids:
        raise NotFound(f"Call {call_id!r} is not in this session.")
    return workflow.start(session, call_id, principal, calibration=calibration_id)


def session_calls(
    session: Session, principal: Principal, calibration_id: int
) -> list[CalibrationCall]:
    """The session's calls in its order, each with the viewer's own progress on it."""
    info = get_visible(session, principal, calibration_id)
    rows = {
        call.id: (call, stats)
        for call, stats in session.execute(
            select(Call, CallStats)
            .outerjoin(CallStats, CallStats.call_id == Call.id)
            .where(Call.id.in_(info.call_ids))
        ).tuples()
    }
    mine: dict[str, ReviewStatus] = {}
    submitted: Counter[str] = Counter()
    for call_id, reviewer, status in session.execute(
        select(Review.call_id, Review.reviewer, Review.status).where(
            Review.calibration_id == calibration_id
        )
    ):
        final = status in FINAL
        submitted[call_id] += final
        if reviewer == principal.who:
            mine[call_id] = ReviewStatus.SUBMITTED if final else ReviewStatus.DRAFT
    out = []
    for call_id in info.call_ids:
        if call_id not in rows:
            continue  # deleted since
        call, stats = rows[call_id]
        score = (stats.values or {}).get("qa_score") if stats is not None else None
        out.append(
            CalibrationCall(
                call.id,
                call.external_id,
                call.agent_id,
                call.team,
                call.started_at,
                call.created_at,
                call.duration_s,
                score,
                mine.get(call_id),
                submitted[call_id],
            )
        )
    return out


def report(session: Session, principal: Principal, calibration_id: int) -> Report:
    access.require(principal, Action.MANAGE_CALIBRATIONS)
    row = _get(session, calibration_id, principal)
    reviews = session.execute(
        select(Review, EvaluationRow.result)
        .join(EvaluationRow, EvaluationRow.id == Review.evaluation_id)
        .where(Review.calibration_id == calibration_id, Review.status.in_(FINAL))
    ).all()
    out = Report(_info(row), dict(Counter(r.reviewer for r, _ in reviews)))
    by_call: dict[str, list[tuple[Review, dict[str, Any]]]] = {}
    for review, result in reviews:
        by_call.setdefault(review.call_id, []).append((review, result))
    for call_id in row.call_ids:
        submitted = by_call.get(call_id, [])
        if not submitted:
            continue
        score = submitted[0][1]["score"]
        for s, section in enumerate(score["sections"]):
            for i, auto in enumerate(section["items"]):
                key = item_key(s, i)
                answers = {r.reviewer: _label(r.result, s, i) for r, _ in submitted}
                reasons = {
                    r.reviewer: str(reason)
                    for r, _ in submitted
                    if (reason := ((r.answers or {}).get(key) or {}).get("reason"))
                }
                out.items.append(
                    ItemAgreement(
                        call_id,
                        key,
                        auto["item"],
                        _answer(auto),
                        answers,
                        _consensus(list(answers.values())),
                        _pairwise(list(answers.values())),
                        reasons,
                    )
                )
    _summarise(out, row.reviewers)
    return out


def _summarise(out: Report, reviewers: list[str]) -> None:
    rated = [i for i in out.items if len(i.answers) >= 2]
    pairs = [i.agreement for i in rated if i.agreement is not None]
    out.percent_agreement = round(sum(pairs) / len(pairs), 4) if pairs else None
    complete = [i for i in rated if set(i.answers) == set(reviewers)]
    out.fleiss_kappa = fleiss_kappa([list(i.answers.values()) for i in complete])
    out.undecided = sum(1 for i in rated if i.consensus is None)
    for reviewer in reviewers:
        judged = [i for i in rated if reviewer in i.answers]
        same = sum(1 for i in judged if i.answers[reviewer] == i.consensus)
        out.reviewer_agreement[reviewer] = round(same / len(judged), 4) if judged else None
    for label in sorted({i.item for i in rated}):
        judged = [i for i in rated if i.item == label and i.consensus is not None]
        tp = sum(1 for i in judged if i.automatic == "pass" and i.consensus == "pass")
        fp = sum(1 for i in judged if i.automatic == "pass" and i.consensus != "pass")
        fn = sum(1 for i in judged if i.automatic != "pass" and i.consensus == "pass")
        same = sum(1 for i in judged if i.automatic == i.consensus)
        out.machine[label] = {
            "calls": len(judged),
            "agreement": round(same / len(judged), 4) if judged else None,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
            "tp": tp,
            "fp": fp,
            "fn": fn,
        }


def fleiss_kappa(ratings: list[list[str]]) -> float | None:
    """Fleiss' kappa for subjects each rated by the same number of raters (None when it is
    undefined: no subjects, or every rating the same category)."""
    if not ratings or len({len(r) for r in ratings}) != 1 or len(ratings[0]) < 2:
        return None
    n = len(ratings[0])
    categories = sorted({c for r in ratings for c in r})
    counts = [Counter(r) for r in ratings]
    p_i = [(sum(c[k] ** 2 for k in categories) - n) / (n * (n - 1)) for c in counts]
    p_bar = sum(p_i) / len(p_i)
    p_j = [sum(c[k] for c in counts) / (len(ratings) * n) for k in categories]
    p_e = sum(p**2 for p in p_j)
    if p_e >= 1.0:
        return None
    return round((p_bar - p_e) / (1 - p_e), 4)


def _label(result: dict[str, Any] | None, s: int, i: int) -> str:
    return _answer((result or {})["sections"][s]["items"][i])


def _answer(item: dict[str, Any]) -> str:
    if not item["applicable"]:
        return "na"
    return "pass" if item["passed"] else "fail"


def _consensus(answers: list[str]) -> str | None:
    ranked = Counter(answers).most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def _pairwise(answers: list[str]) -> float | None:
    pairs = list(combinations(answers, 2))
    return round(sum(a == b for a, b in pairs) / len(pairs), 4) if pairs else None


def _get(session: Session, calibration_id: int, principal: Principal) -> CalibrationSession:
    row = session.get(CalibrationSession, calibration_id)
    if row is None or not _sees(session, principal, row):
        raise NotFound(f"No calibration session {calibration_id}.")
    return row


def _sees(session: Session, principal: Principal, row: CalibrationSession) -> bool:
    """A session is seen by those who see every call in it."""
    return access.may_see_calls(session, principal, row.call_ids)


def _info(row: CalibrationSession) -> CalibrationInfo:
    return CalibrationInfo(
        row.id, row.name, list(row.call_ids), list(row.reviewers), row.created_by, row.created_at
    )


def scored_by(session: Session, who: str, calibration_ids: list[int]) -> dict[int, int]:
    """Per session, how many of its calls ``who`` has submitted a calibration review of."""
    rows = session.execute(
        select(Review.calibration_id, Review.call_id).where(
            Review.calibration_id.in_(calibration_ids),
            Review.reviewer == who,
            Review.status.in_(FINAL),
        )
    )
    out: Counter[int] = Counter()
    for calibration_id, _ in rows:
        if calibration_id is not None:
            out[calibration_id] += 1
    return dict(out)
