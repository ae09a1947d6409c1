"""Speaker embeddings: a fixed-length vector per stretch of speech, close for the same voice.

The encoder is Resemblyzer's GE2E voice encoder (a 3-layer LSTM over 40 mel bands, 256-d
output), exported to ONNX by ``scripts/export_speaker_model.py`` and run with onnxruntime: no
torch and no librosa at run time. Its front end (STFT, power mel spectrogram, volume
normalisation) is reimplemented here in numpy with the mel filterbank the export script saved
from librosa (``mel_filters.npy``), so the features match those the encoder was trained on; the
export script checks that embeddings from this front end and the ONNX model match
Resemblyzer's own (cosine > 0.99).

The model is loaded lazily, once per process, from a directory holding ``model.onnx`` and
``mel_filters.npy`` (setting ``SPEECHQA_SPEAKER_MODEL``; default: the one shipped in
``models/speaker``). A missing or corrupt file raises :class:`ModelUnavailable` at load time.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from speechqa.errors import ModelUnavailable
from speechqa.pipeline.warm import Loaded

RATE = 16_000
N_FFT = 400  # 25 ms
HOP = 160  # 10 ms
N_MELS = 40
TARGET_DBFS = -30.0
"""Resemblyzer raises quiet audio to this level before its mel spectrogram (never lowers it)."""


def default_model() -> Path:
    """The encoder shipped in ``models/speaker`` (installed as ``speechqa.model_files``)."""
    import speechqa.model_files

    return Path(speechqa.model_files.__file__).resolve().parent / "speaker"


_WINDOW = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
"""Periodic Hann window, as librosa's STFT uses."""


def resample(samples: np.ndarray, rate: int) -> np.ndarray:
    """Band-limited resampling to 16 kHz (FFT method; fine for the seconds-long stretches here).

    Telephone audio (8 kHz) becomes 16 kHz with nothing above 4 kHz, which the encoder accepts.
    """
    if rate == RATE:
        return samples.astype(np.float32, copy=False)
    n_out = round(len(samples) * RATE / rate)
    spectrum = np.fft.rfft(samples.astype(np.float64))
    out_bins = n_out // 2 + 1
    if out_bins > len(spectrum):
        spectrum = np.concatenate([spectrum, np.zeros(out_bins - len(spectrum), complex)])
    else:
        spectrum = spectrum[:out_bins]
    return (np.fft.irfft(spectrum, n_out) * (n_out / len(samples))).astype(np.float32)


def normalize_volume(samples: np.ndarray) -> np.ndarray:
    """Raise quiet audio to -30 dBFS RMS (as Resemblyzer's ``preprocess_wav``); never lower it."""
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms <= 1e-9:
        return samples
    change = TARGET_DBFS - 20 * np.log10(rms)
    return samples if change < 0 else (samples * 10 ** (change / 20)).astype(np.float32)


def mel_spectrogram(samples: np.ndarray, filters: np.ndarray) -> np.ndarray:
    """Power mel spectrogram, (frames, 40): librosa's ``melspectrogram`` with Resemblyzer's
    settings (centred frames padded with zeros, 25 ms Hann window, 10 ms hop)."""
    padded = np.pad(samples.astype(np.float32), N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP] * _WINDOW
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    mel: np.ndarray = (power @ filters.T).astype(np.float32)
    return mel


class SpeakerEncoder:
    """A loaded voice encoder; ``embed`` takes stretches of 16 kHz audio."""

    def __init__(self, directory: Path, threads: int = 1) -> None:
        import onnxruntime as ort

        directory = Path(directory)
        files = {name: directory / name for name in ("model.onnx", "mel_filters.npy")}
        missing = [name for name, path in files.items() if not path.is_file()]
        if missing:
            raise ModelUnavailable(f"The speaker model in {directory} lacks {', '.join(missing)}.")
        try:
            self.filters = np.load(files["mel_filters.npy"]).astype(np.float32)
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            self.session = ort.InferenceSession(
                str(files["model.onnx"]), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # a corrupt file raises from numpy or onnxruntime
            raise ModelUnavailable(
                f"The speaker model in {directory} could not be loaded: {exc}"
            ) from exc
        if self.filters.shape != (N_MELS, N_FFT // 2 + 1):
            raise ModelUnavailable(
                f"The speaker model's mel filters have shape {self.filters.shape}, "
                f"not {(N_MELS, N_FFT // 2 + 1)}."
            )
        self.input = self.session.get_inputs()[0].name

    def mels(self, samples: np.ndarray) -> np.ndarray:
        return mel_spectrogram(samples, self.filters)

    def embed_mels(self, mels: np.ndarray) -> np.ndarray:
        """Embeddings (n, 256), unit length, of a batch of equal-length mel spectrograms."""
        (out,) = self.session.run(None, {self.input: mels.astype(np.float32)})
        return np.asarray(out, dtype=np.float32)

    def embed(
        self, stretches: Sequence[np.ndarray], rate: int = RATE, batch_size: int = 64
    ) -> np.ndarray:
        """One embedding per stretch of audio (each volume-normalised on its own).

        Stretches of different lengths are padded with silence to the longest of their batch;
        give equal lengths (as the speaker stage does) for the cheapest run.
        """
        if not stretches:
            return np.zeros((0, 256), dtype=np.float32)
        prepared = [normalize_volume(resample(s, rate)) for s in stretches]
        out = []
        for at in range(0, len(prepared), batch_size):
            batch = prepared[at : at + batch_size]
            longest = max(len(s) for s in batch)
            mels = np.stack([self.mels(np.pad(s, (0, longest - len(s)))) for s in batch])
            out.append(self.embed_mels(mels))
        return np.concatenate(out)


_encoders: Loaded[tuple[Path, int], SpeakerEncoder] = Loaded(lambda key: SpeakerEncoder(*key))


def load_encoder(directory: Path | None = None, threads: int = 1) -> SpeakerEncoder:
    """The speaker encoder in ``directory`` (default: the shipped one), loaded once per process."""
    return _encoders.get((Path(directory or default_model()).resolve(), threads))
