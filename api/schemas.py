"""Request and response shapes of the HTTP API (documented in the OpenAPI schema).

Every request body is a :class:`RequestBody`: no string in it, anywhere, may hold a control
character (NUL and the like; tab and line breaks are fine), and the schema says so.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

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


class SearchMatch(BaseModel):
    utterance: int
    speaker: str
    start: float
    end: float
    text: str
    """HTML-escaped, each matched word in <mark>...</mark>."""


class CallListItem(BaseModel):
    id: str
    external_id: str | None
    agent_id: str
    team: str | None
    status: str
    started_at: str | None
    duration_s: float | None
    score: float | None
    """The QA score that counts for the call (0-100), null until scored."""
    critical_fail: bool | None
    customer_sentiment_shift: float | None
    score_source: str | None
    """"review" when a reviewer's final score counts, else "automatic"."""
    tags: list[str]
    matches: list[SearchMatch]
    """With a search: the utterances that match (at most 5), with their times."""
    url: str
    agent_name: str | None = None
    direction: str | None = None
    received_at: str | None = None
    """When the call arrived; the list sorts by ``started_at``, else this."""
    disputed: bool = False


class CallList(BaseModel):
    calls: list[CallListItem]
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


class RulesetStored(BaseModel):
    name: str
    version: int
    created: bool
    """False when the text equals the newest version (nothing new was stored)."""
    rules: int


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


class ApiKeyRead(BaseModel):
    id: int
    name: str | None
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    """To the minute."""
    expires_at: datetime | None
    revoked_at: datetime | None
    active: bool


class ApiKeyCreated(ApiKeyRead):
    key: str
    """Shown once: store it now."""


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


class UserRead(BaseModel):
    id: int
    name: str
    role: str
    teams: list[str]
    agent_id: str | None
    time_zone: str | None = None


class ReviewItem(BaseModel):
    key: str
    """Section and item position, e.g. "0.2": what to answer."""
    section: str
    item: str
    possible: float
    critical: bool
    automatic: dict[str, Any]
    answer: dict[str, Any] | None


class AuditEntryRead(BaseModel):
    at: datetime
    by: str
    action: str
    before: Any = None
    after: Any = None


class ReviewRead(BaseModel):
    id: int
    call_id: str
    reviewer: str
    status: str
    """draft, submitted, acknowledged, disputed, resolved; superseded (a re-evaluation
    replaced it: kept, never counted)"""
    ruleset: str
    version: int
    automatic_score: float | None
    items: list[ReviewItem]
    comments: list[dict[str, Any]]
    final: dict[str, Any] | None
    kind: str
    """qa (counts for KPIs), self (an agent's review of their own call), calibration."""
    dispute: dict[str, Any] | None
    """The agent's dispute: items, comment, by, at."""
    resolution: dict[str, Any] | None
    """The lead's decision: outcome (upheld, adjusted), reason, by, at."""
    score: float | None
    critical_fail: bool
    created_at: datetime
    submitted_at: datetime | None
    audit: list[AuditEntryRead]
    calibration: int | None = None
    """The calibration session of a calibration review."""
    revises: int | None = None
    """A re-evaluation: the review it replaces once submitted."""
    revision_reason: str | None = None
    """Why the call was re-evaluated."""
    superseded_by: int | None = None
    """The re-evaluation that replaced this review."""


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


class QueueRead(BaseModel):
    id: int
    name: str
    rule: dict[str, Any]
    reviewers: list[str]
    created_by: str
    created_at: datetime


class AssignmentRead(BaseModel):
    call_id: str
    queue: str
    rule: dict[str, Any]
    """The rule that chose the call, as it was then."""
    sampled_at: datetime
    agent_id: str
    team: str | None
    started_at: str | None
    assignee: str
    """The reviewer it was dealt to."""
    external_id: str | None = None
    duration_s: float | None = None
    score: float | None = None
    review: str | None = None
    """In your queue: 'draft' while your review of it is open."""


class Sampled(BaseModel):
    sampled: list[AssignmentRead]


class MyQueue(BaseModel):
    items: list[AssignmentRead]


class ItemQualityRead(BaseModel):
    ruleset: str
    item: str
    reviews: int
    agreement: float | None
    """Share of reviews that kept the automatic answer."""
    precision: float | None
    """Of the automatic passes, the share reviewers kept."""
    recall: float | None
    """Of the passes reviewers gave, the share the machine found."""
    tp: int
    fp: int
    fn: int
    tn: int
    applicability_changed: int


class RuleQuality(BaseModel):
    items: list[ItemQualityRead]


