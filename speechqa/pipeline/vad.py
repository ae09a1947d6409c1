"""Voice activity stage: where each channel has speech, with Silero VAD (shipped in faster-whisper).

VAD runs once per channel. Its fine-grained intervals (pauses of 0.3 s split them, no padding)
are kept for the conversation metrics: talk time, silence and overlap come out far closer to the
truth from them than from word timestamps. The transcription stage derives from the same
intervals the padded, merged chunks Whisper decodes, as faster-whisper's own ``vad_filter``
would, so silent stretches cost nothing and produce no invented text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from speechqa.contracts import Interval
from speechqa.pipeline.audio import SAMPLE_RATE


@dataclass(frozen=True)
class VadOptions:
    threshold: float = 0.5
    """Silero speech probability above which a 32 ms window is speech."""
    min_silence_s: float = 0.3
    """Silence shorter than this does not end a speech interval."""
    asr_merge_gap_s: float = 2.0
    """For ASR, intervals closer than this are decoded as one chunk (faster-whisper's default)."""
    asr_pad_s: float = 0.4
    """For ASR, each chunk is widened by this much on both sides (faster-whisper's default)."""


def speech_intervals(samples: np.ndarray, options: VadOptions | None = None) -> list[Interval]:
    """The stretches of speech in 16 kHz mono samples, in seconds."""
    from faster_whisper.vad import VadOptions as FwVadOptions
    from faster_whisper.vad import get_speech_timestamps

    options = options or VadOptions()
    if samples.size == 0:
        return []
    chunks = get_speech_timestamps(
        samples,
        FwVadOptions(
            threshold=options.threshold,
            min_speech_duration_ms=0,
            min_silence_duration_ms=int(options.min_silence_s * 1000),
            speech_pad_ms=0,
        ),
        sampling_rate=SAMPLE_RATE,
    )
    return [
        Interval(round(c["start"] / SAMPLE_RATE, 3), round(c["end"] / SAMPLE_RATE, 3))
        for c in chunks
    ]


def asr_chunks(
    intervals: list[Interval], n_samples: int, options: VadOptions | None = None
) -> list[dict[str, int]]:
    """The sample ranges Whisper decodes: the chunks faster-whisper's ``vad_filter`` would use.

    With the same speech probabilities, faster-whisper's segmentation (2 s minimum silence,
    0.4 s padding) equals merging our fine intervals across gaps under 2 s, running the last
    one to the end of the audio when less than 2 s of silence follows it, then padding. So the
    transcript is the one bare faster-whisper gives, from a single VAD pass.
    """
    options = options or VadOptions()
    audio_end = n_samples / SAMPLE_RATE
    merged: list[list[float]] = []
    for iv in intervals:
        if merged and iv.start - merged[-1][1] < options.asr_merge_gap_s:
            merged[-1][1] = iv.end
        else:
            merged.append([iv.start, iv.end])
    if merged and audio_end - merged[-1][1] < options.asr_merge_gap_s:
        merged[-1][1] = audio_end
    pad = int(options.asr_pad_s * SAMPLE_RATE)
    return [
        {
            "start": max(0, round(start * SAMPLE_RATE) - pad),
            "end": min(n_samples, round(end * SAMPLE_RATE) + pad),
        }
        for start, end in merged
    ]
