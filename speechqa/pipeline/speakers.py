"""Speaker stage: who spoke when on a mono call, and which speaker is the agent.

No speaker-embedding model can be shipped with speechqa yet (none with a licence and offline
weights is packaged on PyPI), so mono calls are separated with a documented classical method:

1. The words are cut into segments at pauses of ``pause_s`` and at sentence ends: in a
   two-party call a speaker change almost always falls on such a boundary.
2. Each segment gets a voice print from its audio: the mean and spread of 19 MFCCs over the
   telephone band (which capture the vocal tract) and the median pitch (which separates most
   voices on its own).
3. The prints are standardised and split into two groups by k-means (several seeded starts,
   the tightest kept). Segments too short for a print join the group of their neighbours.
4. Roles: the group that says more of the agent's phrases ("thank you for calling", "my name
   is", "how can I help", and the ruleset's agent phrases) is the agent; with no evidence the
   first speaker is. The call document marks these roles as estimated.

Overlapping speech cannot be separated on one channel; it goes to whoever dominates the segment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from speechqa.contracts import ChannelTranscript, Word
from speechqa.pipeline.audio import SAMPLE_RATE

AGENT_PHRASES = (
    "thank you for calling",
    "thanks for calling",
    "my name is",
    "how can i help",
    "how may i help",
    "how can i assist",
    "is there anything else",
    "thank you for holding",
    "thanks for holding",
    "thank you for your patience",
    "for security",
    "can you confirm",
    "let me check",
    "have a great day",
    "have a nice day",
    "thank you for banking",
    "thank you for choosing",
)

_N_FFT = 512
_WIN = 400  # 25 ms
_HOP = 160  # 10 ms
_MIN_PRINT_S = 0.5
MIN_PITCH_GAP = 5.0
"""Semitones between two groups' median pitch below which a mono call is one voice. Measured on
generated calls: one voice split in two groups differs by 1-4 semitones, agent and customer by
11. Two real voices of similar pitch (often two men or two women) fall under it and stay one
speaker: a known limit of a method without a speaker-embedding model."""


@dataclass(frozen=True)
class Segment:
    words: list[Word]

    @property
    def start(self) -> float:
        return self.words[0].start

    @property
    def end(self) -> float:
        return self.words[-1].end

    @property
    def text(self) -> str:
        return " ".join(w.word for w in self.words)


@dataclass(frozen=True)
class Diarization:
    """A mono channel's words split by speaker, with roles."""

    channels: list[ChannelTranscript]
    roles_estimated: bool
    """False when one voice was found: the channel stays one speaker, ``speaker_1``."""
    pitch_gap: float
    """Semitones between the two groups' median pitch."""


def segment_words(words: Sequence[Word], pause_s: float = 0.3) -> list[Segment]:
    segments: list[Segment] = []
    current: list[Word] = []
    for word in words:
        if current and (
            word.start - current[-1].end >= pause_s or current[-1].word.endswith((".", "?", "!"))
        ):
            segments.append(Segment(current))
            current = []
        current.append(word)
    if current:
        segments.append(Segment(current))
    return segments


