"""Windows for batched decoding: the speech of every channel cut into pieces Whisper takes at once.

Whisper decodes 30-second windows. Sequential decoding slides one window along a channel's
speech; batched decoding needs the windows fixed in advance, so that windows of both channels
of a call go through the model together. A window here is one channel's speech, its silences
left out as faster-whisper's ``vad_filter`` leaves them out, cut only where VAD heard a pause
(never inside a word) and packed with as many whole pieces as fit in 30 s. Times in a decoded
window map back to the channel through the window's pieces.

Every window is decoded as a full 30-s clip: its audio, then silence. Whisper was trained on
30-s inputs whose end is the log-Mel of silent audio; faster-whisper pads a shorter clip's
features with 0.0 instead, which is not silence but a constant band well above it (about the
median of speech; see faster-whisper's pull request 1084), so the encoder hears seconds of
noise after every short window. Sequential decoding meets that only in a channel's last window;
batched windows, all shorter than 30 s, met it in every one, and lost words to it
(``bench/batching_wer.py``).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from speechqa.contracts import Interval, Word
from speechqa.pipeline.audio import SAMPLE_RATE

WINDOW_S = 30.0
"""Whisper's input length: a longer window would be cut short."""


@dataclass(frozen=True)
class Window:
    """Speech of one channel decoded as one batch item: sample ranges joined end to end."""

    channel: int
    pieces: tuple[tuple[int, int], ...]

    @property
    def n_samples(self) -> int:
        return sum(end - start for start, end in self.pieces)

    def audio(self, samples: np.ndarray) -> np.ndarray:
        return np.concatenate([samples[start:end] for start, end in self.pieces])

    def to_channel(self, t: float, piece: int | None = None) -> float:
        """A time in the decoded window (s) as a time in the channel, inside one piece.

        ``piece`` pins the piece (a word's start and end map through the piece of its middle);
        by default it is the piece the time falls in.
        """
        bounds = self._bounds()
        if piece is None:
            piece = self.piece_at(t)
        start, end = self.pieces[piece]
        offset = t * SAMPLE_RATE - bounds[piece]
        return float(np.clip(start + offset, start, end)) / SAMPLE_RATE

    def piece_at(self, t: float) -> int:
        """The index of the piece that holds window time ``t``."""
        bounds = self._bounds()
        return min(bisect.bisect_right(bounds, t * SAMPLE_RATE) - 1, len(self.pieces) - 1)

    def _bounds(self) -> list[int]:
        """Where each piece starts in the window, in samples."""
        lengths = [end - start for start, end in self.pieces]
        return [0, *np.cumsum(lengths[:-1]).tolist()] if lengths else []


def split_points(
    chunk: tuple[int, int], speech: Sequence[Interval], samples: np.ndarray, max_samples: int
) -> list[int]:
    """Where to cut a chunk longer than a window: in VAD pauses, so that no word is cut.

    Each cut is the middle of the last pause that keeps the piece within ``max_samples``; where
    speech runs on without a pause for a whole window, the quietest 0.1 s of its last 5 s.
    """
    start, end = chunk
    pauses = [
        round((a.end + b.start) / 2 * SAMPLE_RATE)
        for a, b in itertools.pairwise(speech)
        if start < a.end * SAMPLE_RATE and b.start * SAMPLE_RATE < end
    ]
    cuts: list[int] = []
    at = start
    while end - at > max_samples:
        limit = at + max_samples
        fits = [p for p in pauses if at < p <= limit]
        cut = fits[-1] if fits else quietest(samples, max(at + 1, limit - 5 * SAMPLE_RATE), limit)
        cuts.append(cut)
        at = cut
    return cuts


