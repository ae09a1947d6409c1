"""Stored evaluations, and the one rule that says which of a call's evaluations counts.

An evaluation is keyed by call, ruleset and version: re-running an analysis replaces its own
row, re-scoring with another version adds one, so a call keeps its history. The evaluation that
counts (for the call document, the call list, KPIs, the leaderboard and the journal) is chosen
in :func:`counted` alone: the newest version of the call's own ruleset that has scored it, and
over its score the final score of the latest submitted review, where there is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.orm import Session

from speechqa.calls.document import CountedReview
from speechqa.rules.scorecard import Evaluation, Scorecard
from speechqa.rules.versions import DEFAULT
from speechqa.storage.tables import Call, EvaluationRow, Review, ReviewStatus, utcnow

Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class Counted:
    """Which stored evaluation counts for a call, and the review whose final score counts
    over its score (if one was submitted)."""

    id: int
    ruleset: str
    version: int
    review_id: int | None = None


FINAL = (
    ReviewStatus.SUBMITTED,
    ReviewStatus.ACKNOWLEDGED,
    ReviewStatus.DISPUTED,
    ReviewStatus.RESOLVED,
)
"""Review states whose final score counts."""
SUBMITTED = (*FINAL, ReviewStatus.SUPERSEDED)
"""Review states of a review its reviewer has finished (counting, or replaced since by a
re-evaluation)."""


def save(session: Session, evaluations: Sequence[tuple[str, Evaluation]]) -> None:
    """Store evaluations (their ``as_dict()``), each replacing an earlier one of the same call
    and ruleset version."""
    by_version: dict[tuple[str, int], list[str]] = {}
    rows = []
    for call_id, evaluation in evaluations:
        version = evaluation.version or 0
        by_version.setdefault((evaluation.ruleset, version), []).append(call_id)
        score, script = evaluation.score, evaluation.script
        rows.append(
            {
                "call_id": call_id,
                "ruleset": evaluation.ruleset,
                "version": version,
                "score": score.value if score else None,
                "critical_fail": score.critical_fail if score else False,
                "adherence": script.adherence if script else None,
                "result": evaluation.as_dict(),
                "created_at": utcnow(),
            }
        )
    for (ruleset, version), call_ids in by_version.items():
        session.execute(
            delete(EvaluationRow).where(
                EvaluationRow.call_id.in_(call_ids),
                EvaluationRow.ruleset == ruleset,
                EvaluationRow.version == version,
            )
        )
    if rows:
        session.execute(insert(EvaluationRow), rows)


def _counting(query: Q, call_ids: Sequence[str]) -> Q:
    """The rule, applied to ``query`` over evaluations: the call's own ruleset, newest first."""
    return (
        query.join(Call, Call.id == EvaluationRow.call_id)
        .where(
            EvaluationRow.call_id.in_(call_ids),
            EvaluationRow.ruleset == func.coalesce(Call.ruleset, DEFAULT),
        )
        .order_by(EvaluationRow.call_id, EvaluationRow.version.desc())
    )


def counted(session: Session, call_ids: Sequence[str]) -> dict[str, Counted]:
    """For each call that has one, the evaluation that counts (see the module docstring)."""
    row = EvaluationRow
    query = _counting(select(row.call_id, row.id, row.ruleset, row.version), call_ids)
    out: dict[str, Counted] = {}
    for call_id, row_id, ruleset, version in session.execute(query):
        out.setdefault(call_id, Counted(row_id, ruleset, version))
    reviewed = session.execute(
        select(Review.call_id, Review.id)
        .where(
            Review.call_id.in_(list(out)),
            Review.status.in_(FINAL),
            Review.calibration_id.is_(None),  # calibration reviews never count
            Review.self_review.is_(False),  # nor an agent's own
        )
        .order_by(Review.call_id, Review.submitted_at.desc(), Review.id.desc())
    )
    seen: set[str] = set()
    for call_id, review_id in reviewed:
        if call_id not in seen:
            seen.add(call_id)
            out[call_id] = replace(out[call_id], review_id=review_id)
    return out


def with_scorecard(session: Session, call_ids: Sequence[str]) -> set[str]:
    """The calls whose counting evaluation has a scorecard (what a review answers)."""
    row = EvaluationRow
    seen: dict[str, bool] = {}
    for call_id, score in session.execute(_counting(select(row.call_id, row.score), call_ids)):
        seen.setdefault(call_id, score is not None)
    return {call_id for call_id, scored in seen.items() if scored}


def current(session: Session, call_id: str) -> EvaluationRow | None:
    """The stored evaluation that counts for one call, with its result (one query)."""
    row: EvaluationRow | None = session.scalar(_counting(select(EvaluationRow), [call_id]).limit(1))
    return row


def loaded(session: Session, row_ids: Sequence[int]) -> dict[int, Evaluation]:
    """Stored evaluations, by row id."""
    if not row_ids:
        return {}
    row = EvaluationRow
    query = select(row.id, row.result, row.ruleset, row.version).where(row.id.in_(row_ids))
    return {
        row_id: Evaluation.from_stored(result, ruleset, version)
        for row_id, result, ruleset, version in session.execute(query)
    }


def review_results(session: Session, review_ids: Sequence[int | None]) -> dict[int, Scorecard]:
    """The final scorecards of submitted reviews, by review id."""
    ids = [i for i in review_ids if i is not None]
    if not ids:
        return {}
    query = select(Review.id, Review.result).where(Review.id.in_(ids), Review.result.is_not(None))
    return {
        review_id: Scorecard.from_stored(result) for review_id, result in session.execute(query)
    }


def for_document(session: Session, call_id: str) -> tuple[Evaluation | None, CountedReview | None]:
    """What the call document shows: the automatic evaluation that counts and the submitted
    review whose final score counts over it (if any), decided once by :func:`counted`."""
    found = counted(session, [call_id]).get(call_id)
    if found is None:
        return None, None
    automatic = loaded(session, [found.id]).get(found.id)
    review = session.get(Review, found.review_id) if found.review_id is not None else None
    if review is None:
        return automatic, None
    return automatic, CountedReview(
        id=review.id,
        reviewer=review.reviewer,
        status=ReviewStatus(review.status),
        score=review.score,
        critical_fail=review.critical_fail,
        submitted_at=review.submitted_at.isoformat() if review.submitted_at else None,
        final=Scorecard.from_stored(review.result) if review.result else None,
    )
