"""Storage schema: every table (calls, agents, transcripts, evaluations and KPI rows, users and
keys, reviews, queues and calibration, coaching, rulesets, webhooks, web sign-in sessions).

The same models serve SQLite and PostgreSQL; Alembic migrations in
``speechqa/storage/migrations`` create them (a test compares the two on both databases).
Utterance words are kept as JSON on the utterance: they are always read with it.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A moment stored with its time zone and always read back aware, in UTC where the
    database keeps none (SQLite hands back naive datetimes), so no caller has to patch them."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        # In UTC before it is stored: SQLite keeps no offset, so 10:14+01:00 would read 10:14.
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class CallStatus(enum.StrEnum):
    QUEUED = "queued"
    TRANSCRIBING = "transcribing"
    ANALYZING = "analyzing"
    DONE = "done"
    FAILED = "failed"


class ReviewStatus(enum.StrEnum):
    """Where a review stands (``reviews.status``)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    DISPUTED = "disputed"
    RESOLVED = "resolved"
    SUPERSEDED = "superseded"
    """Replaced by a submitted re-evaluation: kept with its audit trail, no longer counting."""


class ScoreSource(enum.StrEnum):
    """Where a call's counting score comes from (``call_stats.score_source``)."""

    AUTOMATIC = "automatic"
    REVIEW = "review"
    """A reviewer's final score."""


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Call(Base):
    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_agent_started", "agent_id", "started_at"),
        Index("ix_calls_created", "created_at", "id"),
        Index("ix_calls_team_created", "team", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"), index=True)
    team: Mapped[str | None] = mapped_column(String(200))
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    direction: Mapped[str | None] = mapped_column(String(20))
    channels: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    language: Mapped[str | None] = mapped_column(String(20))
    ruleset: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    outcome: Mapped[str | None] = mapped_column(String(200))
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    audio_path: Mapped[str] = mapped_column(Text)
    audio_sha256: Mapped[str] = mapped_column(String(64), index=True)
    audio_bytes: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(100))
    filename: Mapped[str | None] = mapped_column(String(300))
    format_name: Mapped[str | None] = mapped_column(String(50))
    source_channels: Mapped[int | None] = mapped_column(Integer)
    sample_rate: Mapped[int | None] = mapped_column(Integer)
    duration_s: Mapped[float | None] = mapped_column(Float)
    speech: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Each speaker's VAD speech intervals, ``{"agent": [[start, end], ...], ...}``."""
    roles_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """Conversation metrics (talk, silence, overtalk, interruptions, rates): see pipeline/."""
    sentiment: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The sentiment summary (per role by quarter, the customer's shift), made when the call is
    analysed; None for calls analysed before it was stored (the document computes it then)."""

    status: Mapped[str] = mapped_column(String(20), default=CallStatus.QUEUED, index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    asr_model: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)

    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, onupdate=utcnow)
    analyzed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    audio_deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When retention removed the recording (the transcript and scores stay)."""
    redactions: Mapped[list[Any] | None] = mapped_column(JSON)
    """Where personal data was said (type, speaker, start, end): never the data itself."""
    redacted_audio_path: Mapped[str | None] = mapped_column(Text)
    """The recording with those spans silenced, which everyone but an admin is served."""

    agent: Mapped[Agent] = relationship()
    utterances: Mapped[list[UtteranceRow]] = relationship(
        back_populates="call",
        order_by="UtteranceRow.idx",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class UtteranceRow(Base):
    __tablename__ = "utterances"
    __table_args__ = (UniqueConstraint("call_id", "idx", name="uq_utterances_call_idx"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    speaker: Mapped[str] = mapped_column(String(50))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    words: Mapped[list[Any]] = mapped_column(JSON, default=list)
    sentiment_label: Mapped[str | None] = mapped_column(String(20))
    sentiment_score: Mapped[float | None] = mapped_column(Float)

    call: Mapped[Call] = relationship(back_populates="utterances")


class User(Base):
    """A person or system with a role; reviewers and coaches may be limited to teams."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    teams: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """The teams whose calls the user sees; empty means every team."""
    agent_id: Mapped[str | None] = mapped_column(String(200))
    """For an agent: the agent whose calls and scores are theirs."""
    time_zone: Mapped[str | None] = mapped_column(String(64))
    """The zone the user sees times in (an IANA name); none: their browser's."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """When the key was last used, to the minute (not written on every request)."""
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RulesetVersion(Base):
    """One stored version of a ruleset; versions are never changed, only added."""

    __tablename__ = "ruleset_versions"
    __table_args__ = (UniqueConstraint("name", "version", name="uq_ruleset_versions_name_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(200))


class EvaluationRow(Base):
    """A call scored by one ruleset version. Re-scoring adds rows; the newest is current."""

    __tablename__ = "evaluations"
    __table_args__ = (
        UniqueConstraint(
            "call_id", "ruleset", "version", name="uq_evaluations_call_ruleset_version"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    ruleset: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    critical_fail: Mapped[bool] = mapped_column(Boolean, default=False)
    adherence: Mapped[float | None] = mapped_column(Float)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CallStats(Base):
    """One analysed call's numbers, narrow and indexed for KPIs over agents, teams and periods."""

    __tablename__ = "call_stats"
    __table_args__ = (
        Index("ix_call_stats_agent_at", "agent_id", "at"),
        Index("ix_call_stats_team_at", "team", "at"),
    )

    call_id: Mapped[str] = mapped_column(
        ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True
    )
    agent_id: Mapped[str] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    """When the call took place (its started_at, else when it was received)."""
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    """Numeric metrics by name (duration_s, silence_ratio, qa_score, ...)."""
    rules_hit: Mapped[list[Any]] = mapped_column(JSON)
    critical_fail: Mapped[bool] = mapped_column(Boolean, default=False)
    score_source: Mapped[str] = mapped_column(String(20), default=ScoreSource.AUTOMATIC)
    """Where qa_score comes from: "automatic", or "review" (a reviewer's final score)."""


class KpiEvent(Base):
    """The KPI journal: one row per counter that fired on a call."""

    __tablename__ = "kpi_events"
    __table_args__ = (
        Index("ix_kpi_events_agent_at", "agent_id", "at"),
        Index("ix_kpi_events_team_at", "team", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[str] = mapped_column(String(200))
    team: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    offset_s: Mapped[float | None] = mapped_column(Float)
    counter: Mapped[str] = mapped_column(String(200))
    value: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str | None] = mapped_column(Text)


class Review(Base):
    """A person's evaluation of a call, beside the automatic one it started from (never
    changing it): answers to scorecard items, comments, and once submitted the final score."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id", ondelete="CASCADE"))
    calibration_id: Mapped[int | None] = mapped_column(
        ForeignKey("calibration_sessions.id", ondelete="CASCADE"), index=True
    )
    """The calibration session of a calibration review (which never counts for KPIs)."""
    self_review: Mapped[bool] = mapped_column(Boolean, default=False)
    """An agent's review of their own call: it never counts for KPIs either."""
    reviewer: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default=ReviewStatus.DRAFT)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    """Item key -> {"applicable", "passed", "reason"}; unanswered items keep the automatic one."""
    comments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The final scorecard, set on submit."""
    score: Mapped[float | None] = mapped_column(Float)
    critical_fail: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    dispute: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The agent's dispute: items, comment, by, at."""
    resolution: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The lead's decision on a dispute: outcome (upheld or adjusted), reason, by, at."""
    revises: Mapped[int | None] = mapped_column(ForeignKey("reviews.id", ondelete="SET NULL"))
    """A re-evaluation: the submitted review this one replaces once submitted (that one is
    then ``superseded``, kept with its audit trail, and no longer counts)."""
    revision_reason: Mapped[str | None] = mapped_column(Text)
    """Why the call was re-evaluated."""


class ReviewEvent(Base):
    """The audit trail of reviews: who changed what, when, from what to what."""

    __tablename__ = "review_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    by: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ReviewQueue(Base):
    """A sampling rule for review work and the reviewers it feeds, round-robin."""

    __tablename__ = "review_queues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    reviewers: Mapped[list[Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class QueueItem(Base):
    """A call a queue sampled, who it went to, and the rule that chose it (for audits)."""

    __tablename__ = "queue_items"
    __table_args__ = (UniqueConstraint("queue_id", "call_id", name="uq_queue_items_queue_call"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("review_queues.id", ondelete="CASCADE"))
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    assignee: Mapped[str] = mapped_column(String(200), index=True)
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)
    sampled_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CalibrationSession(Base):
    """Reviewers scoring the same calls independently, to see where they disagree."""

    __tablename__ = "calibration_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    call_ids: Mapped[list[Any]] = mapped_column(JSON)
    reviewers: Mapped[list[Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ClipCollection(Base):
    """A coach's named set of example clips ("great empathy", "missed closings")."""

    __tablename__ = "clip_collections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Clip(Base):
    """A span of a call kept in a collection, with why it was chosen."""

    __tablename__ = "clips"
    __table_args__ = (
        UniqueConstraint("collection_id", "call_id", "start", "end", name="uq_clips_span"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    collection_id: Mapped[int] = mapped_column(
        ForeignKey("clip_collections.id", ondelete="CASCADE"), index=True
    )
    call_id: Mapped[str] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    speaker: Mapped[str | None] = mapped_column(String(50))
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    added_by: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class CoachingSession(Base):
    """A coach's session with an agent: focus, chosen clips, notes and goals."""

    __tablename__ = "coaching_sessions"
    __table_args__ = (Index("ix_coaching_sessions_agent_held", "agent_id", "held_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id"))
    team: Mapped[str | None] = mapped_column(String(200), index=True)
    """The agent's team when the session was held (its calls are the comparison)."""
    coach: Mapped[str] = mapped_column(String(200))
    held_at: Mapped[datetime] = mapped_column(UtcDateTime())
    focus: Mapped[list[Any]] = mapped_column(JSON)
    """What the session worked on: ``{"kpi": ...}``, ``{"rule": ...}``, ``{"item": ...}``."""
    clips: Mapped[list[Any]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    goals: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Targets: ``{"focus": {...}, "target": 80, "due": "2026-12-31"}``."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class WebhookEndpoint(Base):
    """A URL that upstream systems registered to be told of events, with its signing secret."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[Any]] = mapped_column(JSON)
    secret: Mapped[str] = mapped_column(String(100))
    """``whsec_`` + base64 of the key (kept readable: every delivery is signed with it)."""
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    """After a rotation, the old secret still signs (beside the new) until it expires."""
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    description: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """Set when deleted: no new deliveries; the row stays for the messages' history."""


class WebhookMessage(Base):
    """An event as it is sent: the outbox entry, written in the transaction of the change."""

    __tablename__ = "webhook_messages"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    """``msg_`` + a time-ordered random id; the ``webhook-id`` header of every delivery."""
    event: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    """The body: ``{"type", "timestamp", "data"}``."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class WebhookDelivery(Base):
    """One message to one endpoint: its state and when it is next due."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint(
            "endpoint_id", "message_id", name="uq_webhook_deliveries_endpoint_message"
        ),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[str] = mapped_column(
        ForeignKey("webhook_messages.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Attempts in the current round (a resend starts a new round)."""
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    """Set when a dispatcher queued the attempt; past it, another dispatcher may queue it again."""
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class WebhookAttempt(Base):
    """One HTTP request of a delivery and how the receiver answered."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    """1, 2, ... within its round."""
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)


class WebSession(Base):
    """A signed-in browser: the cookie holds a random token, this row its hash and the key."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