def quietest(samples: np.ndarray, lo: int, hi: int, frame: int = SAMPLE_RATE // 10) -> int:
    """The middle of the quietest ``frame`` samples in ``samples[lo:hi]``."""
    span = samples[lo:hi].astype(np.float64) ** 2
    if len(span) <= frame:
        return hi
    energy = np.convolve(span, np.ones(frame), mode="valid")
    return lo + int(energy.argmin()) + frame // 2


def plan_windows(
    channel: int,
    chunks: Sequence[dict[str, int]],
    speech: Sequence[Interval],
    samples: np.ndarray,
    window_s: float = WINDOW_S,
) -> list[Window]:
    """One channel's ASR chunks (see :func:`~speechqa.pipeline.vad.asr_chunks`) as windows.

    Chunks longer than a window are cut in pauses; consecutive pieces are packed into a window
    while they fit, as sequential decoding would join them.
    """
    max_samples = int(window_s * SAMPLE_RATE)
    pieces: list[tuple[int, int]] = []
    for c in chunks:
        bounds = [c["start"], *split_points((c["start"], c["end"]), speech, samples, max_samples)]
        pieces += zip(bounds, [*bounds[1:], c["end"]], strict=True)
    return pack(channel, pieces, max_samples)


def pack(channel: int, pieces: Sequence[tuple[int, int]], max_samples: int) -> list[Window]:
    """Consecutive pieces of one channel joined into windows of at most ``max_samples``."""
    windows: list[Window] = []
    current: list[tuple[int, int]] = []
    filled = 0
    for piece in pieces:
        length = piece[1] - piece[0]
        if current and filled + length > max_samples:
            windows.append(Window(channel, tuple(current)))
            current, filled = [], 0
        current.append(piece)
        filled += length
    if current:
        windows.append(Window(channel, tuple(current)))
    return windows


def untranscribed(
    window: Window, words: Sequence[Word], speech: Sequence[Interval], min_speech_s: float = 0.3
) -> list[tuple[int, int]]:
    """The pieces of a window after its last decoded word, where VAD heard speech.

    Whisper often ends a window early, leaving its last phrase out; sequential decoding finds
    it by seeking to the last timestamp and decoding again from there. This is that remainder,
    to be decoded in another batch. A window with no words gives none (it would only repeat).
    """
    if not words:
        return []
    cut = round(max(w.end for w in words) * SAMPLE_RATE)
    rest = [(max(start, cut), end) for start, end in window.pieces if end > cut]
    heard = sum(
        max(0.0, min(end, iv.end * SAMPLE_RATE) - max(start, iv.start * SAMPLE_RATE))
        for start, end in rest
        for iv in speech
    )
    return rest if heard >= min_speech_s * SAMPLE_RATE else []


def channel_words(window: Window, words: Sequence[tuple[str, float, float, float]]) -> list[Word]:
    """Words decoded from a window, ``(text, start, end, probability)`` in window time, placed
    in the channel: each word's start and end go through the piece of its middle, as
    faster-whisper's ``restore_speech_timestamps`` does."""
    placed: list[Word] = []
    for text, start, end, probability in words:
        text = text.strip()
        if not text:
            continue
        piece = window.piece_at((start + end) / 2)
        placed.append(
            Word(
                word=text,
                start=round(window.to_channel(start, piece), 3),
                end=round(window.to_channel(end, piece), 3),
                probability=round(float(probability), 4),
            )
        )
    return placed


class DecodedWord(Protocol):
    word: str
    start: float
    end: float
    probability: float


class DecodedSegment(Protocol):
    """What faster-whisper yields per decoded segment (its ``Segment``)."""

    start: float
    words: list[DecodedWord] | None  # faster-whisper's Word; only these fields are read


def layout(batch: Sequence[Window]) -> list[int]:
    """Where each window of a batch starts in the batch's audio, in whole seconds.

    Each window has a slot of :data:`WINDOW_S` seconds (its audio, then silence) and a second of
    silence after it: whole seconds keep faster-whisper's offsets exact (it rounds a window's
    offset to 10 ms for word times), and the gap keeps a segment's start, by which it is found,
    inside its own window's slot.
    """
    return [round(k * (WINDOW_S + 1)) for k in range(len(batch))]


def clips(offsets: Sequence[int]) -> list[dict[str, float]]:
    """faster-whisper's ``clip_timestamps`` for a batch laid out at ``offsets``: each window's
    whole 30-s slot, so that what follows a short window is decoded as silent audio, not as
    padded features."""
    return [{"start": float(o), "end": float(o) + WINDOW_S} for o in offsets]


def batch_audio(
    batch: Sequence[Window], offsets: Sequence[int], channels: Sequence[np.ndarray]
) -> np.ndarray:
    """The batch's windows laid out at ``offsets`` in one array, silence after each."""
    audio = np.zeros(round((offsets[-1] + WINDOW_S) * SAMPLE_RATE), dtype=np.float32)
    for w, offset in zip(batch, offsets, strict=True):
        at = offset * SAMPLE_RATE
        audio[at : at + w.n_samples] = w.audio(channels[w.channel])
    return audio


def place_segments(
    segments: Iterable[DecodedSegment], batch: Sequence[Window], offsets: Sequence[int]
) -> list[list[Word]]:
    """The words of segments decoded from a batch's audio, per window, in channel time."""
    words: list[list[Word]] = [[] for _ in batch]
    for segment in segments:
        k = max(0, bisect.bisect_right(offsets, float(segment.start)) - 1)
        w, offset = batch[k], offsets[k]
        words[k] += channel_words(
            w,
            [
                (x.word, float(x.start) - offset, float(x.end) - offset, float(x.probability))
                for x in segment.words or []
            ],
        )
    return words
