"""Benchmark: speechqa's transcription stage against bare faster-whisper on the same audio.

For each sample call (``examples/*.wav``) both are run with the same model and decoding
options, in the same process, after a warm-up; the script prints audio-seconds per
wall-second, the ratio of the two, and the word error rate of each against the reference text.

    python bench/transcription.py [--repeat 3] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from faster_whisper import WhisperModel, decode_audio  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from speechqa.analysis import transcribe_call  # noqa: E402
from speechqa.settings import Settings  # noqa: E402
from speechqa.transcription import Transcriber, resolve_compute_type, resolve_model  # noqa: E402
from speechqa.wer import word_errors  # noqa: E402


def bare(model: WhisperModel, path: Path, settings: Settings) -> dict[str, str]:
    """What a developer would write with faster-whisper alone: one pass per stereo channel."""
    left, right = decode_audio(str(path), split_stereo=True)
    texts = {}
    for role, samples in zip(settings.channel_map, (left, right), strict=True):
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--device", default="cpu")
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
    calls = sorted((ROOT / "examples").glob("*.wav"))
    bare(model, calls[0], settings)  # warm-up both
    transcribe_call(calls[0], settings, transcriber=transcriber)

    table = Table(title=f"tiny.en {compute_type} on {args.device}, best of {args.repeat}")
    for col in ("call", "audio s", "bare s", "speechqa s", "ratio", "bare WER", "speechqa WER"):
        table.add_column(col, justify="right")
    totals = {"audio": 0.0, "bare": 0.0, "sqa": 0.0, "n": 0, "bare_err": 0, "sqa_err": 0}
    for path in calls:
        ref = json.loads(path.with_suffix(".json").read_text())
        refs = {
            role: " ".join(t["text"] for t in ref["turns"] if t["speaker"] == role)
            for role in settings.channel_map
        }
        bare_times, sqa_times = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            bare_text = bare(model, path, settings)
            bare_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            transcript = transcribe_call(path, settings, transcriber=transcriber)
            sqa_times.append(time.perf_counter() - t0)
        sqa_text = {
            role: " ".join(u.text for u in transcript.utterances if u.speaker == role)
            for role in settings.channel_map
        }
        n = sum(word_errors(refs[r], bare_text[r])[1] for r in refs)
        b_err = sum(word_errors(refs[r], bare_text[r])[0] for r in refs)
        s_err = sum(word_errors(refs[r], sqa_text[r])[0] for r in refs)
        tb, ts = min(bare_times), min(sqa_times)
        table.add_row(
            path.stem, f"{ref['duration_s']:.1f}", f"{tb:.2f}", f"{ts:.2f}", f"{ts / tb:.2f}x",
            f"{b_err / n:.3f}", f"{s_err / n:.3f}",
        )  # fmt: skip
        totals["audio"] += ref["duration_s"]
        totals["bare"] += tb
        totals["sqa"] += ts
        totals["n"] += n
        totals["bare_err"] += b_err
        totals["sqa_err"] += s_err
    table.add_row(
        "all", f"{totals['audio']:.1f}", f"{totals['bare']:.2f}", f"{totals['sqa']:.2f}",
        f"{totals['sqa'] / totals['bare']:.2f}x", f"{totals['bare_err'] / totals['n']:.3f}",
        f"{totals['sqa_err'] / totals['n']:.3f}",
    )  # fmt: skip
    console = Console()
    console.print(table)
    console.print(
        f"speechqa: {totals['audio'] / totals['sqa']:.1f} audio-s per wall-s; "
        f"bare faster-whisper: {totals['audio'] / totals['bare']:.1f}; "
        f"mean time per call {totals['sqa'] / len(calls):.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
