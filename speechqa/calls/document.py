"""The call document: the one shape that the API and ``speechqa analyze --json`` return.

:class:`CallDocument` is built of the core's own result types (utterances with their words and
sentiment, the conversation measures, the rules, script and scorecard of the evaluation that
counts, the review whose final score counts); the API serves it as its response model, so the
OpenAPI schema describes every field. :func:`as_json` is its JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import TypeAdapter
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from speechqa.contracts import Utterance
from speechqa.pipeline import sentiment
from speechqa.pipeline.conversation import Measures
from speechqa.pipeline.sentiment import SentimentSummary
from speechqa.rules.matching import RuleResult
from speechqa.rules.scorecard import Evaluation, Scorecard, Script
from speechqa.storage.tables import CallStatus, ReviewStatus
from speechqa.stored import SERVED


class ChannelRoles(TypedDict):
    """The role heard on each channel of a stereo call."""

    left: str
    right: str


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


@dataclass(frozen=True)
class CountedReview:
    """The submitted review whose final score counts for a call (as the call document shows it)."""

    __pydantic_config__ = SERVED

    id: int
    reviewer: str
    status: ReviewStatus
    score: float | None
    critical_fail: bool
    submitted_at: str | None
    """ISO 8601."""
    final: Scorecard | None
    """Its final scorecard."""


@dataclass(frozen=True)
class CallDocument:
    """Everything known about one call, as reviewers and clients read it."""

    __pydantic_config__ = SERVED

    id: str
    status: CallStatus
    external_id: str | None
    agent_id: str | None
    agent_name: str | None
    team: str | None
    started_at: str | None
    """ISO 8601."""
    direction: str | None
    duration_s: float | None
    source_channels: int | None
    channels: ChannelRoles | None
    roles_estimated: bool
    """True for a mono call whose agent and customer turns were separated by voice."""
    language: str | None
    tags: list[str]
    outcome: str | None
    status_reason: str | None
    asr_model: str | None
    speakers: list[str]
    utterances: list[Utterance]
    metrics: Measures | None
    """Talk, silence, overtalk, interruptions, words per minute, monologues, questions."""
    sentiment: SentimentSummary
    rules: list[RuleResult]
    """Each rule: matched or not, with every hit's utterance, speaker, times and words."""
    script: Script | None
    score: Scorecard | None
    """The automatic scorecard. Each rule item has ``confidence`` (mean ASR word probability
    of what its answer rests on), ``low_confidence`` and ``weak_spots``."""
    review: CountedReview | None
    """The submitted review whose final score counts, with its scorecard (``final``)."""
    score_source: Literal["automatic", "review"]
    """Which score counts for KPIs and lists."""


_JSON = TypeAdapter(CallDocument)


def as_json(doc: CallDocument) -> dict[str, Any]:
    """The document's JSON form (what the API serves)."""
    out: dict[str, Any] = _JSON.dump_python(doc, mode="json")
    return out


def build_document(
    header: CallHeader,
    utterances: list[Utterance],
    evaluation: Evaluation | None = None,
    metrics: Measures | None = None,
    review: CountedReview | None = None,
    sentiment_summary: SentimentSummary | None = None,
) -> CallDocument:
    """The call document; ``evaluation`` is a ruleset's result (rules, script, score), the
    automatic one; ``review`` the submitted review whose final score counts, if any;
    ``sentiment_summary`` the one made when the call was analysed (computed here for a call
    analysed before it was stored)."""
    channels = header.channels
    return CallDocument(
        id=header.id,
        status=CallStatus(header.status),
        external_id=header.external_id,
        agent_id=header.agent_id,
        agent_name=header.agent_name,
        team=header.team,
        started_at=header.started_at.isoformat() if header.started_at else None,
        direction=header.direction,
        duration_s=header.duration_s,
        source_channels=header.source_channels,
        channels=ChannelRoles(left=channels["left"], right=channels["right"]) if channels else None,
        roles_estimated=header.roles_estimated,
        language=header.language,
        tags=list(header.tags),
        outcome=header.outcome,
        status_reason=header.status_reason,
        asr_model=header.asr_model,
        speakers=sorted({u.speaker for u in utterances}),
        utterances=utterances,
        metrics=metrics,
        sentiment=sentiment_summary or sentiment.summary(utterances, header.duration_s or 0.0),
        rules=evaluation.rules if evaluation else [],
        script=evaluation.script if evaluation else None,
        score=evaluation.score if evaluation else None,
        review=review,
        score_source="review" if review else "automatic",
    )
