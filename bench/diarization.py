"""Benchmark: speaker separation of mono calls, voice prints (old) against embeddings (new).

Two-party stereo recordings are mixed down to mono; their channels are the truth. Mixes:
``../shared/data/audio/faster-whisper/stereo_diarization.wav`` (two real voices), the
real-recording calls of ``bench/real_calls.py`` (8 kHz telephone prompts against LibriVox and
CMU readers), a call between two men of similar pitch (real recordings) and the generated calls
in ``examples/``. One-voice controls, which must stay one speaker: each call's agent channel
alone, and its customer channel where that is one voice (not in the real-recording calls).

Each mono mix is transcribed once with the shipped model (cached in the output folder); then
both methods separate the same words, and the script prints per recording:

- ``words``: the share of words given to the right party. A word's party is the channel that
  is louder over the word's span; the output speakers are mapped to the parties in the way
  that fits best (as for DER), and ``roles`` says whether the agent label landed on the agent;
- ``DER``: diarization error rate (missed + false alarm + confusion over reference speech, in
  10 ms frames, with a 0.25 s collar around each reference boundary not scored), the reference
  being Silero VAD on each channel and the hypothesis each output speaker's speech intervals;
  ``conf`` is its confusion part alone (the rest is VAD, common to both methods);
- ``ms/min``: the cost of the separation (embeddings or voice prints, and clustering) per
  minute of audio, on this machine, one thread.

    python -m bench.diarization bench/out/diarization
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import ROOT
from speechqa.contracts import ChannelTranscript, Interval, Word
from speechqa.pipeline import audio, vad, voices
from speechqa.pipeline.audio import SAMPLE_RATE
from speechqa.pipeline.speakers import Diarization, diarize
from speechqa.pipeline.transcription import Transcriber
from speechqa.settings import Settings

SHARED = ROOT.parent / "shared" / "data" / "audio" / "faster-whisper"
FRAME = 0.01
COLLAR = 0.25


def recordings(out: Path) -> list[tuple[str, Path]]:
    """The stereo recordings to mix: shared, real-recording calls, generated calls."""
    real = out / "real"
    if not (real / "real_call_1.wav").exists():
        subprocess.run(
            [sys.executable, "-m", "bench.real_calls", str(real)],
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
    similar = out / "similar_voices.wav"
    if not similar.exists():
        similar_voices_call(similar)
    found = [("stereo_diarization", SHARED / "stereo_diarization.wav")]
    found += [(p.stem, p) for p in sorted(real.glob("real_call_*.wav"))]
    found.append(("similar_voices", similar))
    found += [(p.stem, p) for p in sorted((ROOT / "examples").glob("*.wav"))]
    return found


def similar_voices_call(path: Path) -> None:
    """Two men of about the same pitch, real recordings (``real_calls.similar_voices_call``)."""
    from bench import real_calls

    stereo, _ = real_calls.similar_voices_call()
    real_calls.write(path, stereo)


def transcribe(transcriber: Transcriber, samples: np.ndarray, cache: Path) -> ChannelTranscript:
    """The mono mix's words and speech, from the cache when there."""
    if cache.exists():
        data = json.loads(cache.read_text())
        return ChannelTranscript(
            data["speaker"],
            [Word(**w) for w in data["words"]],
            data["language"],
            [Interval(**iv) for iv in data["speech"]],
            data["speech_s"],
        )
    channel = transcriber.transcribe(samples, "speaker_1")
    cache.write_text(json.dumps(asdict(channel)))
    return channel


def word_parties(words: list[Word], left: np.ndarray, right: np.ndarray) -> list[int]:
    """0 where the left channel is louder over the word, 1 where the right is."""
    parties = []
    for w in words:
        a, b = (
            int(w.start * SAMPLE_RATE),
            max(int(w.end * SAMPLE_RATE), int(w.start * SAMPLE_RATE) + 1),
        )
        parties.append(int(np.sum(right[a:b] ** 2) > np.sum(left[a:b] ** 2)))
    return parties


