"""Request and response shapes of the HTTP API (documented in the OpenAPI schema).

A response that is a core object is that object's dataclass (the routes name it as their
``response_model``); what is here is only what the API adds: request bodies, envelopes around
lists, errors, and answers the core does not make.

Every request body is a :class:`RequestBody`: no string in it, anywhere, may hold a control
character (NUL and the like; tab and line breaks are fine), and the schema says so.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from speechqa.calls.listing import CallRow
from speechqa.coaching.examples import Example
from speechqa.contracts import Word
from speechqa.reviews.quality import ItemQuality
from speechqa.reviews.queues import Assignment
from speechqa.text import DISALLOWED_PATTERN, disallowed_character


def _string_patterns(schema: dict[str, Any]) -> None:
    """Give every string in a body's JSON schema the pattern that refuses control characters."""
    free = not {"pattern", "format", "enum", "const"} & schema.keys()
    if schema.get("type") == "string" and free:
        schema["pattern"] = DISALLOWED_PATTERN
    for key in ("properties", "$defs"):
        for inner in schema.get(key, {}).values():
            _string_patterns(inner)
    for key in ("items", "additionalProperties", "propertyNames"):
        if isinstance(schema.get(key), dict):
            _string_patterns(schema[key])
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for inner in schema.get(key, []):
            _string_patterns(inner)


class RequestBody(BaseModel):
    """A JSON request body: refused with 422 when any string in it (a field, an item, a key or
    value of a free-form object) holds a control character or a lone surrogate, which
    PostgreSQL cannot store (NUL) or a reader cannot see."""

    model_config = ConfigDict(json_schema_extra=lambda schema, _: _string_patterns(schema))

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: Any) -> Any:
        problem = disallowed_character(data)
        if problem:
            where, char = problem
            raise PydanticCustomError(
                "control_character",
                "{where} holds the control character {char}, which is not allowed",
                {"where": where or "the body", "char": char},
            )
        return data


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


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class CallList(BaseModel):
    calls: list[CallRow]
    next_cursor: str | None
    """Pass as ``cursor`` for the next page; null on the last page."""


class MetricSummary(BaseModel):
    mean: float
    median: float
    calls: int


class KpiSummary(BaseModel):
    calls: int
    metrics: dict[str, MetricSummary]
    critical_fail_rate: float
    rule_hit_rate: dict[str, float]


class KpiBucket(KpiSummary):
    start: str
    """First day of the day, week (Monday) or month."""


class _Period(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str


class _Kpis(_Period):
    bucket: str | None
    totals: KpiSummary
    buckets: list[KpiBucket] | None = None
    calls_url: str
    """The call list with the same filters: the calls behind every figure."""


class AgentKpis(_Kpis):
    agent_id: str
    agent_name: str | None
    team: str | None


class TeamKpis(_Kpis):
    team: str
    agents: list[str]


class LeaderboardRow(BaseModel):
    rank: int
    agent_id: str
    calls: int
    mean: float


class Leaderboard(_Period):
    metric: str
    agents: list[LeaderboardRow]


class JournalEvent(BaseModel):
    id: int
    at: str
    agent_id: str
    team: str | None
    call_id: str
    counter: str
    offset_s: float | None
    value: float | None
    detail: str | None


class KpiJournal(BaseModel):
    events: list[JournalEvent]
    next_cursor: int | None


class SummaryRow(BaseModel):
    agent_id: str
    period: str | None
    calls: int
    counters: dict[str, int]


class SummaryReport(_Period):
    bucket: str | None
    rows: list[SummaryRow]


class RulesetName(BaseModel):
    name: str
    version: int


class RulesetList(BaseModel):
    rulesets: list[RulesetName]


class RulesetValid(BaseModel):
    valid: bool
    name: str
    rules: int
    script_steps: int
    scorecard_items: int


class RulesetVersionRead(BaseModel):
    version: int
    created_at: str
    created_by: str | None
    """Who stored it (null for versions stored before this was kept, or from the CLI)."""


class RulesetRead(BaseModel):
    name: str
    version: int | None
    description: str | None
    rules: list[str]
    script: list[str] | None
    versions: list[RulesetVersionRead]
    source: str


class RescoreAccepted(BaseModel):
    job_id: str
    ruleset: str
    version: int | None
    status_url: str


class JobRead(BaseModel):
    id: str
    status: str
    """queued, started, finished, failed..."""
    progress: dict[str, int] | None
    result: Any = None
    error: str | None


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


class ApiKeyCreate(RequestBody):
    scopes: list[str] = Field(default_factory=list, min_length=1, max_length=6)
    """ingest, agent, review, coach, lead, admin (not needed with a user)"""
    user: str | None = Field(None, max_length=200)
    """The key acts for this user, with their role and teams."""
    name: str | None = Field(None, max_length=200)
    expires_in_days: int | None = Field(None, ge=1, le=3650)


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": description}
    for code, description in (
        (400, "Bad request (for example a NUL character in the URL)"),
        (401, "No API key, or a wrong, revoked or expired one"),
        (403, "The key lacks the scope"),
        (404, "Unknown id"),
        (413, "The body is over the size limit"),
        (422, "Invalid input; every problem is listed in details"),
        (429, "Too many wrong keys from this client; see Retry-After"),
        (503, "A backing service is unavailable; retry later"),
    )
}
"""The error answers every authenticated route can give, for the OpenAPI schema."""


