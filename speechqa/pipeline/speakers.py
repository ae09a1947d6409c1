"""Speaker stage: who spoke when on a mono call, and which speaker is the agent.

Mono calls are separated by speaker embeddings, with a classical method as the fallback when
the speaker model is unavailable:

1. Embeddings (:func:`embedding_labels`): the speech (the words' spans) is cut into 1.5 s
   windows every 0.75 s; each window gets a 256-d voice embedding from the shipped GE2E encoder
   (:mod:`speechqa.pipeline.voices`); the windows are split into two groups by cosine (k-means
   on the unit sphere, seeded starts). Two speakers are accepted when the groups' centroids
   are far enough apart (``MIN_VOICE_DISTANCE``, tuned on mono mixes of real two-party
   recordings and on one-voice recordings), the smaller group is not a sliver and there is
   enough speech (``MIN_WINDOWS``). Each word takes the group its overlapping windows lean to,
   so a turn change needs no pause.
2. Voice prints (:func:`voice_print_labels`, the fallback): the words are cut into segments at
   pauses and sentence ends; each segment gets the mean and spread of 19 MFCCs over the
   telephone band and its median pitch; standardised prints are split by k-means, and a pitch
   gap under ``MIN_PITCH_GAP`` semitones means one voice (two similar voices stay one speaker).
3. Roles: the group that says more of the agent's phrases ("thank you for calling", "my name
   is", "how can I help", and the ruleset's agent phrases) is the agent; with no evidence the
   first speaker is. The call document marks these roles as estimated.

Overlapping speech cannot be separated on one channel; it goes to whoever dominates the window.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from speechqa.contracts import ChannelTranscript, Word
from speechqa.pipeline.audio import SAMPLE_RATE
from speechqa.pipeline.voices import SpeakerEncoder

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
speaker: a known limit of the fallback without the speaker-embedding model."""

WINDOW_S = 1.5
"""Seconds of speech per embedding: long enough for a stable voice embedding, short enough
that few windows straddle a turn change."""
HOP_S = 0.75
_JOIN_S = 0.3  # words closer than this are one stretch of speech
_MIN_WINDOW_S = 0.5  # shorter stretches of speech get no embedding of their own
MIN_VOICE_DISTANCE = 0.12
"""Cosine distance between the two groups' centroids from which a mono call has two voices.
Measured by ``bench/diarization.py``: one voice split in two groups 0.068-0.108 (11 channels,
real and generated, 20-55 windows); two parties 0.216-0.347, and 0.134 for two men of about the
same pitch (real recordings): the margin there is small."""
MIN_GROUP_SHARE = 0.1
"""The smaller group must hold this share of the windows, or the call is one voice."""
MIN_WINDOWS = 16
"""Fewer windows (about 12 s of speech) are too few to tell one voice from two: with 5-13
windows one voice split in two groups reached distances of 0.13-0.27."""


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
    """Semitones between the two groups' median pitch (voice-print fallback; else 0)."""
    voice_distance: float | None = None
    """Cosine distance between the two groups' embedding centroids (None without the model)."""


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
_DCT = np.cos(
    np.pi / _MEL.shape[0] * (np.arange(_MEL.shape[0]) + 0.5)[None, :] * np.arange(_N_MFCC)[:, None]
).astype(np.float32)
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
            new = np.array(
                [
                    x[labels == k].mean(axis=0) if (labels == k).any() else centres[k]
                    for k in range(2)
                ]
            )
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


def voice_print_labels(
    samples: np.ndarray, words: Sequence[Word], pause_s: float = 0.3
) -> tuple[np.ndarray, float]:
    """The fallback without a speaker model: a group per word from the segments' voice prints,
    and the pitch gap (semitones) between the two groups."""
    segments = segment_words(words, pause_s)
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
    # Segments without a print take the label of the nearest segment in time that has one.
    for i, p in enumerate(prints):
        if p is None and usable:
            nearest = min(usable, key=lambda j: abs(segments[j].start - segments[i].start))
            labels[i] = labels[nearest]
    return np.repeat(labels, [len(s.words) for s in segments]), pitch_gap