def frames(intervals: list[Interval], n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    for iv in intervals:
        mask[round(iv.start / FRAME) : round(iv.end / FRAME)] = True
    return mask


def der(
    reference: list[list[Interval]], hypothesis: list[list[Interval]], n: int
) -> dict[str, float]:
    """Diarization error rate with the best one-to-one mapping of hypothesis to reference
    speakers (a hypothesis speaker may map to none)."""
    ref = np.array([frames(r, n) for r in reference])
    hyp = np.array([frames(h, n) for h in hypothesis]) if hypothesis else np.zeros((0, n), bool)
    scored = np.ones(n, dtype=bool)
    for r in reference:
        for iv in r:
            for t in (iv.start, iv.end):
                scored[max(0, int((t - COLLAR) / FRAME)) : int((t + COLLAR) / FRAME)] = False
    ref, hyp = ref[:, scored], hyp[:, scored]
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    total = float(n_ref.sum())
    miss = float(np.maximum(n_ref - n_hyp, 0).sum())
    fa = float(np.maximum(n_hyp - n_ref, 0).sum())
    best = 0.0
    options: list[int | None] = [*range(len(ref)), None]
    for mapping in itertools.product(options, repeat=len(hyp)):
        used = [r for r in mapping if r is not None]
        if len(used) == len(set(used)):
            hits = sum(
                float((hyp[h] & ref[r]).sum()) for h, r in enumerate(mapping) if r is not None
            )
            best = max(best, hits)
    confusion = float(np.minimum(n_ref, n_hyp).sum()) - best
    return {"der": (miss + fa + confusion) / total, "confusion": confusion / total}


def score(
    result: Diarization,
    words: list[Word],
    parties: list[int],
    reference: list[list[Interval]],
    n: int,
) -> dict[str, Any]:
    speaker_of = {id(w): c.speaker for c in result.channels for w in c.words}
    said = [speaker_of[id(w)] for w in words]
    names = [c.speaker for c in result.channels]
    best = 0.0
    for perm in itertools.permutations(range(2), len(names)):
        mapping = dict(zip(names, perm, strict=False))
        right = sum(mapping[s] == p for s, p in zip(said, parties, strict=True))
        best = max(best, right / max(len(parties), 1))
    roles_right = None
    if result.roles_estimated:
        agent_party = [p for s, p in zip(said, parties, strict=True) if s == "agent"]
        roles_right = bool(agent_party) and float(np.mean(np.array(agent_party) == 0)) > 0.5
    hyp = [c.speech for c in result.channels]
    return {"speakers": len(names), "words": best, "roles": roles_right, **der(reference, hyp, n)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    args = parser.parse_args()
    args.outdir.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    transcriber = Transcriber(settings)
    encoder = voices.load_encoder(settings.speaker_model)
    encoder.embed([np.zeros(SAMPLE_RATE, dtype=np.float32)])  # warm-up
    rows: list[dict[str, Any]] = []
    for name, path in recordings(args.outdir):
        left, right = audio.decode(path).channels
        silent = np.zeros_like(left)
        cases = [
            (name, (left + right) / 2, "two", left, right),
            (f"{name} (agent only)", left, "one", left, silent),
        ]
        if not name.startswith("real_call"):  # a real call's customer side is several readers
            cases.append((f"{name} (customer only)", right, "one", silent, right))
        for label, mono, truth, left_ref, right_ref in cases:
            cache = args.outdir / f"{label.replace(' ', '_')}.words.json"
            channel = transcribe(transcriber, mono, cache)
            words = channel.words
            parties = word_parties(words, left_ref, right_ref)
            n = int(len(mono) / SAMPLE_RATE / FRAME) + 1
            reference = [vad.speech_intervals(c) for c in (left_ref, right_ref) if c.any()]
            minutes = len(mono) / SAMPLE_RATE / 60
            for method, enc in (("old", None), ("new", encoder)):
                started = time.perf_counter()
                result = diarize(mono, channel, encoder=enc)
                cost = (time.perf_counter() - started) * 1000 / minutes
                row = {
                    "recording": label,
                    "truth": truth,
                    "method": method,
                    "seconds": round(len(mono) / SAMPLE_RATE, 1),
                    "ms_per_min": round(cost),
                    "pitch_gap": result.pitch_gap,
                    "distance": result.voice_distance,
                    **score(result, words, parties, reference, n),
                }
                rows.append(row)
                print(
                    f"{label:32s} {method}  speakers {row['speakers']}  words {row['words']:.3f}  "
                    f"DER {row['der']:.3f} (conf {row['confusion']:.3f})  roles {row['roles']}  "
                    f"{row['ms_per_min']:5d} ms/min  gap {row['pitch_gap']}  "
                    f"dist {row['distance']}",
                    flush=True,
                )
    (args.outdir / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    print()
    for method in ("old", "new"):
        two = [r for r in rows if r["method"] == method and r["truth"] == "two"]
        one = [r for r in rows if r["method"] == method and r["truth"] == "one"]
        secs = sum(r["seconds"] for r in two)
        words = sum(r["words"] * r["seconds"] for r in two) / secs
        split = sum(r["speakers"] == 2 for r in two)
        whole = sum(r["speakers"] == 1 for r in one)
        cost = sum(r["ms_per_min"] * r["seconds"] for r in two) / secs
        der_mean = np.mean([r["der"] for r in two])
        print(
            f"{method}: {len(two)} two-party mixes: words right {words:.3f} (weighted by "
            f"duration), mean DER {der_mean:.3f}, split {split}/{len(two)}; "
            f"one voice kept whole {whole}/{len(one)}; {cost:.0f} ms per minute of the mixes"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
