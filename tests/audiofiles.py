"""Audio files made in the test setup with PyAV."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


def write_audio(
    path: Path, samples: np.ndarray, rate: int, *, codec: str, fmt: str, sample_format: str = "s16"
) -> Path:
    """Write (channels, n) float samples in [-1, 1] with ``codec`` into container ``fmt``."""
    samples = np.atleast_2d(samples)
    layout = "mono" if samples.shape[0] == 1 else "stereo"
    pcm = (np.clip(samples, -1, 1) * 32767).astype(np.int16)
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        assert isinstance(stream, av.AudioStream)
        frame = av.AudioFrame.from_ndarray(pcm.T.reshape(1, -1).copy(), format="s16", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def tone(seconds: float, rate: int = 8000, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def corrupt_flac(path: Path, seconds: float = 10.0) -> Path:
    """A FLAC file whose header is valid but whose audio frames are noise bytes."""
    write_audio(path, tone(seconds), 8000, codec="flac", fmt="flac")
    data = path.read_bytes()
    rng = np.random.default_rng(1)
    path.write_bytes(data[:100] + rng.integers(0, 256, len(data) - 100, dtype=np.uint8).tobytes())
    return path


def silent_flac(path: Path, seconds: float, *, header_samples: int) -> Path:
    """``seconds`` of silence as 8 kHz FLAC (a few hundred KB for 40 min) whose STREAMINFO gives
    ``header_samples`` as its length: 0 says "unknown", a smaller number lies."""
    write_audio(path, np.zeros(int(seconds * 8000), np.float32), 8000, codec="flac", fmt="flac")
    data = bytearray(path.read_bytes())
    # 'fLaC', a 4-byte block header, then STREAMINFO, whose bytes 10-17 end with the 36-bit
    # total_samples (file bytes 21-25).
    field = int.from_bytes(data[18:26], "big")
    field = (field & ~((1 << 36) - 1)) | header_samples
    data[18:26] = field.to_bytes(8, "big")
    path.write_bytes(bytes(data))
    return path
