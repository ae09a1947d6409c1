"""The transcription stage of a call's analysis: recording in, attributed transcript out.

It chains the pipeline's stages (decode, per-channel transcription, mono speaker separation,
utterance merging, utterance sentiment) and reports progress. It knows nothing of databases,
HTTP or queues: :mod:`speechqa.analysis` runs :func:`transcribe_call` first, for the worker and
for ``speechqa analyze`` alike.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Protocol

from speechqa.contracts import ChannelTranscript, Transcript
from speechqa.errors import ModelUnavailable, NoSpeech
from speechqa.pipeline import audio, sentiment, voices
from speechqa.pipeline.speakers import diarize
from speechqa.pipeline.transcription import Transcriber
from speechqa.pipeline.utterances import merge_words
from speechqa.settings import Settings

log = logging.getLogger(__name__)


class StageProgress(Protocol):
    """How far an analysis is: called with a stage name and the fraction (0..1) done."""

    def __call__(self, stage: str, fraction: float, /) -> None: ...


def speakers_for(
    decoded: audio.DecodedAudio, channel_map: Mapping[str, str] | tuple[str, str]
) -> list[str]:
    """The speaker label of each decoded channel: the channel map for stereo, speaker_1 for mono."""
    if len(decoded.channels) == 2:
        if isinstance(channel_map, Mapping):
            return [channel_map["left"], channel_map["right"]]
        return [channel_map[0], channel_map[1]]
    return ["speaker_1"]


def speaker_encoder(settings: Settings) -> voices.SpeakerEncoder | None:
    """The speaker-embedding model, or None (with a warning) when it cannot be loaded: mono
    calls are then separated by voice prints, which keep two similar voices as one speaker."""
    try:
        return voices.load_encoder(settings.speaker_model)
    except ModelUnavailable as exc:
        log.warning("speaker model unavailable, separating by voice prints: %s", exc)
        return None


def separate(
    decoded: audio.DecodedAudio,
    mono: ChannelTranscript,
    settings: Settings,
    agent_phrases: Iterable[str] = (),
) -> tuple[list[ChannelTranscript], bool]:
    """Split a mono call's one transcribed channel into a transcript per speaker, and whether
    the roles (who is the agent) were estimated."""
    separated = diarize(
        decoded.channels[0], mono, agent_phrases=agent_phrases, encoder=speaker_encoder(settings)
    )
    return separated.channels, separated.roles_estimated


def transcribe_call(
    path: str | Path,
    settings: Settings,
    *,
    channel_map: Mapping[str, str] | None = None,
    transcriber: Transcriber | None = None,
    progress: StageProgress | None = None,
    hotwords: Iterable[str] = (),
    agent_phrases: Iterable[str] = (),
) -> Transcript:
    """Decode, find speech, transcribe the channels, attribute speakers, build utterances.

    ``hotwords`` are terms Whisper should expect (the ruleset's vocabulary); ``agent_phrases``
    help tell the agent from the customer on a mono call.
    """

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    report("decoding", 0.0)
    decoded = audio.decode(path, max_duration_s=settings.max_duration_s)
    roles = channel_map or settings.channel_map
    speakers = speakers_for(decoded, roles)
    transcriber = transcriber or Transcriber(settings)
    hotwords = list(hotwords)

    decode_share, asr_end = 0.05, 0.95  # the rest: speakers and sentiment
    n = len(decoded.channels)
    report("transcribing", decode_share)
    channels: list[ChannelTranscript] = transcriber.transcribe_channels(
        decoded.channels,
        speakers,
        lambda fraction: report("transcribing", decode_share + (asr_end - decode_share) * fraction),
        hotwords=hotwords,
    )

    if not any(c.speech for c in channels):
        raise NoSpeech("No speech was found in the recording: it is silent or only noise.")
    roles_estimated = False
    if n == 1 and settings.separate_mono_speakers and channels[0].words:
        report("separating speakers", 0.96)
        channels, roles_estimated = separate(decoded, channels[0], settings, agent_phrases)

    utterances = merge_words(channels, pause_s=settings.utterance_pause_s)
    report("sentiment", 0.98)
    model = sentiment.load_model(settings.sentiment_model, settings.sentiment_threads)
    utterances = sentiment.score_utterances(model, utterances, settings.sentiment_courtesy)
    report("done", 1.0)
    languages = [c.language for c in channels if c.words] or [c.language for c in channels]
    return Transcript(
        duration_s=round(decoded.duration_s, 3),
        source_channels=decoded.source_channels,
        channels={"left": speakers[0], "right": speakers[1]} if n == 2 else None,
        language=languages[0] if languages else "",
        utterances=utterances,
        speech={c.speaker: c.speech for c in channels},
        roles_estimated=roles_estimated,
        identical_channels=decoded.identical_channels,
    )