def _mel_filterbank(n_mels: int = 40, fmin: float = 60.0, fmax: float = 3800.0) -> np.ndarray:
    def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    mels = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
    hz = 700.0 * (10 ** (mels / 2595.0) - 1.0)
    bins = np.floor((_N_FFT + 1) * hz / SAMPLE_RATE).astype(int)
    bank = np.zeros((n_mels, _N_FFT // 2 + 1), dtype=np.float32)
    for m in range(1, n_mels + 1):
        left, centre, right = bins[m - 1], bins[m], bins[m + 1]
        for k in range(left, centre):
            bank[m - 1, k] = (k - left) / max(centre - left, 1)
        for k in range(centre, right):
            bank[m - 1, k] = (right - k) / max(right - centre, 1)
    return bank


_MEL = _mel_filterbank()
_N_MFCC = 20
_DCT = np.cos(np.pi / _MEL.shape[0] * (np.arange(_MEL.shape[0]) + 0.5)[None, :]
              * np.arange(_N_MFCC)[:, None]).astype(np.float32)  # fmt: skip
_WINDOW = np.hanning(_WIN).astype(np.float32)


def voice_print(samples: np.ndarray) -> np.ndarray | None:
    """A fixed-length description of the voice in a stretch of audio (None if too short)."""
    if len(samples) < int(_MIN_PRINT_S * SAMPLE_RATE):
        return None
    frames = np.lib.stride_tricks.sliding_window_view(samples, _WIN)[::_HOP] * _WINDOW
    power = np.abs(np.fft.rfft(frames, n=_N_FFT)) ** 2
    energy = power.sum(axis=1)
    voiced = energy > np.percentile(energy, 40)
    if voiced.sum() < 10:
        return None
    mfcc = np.log(power[voiced] @ _MEL.T + 1e-8) @ _DCT.T
    mfcc = mfcc[:, 1:]  # c0 is loudness, not voice
    pitch = _median_pitch(samples)
    return np.concatenate([mfcc.mean(axis=0), mfcc.std(axis=0), [np.log(pitch)]])


_PITCH_WIN = 400  # 25 ms integration window
_MIN_LAG, _MAX_LAG = SAMPLE_RATE // 400, SAMPLE_RATE // 60


def _median_pitch(samples: np.ndarray) -> float:
    """Median fundamental frequency (60-400 Hz) of a stretch of speech, by YIN.

    YIN's cumulative-mean-normalised difference takes the first dip under a threshold, which
    avoids the octave errors that a plain autocorrelation peak makes on strong harmonics.
    """
    span = _PITCH_WIN + _MAX_LAG
    if len(samples) < span:
        return 150.0
    frames = np.lib.stride_tricks.sliding_window_view(samples, span)[:: 2 * _HOP].astype(np.float64)
    energy = (frames[:, :_PITCH_WIN] ** 2).sum(axis=1)
    frames = frames[energy >= np.percentile(energy, 50)]
    n = 2 * span
    r = np.fft.irfft(np.fft.rfft(frames, n) * np.conj(np.fft.rfft(frames[:, :_PITCH_WIN], n)), n)[
        :, : _MAX_LAG + 1
    ]
    sq = np.concatenate([np.zeros((len(frames), 1)), np.cumsum(frames**2, axis=1)], axis=1)
    lag = np.arange(_MAX_LAG + 1)
    e_tau = sq[:, lag + _PITCH_WIN] - sq[:, lag]
    d = sq[:, _PITCH_WIN : _PITCH_WIN + 1] + e_tau - 2 * r
    cmnd = np.ones_like(d)
    cmnd[:, 1:] = d[:, 1:] * lag[1:] / np.maximum(np.cumsum(d[:, 1:], axis=1), 1e-12)
    window = cmnd[:, _MIN_LAG:]
    below = window < 0.15
    voiced = below.any(axis=1)
    if voiced.sum() < 3:
        return 150.0
    rows = window[voiced]
    idx = np.argmax(below[voiced], axis=1)
    # From the first crossing, walk down to the bottom of that dip.
    at = np.arange(len(rows))
    for _ in range(_MAX_LAG):
        nxt = np.minimum(idx + 1, rows.shape[1] - 1)
        step = rows[at, nxt] < rows[at, idx]
        if not step.any():
            break
        idx = np.where(step, nxt, idx)
    return float(np.median(SAMPLE_RATE / (_MIN_LAG + idx)))


def _two_means(x: np.ndarray, seeds: int = 8) -> np.ndarray:
    """Split the rows of x into two groups (k-means, seeded starts, the tightest kept)."""
    best_labels, best_inertia = np.zeros(len(x), dtype=int), np.inf
    rng = np.random.default_rng(0)
    for _ in range(seeds):
        first = int(rng.integers(len(x)))
        d = ((x - x[first]) ** 2).sum(axis=1)
        second = int(rng.choice(len(x), p=d / d.sum())) if d.sum() > 0 else (first + 1) % len(x)
        centres = x[np.array([first, second])]
        for _ in range(50):
            labels = ((x[:, None, :] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
            new = np.array([x[labels == k].mean(axis=0) if (labels == k).any() else centres[k]
                            for k in range(2)])  # fmt: skip
            if np.allclose(new, centres):
                break
            centres = new
        inertia = float(((x - centres[labels]) ** 2).sum())
        if inertia < best_inertia:
            best_labels, best_inertia = labels, inertia
    return best_labels


def agent_score(texts: Iterable[str], extra_phrases: Iterable[str] = ()) -> int:
    phrases = [p.lower() for p in (*AGENT_PHRASES, *extra_phrases) if p.strip()]
    total = 0
    for text in texts:
        norm = re.sub(r"[^a-z0-9' ]+", " ", text.lower())
        norm = re.sub(r"\s+", " ", norm)
        total += sum(norm.count(p) for p in phrases)
    return total


def diarize(
    samples: np.ndarray,
    channel: ChannelTranscript,
    *,
    agent_phrases: Iterable[str] = (),
    pause_s: float = 0.3,
) -> Diarization:
    """Split a mono channel's words between agent and customer."""
    segments = segment_words(channel.words, pause_s)
    prints: list[np.ndarray | None] = []
    for seg in segments:
        a, b = int(seg.start * SAMPLE_RATE), int(seg.end * SAMPLE_RATE)
        prints.append(voice_print(samples[a:b]))
    usable = [i for i, p in enumerate(prints) if p is not None]
    labels = np.zeros(len(segments), dtype=int)
    pitch_gap = 0.0
    if len(usable) >= 2:
        raw = np.array([prints[i] for i in usable], dtype=np.float64)
        x = (raw - raw.mean(axis=0)) / (raw.std(axis=0) + 1e-9)
        x[:, -1] *= 3.0  # pitch separates most pairs of voices on its own
        found = _two_means(x)
        if found.min() != found.max():
            medians = [np.median(raw[found == k, -1]) for k in (0, 1)]
            pitch_gap = float(abs(medians[0] - medians[1]) * 12 / np.log(2))
        labels[usable] = found
    if pitch_gap < MIN_PITCH_GAP:
        # One voice, or two too alike to tell apart reliably: say so rather than guess.
        single = replace(channel, speaker="speaker_1")
        return Diarization(channels=[single], roles_estimated=False, pitch_gap=round(pitch_gap, 1))
    # Segments without a print take the label of the nearest segment in time that has one.
    for i, p in enumerate(prints):
        if p is None:
            nearest = min(usable, key=lambda j: abs(segments[j].start - segments[i].start))
            labels[i] = labels[nearest]

    texts = {
        k: [s.text for s, lab in zip(segments, labels, strict=True) if lab == k] for k in (0, 1)
    }
    scores = {k: agent_score(texts[k], agent_phrases) for k in (0, 1)}
    first = int(labels[0]) if len(labels) else 0
    agent = max((0, 1), key=lambda k: (scores[k], k == first))
    role = {agent: "agent", 1 - agent: "customer"}
    channels = []
    for k in (agent, 1 - agent):
        words = [w for s, lab in zip(segments, labels, strict=True) if lab == k for w in s.words]
        spans = [(s.start, s.end) for s, lab in zip(segments, labels, strict=True) if lab == k]
        speech = [
            replace(iv, start=max(iv.start, a), end=min(iv.end, b))
            for iv in channel.speech
            for a, b in spans
            if iv.start < b and a < iv.end
        ]
        channels.append(
            ChannelTranscript(
                role[k],
                words,
                channel.language,
                speech,
                round(sum(iv.duration for iv in speech), 3),
            )
        )
    return Diarization(channels=channels, roles_estimated=True, pitch_gap=round(pitch_gap, 1))