def speech_windows(words: Sequence[Word], duration_s: float) -> list[tuple[float, float, int]]:
    """The stretches of audio to embed, as (start, end, region): ``WINDOW_S`` windows every
    ``HOP_S`` over each region of speech (the words' spans, joined across pauses under
    ``_JOIN_S``); a region shorter than a window is one window of its own length (from
    ``_MIN_WINDOW_S``; shorter ones get none)."""
    regions: list[list[float]] = []
    for w in words:
        if regions and w.start - regions[-1][1] < _JOIN_S:
            regions[-1][1] = max(regions[-1][1], w.end)
        else:
            regions.append([w.start, w.end])
    windows: list[tuple[float, float, int]] = []
    for region, (start, end) in enumerate(regions):
        end = min(end, duration_s)
        if end - start < WINDOW_S:
            if end - start >= _MIN_WINDOW_S:
                windows.append((start, end, region))
            continue
        at = start
        while at + WINDOW_S <= end:
            windows.append((at, at + WINDOW_S, region))
            at += HOP_S
        if windows[-1][1] < end - 0.1:
            windows.append((end - WINDOW_S, end, region))
    return windows


def _unit(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
    return out


def _spherical_two_means(x: np.ndarray, seeds: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Split unit vectors into two groups by cosine (k-means on the sphere, seeded starts, the
    tightest kept): :func:`_two_means` for embeddings. Returns the labels and the two unit-length
    centroids."""
    rng = np.random.default_rng(0)
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for _ in range(seeds):
        first = int(rng.integers(len(x)))
        far = np.clip(1.0 - x @ x[first], 0.0, None)
        second = int(rng.choice(len(x), p=far / far.sum())) if far.sum() > 0 else first
        centres = x[[first, second]]
        labels = np.zeros(len(x), dtype=int)
        for _ in range(50):
            labels = (x @ centres.T).argmax(axis=1)
            new = _unit(
                np.array(
                    [
                        x[labels == k].sum(axis=0) if (labels == k).any() else centres[k]
                        for k in (0, 1)
                    ]
                )
            )
            if np.allclose(new, centres):
                break
            centres = new
        spread = float((1.0 - (x * centres[labels]).sum(axis=1)).sum())
        if best is None or spread < best[0]:
            best = (spread, labels, centres)
    assert best is not None
    return best[1], best[2]


def window_embeddings(
    samples: np.ndarray, windows: Sequence[tuple[float, float, int]], encoder: SpeakerEncoder
) -> np.ndarray:
    """The embedding (unit vector) of each window; full windows are embedded in batches."""
    stretches = [samples[int(a * SAMPLE_RATE) : int(b * SAMPLE_RATE)] for a, b, _ in windows]
    full = [i for i, (a, b, _) in enumerate(windows) if b - a >= WINDOW_S - 1e-6]
    x = np.zeros((len(windows), 256), dtype=np.float64)
    if full:
        x[full] = encoder.embed([stretches[i] for i in full])
    for i in sorted(set(range(len(windows))) - set(full)):
        x[i] = encoder.embed([stretches[i]])[0]  # unequal lengths: padding changes embeddings
    return x


def embedding_labels(
    samples: np.ndarray, words: Sequence[Word], encoder: SpeakerEncoder
) -> tuple[np.ndarray | None, float]:
    """A group (0/1) per word from speaker embeddings, or None for one voice; and the cosine
    distance between the two groups' centroids.

    Windows of speech are embedded and split in two by cosine (k-means on the unit sphere).
    Two speakers are accepted when the centroids are at least ``MIN_VOICE_DISTANCE`` apart and
    the smaller group holds at least ``MIN_GROUP_SHARE`` of the windows; a call with fewer than
    ``MIN_WINDOWS`` windows is one voice (too little speech to tell). Then each word takes the
    group its overlapping windows lean to (each window's lean weighted by its overlap with the
    word), so a turn change needs no pause; a word no window covers takes the group of the
    nearest window.
    """
    windows = speech_windows(words, len(samples) / SAMPLE_RATE)
    if len(windows) < MIN_WINDOWS:
        return None, 0.0
    x = window_embeddings(samples, windows, encoder)
    labels, centres = _spherical_two_means(x)
    distance = float(1.0 - centres[0] @ centres[1])
    share = min(float(np.mean(labels == 0)), float(np.mean(labels == 1)))
    if distance < MIN_VOICE_DISTANCE or share < MIN_GROUP_SHARE:
        return None, distance
    lean = x @ centres[0] - x @ centres[1]  # > 0: group 0
    starts = np.array([a for a, _, _ in windows])
    ends = np.array([b for _, b, _ in windows])
    out = np.zeros(len(words), dtype=int)
    for i, w in enumerate(words):
        overlap = np.minimum(ends, w.end) - np.maximum(starts, w.start)
        covering = overlap > 0
        if covering.any():
            score = float((overlap[covering] * lean[covering]).sum())
        else:
            mid = (w.start + w.end) / 2
            score = float(lean[int(np.argmin(np.abs((starts + ends) / 2 - mid)))])
        out[i] = 0 if score > 0 else 1
    return out, distance


def diarize(
    samples: np.ndarray,
    channel: ChannelTranscript,
    *,
    agent_phrases: Iterable[str] = (),
    pause_s: float = 0.3,
    encoder: SpeakerEncoder | None = None,
) -> Diarization:
    """Split a mono channel's words between agent and customer.

    With a speaker ``encoder`` the split is by speaker embeddings (:func:`embedding_labels`);
    without one, by voice prints and their pitch gap (:func:`voice_print_labels`).
    """
    words = list(channel.words)
    pitch_gap, distance = 0.0, None
    labels: np.ndarray | None
    if encoder is not None:
        labels, distance = embedding_labels(samples, words, encoder)
    else:
        labels, pitch_gap = voice_print_labels(samples, words, pause_s)
        if pitch_gap < MIN_PITCH_GAP:
            labels = None
    if labels is None:
        # One voice, or two too alike to tell apart reliably: say so rather than guess.
        single = replace(channel, speaker="speaker_1")
        return Diarization(
            channels=[single],
            roles_estimated=False,
            pitch_gap=round(pitch_gap, 1),
            voice_distance=None if distance is None else round(distance, 3),
        )
    # Segments: one speaker's words between pauses and sentence ends.
    segments: list[Segment] = []
    seg_labels: list[int] = []
    current: list[Word] = []
    for i, word in enumerate(words):
        if current and (
            word.start - current[-1].end >= pause_s
            or current[-1].word.endswith((".", "?", "!"))
            or labels[i] != labels[i - 1]
        ):
            segments.append(Segment(current))
            seg_labels.append(int(labels[i - 1]))
            current = []
        current.append(word)
    if current:
        segments.append(Segment(current))
        seg_labels.append(int(labels[-1]))

    texts = {
        k: [s.text for s, lab in zip(segments, seg_labels, strict=True) if lab == k] for k in (0, 1)
    }
    scores = {k: agent_score(texts[k], agent_phrases) for k in (0, 1)}
    first = seg_labels[0] if seg_labels else 0
    agent = max((0, 1), key=lambda k: (scores[k], k == first))
    role = {agent: "agent", 1 - agent: "customer"}
    channels = []
    for k in (agent, 1 - agent):
        mine = [s for s, lab in zip(segments, seg_labels, strict=True) if lab == k]
        speech = [
            replace(iv, start=max(iv.start, s.start), end=min(iv.end, s.end))
            for iv in channel.speech
            for s in mine
            if iv.start < s.end and s.start < iv.end
        ]
        channels.append(
            ChannelTranscript(
                role[k],
                [w for s in mine for w in s.words],
                channel.language,
                speech,
                round(sum(iv.duration for iv in speech), 3),
            )
        )
    return Diarization(
        channels=channels,
        roles_estimated=True,
        pitch_gap=round(pitch_gap, 1),
        voice_distance=None if distance is None else round(distance, 3),
    )
