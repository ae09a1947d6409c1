"""Listening to calls: the stored recording, byte ranges of it, clips, deletion and retention.

A reviewer's player asks for byte ranges as it seeks; a coach asks for a clip (``start``..``end``
in seconds) which is cut from the recording and sent as 16-bit WAV at the recording's own rate
and channels, so both parties stay audible. Deleting a call removes its audio and everything
derived from it; retention deletes only the audio of calls older than N days and keeps the
transcript, scores and KPIs (the call then says when its audio was removed). The recording is
read from and removed through the audio store, a local folder or a bucket alike.
"""

from __future__ import annotations

import io
import logging
import re
import uuid
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from speechqa.calls import repository
from speechqa.contracts import Silence
from speechqa.errors import (
    AudioDecodeError,
    Gone,
    InvalidInput,
    RangeNotSatisfiable,
    StorageUnavailable,
)
from speechqa.settings import Settings
from speechqa.storage.audio import AudioStore, audio_store
from speechqa.storage.tables import Call, utcnow

log = logging.getLogger(__name__)

MAX_CLIP_S = 600.0
"""A clip is at most ten minutes: longer spans are what the whole recording is for."""

_MEDIA_TYPES = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "mov,mp4,m4a,3gp,3g2,mj2": "audio/mp4",
    "matroska,webm": "audio/webm",
}
_RANGE = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


@dataclass(frozen=True)
class Recording:
    """A stored recording: its key in ``store``, and its own file when the store is local."""

    store: AudioStore
    key: str
    media_type: str
    size: int
    path: Path | None


def recording(settings: Settings, call: Call, *, original: bool = False) -> Recording:
    """The recording a listener is served: the redacted copy when there is one; ``original``
    (for admins) the unredacted one. Gone once retention or deletion removed it."""
    if call.audio_deleted_at is not None:
        raise Gone(
            f"The recording of this call was removed on {call.audio_deleted_at:%Y-%m-%d}; "
            "its transcript and scores remain."
        )
    store = audio_store(settings)
    if call.redacted_audio_path and not original:
        key, media_type = call.redacted_audio_path, "audio/flac"
    else:
        key = call.audio_path
        media_type = _MEDIA_TYPES.get(
            call.format_name or "", call.content_type or "audio/octet-stream"
        )
    size = store.size(key)
    if size is None:
        if original and call.redacted_audio_path:
            raise Gone("The unredacted recording of this call was deleted once redacted.")
        raise Gone("The recording of this call is no longer stored.")
    return Recording(store, key, media_type, size, store.local_path(key))


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The first range of a checked ``Range`` header as (first, last) byte; None: the whole."""
    if not header:
        return None
    match = _RANGE.match(header.partition("=")[2].split(",")[0])
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first:  # a suffix: the last N bytes
        return max(0, size - int(last)), size - 1
    return int(first), min(size - 1, int(last)) if last else size - 1


def redacted_name(audio_path: str) -> str:
    """The stored name of a recording's redacted copy, beside the original."""
    return str(Path(audio_path).with_suffix("")) + ".redacted.flac"


def write_redacted(
    settings: Settings, source: Path, audio_key: str, silences: Sequence[Silence]
) -> str:
    """Store a copy of the recording ``audio_key`` (read from its local file ``source``) with
    ``silences`` (seconds, each on its channel or on all) made silent, as lossless FLAC at the
    recording's own rate, through the audio store; return its key."""
    store = audio_store(settings)
    name = redacted_name(audio_key)
    try:
        with av.open(str(source), metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate or stream.sample_rate
            channels = min(2, stream.codec_context.channels or 1)
            layout = "stereo" if channels == 2 else "mono"
            resampler = av.AudioResampler(format="s16", layout=layout, rate=rate)
            pieces = [
                r.to_ndarray().reshape(-1, channels)
                for frame in container.decode(stream)
                for r in resampler.resample(frame)
            ]
            pieces += [r.to_ndarray().reshape(-1, channels) for r in resampler.resample(None)]
    except av.FFmpegError as exc:
        raise AudioDecodeError(f"The recording could not be read: {exc}") from exc
    samples = np.concatenate(pieces) if pieces else np.zeros((0, channels), np.int16)
    for silence in silences:
        lo = max(0, int(silence.start * rate))
        hi = min(len(samples), int(np.ceil(silence.end * rate)))
        if silence.channel is None or channels == 1:
            samples[lo:hi] = 0
        elif silence.channel < channels:
            samples[lo:hi, silence.channel] = 0
    spool = store.spool_dir
    spool.mkdir(parents=True, exist_ok=True)
    partial = spool / f"{Path(name).name}.{uuid.uuid4().hex}.part"
    try:
        _write_flac(partial, samples, rate, layout)
        store.put(name, partial)
    finally:
        partial.unlink(missing_ok=True)
    return name


def _write_flac(path: Path, samples: np.ndarray, rate: int, layout: str) -> None:
    with av.open(str(path), "w", format="flac") as out:
        encoder = out.add_stream("flac", rate=rate, layout=layout)
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(samples.reshape(1, -1)), format="s16", layout=layout
        )
        frame.sample_rate = rate
        for packet in encoder.encode(frame):
            out.mux(packet)
        for packet in encoder.encode(None):
            out.mux(packet)


