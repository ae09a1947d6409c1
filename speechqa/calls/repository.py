"""A call's row and its stored transcript: status changes, saving and reading utterances, the
words said between two times, and the calls a job or a re-scoring works on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from speechqa.calls.document import CallHeader
from speechqa.contracts import Sentiment, Transcript, Utterance, Word
from speechqa.errors import NotFound
from speechqa.pipeline.conversation import Measures
from speechqa.pipeline.sentiment import SentimentSummary
from speechqa.pipeline.transcription import model_name
from speechqa.redaction import RedactedSpan
from speechqa.storage.tables import Call, CallStatus, UtteranceRow, utcnow


def get_call(session: Session, call_id: str) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        raise NotFound(f"No call with id {call_id!r}.")
    return call


def set_status(
    session: Session,
    call: Call,
    status: CallStatus,
    *,
    reason: str | None = None,
    progress: float | None = None,
) -> None:
    call.status = status
    call.status_reason = reason
    if progress is not None:
        call.progress = progress


def save_transcript(
    session: Session,
    call: Call,
    transcript: Transcript,
    asr_model: str,
    *,
    metrics: Measures,
    sentiment: SentimentSummary,
    redactions: Sequence[RedactedSpan] | None = None,
) -> None:
    """Replace the call's utterances with ``transcript`` (idempotent: no duplicates on rerun),
    and keep its conversation ``metrics``, its ``sentiment`` summary and, for a redacted
    transcript, where the redacted spans were said (all made by :mod:`speechqa.analysis`)."""
    if redactions is not None:
        call.redactions = [s.as_dict() for s in redactions]
    session.execute(delete(UtteranceRow).where(UtteranceRow.call_id == call.id))
    session.add_all(
        UtteranceRow(
            call_id=call.id,
            idx=u.id,
            speaker=u.speaker,
            start=u.start,
            end=u.end,
            text=u.text,
            words=[
                {"word": w.word, "start": w.start, "end": w.end, "probability": w.probability}
                for w in u.words
            ],
            sentiment_label=u.sentiment.label if u.sentiment else None,
            sentiment_score=u.sentiment.score if u.sentiment else None,
        )
        for u in transcript.utterances
    )
    call.duration_s = transcript.duration_s
    call.speech = transcript.speech_lists()
    call.roles_estimated = transcript.roles_estimated
    call.metrics = metrics.as_dict()
    call.sentiment = sentiment.as_dict()
    call.source_channels = transcript.source_channels
    if transcript.channels is not None:
        call.channels = transcript.channels
    call.language = call.language or transcript.language
    call.asr_model = asr_model
    call.analyzed_at = utcnow()


_UTTERANCE_COLUMNS = (
    UtteranceRow.idx,
    UtteranceRow.speaker,
    UtteranceRow.start,
    UtteranceRow.end,
    UtteranceRow.text,
    UtteranceRow.words,
    UtteranceRow.sentiment_label,
    UtteranceRow.sentiment_score,
)


def _utterance(row: Any) -> Utterance:
    idx, speaker, start, end, text, words, label, score = row
    return Utterance(
        idx,
        speaker,
        start,
        end,
        text,
        [Word(w["word"], w["start"], w["end"], w["probability"]) for w in words],
        Sentiment(label, score) if label is not None and score is not None else None,
    )


def utterances(session: Session, call_id: str) -> list[Utterance]:
    rows = session.execute(
        select(*_UTTERANCE_COLUMNS)
        .where(UtteranceRow.call_id == call_id)
        .order_by(UtteranceRow.idx)
    )
    return [_utterance(row) for row in rows]


def said_between(
    session: Session, call_id: str, start: float, end: float, speaker: str | None = None
) -> str | None:
    """The words of the turns heard between ``start`` and ``end`` (of ``speaker``'s turns when
    they spoke in the span), for a clip to keep with it."""
    turns = [t for t in utterances(session, call_id) if t.end > start and t.start < end]
    if speaker is not None:
        turns = [t for t in turns if t.speaker == speaker] or turns
    return " ".join(t.text for t in turns) or None


def utterances_of(session: Session, call_ids: Sequence[str]) -> dict[str, list[Utterance]]:
    """The utterances of many calls, by call id, in order."""
    out: dict[str, list[Utterance]] = {call_id: [] for call_id in call_ids}
    rows = session.execute(
        select(UtteranceRow.call_id, *_UTTERANCE_COLUMNS)
        .where(UtteranceRow.call_id.in_(list(call_ids)))
        .order_by(UtteranceRow.call_id, UtteranceRow.idx)
    )
    for call_id, *row in rows:
        out[call_id].append(_utterance(row))
    return out


def header(call: Call) -> CallHeader:
    return CallHeader(
        id=call.id,
        status=call.status,
        external_id=call.external_id,
        agent_id=call.agent_id,
        agent_name=call.agent.name if call.agent else None,
        team=call.team,
        started_at=call.started_at,
        direction=call.direction,
        duration_s=call.duration_s,
        source_channels=call.source_channels,
        channels=call.channels,
        roles_estimated=call.roles_estimated,
        language=call.language,
        tags=list(call.tags or []),
        outcome=call.outcome,
        status_reason=call.status_reason,
        asr_model=model_name(call.asr_model) if call.asr_model else None,
    )


def stale_calls(
    session: Session, statuses: tuple[CallStatus, ...], older_than: datetime | None = None
) -> list[str]:
    """Ids of calls in ``statuses`` (last changed before ``older_than``, when given)."""
    query = select(Call.id).where(Call.status.in_(statuses))
    if older_than is not None:
        query = query.where(Call.updated_at < older_than)
    return list(session.scalars(query))


def analysed_calls(session: Session, ruleset: str, *, default: bool) -> list[str]:
    """Ids of the done calls scored by ``ruleset`` (calls naming none use the default)."""
    named = Call.ruleset == ruleset
    if default:
        named = named | Call.ruleset.is_(None)
    query = select(Call.id).where(Call.status == CallStatus.DONE, named).order_by(Call.id)
    return list(session.scalars(query))


@dataclass(frozen=True)
class StoredTranscript:
    """A stored call's transcript and the facts scoring and KPIs need (a ``kpis.CallFacts``)."""

    id: str
    agent_id: str
    team: str | None
    ruleset: str | None
    started_at: datetime | None
    created_at: datetime
    duration_s: float
    speech: dict[str, Any]
    metrics: dict[str, Any]
    utterances: list[Utterance]


