"""Audio stage: probe an upload and decode it to 16 kHz float channels.

Decoding goes through PyAV (FFmpeg), the same path faster-whisper uses, so any container and
codec FFmpeg reads is accepted: WAV (PCM, float, mu-law, A-law), MP3, OGG/Opus, FLAC, M4A/AAC.
A stereo call is split into its two channels so that each party is transcribed on its own; a
stereo file whose channels carry the same signal is treated as mono.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from speechqa.errors import AudioDecodeError, AudioTooLong, EmptyAudio, UnsupportedMedia

SAMPLE_RATE = 16_000

# Container formats FFmpeg detects from content alone that are not audio recordings, even
# though they may carry an audio stream we could decode (images, subtitles, text).
_NOT_AUDIO_FORMATS = {"image2", "png_pipe", "jpeg_pipe", "tty", "srt", "webvtt", "ass"}


@dataclass(frozen=True)
class AudioInfo:
    """What a recording is, read from its header without decoding it."""

    format_name: str
    codec: str
    sample_rate: int
    channels: int
    duration_s: float | None


@dataclass(frozen=True)
class DecodedAudio:
    """A recording decoded to 16 kHz float32 samples, one array per channel kept."""

    channels: list[np.ndarray]
    source_channels: int
    duration_s: float
    identical_channels: bool = False

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE


def probe(path: str | Path, *, max_duration_s: float | None = None) -> AudioInfo:
    """Read a file's audio header; raise a clear error if it is not audio we can read.

    With ``max_duration_s``, a recording longer than that is refused (``AudioTooLong``): by its
    header, or, when the header gives no length (a FLAC without one in STREAMINFO, a stream),
    by reading its packets without decoding them until they pass the limit.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise EmptyAudio("The audio file is empty (0 bytes).")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if container.format.name in _NOT_AUDIO_FORMATS or not container.streams.audio:
                raise UnsupportedMedia(
                    "The file has no audio stream; send a recording such as WAV, MP3, OGG, "
                    "FLAC or M4A."
                )
            stream = container.streams.audio[0]
            ctx = stream.codec_context
            duration: float | None = None
            counted = False  # read from the packets, up to the limit: a lower bound
            if container.duration is not None:
                duration = container.duration / 1_000_000
            elif stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif max_duration_s is not None:
                duration, counted = _packet_duration(container, stream, max_duration_s), True
            info = AudioInfo(
                format_name=container.format.name,
                codec=ctx.name,
                sample_rate=int(ctx.sample_rate or 0),
                channels=int(ctx.channels or 0),
                duration_s=duration,
            )
    except av.error.FFmpegError as exc:
        raise UnsupportedMedia(
            f"The file is not a recording we can read ({exc.strerror or 'unknown format'}); "
            "send WAV, MP3, OGG/Opus, FLAC or M4A/AAC audio."
        ) from exc
    if max_duration_s is not None and info.duration_s and info.duration_s > max_duration_s:
        if counted:
            raise too_long(max_duration_s)
        raise AudioTooLong(
            f"The recording lasts {info.duration_s:.0f} s, over the limit of "
            f"{max_duration_s:.0f} s."
        )
    return info


def too_long(max_duration_s: float) -> AudioTooLong:
    """The error for a recording found longer than the limit before its end was reached."""
    return AudioTooLong(f"The recording lasts more than the limit of {max_duration_s:.0f} s.")


def _packet_duration(
    container: av.container.InputContainer, stream: av.AudioStream, limit_s: float
) -> float | None:
    """A recording's length from its packets' timestamps, read (not decoded) until they pass
    ``limit_s``; None if the packets carry no timestamps or the file cannot be read through."""
    if stream.time_base is None:
        return None
    end = 0
    try:
        for packet in container.demux(stream):
            if packet.pts is None or packet.duration is None:
                continue
            end = max(end, packet.pts + packet.duration)
            if float(end * stream.time_base) > limit_s:
                break
    except av.error.FFmpegError:
        return None
    return float(end * stream.time_base) if end else None