def remove_audio(settings: Settings, key: str | None) -> None:
    """Delete a stored recording (original or redacted copy); a missing one is no error."""
    if key:
        audio_store(settings).delete(key)


def check_range(header: str | None, size: int) -> None:
    """Refuse a ``Range`` header that no part of a ``size``-byte file satisfies (416)."""
    if not header:
        return
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        raise InvalidInput("The Range header must be 'bytes=start-end'.")
    for part in spec.split(","):
        match = _RANGE.match(part)
        if match is None or match.group(1) == match.group(2) == "":
            raise InvalidInput(f"The range {part.strip()!r} is malformed.")
        first, last = match.group(1), match.group(2)
        if first and int(first) >= size:
            raise RangeNotSatisfiable(
                f"The range {part.strip()!r} starts past the end ({size} bytes).", size=size
            )
        if first and last and int(last) < int(first):
            raise InvalidInput(f"The range {part.strip()!r} ends before it starts.")
        if not first and last and int(last) == 0:
            raise RangeNotSatisfiable("An empty suffix range selects nothing.", size=size)


def clip(settings: Settings, call: Call, start_s: float, end_s: float) -> bytes:
    """``start_s``..``end_s`` of the recording as 16-bit PCM WAV, rate and channels kept."""
    duration = call.duration_s or 0.0
    if end_s <= start_s:
        raise InvalidInput("'end' must be after 'start'.", details={"parameter": "end"})
    if start_s >= duration:
        raise RangeNotSatisfiable(
            f"'start' ({start_s:g} s) is past the end of the call ({duration:g} s).",
            size=None,
        )
    end_s = min(end_s, duration)
    if end_s - start_s > MAX_CLIP_S:
        raise InvalidInput(
            f"A clip is at most {MAX_CLIP_S:g} s; fetch the whole recording for more.",
            details={"parameter": "end"},
        )
    source = recording(settings, call)
    try:
        with (
            source.store.open(source.key) as fileobj,
            av.open(fileobj, "r", metadata_errors="ignore") as container,
        ):
            stream = container.streams.audio[0]
            rate = stream.codec_context.sample_rate or stream.sample_rate
            channels = min(2, stream.codec_context.channels or 1)
            layout = "stereo" if channels == 2 else "mono"
            resampler = av.AudioResampler(format="s16", layout=layout, rate=rate)
            time_base = float(stream.time_base or Fraction(1, rate))
            if start_s > 0:
                container.seek(int(start_s / time_base), stream=stream, backward=True)
            pieces: list[np.ndarray] = []
            first_sample: int | None = None
            for frame in container.decode(stream):
                if frame.pts is not None and first_sample is None:
                    first_sample = round(frame.pts * time_base * rate)
                for resampled in resampler.resample(frame):
                    pieces.append(resampled.to_ndarray().reshape(-1, channels))
                if first_sample is not None:
                    decoded = sum(len(p) for p in pieces)
                    if first_sample + decoded >= end_s * rate:
                        break
    except av.FFmpegError as exc:
        raise AudioDecodeError(f"The recording could not be read: {exc}") from exc
    samples = np.concatenate(pieces) if pieces else np.zeros((0, channels), np.int16)
    offset = round(start_s * rate) - (first_sample or 0)
    samples = samples[max(0, offset) : max(0, offset) + round((end_s - start_s) * rate)]
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.ascontiguousarray(samples, dtype="<i2").tobytes())
    return out.getvalue()


def delete_call(session: Session, settings: Settings, call_id: str) -> None:
    """Remove a call, its audio and everything derived from it (transcript, scores, KPIs)."""
    call = repository.get_call(session, call_id)
    stored = (call.audio_path, call.redacted_audio_path)
    session.delete(call)
    session.flush()
    for key in stored:  # unreachable store: 503 and the call stays
        remove_audio(settings, key)


def apply_retention(session: Session, settings: Settings, days: int) -> int:
    """Delete the audio of analysed calls received more than ``days`` ago; keep the rest."""
    cutoff = utcnow() - timedelta(days=days)
    calls = session.scalars(
        select(Call).where(
            Call.created_at < cutoff,
            Call.audio_deleted_at.is_(None),
            Call.status.in_(("done", "failed")),
        )
    ).all()
    store = audio_store(settings)
    removed = 0
    for call in calls:
        try:
            for key in (call.audio_path, call.redacted_audio_path):
                if key:
                    store.delete(key)
        except StorageUnavailable:
            log.error("retention: the audio store cannot be reached; the rest waits for next time")
            break
        call.audio_deleted_at = utcnow()
        removed += 1
    if removed:
        log.info("retention: removed the audio of %d call(s) older than %d days", removed, days)
    return removed