def transcripts(session: Session, call_ids: Sequence[str]) -> dict[str, StoredTranscript]:
    """Utterances, duration, speech intervals and KPI facts of many calls, in two queries."""
    query = select(
        Call.id,
        Call.agent_id,
        Call.team,
        Call.ruleset,
        Call.started_at,
        Call.created_at,
        Call.duration_s,
        Call.speech,
        Call.metrics,
    ).where(Call.id.in_(call_ids))
    calls = {row[0]: row for row in session.execute(query)}
    grouped: dict[str, list[Utterance]] = {cid: [] for cid in call_ids if cid in calls}
    rows = session.execute(
        select(UtteranceRow.call_id, *_UTTERANCE_COLUMNS)
        .where(UtteranceRow.call_id.in_(call_ids))
        .order_by(UtteranceRow.call_id, UtteranceRow.idx)
    )
    for row in rows:
        grouped[row[0]].append(_utterance(row[1:]))
    out = {}
    for cid, utts in grouped.items():
        _, agent_id, team, ruleset, started_at, created_at, duration, speech, metrics = calls[cid]
        out[cid] = StoredTranscript(
            cid,
            agent_id,
            team,
            ruleset,
            started_at,
            created_at,
            duration or 0.0,
            speech or {},
            metrics or {},
            utts,
        )
    return out
