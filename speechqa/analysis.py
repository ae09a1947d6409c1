"""The analysis pipeline: recording in, attributed transcript out.

It chains the stages (decode, per-channel transcription, utterance merging) and reports
progress. It knows nothing of databases, HTTP or queues: the worker and ``speechqa analyze``
both call :func:`transcribe_call`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from speechqa import audio
from speechqa.settings import Settings
from speechqa.transcription import ChannelTranscript, Transcriber
from speechqa.utterances import Utterance, merge_words

StageProgress = Callable[[str, float], None]
"""Called with a stage name and the fraction (0..1) of the whole analysis done."""


@dataclass(frozen=True)
class Transcript:
    """A call's transcript with what was learnt about its audio."""

    duration_s: float
    source_channels: int
    channels: dict[str, str] | None
    """Role per channel for a stereo call (``{"left": ..., "right": ...}``), None for mono."""
    language: str
    utterances: list[Utterance]


def speakers_for(
    decoded: audio.DecodedAudio, channel_map: Mapping[str, str] | tuple[str, str]
) -> list[str]:
    """The speaker label of each decoded channel: the channel map for stereo, speaker_1 for mono."""
    if len(decoded.channels) == 2:
        if isinstance(channel_map, Mapping):
            return [channel_map["left"], channel_map["right"]]
        return [channel_map[0], channel_map[1]]
    return ["speaker_1"]


def transcribe_call(
    path: str | Path,
    settings: Settings,
    *,
    channel_map: Mapping[str, str] | None = None,
    transcriber: Transcriber | None = None,
    progress: StageProgress | None = None,
) -> Transcript:
    """Decode, transcribe each channel, and merge the words into utterances."""

    def report(stage: str, fraction: float) -> None:
        if progress is not None:
            progress(stage, fraction)

    report("decoding", 0.0)
    decoded = audio.decode(path, max_duration_s=settings.max_duration_s)
    roles = channel_map or settings.channel_map
    speakers = speakers_for(decoded, roles)
    transcriber = transcriber or Transcriber(settings)

    # Progress is weighted by audio length; decoding counts for a small fixed share.
    decode_share = 0.05
    n = len(decoded.channels)
    channels: list[ChannelTranscript] = []
    for i, (samples, speaker) in enumerate(zip(decoded.channels, speakers, strict=True)):
        base = decode_share + (1 - decode_share) * i / n

        def on_progress(fraction: float, base: float = base) -> None:
            report("transcribing", base + (1 - decode_share) * fraction / n)

        on_progress(0.0)
        channels.append(transcriber.transcribe(samples, speaker, on_progress))

    utterances = merge_words(channels, pause_s=settings.utterance_pause_s)
    report("transcribing", 1.0)
    languages = [c.language for c in channels if c.words] or [c.language for c in channels]
    return Transcript(
        duration_s=round(decoded.duration_s, 3),
        source_channels=decoded.source_channels,
        channels={"left": speakers[0], "right": speakers[1]} if n == 2 else None,
        language=languages[0] if languages else "",
        utterances=utterances,
    )