class UserCreate(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    role: Literal["ingest", "agent", "reviewer", "coach", "lead", "admin"]
    teams: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=100
    )
    """The teams whose calls the user sees; empty: every team."""
    agent_id: str | None = Field(None, max_length=200)
    """Required for an agent: whose calls are theirs."""
    time_zone: str | None = Field(None, max_length=64)
    """The zone the user sees times in (an IANA name, e.g. Europe/Berlin); none: the browser's."""


class ReviewStart(RequestBody):
    reason: str | None = Field(None, max_length=2000)
    """Required once a submitted QA review counts for the call: the new review is then a
    re-evaluation of it (a lead's, or the same reviewer's)."""


class ItemAnswer(RequestBody):
    decision: Literal["accept", "pass", "fail", "na"]
    """accept keeps the automatic answer; pass, fail and na (not applicable) override it."""
    reason: str | None = Field(None, max_length=2000)
    """Required to override."""


class ReviewSubmit(RequestBody):
    answers: dict[Annotated[str, Field(max_length=20)], ItemAnswer] = Field(
        default_factory=dict, max_length=200
    )
    """Item answers saved before adding up, all or none (an override without a reason: 422,
    nothing saved or submitted)."""


class CommentCreate(RequestBody):
    text: str = Field(min_length=1, max_length=2000)
    utterance: int | None = Field(None, ge=0, le=1_000_000)
    start: float | None = Field(None, ge=0, le=1e6)
    end: float | None = Field(None, ge=0, le=1e6)


class DisputeCreate(RequestBody):
    items: list[Annotated[str, Field(max_length=20)]] = Field(min_length=1, max_length=200)
    """The keys of the disputed items."""
    comment: str = Field(min_length=1, max_length=2000)


class Resolution(RequestBody):
    outcome: Literal["upheld", "adjusted"]
    reason: str = Field(min_length=1, max_length=2000)
    answers: dict[Annotated[str, Field(max_length=20)], ItemAnswer] = Field(
        default_factory=dict, max_length=200
    )
    """With "adjusted": the items that change."""


class QueueCreate(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    rule: dict[str, Any]
    """{"kind": "random_per_agent", "per_agent": 2, "days": 7} or
    {"kind": "filter", "filters": {"critical_fail": true}, "limit": 20}"""
    reviewers: list[Annotated[str, Field(max_length=200)]] = Field(min_length=1, max_length=100)


class Sampled(BaseModel):
    sampled: list[Assignment]


class MyQueue(BaseModel):
    items: list[Assignment]


class RuleQuality(BaseModel):
    items: list[ItemQuality]


class CalibrationCreate(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    calls: list[Annotated[str, Field(max_length=64)]] = Field(min_length=1, max_length=200)
    reviewers: list[Annotated[str, Field(max_length=200)]] = Field(
        min_length=2, max_length=50, json_schema_extra={"uniqueItems": True}
    )
    """At least two different reviewers."""


class ExampleList(BaseModel):
    items: list[Example]


class ClipCreate(RequestBody):
    call_id: str = Field(min_length=1, max_length=32)
    start: float = Field(ge=0, le=1e6)
    end: float = Field(gt=0, le=1e6)
    speaker: str | None = Field(None, max_length=50)
    note: str | None = Field(None, max_length=2000)


class CollectionCreate(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)


class SessionClip(ClipCreate):
    text: str | None = Field(None, max_length=2000)
    """The words said in the span; default: taken from the transcript."""


class GoalCreate(RequestBody):
    focus: dict[str, str]
    """The focus entry the goal is about, e.g. ``{"kpi": "qa_score"}``."""
    target: float = Field(ge=-1e9, le=1e9)
    due: date | None = None


class CoachingSessionCreate(RequestBody):
    agent_id: str = Field(min_length=1, max_length=200)
    focus: list[dict[str, str]] = Field(min_length=1, max_length=20)
    """``{"kpi": "qa_score"}``, ``{"rule": "empathy"}``, ``{"item": "2.0", "ruleset": ...}``"""
    held_at: datetime | None = None
    """Default: now."""
    clips: list[SessionClip] = Field(default_factory=list, max_length=50)
    notes: str | None = Field(None, max_length=20000)
    goals: list[GoalCreate] = Field(default_factory=list, max_length=20)


class BulkTags(RequestBody):
    calls: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=500
    )
    add: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50
    )
    remove: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=50
    )


class BulkCalls(RequestBody):
    calls: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=500
    )


class WebhookCreate(RequestBody):
    url: str = Field(max_length=2000)
    """http or https; receives a POST per event."""
    events: list[Annotated[str, Field(max_length=100)]] = Field(max_length=20)
    """Any of call.analyzed, call.failed, review.submitted, review.disputed,
    coaching.session.created."""
    description: str | None = Field(None, max_length=500)


class TranscriptUtterance(BaseModel):
    id: int
    speaker: str
    label: str
    """The speaker as a reader names them (Agent, Customer...)."""
    start: float
    end: float
    text: str
    words: list[Word]


class TranscriptFile(BaseModel):
    """The transcript downloaded as JSON (``format=json``), a file in its own format."""

    id: str
    external_id: str | None
    agent_id: str | None
    agent_name: str | None
    team: str | None
    started_at: str | None
    duration_s: float | None
    language: str | None
    utterances: list[TranscriptUtterance]
