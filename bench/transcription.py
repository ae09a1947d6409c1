"""Benchmark: speechqa's transcription stage against bare faster-whisper on the same audio.

Both run in one process with the same model and decoding options, after a warm-up. For each
recording the script prints wall time, audio-seconds per wall-second, the ratio of the two and
the word error rate of each against the reference text. It also measures:

- what a stereo call costs against its own mono mix-down (VAD skips each channel's silence,
  so two channels should cost about one pass of the speech, not two);
- the effect of hotwords (the ruleset's domain terms) on WER and on recall of those terms.

    python -m bench.transcription                        # the generated calls in examples/
    python -m bench.real_calls bench/out/real && \\
    python -m bench.transcription --corpus bench/out/real # real telephone recordings
    python -m bench.transcription --device cuda           # on a GPU
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from faster_whisper import WhisperModel, decode_audio
from rich.console import Console
from rich.table import Table

from bench.common import ROOT, references, write_wav
from speechqa.contracts import Transcript
from speechqa.pipeline.analysis import transcribe_call
from speechqa.pipeline.transcription import Transcriber, resolve_compute_type, resolve_model
from speechqa.pipeline.wer import normalize, word_errors
from speechqa.settings import Settings

DOMAIN_TERMS = ["Acme Telecom", "Acme Bank", "Acme Internet"]
console = Console()


def bare(model: WhisperModel, path: Path, settings: Settings, stereo: bool) -> dict[str, str]:
    """What one writes with faster-whisper alone: one pass per stereo channel, with VAD."""
    if stereo:
        channels = dict(
            zip(settings.channel_map, decode_audio(str(path), split_stereo=True), strict=True)
        )
    else:
        channels = {"all": decode_audio(str(path))}
    texts = {}
    for role, samples in channels.items():
        segments, _ = model.transcribe(
            samples,
            language="en",
            beam_size=settings.asr_beam_size,
            word_timestamps=True,
            vad_filter=True,
            condition_on_previous_text=False,
        )
        texts[role] = " ".join(s.text.strip() for s in segments)
    return texts


def stage_text(transcript: Transcript, roles: list[str]) -> dict[str, str]:
    if roles == ["all"]:
        return {"all": " ".join(u.text for u in transcript.utterances)}
    return {r: " ".join(u.text for u in transcript.utterances if u.speaker == r) for r in roles}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def errors(refs: dict[str, str], hyps: dict[str, str]) -> tuple[int, int]:
    pairs = [word_errors(refs[r], hyps.get(r, "")) for r in refs]
    return sum(e for e, _ in pairs), sum(n for _, n in pairs)


def mono_mix(path: Path, folder: Path) -> Path:

    left, right = decode_audio(str(path), split_stereo=True)
    out = folder / f"{path.stem}-mono.wav"
    write_wav(out, ((left + right) / 2)[None, :], 16000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "examples")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--no-mono", action="store_true", help="skip the stereo-vs-mono timing")
    args = parser.parse_args()

    settings = Settings(asr_threads=args.threads, asr_device=args.device)
    transcriber = Transcriber(settings)
    compute_type = resolve_compute_type(settings.asr_compute_type, settings.asr_device)
    model = WhisperModel(
        resolve_model(settings.asr_model),
        device=settings.asr_device,
        compute_type=compute_type,
        cpu_threads=settings.asr_threads,
    )
    files = sorted(args.corpus.glob("*.wav"))
    bare(model, files[0], settings, stereo=True)  # warm-up both
    transcribe_call(files[0], settings, transcriber=transcriber)

    table = Table(
        title=f"{args.corpus.name}: tiny.en {compute_type} on {args.device}, best of {args.repeat}"
    )
    for col in (
        "recording",
        "audio s",
        "bare s",
        "speechqa s",
        "ratio",
        "bare WER",
        "speechqa WER",
        "mono mix s",
    ):
        table.add_column(col, justify="right")
    total = dict.fromkeys(
        ("audio", "bare", "sqa", "n", "bare_err", "sqa_err", "stereo", "mono"), 0.0
    )
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            refs = references(path)
            stereo = "all" not in refs
            duration = len(decode_audio(str(path))) / 16000
            tb, bare_text = timed(partial(bare, model, path, settings, stereo), args.repeat)
            ts, transcript = timed(
                partial(transcribe_call, path, settings, transcriber=transcriber), args.repeat
            )
            b_err, n = errors(refs, bare_text)
            s_err, _ = errors(refs, stage_text(transcript, list(refs)))
            mono_s = "-"
            if stereo and not args.no_mono:
                mixed = mono_mix(path, Path(tmp))
                tm, _ = timed(
                    partial(transcribe_call, mixed, settings, transcriber=transcriber), args.repeat
                )
                total["stereo"] += ts
                total["mono"] += tm
                mono_s = f"{tm:.2f}"
            table.add_row(
                path.stem,
                f"{duration:.1f}",
                f"{tb:.2f}",
                f"{ts:.2f}",
                f"{ts / tb:.3f}x",
                f"{b_err / n:.3f}",
                f"{s_err / n:.3f}",
                mono_s,
            )
            for key, value in (
                ("audio", duration),
                ("bare", tb),
                ("sqa", ts),
                ("n", n),
                ("bare_err", b_err),
                ("sqa_err", s_err),
            ):
                total[key] += value
    mono_total = f"{total['mono']:.2f}" if total["mono"] else "-"
    table.add_row(
        "all",
        f"{total['audio']:.1f}",
        f"{total['bare']:.2f}",
        f"{total['sqa']:.2f}",
        f"{total['sqa'] / total['bare']:.3f}x",
        f"{total['bare_err'] / total['n']:.3f}",
        f"{total['sqa_err'] / total['n']:.3f}",
        mono_total,
    )
    console.print(table)
    console.print(
        f"speechqa {total['audio'] / total['sqa']:.1f} audio-s per wall-s, bare faster-whisper "
        f"{total['audio'] / total['bare']:.1f}: ratio {total['sqa'] / total['bare']:.3f}x."
    )
    if total["mono"]:
        console.print(
            f"stereo calls cost {total['stereo'] / total['mono']:.2f}x their mono mix-down "
            "(1.0 = one pass of the speech; 2.0 would be two)."
        )
    if (args.corpus / "address_change.json").exists():
        hotword_effect(files, settings, transcriber)
    return 0


def hotword_effect(files: list[Path], settings: Settings, transcriber: Transcriber) -> None:
    """WER and recall of the domain terms without and with them as hotwords."""
    table = Table(title=f"hotwords: {', '.join(DOMAIN_TERMS)}")
    for col in ("hotwords", "WER", "'Acme' found / said"):
        table.add_column(col, justify="right")
    for label, terms in (("none", []), ("domain terms", DOMAIN_TERMS)):
        err = n = found = said = 0
        for path in files:
            refs = references(path)
            transcript = transcribe_call(path, settings, transcriber=transcriber, hotwords=terms)
            e, k = errors(refs, stage_text(transcript, list(refs)))
            err, n = err + e, n + k
            hyp = stage_text(transcript, list(refs))
            for role, text in refs.items():
                said += normalize(text).count("acme")
                found += min(normalize(text).count("acme"), normalize(hyp[role]).count("acme"))
        table.add_row(label, f"{err / n:.3f}", f"{found} / {said}")
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