def decode(path: str | Path, *, max_duration_s: float | None = None) -> DecodedAudio:
    """Decode a recording to 16 kHz float32, splitting stereo into two channels.

    Files with more than two channels are mixed down to mono. A recording longer than
    ``max_duration_s`` is refused before decoding when its header or packets say so, and at
    the latest as soon as its decoded audio passes the limit.
    """
    info = probe(path, max_duration_s=max_duration_s)
    keep_stereo = info.channels == 2
    n_out = 2 if keep_stereo else 1
    # 16-bit planar, as faster-whisper's own decoder resamples, so transcripts match it.
    resampler = av.AudioResampler(
        format="s16p", layout="stereo" if keep_stereo else "mono", rate=SAMPLE_RATE
    )
    # Decode straight into one preallocated float32 buffer (grown if the header lied), so an
    # hour-long stereo call needs its 460 MB and not several copies of it. The buffer never
    # grows past the duration limit: a file whose header gives no length (or a false one) is
    # refused as soon as its decoded audio passes the limit, not after decoding all of it.
    limit = None if max_duration_s is None else int(max_duration_s * SAMPLE_RATE)
    capacity = int((info.duration_s or 60) * SAMPLE_RATE * 1.02) + SAMPLE_RATE
    if limit is not None:
        capacity = min(capacity, limit)
    buffer = np.empty((n_out, capacity), dtype=np.float32)
    filled = 0

    def append(frames: list[av.AudioFrame]) -> None:
        nonlocal buffer, filled
        for out in frames:
            data = out.to_ndarray()
            n = data.shape[1]
            if limit is not None and filled + n > limit:
                raise too_long(limit / SAMPLE_RATE)
            if filled + n > buffer.shape[1]:
                size = max(2 * buffer.shape[1], filled + n)
                if limit is not None:
                    size = min(size, limit)
                grown = np.empty((n_out, size), dtype=np.float32)
                grown[:, :filled] = buffer[:, :filled]
                buffer = grown
            np.multiply(data, 1 / 32768.0, out=buffer[:, filled : filled + n], casting="unsafe")
            filled += n

    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            for frame in _ignore_invalid_frames(container.decode(audio=0)):
                append(resampler.resample(frame))
            append(resampler.resample(None))
    except av.error.FFmpegError as exc:
        raise AudioDecodeError(f"The audio could not be decoded: {exc.strerror or exc}.") from exc

    if filled == 0:
        raise AudioDecodeError("The audio decodes to no samples (empty or truncated file).")
    if keep_stereo:
        left, right = buffer[0, :filled], buffer[1, :filled]
        if _same_signal(left, right):
            channels, identical = [left.copy()], True
        else:
            channels, identical = [left, right], False
    else:
        channels, identical = [buffer[0, :filled]], False
    del buffer
    duration = len(channels[0]) / SAMPLE_RATE
    return DecodedAudio(
        channels=channels,
        source_channels=info.channels,
        duration_s=duration,
        identical_channels=identical,
    )


def _ignore_invalid_frames(frames: Iterable[av.AudioFrame]) -> Iterator[av.AudioFrame]:
    """Skip frames FFmpeg cannot decode (a damaged block), as faster-whisper does."""
    iterator = iter(frames)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            break
        except av.error.InvalidDataError:
            continue


def _same_signal(left: np.ndarray, right: np.ndarray, block: int = 1 << 20) -> bool:
    """Whether two channels carry the same signal (a mono call saved as stereo).

    Real files are rarely bit-identical (lossy codecs, dithering), so the test is that their
    difference is small next to the signal: under 5 % in RMS. Sums run block by block so an
    hour-long call needs no extra copy of itself.
    """
    if left.shape != right.shape:
        return False
    e_left = e_right = e_diff = 0.0
    for at in range(0, len(left), block):
        a = left[at : at + block].astype(np.float64)
        b = right[at : at + block].astype(np.float64)
        e_left += float(np.dot(a, a))
        e_right += float(np.dot(b, b))
        a -= b
        e_diff += float(np.dot(a, a))
    if e_left == 0.0 or e_right == 0.0:
        return e_left == e_right
    return e_diff <= 0.05**2 * max(e_left, e_right)
