"""Assemble two-party calls from real recordings, for the transcription benchmark.

Sources (Debian packages; install with ``apt-get install asterisk-core-sounds-en-wav
asterisk-core-sounds-en pocketsphinx-testdata``):
- the agent side: Asterisk's core English prompts, real 8 kHz telephone recordings (Allison),
  with their text from ``core-sounds-en.txt.gz`` (CC-BY-SA-3.0);
- the customer side: LibriVox and CMU sentences from pocketsphinx-testdata (BSD-2) and, when
  present, the real recordings in ``../shared/data/audio/``.

Each call is stereo 8 kHz (agent left, customer right) with pauses, a hold and an interruption,
written with a reference JSON in the format of ``examples/``. Also writes ``ivr.wav``: every
prompt of three words or more, one after another on one channel, for WER on real speech.

    python -m bench.real_calls bench/out/real
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path
from typing import Any

import av
import numpy as np

from bench.common import ROOT
from speechqa.pipeline import audio

ASTERISK = Path("/usr/share/asterisk/sounds/en")
ASTERISK_TEXT = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
POCKETSPHINX = Path("/usr/share/pocketsphinx/test/data")
SHARED = ROOT.parent / "shared" / "data" / "audio" / "faster-whisper"
RATE = 16000
OUT_RATE = 8000


def asterisk_prompts() -> list[tuple[np.ndarray, str]]:
    texts = {}
    with gzip.open(ASTERISK_TEXT, "rt", encoding="utf-8", errors="replace") as lines:
        for line in lines:
            name, sep, text = line.partition(":")
            if sep and not line.startswith(";") and "[" not in text:
                texts[name.strip()] = text.strip()
    prompts = []
    for name, text in sorted(texts.items()):
        path = ASTERISK / f"{name}.wav"
        if path.exists() and len(re.findall(r"[A-Za-z']+", text)) >= 3:
            prompts.append((audio.decode(path).channels[0], text))
    return prompts


def pocketsphinx_sentences(folder: str) -> list[tuple[np.ndarray, str]]:
    """The sentences one reader recorded in pocketsphinx-testdata (``librivox`` or ``cards``)."""
    transcript = (
        POCKETSPHINX / folder / ("transcription" if folder == "librivox" else "cards.transcription")
    )
    sentences = []
    for line in transcript.read_text().splitlines():
        m = re.match(r"<s>(.*)</s>\s*\((.*)\)", line.strip())
        if m:
            path = POCKETSPHINX / folder / f"{m.group(2)}.wav"
            sentences.append((audio.decode(path).channels[0], m.group(1).strip()))
    return sentences


def customer_sentences() -> list[tuple[np.ndarray, str]]:
    sentences = pocketsphinx_sentences("librivox") + pocketsphinx_sentences("cards")
    jfk = SHARED / "jfk.flac"
    if jfk.exists():
        sentences.append(
            (
                audio.decode(jfk).channels[0],
                "And so my fellow Americans, ask not what your "
                "country can do for you, ask what you can do for your country.",
            )
        )
    stereo = SHARED / "stereo_diarization.wav"
    if stereo.exists():
        left, right = audio.decode(stereo).channels
        sentences.append(
            (
                left,
                "He began a confused complaint against the wizard, who had vanished "
                "behind the curtain on the left.",
            )
        )
        sentences.append((right, "The horizon seems extremely distant."))
    return sentences


Clip = tuple[np.ndarray, str]


def build_call(
    prompts: list[Clip], sentences: list[Clip], rng: np.random.Generator, turns: int
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    placed: list[dict[str, Any]] = []
    clips: list[tuple[int, np.ndarray]] = []
    cursor = 0.5
    for i in range(turns):
        speaker = "agent" if i % 2 == 0 else "customer"
        samples, text = (prompts if speaker == "agent" else sentences)[
            int(rng.integers(len(prompts if speaker == "agent" else sentences)))
        ]
        gap = float(rng.uniform(0.3, 1.2))
        if i == turns // 2:
            gap = 8.0  # a hold
        elif i % 7 == 3 and placed:
            gap = -0.6  # an interruption
        start = max(0.0, cursor + gap)
        end = start + len(samples) / RATE
        placed.append(
            {"speaker": speaker, "start": round(start, 3), "end": round(end, 3), "text": text}
        )
        clips.append((0 if speaker == "agent" else 1, samples))
        cursor = max(cursor, end)
    stereo = np.zeros((2, int((cursor + 0.5) * RATE)), dtype=np.float32)
    for (channel, samples), p in zip(clips, placed, strict=True):
        at = int(p["start"] * RATE)
        stereo[channel, at : at + len(samples)] += samples
    return np.clip(stereo, -1, 1), placed


def similar_voices_call(seed: int = 7, turns: int = 16) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """A call between two men of about the same pitch (under 2 semitones apart), both real
    recordings: the LibriVox reader as the agent, the CMU "cards" speaker as the customer."""
    return build_call(
        pocketsphinx_sentences("librivox"),
        pocketsphinx_sentences("cards"),
        np.random.default_rng(seed),
        turns,
    )


def write(path: Path, samples: np.ndarray) -> None:
    """Write float samples at 16 kHz as 16-bit PCM WAV at 8 kHz (telephone rate)."""
    layout = "stereo" if samples.shape[0] == 2 else "mono"
    pcm = (samples * 32767).astype(np.int16)
    frame = av.AudioFrame.from_ndarray(pcm.T.reshape(1, -1).copy(), format="s16", layout=layout)
    frame.sample_rate = RATE
    resampler = av.AudioResampler(format="s16", layout=layout, rate=OUT_RATE)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=OUT_RATE, layout=layout)
        for out in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(out):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--turns", type=int, default=24)
    args = parser.parse_args()
    if not ASTERISK_TEXT.exists() or not (POCKETSPHINX / "librivox").exists():
        print(
            "install: apt-get install asterisk-core-sounds-en-wav asterisk-core-sounds-en "
            "pocketsphinx-testdata",
            file=sys.stderr,
        )
        return 2
    args.outdir.mkdir(parents=True, exist_ok=True)
    prompts, sentences = asterisk_prompts(), customer_sentences()
    rng = np.random.default_rng(2026)
    for n in range(args.calls):
        stereo, turns = build_call(prompts, sentences, rng, args.turns)
        name = f"real_call_{n + 1}"
        write(args.outdir / f"{name}.wav", stereo)
        ref = {
            "audio": f"{name}.wav",
            "channels": {"left": "agent", "right": "customer"},
            "duration_s": round(stereo.shape[1] / RATE, 3),
            "turns": turns,
        }
        (args.outdir / f"{name}.json").write_text(json.dumps(ref, indent=2) + "\n")
        print(f"{name}: {ref['duration_s']:.0f} s, {len(turns)} turns")
    # One long IVR recording of every prompt, 1 s apart, for WER on real telephone speech.
    gap = np.zeros(RATE, dtype=np.float32)
    ivr = np.concatenate([x for samples, _ in prompts for x in (samples, gap)])
    write(args.outdir / "ivr.wav", ivr[None, :])
    (args.outdir / "ivr.txt").write_text("\n".join(text for _, text in prompts) + "\n")
    print(f"ivr: {len(ivr) / RATE:.0f} s, {len(prompts)} prompts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
