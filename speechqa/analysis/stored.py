"""A stored call analysed end to end, by id: what the queue's job runs.

:func:`analyse_call` loads the call and its ruleset, transcribes a local copy of the recording
(fetched through the audio store), runs the stages of :mod:`speechqa.analysis.stages`, writes the
redacted copy of the recording, then in one transaction stores the transcript, its measures and
sentiment summary, scores it (:func:`speechqa.scoring.score_calls`), marks the call done and
announces it (``call.analyzed``). Running it again on a call left half-way replaces what the
first run stored; a finished call is left as it is. Errors propagate: whoever runs it decides
whether to retry (:func:`requeue`) or give up (:func:`fail`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy.orm import Session

from speechqa.analysis.result import CallAnalysis, Prepared
from speechqa.analysis.stages import audio_silences, prepare, redact, transcribe
from speechqa.calls import recordings, repository
from speechqa.errors import NotFound
from speechqa.pipeline.transcription import Transcriber
from speechqa.rules import versions
from speechqa.scoring import score_calls
from speechqa.settings import Settings
from speechqa.storage.audio import audio_store
from speechqa.storage.database import session_scope
from speechqa.storage.tables import Call, CallStatus
from speechqa.webhooks import events, outbox

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    DONE = "done"
    ALREADY_DONE = "already done"
    GONE = "gone"
    """The call was deleted before its analysis began."""


@dataclass(frozen=True)
class Run:
    """How a run of :func:`analyse_call` ended, and the analysis it stored (when ``DONE``)."""

    outcome: Outcome
    analysis: CallAnalysis | None = None


def analyse_call(settings: Settings, call_id: str) -> Run:
    """Analyse the stored call ``call_id`` and keep the result (see the module's docstring)."""
    with session_scope(settings) as session:
        try:
            call = repository.get_call(session, call_id)
        except NotFound:
            log.warning("call %s no longer exists; nothing to do", call_id)
            return Run(Outcome.GONE)
        if call.status == CallStatus.DONE:
            return Run(Outcome.ALREADY_DONE)
        call.attempts += 1
        repository.set_status(session, call, CallStatus.TRANSCRIBING, progress=0.0)
        audio_key, channel_map = call.audio_path, call.channels
        ruleset_name = call.ruleset or versions.DEFAULT

    with session_scope(settings) as session:
        ruleset = versions.get(session, ruleset_name)
    transcriber = Transcriber(settings)
    # A bucket's recording is fetched to a temporary file here and removed afterwards.
    with audio_store(settings).local_copy(audio_key) as audio_path:
        said = transcribe(
            audio_path,
            ruleset,
            settings,
            channel_map=channel_map,
            transcriber=transcriber,
            progress=RowProgress(settings, call_id),
        )
        started = time.perf_counter()
        prepared = prepare(said, redact(said, ruleset, settings))
        text_s = time.perf_counter() - started
        redacted_audio = _write_redacted(settings, audio_path, audio_key, prepared)
        if prepared.redaction is not None:
            log.info(
                "redacted %d span(s) in %.3f s (text) + %.3f s (audio)",
                len(prepared.redaction.spans),
                text_s,
                time.perf_counter() - started - text_s,
            )

    with session_scope(settings) as session:
        call = repository.get_call(session, call_id)
        repository.set_status(session, call, CallStatus.ANALYZING, progress=0.95)
        save(session, call, prepared, transcriber.model_name, redacted_audio=redacted_audio)
        evaluation = score_calls(session, [call_id])[call_id]
        repository.set_status(session, call, CallStatus.DONE, progress=1.0)
        outbox.emit(session, events.CALL_ANALYZED, events.call_data(session, call))
    if redacted_audio is not None and not settings.keep_original_audio:
        recordings.remove_audio(settings, audio_key)
    return Run(Outcome.DONE, prepared.scored(evaluation))


def _write_redacted(
    settings: Settings, audio_path: Path, audio_key: str, prepared: Prepared
) -> str | None:
    """Store the recording's copy with the redacted spans silenced; its key, or None when no
    copy is wanted."""
    silences = audio_silences(prepared.redaction, settings)
    if not silences:
        return None
    return recordings.write_redacted(settings, audio_path, audio_key, silences)


def save(
    session: Session,
    call: Call,
    prepared: Prepared,
    asr_model: str,
    *,
    redacted_audio: str | None = None,
) -> None:
    """Store a prepared transcript as the call's (replacing any earlier one), not yet scored."""
    spans = prepared.redaction.spans if prepared.redaction is not None else None
    repository.save_transcript(
        session,
        call,
        prepared.transcript,
        asr_model,
        metrics=prepared.measures,
        sentiment=prepared.sentiment,
        redactions=spans,
    )
    call.redacted_audio_path = redacted_audio


class RowProgress:
    """Writes the analysis's progress to the call row, at most once a second (a
    :class:`~speechqa.pipeline.analysis.StageProgress`)."""

    def __init__(self, settings: Settings, call_id: str, every_s: float = 1.0) -> None:
        self.settings = settings
        self.call_id = call_id
        self.every_s = every_s
        self.last = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        now = time.monotonic()
        if now - self.last < self.every_s and fraction < 1.0:
            return
        self.last = now
        with session_scope(self.settings) as session:
            call = repository.get_call(session, self.call_id)
            call.progress = round(min(fraction, 0.95), 3)


def requeue(settings: Settings, call_id: str, reason: str) -> None:
    """Put the call back to queued, saying why (its job will run again)."""
    with session_scope(settings) as session:
        call = repository.get_call(session, call_id)
        repository.set_status(session, call, CallStatus.QUEUED, reason=reason)


def fail(settings: Settings, call_id: str, reason: str) -> None:
    """Fail the call with ``reason`` and announce it (``call.failed``); a call already failed
    only gets the new reason."""
    log.info("call %s failed: %s", call_id, reason)
    with session_scope(settings) as session:
        call = repository.get_call(session, call_id)
        if call.status == CallStatus.FAILED:
            repository.set_status(session, call, CallStatus.FAILED, reason=reason)
        else:
            _set_failed(session, call, reason)


def abandon(settings: Settings, call_id: str, reason: str) -> None:
    """Fail a call whose analysis was given up after the fact (its worker died), unless it is
    done, failed already or gone."""
    with session_scope(settings) as session:
        try:
            call = repository.get_call(session, call_id)
        except NotFound:
            return
        if call.status not in (CallStatus.DONE, CallStatus.FAILED):
            _set_failed(session, call, reason)


def _set_failed(session: Session, call: Call, reason: str) -> None:
    repository.set_status(session, call, CallStatus.FAILED, reason=reason)
    outbox.emit(session, events.CALL_FAILED, events.call_data(session, call))
