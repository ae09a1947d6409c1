"""Transcription speed on a GPU: speechqa's stage against bare faster-whisper, same audio.

A GPU machine may have no FFmpeg bindings and no network, so the audio is decoded here first
(``prepare``), the run there takes the decoded channels (``run``), and the words are scored
here (``score``):

    python -m bench.gpu_transcription prepare .gpu/audio          # decode examples/ + real calls
    python -m bench.gpu_transcription run .gpu/audio --out results.json --device cuda
    python -m bench.gpu_transcription score results.json

The ctranslate2 4.8 wheels load CUDA 12's cuBLAS (``libcublas.so.12``). On a machine that has
only CUDA 13, link ``libcublas.so.12`` and ``libcublasLt.so.12`` to the CUDA 13 libraries in a
folder on ``LD_LIBRARY_PATH``: that is how the H100 figures in the README were taken.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import types
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT, references


def prepare(outdir: Path) -> None:
    from speechqa.pipeline import audio

    outdir.mkdir(parents=True, exist_ok=True)
    sources = sorted((ROOT / "examples").glob("*.wav"))
    real = ROOT / "bench" / "out" / "real"
    sources += sorted(p for p in real.glob("real_call_*.wav"))
    index: list[dict[str, Any]] = []
    for path in sources:
        decoded = audio.decode(path)
        refs = references(path)
        roles = ["agent", "customer"]
        for role, samples in zip(roles, decoded.channels, strict=True):
            name = f"{path.stem}.{role}"
            np.save(outdir / f"{name}.npy", (samples * 32767).astype(np.int16))
            index.append({"name": name, "reference": refs[role], "seconds": len(samples) / 16000})
    (outdir / "index.json").write_text(json.dumps(index, indent=1))
    print(f"{len(index)} channels, {sum(i['seconds'] for i in index):.0f} s")


def run(folder: Path, out: Path, device: str, repeat: int) -> None:
    sys.modules.setdefault("av", types.ModuleType("av"))  # decoding happened in `prepare`
    from faster_whisper import WhisperModel

    from speechqa.pipeline.transcription import Transcriber, resolve_compute_type, resolve_model
    from speechqa.settings import Settings

    settings = Settings(asr_device=device)
    compute_type = resolve_compute_type(settings.asr_compute_type, device)
    model = WhisperModel(
        resolve_model(settings.asr_model), device=device, compute_type=compute_type
    )
    transcriber = Transcriber(settings)
    index: list[dict[str, Any]] = json.loads((folder / "index.json").read_text())
    channels = [np.load(folder / f"{i['name']}.npy").astype(np.float32) / 32768.0 for i in index]

    def bare(x: np.ndarray) -> str:
        segments, _ = model.transcribe(
            x,
            language="en",
            beam_size=settings.asr_beam_size,
            word_timestamps=True,
            vad_filter=True,
            condition_on_previous_text=False,
        )
        return " ".join(s.text.strip() for s in segments)

    def stage(x: np.ndarray) -> str:
        return " ".join(w.word for w in transcriber.transcribe(x, "agent").words)

    bare(channels[0]), stage(channels[0])  # warm-up
    results: dict[str, object] = {"device": device, "compute_type": compute_type, "items": []}
    totals = {"bare": float("inf"), "stage": float("inf")}
    texts: dict[str, list[str]] = {}
    for label, fn in (("bare", bare), ("stage", stage)):
        for _ in range(repeat):
            t0 = time.perf_counter()
            texts[label] = [fn(x) for x in channels]
            totals[label] = min(totals[label], time.perf_counter() - t0)
    audio_s = sum(i["seconds"] for i in index)
    results["audio_s"] = audio_s
    results["bare_s"], results["stage_s"] = totals["bare"], totals["stage"]
    results["items"] = [
        {"name": i["name"], "reference": i["reference"], "bare": b, "stage": s}
        for i, b, s in zip(index, texts["bare"], texts["stage"], strict=True)
    ]
    out.write_text(json.dumps(results, indent=1))
    ratio = totals["stage"] / totals["bare"]
    print(
        f"{device} {compute_type}: {audio_s:.0f} s of channel audio; "
        f"bare {totals['bare']:.2f} s, speechqa {totals['stage']:.2f} s, ratio {ratio:.3f}x"
    )


def score(path: Path) -> None:
    from speechqa.pipeline.wer import word_errors

    results = json.loads(path.read_text())
    for label in ("bare", "stage"):
        pairs = [word_errors(i["reference"], i[label]) for i in results["items"]]
        print(f"{label}: WER {sum(e for e, _ in pairs) / sum(n for _, n in pairs):.3f}")
    ratio = results["stage_s"] / results["bare_s"]
    speed = results["audio_s"] / results["stage_s"]
    print(
        f"{results['device']} {results['compute_type']}: bare {results['bare_s']:.2f} s, "
        f"speechqa {results['stage_s']:.2f} s, ratio {ratio:.3f}x, {speed:.0f} audio-s/s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("outdir", type=Path)
    r = sub.add_parser("run")
    r.add_argument("folder", type=Path)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--device", default="cuda")
    r.add_argument("--repeat", type=int, default=3)
    s = sub.add_parser("score")
    s.add_argument("results", type=Path)
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.outdir)
    elif args.command == "run":
        run(args.folder, args.out, args.device, args.repeat)
    else:
        score(args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
