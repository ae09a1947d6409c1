"""Queue jobs. Each takes a call id, reloads what it needs, and is idempotent.

The heavy lifting is in ``speechqa``; a job moves the call's status along, stores the result
and records why it failed. Input problems (undecodable audio, too long) fail the call at once;
unexpected errors are retried by RQ, and the call fails only when no retry is left.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from rq import get_current_job
from rq.job import Job
from sqlalchemy.orm import Session

from speechqa.calls import recordings, repository
from speechqa.contracts import Transcript
from speechqa.errors import NotFound, ServiceUnavailable, SpeechQAError
from speechqa.pipeline import redaction
from speechqa.pipeline.analysis import transcribe_call
from speechqa.pipeline.redaction import Redaction
from speechqa.pipeline.transcription import Transcriber
from speechqa.rules import versions
from speechqa.rules.ruleset import Ruleset
from speechqa.scoring import rescore, score_calls
from speechqa.settings import Settings, get_settings
from speechqa.storage.audio import audio_store
from speechqa.storage.database import session_scope
from speechqa.storage.tables import Call, CallStatus
from speechqa.webhooks import events, outbox

log = logging.getLogger(__name__)


def analyze_call(call_id: str) -> str:
    """Transcribe a call and store its utterances; a finished call is left as it is."""
    settings = get_settings()
    try:
        with session_scope(settings) as session:
            call = repository.get_call(session, call_id)
            if call.status == CallStatus.DONE:
                return "already done"
            call.attempts += 1
            repository.set_status(session, call, CallStatus.TRANSCRIBING, progress=0.0)
            audio_key = call.audio_path
            channel_map = call.channels
            ruleset_name = call.ruleset or versions.DEFAULT
    except NotFound:
        log.warning("call %s no longer exists; nothing to do", call_id)
        return "gone"

    progress = _ProgressWriter(settings, call_id)
    try:
        with session_scope(settings) as session:
            ruleset = versions.get(session, ruleset_name)
        transcriber = Transcriber(settings)
        # A bucket's recording is fetched to a temporary file here and removed afterwards.
        with audio_store(settings).local_copy(audio_key) as audio_path:
            transcript = transcribe_call(
                audio_path,
                settings,
                channel_map=channel_map,
                transcriber=transcriber,
                progress=progress,
                hotwords=ruleset.vocabulary(),
                agent_phrases=ruleset.spec.agent_phrases,
            )
            found, redacted_audio = _redact(settings, audio_path, audio_key, transcript, ruleset)
        with session_scope(settings) as session:
            call = repository.get_call(session, call_id)
            repository.set_status(session, call, CallStatus.ANALYZING, progress=0.95)
            repository.save_transcript(
                session, call, transcript, transcriber.model_name, redaction=found
            )
            call.redacted_audio_path = redacted_audio
            score_calls(session, [call_id])
            repository.set_status(session, call, CallStatus.DONE, progress=1.0)
            outbox.emit(session, events.CALL_ANALYZED, events.call_data(session, call))
        if redacted_audio is not None and not settings.keep_original_audio:
            recordings.remove_audio(settings, audio_key)
    except Exception as exc:
        # Bad input fails the call at once; an outage (the audio store) is retried like a bug.
        if isinstance(exc, SpeechQAError) and not isinstance(exc, ServiceUnavailable):
            _fail(settings, call_id, exc.message)
            return "failed"
        job = get_current_job()
        if job is not None and job.retries_left:
            _record(settings, call_id, CallStatus.QUEUED, f"retrying after an error: {exc!r}")
        else:
            _fail(settings, call_id, f"internal error: {exc!r}")
        raise
    return "done"


def _redact(
    settings: Settings, audio_path: Path, audio_key: str, transcript: Transcript, ruleset: Ruleset
) -> tuple[Redaction | None, str | None]:
    """Redact the transcript (the ruleset's types, else the deployment's) and, when anything was
    found, write the recording's redacted copy; return both (None, None when redaction is off)."""
    started = time.perf_counter()
    found = redaction.redact_call(transcript, ruleset, settings)
    if found is None:
        return None, None
    text_s = time.perf_counter() - started
    redacted_audio = None
    if settings.redact_audio and found.spans:
        redacted_audio = recordings.write_redacted(
            settings,
            audio_path,
            audio_key,
            redaction.silences(found, settings.redaction_padding_s),
        )
    log.info(
        "redacted %d span(s) in %.3f s (text) + %.3f s (audio)",
        len(found.spans),
        text_s,
        time.perf_counter() - started - text_s,
    )
    return found, redacted_audio


def on_analysis_failure(job: Job, connection: Any, exc_type: Any, value: Any, tb: Any) -> None:
    """RQ failure callback: also runs when a crashed worker's job is found abandoned."""
    if job.retries_left:
        return
    call_id = job.args[0]
    settings = get_settings()
    reason = f"analysis failed: {exc_type.__name__ if exc_type else 'unknown error'}"
    try:
        with session_scope(settings) as session:
            call = repository.get_call(session, call_id)
            if call.status != CallStatus.DONE and call.status != CallStatus.FAILED:
                _set_failed(session, call, reason)
    except NotFound:
        pass


def _record(settings: Settings, call_id: str, status: CallStatus, reason: str) -> None:
    with session_scope(settings) as session:
        call = repository.get_call(session, call_id)
        if status == CallStatus.FAILED and call.status != CallStatus.FAILED:
            _set_failed(session, call, reason)
        else:
            repository.set_status(session, call, status, reason=reason)


def _set_failed(session: Session, call: Call, reason: str) -> None:
    """Fail the call and announce it (``call.failed``), in the caller's transaction."""
    repository.set_status(session, call, CallStatus.FAILED, reason=reason)
    outbox.emit(session, events.CALL_FAILED, events.call_data(session, call))


def _fail(settings: Settings, call_id: str, reason: str) -> None:
    log.info("call %s failed: %s", call_id, reason)
    _record(settings, call_id, CallStatus.FAILED, reason)


class _ProgressWriter:
    """Writes the job's progress to the call row, at most once a second."""

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


def rescore_ruleset(name: str, version: int | None = None) -> dict[str, Any]:
    """Re-score the stored transcripts of ruleset ``name``'s calls (no transcription)."""
    job = get_current_job()

    def report(done: int, total: int) -> None:
        if job is not None:
            job.meta["progress"] = {"done": done, "total": total}
            job.save_meta()  # type: ignore[no-untyped-call]

    used, calls = rescore(get_settings(), name, version, report)
    return {"ruleset": name, "version": used, "calls": calls}
