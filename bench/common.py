"""What the benchmarks share: the repository's folders, a sample call's reference text, and
audio they make themselves (a mono mix, calls joined end to end) written as 16-bit WAV.

A benchmark runs from the repository root as a module (``python -m bench.throughput``), or as
a file with speechqa importable (installed, or ``PYTHONPATH`` naming the checkout); none of
them edits ``sys.path``, and none imports the tests.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def references(path: Path) -> dict[str, str]:
    """Reference text per speaker: from the call's JSON, or one ``.txt`` for a mono recording."""
    if path.with_suffix(".json").exists():
        ref = json.loads(path.with_suffix(".json").read_text())
        roles = {t["speaker"] for t in ref["turns"]}
        return {r: " ".join(t["text"] for t in ref["turns"] if t["speaker"] == r) for r in roles}
    return {"all": path.with_suffix(".txt").read_text()}


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """Write (channels, n) float samples in [-1, 1] as 16-bit PCM WAV."""
    samples = np.atleast_2d(samples)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(samples.shape[0])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.T.tobytes())
    return path
