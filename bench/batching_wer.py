"""Batched against sequential WER under each CPU kernel setting: the check behind ASR_BATCH_SIZE.

For every call of a set, ``transcribe_call`` runs twice, with ``asr_batch_size=8`` and with
``0`` (sequential), and the script prints both WERs over the set, the difference and whether it
is within ``--bound`` (0.01), once per kernel setting. Each setting runs in its own process with
environment variables that make CTranslate2 (and numpy's OpenBLAS) compute as another CPU
would; CTranslate2's own report of its ISA and GEMM back-ends is printed beside the figures:

- ``default``: what this CPU picks (Intel: MKL; AMD: oneDNN);
- ``onednn``: ``CT2_USE_MKL=0``, CTranslate2's choice on an AMD CPU (oneDNN at the widest ISA
  it finds: AVX-512 on a Zen 4 EPYC, AMX on a recent Xeon);
- ``onednn-avx2``: also ``ONEDNN_MAX_CPU_ISA=AVX2`` and ``OPENBLAS_CORETYPE=Haswell``, an
  AVX2-only EPYC (Zen 2 and 3);
- ``mkl-avx2``: MKL limited to AVX2 (``MKL_ENABLE_INSTRUCTIONS=AVX2``, ``CT2_FORCE_CPU_ISA=AVX2``),
  an older Xeon.

The sets: ``sample``, the generated calls in ``examples/`` (8 kHz espeak-ng voices, 648 words:
one word is 0.0015); ``real``, the calls from real recordings (``python -m bench.real_calls
bench/out/real`` builds them, 671 words); ``ivr``, 25 minutes of real prompts on one channel
(2,995 words). The exit status is 1 when a setting's batched WER is over sequential + bound.

    python -m bench.batching_wer                              # sample and real, every setting
    python -m bench.batching_wer --sets sample --kernels onednn --json out.json

Measured on 2 cores of an Intel Xeon (AVX-512, AMX), tiny.en int8, beam 5, batched minus
sequential WER (see README, Figures); "before" is batched decoding with 0.0-padded features:

    kernels        sample, before  sample  real, before  real
    default        +0.008          +0.002  -0.015        -0.018
    onednn         +0.017          +0.002  -0.008        -0.010
    onednn-avx2    +0.006          -0.003  +0.010        +0.001
    mkl-avx2       +0.009          +0.006  -0.009        -0.010
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import ROOT, references

REAL = ROOT / "bench" / "out" / "real"
KERNELS: dict[str, dict[str, str]] = {
    "default": {},
    "onednn": {"CT2_USE_MKL": "0"},
    "onednn-avx2": {
        "CT2_USE_MKL": "0",
        "ONEDNN_MAX_CPU_ISA": "AVX2",
        "DNNL_MAX_CPU_ISA": "AVX2",
        "OPENBLAS_CORETYPE": "Haswell",
    },
    "mkl-avx2": {
        "CT2_USE_MKL": "1",
        "MKL_ENABLE_INSTRUCTIONS": "AVX2",
        "CT2_FORCE_CPU_ISA": "AVX2",
        "OPENBLAS_CORETYPE": "Haswell",
    },
}
MODES = {"batched": 8, "sequential": 0}
SEED = 1


def calls(name: str) -> list[Path]:
    if name == "sample":
        return sorted((ROOT / "examples").glob("*.wav"))
    if name == "real":
        return sorted(REAL.glob("real_call_*.wav"))
    return [REAL / "ivr.wav"] if (REAL / "ivr.wav").exists() else []


def errors(paths: list[Path], model: str, beam_size: int) -> dict[str, Any]:
    """In a worker process: word errors per call, speaker and mode."""
    import ctranslate2

    # Sequential decoding falls back to sampling (temperature > 0) where a window's text looks
    # repetitive; CTranslate2 seeds its sampler at random per process, so without a fixed seed
    # sequential WER changes from run to run (on the real calls, not on the sample calls).
    ctranslate2.set_random_seed(SEED)
    from speechqa.pipeline.analysis import transcribe_call
    from speechqa.pipeline.transcription import Transcriber
    from speechqa.pipeline.wer import word_errors
    from speechqa.settings import Settings

    out: dict[str, Any] = {}
    for mode, size in MODES.items():
        settings = Settings(asr_model=model, asr_beam_size=beam_size, asr_batch_size=size)
        transcriber = Transcriber(settings)
        for path in paths:
            transcript = transcribe_call(str(path), settings, transcriber=transcriber)
            for role, ref in references(path).items():
                hyp = " ".join(u.text for u in transcript.utterances if role in ("all", u.speaker))
                e, n = word_errors(ref, hyp)
                out.setdefault(mode, {})[f"{path.stem}/{role}"] = [e, n]
    return out


def kernel_report(stderr: str) -> str:
    """CTranslate2's own lines about the ISA and GEMM back-ends it chose."""
    keep = ("Selected ISA", "Use Intel MKL", "GEMM_S8 backend")
    lines = [line.split("]")[-1].strip(" -") for line in stderr.splitlines()]
    return "; ".join(dict.fromkeys(x for x in lines if x.startswith(keep)))


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="sample,real", help="sample, real, ivr")
    parser.add_argument("--kernels", default=",".join(KERNELS), help=", ".join(KERNELS))
    parser.add_argument("--bound", type=float, default=0.01)
    parser.add_argument("--model", default="default")
    parser.add_argument("--beam-size", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        print(json.dumps(errors([Path(p) for p in args.worker], args.model, args.beam_size)))
        return 0

    import ctranslate2
    import faster_whisper

    print(
        f"CPU {cpu_name()}, {os.cpu_count()} cores; ctranslate2 {ctranslate2.__version__}, "
        f"faster-whisper {faster_whisper.__version__}; model {args.model}, beam {args.beam_size}"
    )
    results: list[dict[str, Any]] = []
    over = False
    for set_name in args.sets.split(","):
        paths = calls(set_name)
        if not paths:
            print(f"set {set_name!r} skipped: run python -m bench.real_calls {REAL}")
            continue
        for kernel in args.kernels.split(","):
            env = {**os.environ, **KERNELS[kernel], "CT2_VERBOSE": "1"}
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.batching_wer",
                    f"--model={args.model}",
                    f"--beam-size={args.beam_size}",
                    "--worker",
                    *map(str, paths),
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
                cwd=ROOT,
            )
            if done.returncode != 0:
                print(done.stderr[-3000:], file=sys.stderr)
                return 2
            per = json.loads(done.stdout.strip().splitlines()[-1])
            wer = {
                mode: sum(e for e, _ in rows.values()) / sum(n for _, n in rows.values())
                for mode, rows in per.items()
            }
            diff = wer["batched"] - wer["sequential"]
            ok = diff <= args.bound
            over |= not ok
            words = sum(n for _, n in per["sequential"].values())
            setting = " ".join(f"{k}={v}" for k, v in KERNELS[kernel].items()) or "(none)"
            print(f"\n{set_name} ({len(paths)} calls, {words} words), kernels {kernel}: {setting}")
            print(f"  CTranslate2: {kernel_report(done.stderr)}")
            print(
                f"  sequential {wer['sequential']:.4f}  batched {wer['batched']:.4f}  "
                f"difference {diff:+.4f}  {'within' if ok else 'OVER'} {args.bound}",
                flush=True,
            )
            calls_seen = dict.fromkeys(k.split("/")[0] for k in per["sequential"])
            for call in calls_seen:
                cells = []
                for mode in MODES:
                    rows = [v for k, v in per[mode].items() if k.split("/")[0] == call]
                    cells.append(f"{mode} {sum(e for e, _ in rows)}/{sum(n for _, n in rows)}")
                print(f"    {call:<20} " + "  ".join(cells))
            results.append(
                {
                    "set": set_name,
                    "kernels": kernel,
                    "env": KERNELS[kernel],
                    "ctranslate2": kernel_report(done.stderr),
                    "wer": wer,
                    "difference": diff,
                    "errors": per,
                }
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
