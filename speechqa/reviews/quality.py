"""How good the machine's answers are, as judged by the people who reviewed the calls.

For each scorecard item, over submitted reviews: how often the reviewer kept the automatic
answer, and the precision and recall of the automatic "passed" against the reviewer's final
answer (a pass the reviewer overturned is a false positive; a fail they turned into a pass is a
false negative). A rule that finds empathy where people hear none shows low precision; one that
misses real closings, low recall. Items either side called not applicable, and differing, are
counted apart.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field, computed_field
from sqlalchemy import select
from sqlalchemy.orm import Session

from speechqa import access
from speechqa.access import Action
from speechqa.apikeys import Principal
from speechqa.rules.scorecard import item_key
from speechqa.scoring.evaluations import FINAL
from speechqa.storage.tables import EvaluationRow, Review


@dataclass
class ItemQuality:
    ruleset: str
    item: str
    reviews: int = 0
    kept: Annotated[int, Field(exclude=True)] = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    applicability_changed: int = 0
    calls: Annotated[list[str], Field(exclude=True)] = field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]  # mypy does not know pydantic's decorator
    @property
    def agreement(self) -> float | None:
        """Share of reviews that kept the automatic answer."""
        return round(self.kept / self.reviews, 4) if self.reviews else None

    @computed_field  # type: ignore[prop-decorator]  # as above
    @property
    def precision(self) -> float | None:
        """Of the automatic passes, the share reviewers kept."""
        return round(self.tp / (self.tp + self.fp), 4) if self.tp + self.fp else None

    @computed_field  # type: ignore[prop-decorator]  # as above
    @property
    def recall(self) -> float | None:
        """Of the passes reviewers gave, the share the machine found."""
        return round(self.tp / (self.tp + self.fn), 4) if self.tp + self.fn else None


def item_quality(
    session: Session, principal: Principal, ruleset: str | None = None
) -> list[ItemQuality]:
    """Every scorecard item that submitted reviews answered, with agreement, precision, recall."""
    access.require(principal, Action.READ_TEAM_REPORTS)
    query = (
        select(Review, EvaluationRow.result)
        .join(EvaluationRow, EvaluationRow.id == Review.evaluation_id)
        .where(Review.status.in_(FINAL), Review.self_review.is_(False))
        .where(access.reviews(principal))
    )
    if ruleset is not None:
        query = query.where(EvaluationRow.ruleset == ruleset)
    found: dict[tuple[str, str], ItemQuality] = defaultdict(lambda: ItemQuality("", ""))
    for review, result in session.execute(query):
        score = (result or {}).get("score") or {}
        name = score.get("ruleset") or ""
        for s, section in enumerate(score.get("sections", [])):
            for i, auto in enumerate(section["items"]):
                quality = found[(name, auto["item"])]
                quality.ruleset, quality.item = name, auto["item"]
                answer = review.answers.get(item_key(s, i))
                _count(quality, auto, answer, review.call_id)
    return sorted(found.values(), key=lambda q: (q.ruleset, q.item))


def _count(
    quality: ItemQuality, auto: dict[str, object], answer: dict[str, object] | None, call: str
) -> None:
    quality.reviews += 1
    quality.calls.append(call)
    human = answer or {"applicable": auto["applicable"], "passed": auto["passed"]}
    if answer is None:
        quality.kept += 1
    if bool(human["applicable"]) != bool(auto["applicable"]):
        quality.applicability_changed += 1
        return
    if not auto["applicable"]:
        return
    machine, person = bool(auto["passed"]), bool(human["passed"])
    if machine and person:
        quality.tp += 1
    elif machine:
        quality.fp += 1
    elif person:
        quality.fn += 1
    else:
        quality.tn += 1
