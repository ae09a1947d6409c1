"""Export Resemblyzer's GE2E voice encoder to ONNX for speechqa's speaker stage.

The weights are ``pretrained.pt`` from the PyPI wheel ``resemblyzer`` 0.1.4 (Apache-2.0,
Resemble AI; a GE2E encoder trained on LibriSpeech, VoxCeleb 1 and 2). This script writes:

- ``model.onnx``: mel spectrogram (batch, frames, 40) -> unit-length embedding (batch, 256);
- ``mel_filters.npy``: the 40-band mel filterbank librosa builds for Resemblyzer's front end
  (16 kHz, 400-point FFT), so speechqa needs no librosa at run time;
- ``export.json``: versions and the check below.

Then it checks speechqa's numpy front end (``speechqa.pipeline.voices``) with the ONNX model
against Resemblyzer itself (torch + librosa) on real recordings: the cosine between the two
embeddings of each recording must exceed 0.99, or nothing is written.

Development only, in its own virtual environment (never a runtime dependency of speechqa)::

    python3.11 -m venv .venv-train
    .venv-train/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
    .venv-train/bin/pip install --no-deps resemblyzer==0.1.4
    .venv-train/bin/pip install librosa webrtcvad-wheels scipy onnx onnxruntime
    .venv-train/bin/python scripts/export_speaker_model.py models/speaker
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "data" / "audio" / "faster-whisper"
ASTERISK = Path("/usr/share/asterisk/sounds/en")


def check_recordings() -> list[tuple[str, np.ndarray]]:
    """Real speech to compare on: the shared recordings and a few telephone prompts."""
    import librosa

    found = []
    for path in [SHARED / "jfk.flac", SHARED / "stereo_diarization.wav"]:
        if path.exists():
            wav, _ = librosa.load(str(path), sr=16000, mono=False)
            for i, channel in enumerate(np.atleast_2d(wav)):
                found.append((f"{path.name}[{i}]", channel.astype(np.float32)))
    for name in ("agent-loginok", "conf-onlyperson", "vm-intro"):
        path = ASTERISK / f"{name}.wav"
        if path.exists():  # 8 kHz telephone recordings
            from speechqa.pipeline.voices import resample

            wav, rate = librosa.load(str(path), sr=None)
            found.append((f"{name}.wav ({rate} Hz)", resample(wav, int(rate))))
    return found


def export(out: Path) -> dict[str, object]:
    import librosa
    import onnx
    import resemblyzer
    import torch
    from resemblyzer import VoiceEncoder
    from resemblyzer.audio import normalize_volume as rz_normalize
    from resemblyzer.hparams import audio_norm_target_dBFS

    from speechqa.pipeline import voices

    encoder = VoiceEncoder("cpu", verbose=False).eval()
    filters = librosa.filters.mel(sr=16000, n_fft=voices.N_FFT, n_mels=voices.N_MELS)
    assert audio_norm_target_dBFS == voices.TARGET_DBFS

    class Embed(torch.nn.Module):
        def __init__(self, inner: VoiceEncoder) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, mels: torch.Tensor) -> torch.Tensor:
            _, (hidden, _) = self.inner.lstm(mels)
            raw = self.inner.relu(self.inner.linear(hidden[-1]))
            return raw / torch.clamp(torch.norm(raw, dim=1, keepdim=True), min=1e-9)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        torch.onnx.export(
            Embed(encoder),
            (torch.zeros(2, 160, voices.N_MELS),),
            str(path),
            input_names=["mels"],
            output_names=["embedding"],
            dynamic_axes={"mels": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
        model.doc_string = "Resemblyzer 0.1.4 GE2E voice encoder (Apache-2.0), exported by speechqa"
        staged = Path(tmp) / "staged"
        staged.mkdir()
        onnx.save(model, str(staged / "model.onnx"))
        np.save(staged / "mel_filters.npy", filters.astype(np.float32))

        ours = voices.SpeakerEncoder(staged)
        checks: list[dict[str, Any]] = []
        for name, wav in check_recordings():
            # 1. Whole recording, Resemblyzer's partials and averaging: mel + ONNX exactness.
            loud = rz_normalize(wav, audio_norm_target_dBFS, increase_only=True)
            theirs = encoder.embed_utterance(loud)
            wav_slices, mel_slices = encoder.compute_partial_slices(len(loud), 1.3, 0.75)
            padded = np.pad(loud, (0, max(0, wav_slices[-1].stop - len(loud))))
            mel = ours.mels(padded)
            partials = ours.embed_mels(np.stack([mel[s] for s in mel_slices]))
            mine = partials.mean(axis=0)
            mine /= np.linalg.norm(mine)
            # 2. One 1.6 s stretch as the speaker stage embeds it (own volume normalisation).
            stretch = wav[: 16000 * 16 // 10]
            theirs_1 = encoder.embed_utterance(
                rz_normalize(stretch, audio_norm_target_dBFS, increase_only=True)
            )
            mine_1 = ours.embed([stretch])[0]
            checks.append(
                {
                    "recording": name,
                    "seconds": round(len(wav) / 16000, 2),
                    "cosine_utterance": round(float(theirs @ mine), 5),
                    "cosine_stretch": round(float(theirs_1 @ mine_1), 5),
                }
            )
            print(checks[-1])
        worst = min((min(c["cosine_utterance"], c["cosine_stretch"]) for c in checks), default=0.0)
        if worst <= 0.99:
            raise SystemExit(f"numpy front end + ONNX do not match Resemblyzer (worst {worst})")
        out.mkdir(parents=True, exist_ok=True)
        for name in ("model.onnx", "mel_filters.npy"):
            (out / name).write_bytes((staged / name).read_bytes())
    info: dict[str, object] = {
        "source": "resemblyzer 0.1.4 (PyPI wheel), resemblyzer/pretrained.pt",
        "licence": "Apache-2.0",
        "torch": torch.__version__,
        "librosa": librosa.__version__,
        "onnx": onnx.__version__,
        "resemblyzer_path": str(Path(resemblyzer.__file__).parent),
        "input": "mels (batch, frames, 40): power mel spectrogram, 16 kHz, 25 ms / 10 ms",
        "output": "embedding (batch, 256), unit length",
        "check": checks,
        "worst_cosine": worst,
    }
    info.pop("resemblyzer_path")
    (out / "export.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="model folder, e.g. models/speaker")
    args = parser.parse_args()
    info = export(args.out)
    print(f"wrote {args.out}; worst cosine to Resemblyzer {info['worst_cosine']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
