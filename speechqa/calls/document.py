"""The call document: the one JSON shape that the API and ``speechqa analyze --json`` return.

Later stages (rules, metrics, scores) add their keys here; every consumer reads this format.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from speechqa.contracts import Utterance
from speechqa.pipeline import sentiment


@dataclass(frozen=True)
class CallHeader:
    """The call-level fields of a document, whatever the source (database row or a file)."""

    id: str
    status: str
    external_id: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    team: str | None = None
    started_at: datetime | None = None
    direction: str | None = None
    duration_s: float | None = None
    source_channels: int | None = None
    channels: dict[str, str] | None = None
    roles_estimated: bool = False
    language: str | None = None
    tags: list[str] = field(default_factory=list)
    outcome: str | None = None
    status_reason: str | None = None
    asr_model: str | None = None


def utterance_dict(u: Utterance) -> dict[str, Any]:
    return {
        "id": u.id,
        "speaker": u.speaker,
        "start": u.start,
        "end": u.end,
        "text": u.text,
        "words": [asdict(w) for w in u.words],
        "sentiment": u.sentiment.as_dict() if u.sentiment else None,
    }


def build_document(
    header: CallHeader,
    utterances: list[Utterance],
    evaluation: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    review: dict[str, Any] | None = None,
    sentiment_summary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The call document; ``evaluation`` is a ruleset's result (rules, script, score), the
    automatic one; ``review`` the submitted review whose final score counts, if any;
    ``sentiment_summary`` the one made when the call was analysed (computed here for a call
    analysed before it was stored)."""
    doc = asdict(header)
    doc["started_at"] = header.started_at.isoformat() if header.started_at else None
    doc["speakers"] = sorted({u.speaker for u in utterances})
    doc["utterances"] = [utterance_dict(u) for u in utterances]
    doc["metrics"] = metrics
    if sentiment_summary is None:
        sentiment_summary = sentiment.summary(utterances, header.duration_s or 0.0)
    doc["sentiment"] = sentiment_summary
    evaluation = evaluation or {}
    doc["rules"] = evaluation.get("rules", [])
    doc["script"] = evaluation.get("script")
    doc["score"] = evaluation.get("score")
    doc["review"] = review
    doc["score_source"] = "review" if review else "automatic"
    return doc
