"""Queries on calls and transcripts, so that no other module writes SQL."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from speechqa.analysis import Transcript
from speechqa.document import CallHeader
from speechqa.errors import NotFound
from speechqa.models import Call, CallStatus, UtteranceRow, utcnow
from speechqa.transcription import Word
from speechqa.utterances import Utterance


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


def save_transcript(session: Session, call: Call, transcript: Transcript, asr_model: str) -> None:
    """Replace the call's utterances with ``transcript`` (idempotent: no duplicates on rerun)."""
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
        )
        for u in transcript.utterances
    )
    call.duration_s = transcript.duration_s
    call.speech = {
        speaker: [[iv.start, iv.end] for iv in intervals]
        for speaker, intervals in transcript.speech.items()
    }
    call.roles_estimated = transcript.roles_estimated
    call.source_channels = transcript.source_channels
    if transcript.channels is not None:
        call.channels = transcript.channels
    call.language = call.language or transcript.language
    call.asr_model = asr_model
    call.analyzed_at = utcnow()


def utterances(session: Session, call_id: str) -> list[Utterance]:
    rows = session.scalars(
        select(UtteranceRow).where(UtteranceRow.call_id == call_id).order_by(UtteranceRow.idx)
    )
    return [
        Utterance(
            id=r.idx,
            speaker=r.speaker,
            start=r.start,
            end=r.end,
            text=r.text,
            words=[Word(**w) for w in r.words],
        )
        for r in rows
    ]


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
        asr_model=call.asr_model,
    )


def stale_calls(session: Session, statuses: tuple[CallStatus, ...]) -> list[str]:
    return list(session.scalars(select(Call.id).where(Call.status.in_(statuses))))
