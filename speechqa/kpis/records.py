"""The KPI row and journal entries of one scored call.

When a call is scored (:mod:`speechqa.scoring`), its numbers are written to ``call_stats`` (one
narrow row, indexed by agent and time, and by team and time) and each counter that fired to the
journal (``kpi_events``): every rule hit, a critical fail, each silence over 10 s, a customer
sentiment drop. Aggregates read only those rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from speechqa.pipeline.conversation import silences
from speechqa.storage.tables import CallStats, KpiEvent, ScoreSource

SILENCE_EVENT_S = 10.0
SENTIMENT_DROP = -0.5


class CallFacts(Protocol):
    """What the KPI rows need of a call (a stored transcript, or a Call row)."""

    @property
    def id(self) -> str: ...
    @property
    def agent_id(self) -> str: ...
    @property
    def team(self) -> str | None: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def duration_s(self) -> float | None: ...
    @property
    def speech(self) -> dict[str, Any] | None: ...


def _when(call: CallFacts) -> datetime:
    when = call.started_at or call.created_at
    return when if when.tzinfo else when.replace(tzinfo=UTC)


Rows = tuple[dict[str, Any], list[dict[str, Any]]]


def rows_for(
    call: CallFacts,
    evaluation: Mapping[str, Any] | None,
    measured: dict[str, float],
    score_source: ScoreSource = ScoreSource.AUTOMATIC,
) -> Rows:
    """The call_stats row and the journal rows of one scored call. ``evaluation`` is the
    stored form of the one that counts (``Evaluation.as_dict()``, with a review's final score
    over its score where one counts); only the keys the rows use need be there."""
    at = _when(call)
    values: dict[str, float] = dict(measured)
    evaluation = evaluation or {}
    score = evaluation.get("score") or {}
    script = evaluation.get("script") or {}
    if score.get("value") is not None:
        values["qa_score"] = float(score["value"])
    if script.get("adherence") is not None:
        values["script_adherence"] = float(script["adherence"])
    rules = [r for r in evaluation.get("rules", []) if r.get("matched")]
    critical = bool(score.get("critical_fail"))
    stats = {
        "call_id": call.id,
        "agent_id": call.agent_id,
        "team": call.team,
        "at": at,
        "values": values,
        "rules_hit": [r["id"] for r in rules],
        "critical_fail": critical,
        "score_source": score_source,
    }

    def event(
        counter: str, offset: float | None, value: float | None, detail: str | None
    ) -> dict[str, Any]:
        return {
            "call_id": call.id,
            "agent_id": call.agent_id,
            "team": call.team,
            "at": at + timedelta(seconds=offset or 0),
            "offset_s": offset,
            "counter": counter,
            "value": value,
            "detail": detail,
        }

    events = []
    for rule in rules:
        first = min(rule["hits"], key=lambda h: h["start"]) if rule.get("hits") else None
        events.append(
            event(
                f"rule:{rule['id']}",
                first["start"] if first else None,
                1.0,
                first["text"] if first else None,
            )
        )
    if critical:
        events.append(event("critical_fail", None, 1.0, None))
    for start, end in _silences(call):
        events.append(event("silence_over_10s", start, round(end - start, 2), None))
    shift = values.get("customer_sentiment_shift")
    if shift is not None and shift <= SENTIMENT_DROP:
        events.append(event("customer_sentiment_drop", None, shift, None))
    return stats, events


def write(session: Session, items: Sequence[Rows]) -> None:
    """Replace the KPI rows and journal entries of many calls at once (idempotent)."""
    if not items:
        return
    ids = [stats["call_id"] for stats, _ in items]
    session.execute(delete(CallStats).where(CallStats.call_id.in_(ids)))
    session.execute(delete(KpiEvent).where(KpiEvent.call_id.in_(ids)))
    session.execute(insert(CallStats), [stats for stats, _ in items])
    events = [e for _, evs in items for e in evs]
    if events:
        session.execute(insert(KpiEvent), events)


def _silences(call: CallFacts) -> list[tuple[float, float]]:
    if not call.speech:
        return []  # no voice-activity data: nothing to say about silence
    return silences(call.speech, call.duration_s or 0.0, SILENCE_EVENT_S)
