"""Throughput: the whole analysis of a long call against bare faster-whisper, per benchmark set.

Pick a model size against speed: for each set the script prints audio-seconds per wall-second
and WER of

- ``bare sequential``: faster-whisper's ``WhisperModel.transcribe``, one VAD-filtered pass per
  channel (the baseline);
- ``bare batched``: faster-whisper's ``BatchedInferencePipeline``, one pass per channel;
- ``speechqa``: ``transcribe_call`` (decoding, VAD, transcription, utterances, sentiment) with
  the configured ``asr_batch_size`` (default 'auto');
- ``speechqa sequential``: the same with ``asr_batch_size=0``.

All use the same model, compute type, beam size and word timestamps. Each runs in its own
process (model load and a warm-up first, then the best of ``--repeat`` timed runs), so that the
peak memory printed (max RSS) is that run's. The sets are calls of five minutes or more, made by
joining recordings with 2 s of silence and keeping their reference texts:

- ``sample``: the generated calls in ``examples/`` (8 kHz espeak-ng voices), joined, repeated
  until five minutes;
- ``real``: the two-party calls from real recordings (``python -m bench.real_calls
  bench/out/real`` builds them), joined;
- ``ivr``: ``bench/out/real/ivr.wav``, 25 minutes of real telephone prompts, one channel.

    python -m bench.throughput                          # tiny.en int8 on the CPU
    python -m bench.throughput --model base.en          # any faster-whisper model name or path
    python -m bench.throughput --device cuda --batch-size 16
    python -m bench.throughput --long 60 --modes speechqa   # memory of an hour-long call

Measured on 2 CPU cores (tiny.en int8, beam 5, ``--batch-size 8``; see README, Figures),
audio-s per wall-s and WER:

    set              bare seq      bare batched  speechqa (8)  speechqa seq
    sample, 301 s    11.8 0.272    22.9  0.279   18.6  0.276   12.2 0.272
    real, 357 s      15.9 0.044    30.4  0.144   22.0  0.041   14.0 0.044
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT, references, write_wav

REAL = ROOT / "bench" / "out" / "real"
MODES = ("bare-seq", "bare-batched", "speechqa", "speechqa-seq")
LABELS = {
    "bare-seq": "bare sequential",
    "bare-batched": "bare batched",
    "speechqa": "speechqa",
    "speechqa-seq": "speechqa sequential",
}
GAP_S = 2.0
RATE = 16000


def join_calls(sources: list[Path], min_s: float, out: Path) -> dict[str, str]:
    """Write ``sources`` one after another (repeated until ``min_s``) to ``out``; references."""
    from speechqa.pipeline import audio

    parts: list[np.ndarray] = []
    refs: dict[str, list[str]] = {}
    total = 0.0
    while not parts or total < min_s:
        for path in sources:
            channels = audio.decode(path).channels
            stereo = np.stack(channels if len(channels) == 2 else [channels[0]])
            parts += [stereo, np.zeros((stereo.shape[0], int(GAP_S * RATE)), np.float32)]
            for role, text in references(path).items():
                refs.setdefault(role, []).append(text)
            total += stereo.shape[1] / RATE + GAP_S
    write_wav(out, np.concatenate(parts, axis=1), RATE)
    # Left channel first: bare faster-whisper's channels are named in this order.
    order = ["all"] if "all" in refs else ["agent", "customer"]
    return {role: " ".join(refs[role]) for role in order}


def build_sets(
    names: list[str], folder: Path, min_s: float, long_min: float
) -> list[dict[str, Any]]:
    sets = []
    for name in names:
        if name == "sample":
            sources = sorted((ROOT / "examples").glob("*.wav"))
        elif name == "real":
            sources = sorted(REAL.glob("real_call_*.wav"))
        else:
            sources = [REAL / "ivr.wav"] if (REAL / "ivr.wav").exists() else []
        if not sources:
            print(f"set {name!r} skipped: run python -m bench.real_calls {REAL}", file=sys.stderr)
            continue
        path = folder / f"{name}.wav"
        refs = join_calls(sources, long_min * 60 or (0 if name == "ivr" else min_s), path)
        sets.append({"name": name, "path": str(path), "refs": refs})
    return sets


def run_mode(mode: str, path: str, roles: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """In a worker process: load, warm up, time ``mode`` on ``path``; texts per role."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel, decode_audio

    from speechqa.pipeline.analysis import transcribe_call
    from speechqa.pipeline.transcription import (
        Transcriber,
        resolve_batch_size,
        resolve_compute_type,
        resolve_model,
    )
    from speechqa.settings import Settings

    settings = Settings(
        asr_model=args.model,
        asr_device=args.device,
        asr_compute_type=args.compute_type,
        asr_threads=args.threads,
        asr_beam_size=args.beam_size,
        asr_batch_size=0 if mode == "speechqa-seq" else args.batch_size,
    )
    if mode.startswith("speechqa"):
        transcriber = Transcriber(settings)

        def run(p: str) -> dict[str, str]:
            transcript = transcribe_call(p, settings, transcriber=transcriber)
            if roles == ["all"]:
                return {"all": " ".join(u.text for u in transcript.utterances)}
            return {
                r: " ".join(u.text for u in transcript.utterances if u.speaker == r) for r in roles
            }
    else:
        model = WhisperModel(
            resolve_model(settings.asr_model),
            device=settings.asr_device,
            compute_type=resolve_compute_type(settings.asr_compute_type, settings.asr_device),
            cpu_threads=settings.asr_threads,
        )
        batched = BatchedInferencePipeline(model)
        size = resolve_batch_size(settings.asr_batch_size, settings.asr_device)

        def run(p: str) -> dict[str, str]:
            if roles == ["all"]:
                channels = {"all": decode_audio(p)}
            else:
                channels = dict(zip(roles, decode_audio(p, split_stereo=True), strict=True))
            texts = {}
            for role, samples in channels.items():
                options: dict[str, Any] = {
                    "language": "en",
                    "beam_size": settings.asr_beam_size,
                    "word_timestamps": True,
                    "vad_filter": True,
                }
                if mode == "bare-seq":
                    segments, _ = model.transcribe(
                        samples, condition_on_previous_text=False, **options
                    )
                else:
                    segments, _ = batched.transcribe(samples, batch_size=size, **options)
                texts[role] = " ".join(s.text.strip() for s in segments)
            return texts

    with tempfile.TemporaryDirectory() as tmp:  # warm-up on the first 20 s
        from speechqa.pipeline import audio

        decoded = audio.decode(path)
        head = np.stack(decoded.channels)[:, : 20 * RATE]
        warm = Path(tmp) / "warm.wav"
        write_wav(warm, head, RATE)
        run(str(warm))
    best, texts = float("inf"), {}
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        texts = run(path)
        best = min(best, time.perf_counter() - t0)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"wall_s": best, "texts": texts, "peak_mb": peak_mb}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="faster-whisper model name or path")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--compute-type", default="auto")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--batch-size", default="8", help="'auto' or a number (not 0)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--sets", default="sample,real,ivr")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--min-call-s", type=float, default=300.0)
    parser.add_argument(
        "--long", type=float, default=0.0, help="join each set to this many minutes"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--worker", nargs=3, metavar=("MODE", "PATH", "ROLES"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.batch_size != "auto":
        args.batch_size = int(args.batch_size)

    if args.worker:
        mode, path, roles = args.worker
        print(json.dumps(run_mode(mode, path, roles.split(","), args)))
        return 0

    from speechqa.pipeline import audio
    from speechqa.pipeline.wer import word_errors

    passthrough = [
        f"--{k.replace('_', '-')}={v}"
        for k, v in vars(args).items()
        if k in ("model", "device", "compute_type", "threads", "beam_size", "batch_size", "repeat")
    ]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for s in build_sets(args.sets.split(","), Path(tmp), args.min_call_s, args.long):
            duration = audio.decode(s["path"]).duration_s
            roles = list(s["refs"])
            print(f"\n{s['name']}: {duration:.0f} s, {len(roles)} channel(s), model {args.model}")
            base = None
            for mode in args.modes.split(","):
                out = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bench.throughput",
                        *passthrough,
                        "--worker",
                        mode,
                        s["path"],
                        ",".join(roles),
                    ],
                    check=True,
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                pairs = [word_errors(s["refs"][role], r["texts"].get(role, "")) for role in roles]
                wer = sum(e for e, _ in pairs) / sum(n for _, n in pairs)
                speed = duration / r["wall_s"]
                base = base or (speed if mode == "bare-seq" else None)
                ratio = f"{speed / base:.2f}x" if base else "-"
                print(
                    f"  {LABELS[mode]:<20} {speed:6.1f} audio-s per wall-s  {ratio:>6}  "
                    f"WER {wer:.3f}  peak {r['peak_mb']:.0f} MB",
                    flush=True,
                )
                results.append(
                    {
                        "set": s["name"],
                        "audio_s": duration,
                        "mode": mode,
                        "wall_s": r["wall_s"],
                        "speed": speed,
                        "wer": wer,
                        "peak_mb": r["peak_mb"],
                        "texts": r["texts"],
                        "refs": s["refs"],
                    }
                )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
