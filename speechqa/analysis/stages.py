"""The stages of a call's analysis after the recording is decoded, each a function of typed input,
and the one decision of what a call redacts.

Nothing here stores anything: :func:`analyse` is the whole chain on a transcript and
:func:`analyse_recording` adds transcription; :mod:`speechqa.analysis.stored` runs the same
stages for a stored call and keeps what they give.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from speechqa import redaction
from speechqa.analysis.result import CallAnalysis, Prepared
from speechqa.contracts import Silence, Transcript
from speechqa.pipeline import sentiment
from speechqa.pipeline.analysis import StageProgress, transcribe_call
from speechqa.pipeline.conversation import Measures, conversation
from speechqa.pipeline.sentiment import SentimentSummary
from speechqa.pipeline.transcription import Transcriber
from speechqa.redaction import Redaction
from speechqa.rules.ruleset import Ruleset
from speechqa.scoring import score_transcript
from speechqa.settings import Settings


def transcribe(
    path: str | Path,
    ruleset: Ruleset,
    settings: Settings,
    *,
    channel_map: Mapping[str, str] | None = None,
    transcriber: Transcriber | None = None,
    progress: StageProgress | None = None,
) -> Transcript:
    """Transcribe a recording (decoding, speech, words, mono speaker separation, utterances and
    their sentiment) with the ruleset's hints: its vocabulary for Whisper, its agent phrases to
    tell the agent of a mono call."""
    return transcribe_call(
        path,
        settings,
        channel_map=channel_map,
        transcriber=transcriber,
        progress=progress,
        hotwords=ruleset.vocabulary(),
        agent_phrases=ruleset.spec.agent_phrases,
    )


def redact(transcript: Transcript, ruleset: Ruleset, settings: Settings) -> Redaction | None:
    """The transcript's personal data found and tagged, or None when redaction is off for the
    call. The call redacts the types its ruleset names (``redact:``), else the deployment's
    (``SPEECHQA_REDACT``); this is the only place that decides it."""
    types = ruleset.redaction_types(settings.redact)
    if not types:
        return None
    return redaction.redact_with(transcript, types, settings.redaction_ner_model)


def audio_silences(found: Redaction | None, settings: Settings) -> list[Silence]:
    """Where the redacted copy of the recording is silent; empty when no copy is to be written
    (nothing was found, or ``SPEECHQA_REDACT_AUDIO`` is off)."""
    if found is None or not found.spans or not settings.redact_audio:
        return []
    return redaction.silences(found, settings.redaction_padding_s)


def measure(said: Transcript) -> Measures:
    """The conversation measures of what was said (before redaction: tags are not words)."""
    return conversation(said.speech_lists(), said.utterances, said.duration_s)


def summarise(transcript: Transcript) -> SentimentSummary:
    """The sentiment summary of a transcript (redaction keeps each turn's sentiment)."""
    return sentiment.summary(transcript.utterances, transcript.duration_s)


def prepare(said: Transcript, found: Redaction | None = None) -> Prepared:
    """Measure and summarise a transcript, redacted by ``found`` (of :func:`redact`) if given."""
    kept = found.transcript if found is not None else said
    return Prepared(said, found, measure(said), summarise(kept))


def score(prepared: Prepared, ruleset: Ruleset) -> CallAnalysis:
    """Evaluate ``ruleset`` on the prepared (redacted) transcript and its measures."""
    t = prepared.transcript
    scored = score_transcript(ruleset, t.utterances, t.duration_s, prepared.measures)
    return prepared.scored(scored.evaluation)


def analyse(said: Transcript, ruleset: Ruleset, settings: Settings) -> CallAnalysis:
    """Every stage after transcription on a transcript (redact, measure, summarise, score),
    storing nothing: a finished call's, or the part of a call heard so far."""
    return score(prepare(said, redact(said, ruleset, settings)), ruleset)


def analyse_recording(
    path: str | Path,
    ruleset: Ruleset,
    settings: Settings,
    *,
    channel_map: Mapping[str, str] | None = None,
    progress: StageProgress | None = None,
) -> CallAnalysis:
    """Analyse a recording in this process without storing it (``speechqa analyze``): the same
    stages, and so the same words and scores, as a stored call gets."""
    said = transcribe(path, ruleset, settings, channel_map=channel_map, progress=progress)
    return analyse(said, ruleset, settings)