class CalibrationCreate(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    calls: list[Annotated[str, Field(max_length=64)]] = Field(min_length=1, max_length=200)
    reviewers: list[Annotated[str, Field(max_length=200)]] = Field(
        min_length=2, max_length=50, json_schema_extra={"uniqueItems": True}
    )
    """At least two different reviewers."""


class CalibrationRead(BaseModel):
    id: int
    name: str
    call_ids: list[str]
    reviewers: list[str]
    created_by: str
    created_at: datetime


class CalibrationItem(BaseModel):
    call_id: str
    key: str
    item: str
    automatic: str
    answers: dict[str, str]
    consensus: str | None
    """The majority answer; null when undecided (no majority, as when two reviewers differ)."""
    agreement: float | None
    reasons: dict[str, str] = {}
    """Reviewer -> the reason they gave for changing the machine's answer."""


class CalibrationReport(BaseModel):
    session: CalibrationRead
    submitted: dict[str, int]
    items: list[CalibrationItem]
    percent_agreement: float | None
    """Mean share of agreeing reviewer pairs per item."""
    fleiss_kappa: float | None
    """Agreement beyond chance over the items every reviewer answered."""
    reviewer_agreement: dict[str, float | None]
    """Each reviewer's share of answers equal to the consensus (undecided: equal to none)."""
    undecided: int
    """Items answered by two or more reviewers with no majority answer."""
    machine: dict[str, dict[str, Any]]
    """Per item: the automatic answers against the consensus: agreement, precision, recall."""


class ExampleRead(BaseModel):
    call_id: str
    agent_id: str
    team: str | None
    at: datetime
    """When the call took place."""
    speaker: str | None
    start: float
    end: float
    text: str
    reason: str
    """Why it was chosen: what happened, reviewer confirmation, word confidence, length."""
    confirmed: bool
    confidence: float | None
    audio_url: str | None
    """Plays just this span (a WAV clip); None when retention removed the recording."""


class ExampleList(BaseModel):
    items: list[ExampleRead]


class ClipCreate(RequestBody):
    call_id: str = Field(min_length=1, max_length=32)
    start: float = Field(ge=0, le=1e6)
    end: float = Field(gt=0, le=1e6)
    speaker: str | None = Field(None, max_length=50)
    note: str | None = Field(None, max_length=2000)


class ClipRead(BaseModel):
    id: int
    call_id: str
    agent_id: str
    speaker: str | None
    start: float
    end: float
    text: str | None
    note: str | None
    added_by: str
    added_at: datetime
    audio_url: str


class CollectionCreate(RequestBody):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)


class CollectionRead(BaseModel):
    id: int
    name: str
    description: str | None
    created_by: str
    created_at: datetime
    clip_count: int
    clips: list[ClipRead] | None = None


class SessionClip(RequestBody):
    call_id: str = Field(min_length=1, max_length=32)
    start: float = Field(ge=0, le=1e6)
    end: float = Field(gt=0, le=1e6)
    speaker: str | None = Field(None, max_length=50)
    text: str | None = Field(None, max_length=2000)
    note: str | None = Field(None, max_length=2000)


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


class SideRead(BaseModel):
    start: datetime
    end: datetime
    calls: int
    value: float | None


class ChangeRead(BaseModel):
    before: SideRead
    after: SideRead
    change: float | None
    """After minus before; null with too few calls."""
    interval: tuple[float, float] | None
    """95% bootstrap interval of the change."""
    verdict: str
    """rose, fell, no clear change, or not enough calls"""


class ImpactRead(BaseModel):
    focus: dict[str, str]
    label: str
    better: Literal["higher", "lower"]
    agent: ChangeRead
    team: ChangeRead | None
    """The rest of the agent's team over the same windows."""
    net: float | None
    """The agent's change less the team's."""
    statement: str


class GoalRead(BaseModel):
    focus: dict[str, str]
    target: float
    due: date | None
    current: float | None
    met: bool | None


class CoachingSessionRead(BaseModel):
    id: int
    agent_id: str
    team: str | None
    coach: str
    held_at: datetime
    focus: list[dict[str, str]]
    clips: list[dict[str, Any]]
    notes: str | None
    goals: list[GoalRead]
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    impact: list[ImpactRead] | None
    """Before and after, per focus (when one session is read)."""


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


class BulkSkipped(BaseModel):
    call_id: str
    reason: str


class BulkAnswer(BaseModel):
    changed: list[str]
    skipped: list[BulkSkipped]
    assignees: dict[str, str]
    """For a queue: the reviewer each added call went to."""
