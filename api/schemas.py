"""Response shapes of the HTTP API (documented in the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class CallAccepted(BaseModel):
    id: str
    external_id: str | None
    status: str
    status_url: str
    call_url: str
    created: bool
    """False when the same external_id and audio had been submitted before."""


class CallStatusRead(BaseModel):
    id: str
    status: str
    progress: float
    reason: str | None
    attempts: int
    updated_at: datetime


class WordRead(BaseModel):
    word: str
    start: float
    end: float
    probability: float


class UtteranceRead(BaseModel):
    id: int
    speaker: str
    start: float
    end: float
    text: str
    words: list[WordRead]
    sentiment: dict[str, Any] | None
    """{"label": negative | neutral | positive, "score": -1..1}"""


class CallDocument(BaseModel):
    """The call document; later stages add metrics, rules, script and score."""

    model_config = ConfigDict(extra="allow")

    id: str
    status: str
    external_id: str | None
    agent_id: str | None
    agent_name: str | None
    team: str | None
    started_at: str | None
    direction: str | None
    duration_s: float | None
    source_channels: int | None
    channels: dict[str, str] | None
    roles_estimated: bool
    """True for a mono call whose agent and customer turns were separated by voice."""
    language: str | None
    tags: list[str]
    outcome: str | None
    status_reason: str | None
    asr_model: str | None
    speakers: list[str]
    utterances: list[UtteranceRead]
    metrics: dict[str, Any] | None
    """Talk, silence, overtalk, interruptions, words per minute, monologues, questions."""
    sentiment: dict[str, Any]
    """Per role: turns, quarter means and overall; and customer_sentiment_shift."""
    rules: list[dict[str, Any]]
    """Each rule: matched or not, with every hit's utterance, speaker, times and words."""
    script: dict[str, Any] | None
    score: dict[str, Any] | None
    """Scorecard: value 0-100, critical_fail, ruleset and version, sections with their items."""


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody
