"""Every common recording format and layout decodes, with its duration and channel count."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from speechqa.errors import NoSpeech
from speechqa.pipeline import audio
from speechqa.pipeline.analysis import transcribe_call
from speechqa.pipeline.transcription import Transcriber
from speechqa.pipeline.wer import wer
from speechqa.settings import Settings
from tests.audiofiles import write_audio
from tests.support import EXAMPLES, reference

pytestmark = pytest.mark.slow  # they run the speech model

RATE = 8000


@pytest.fixture(scope="module")
def call_clip() -> np.ndarray:
    """The first 12 s of a sample call, as (2, n) float samples at 8 kHz."""
    decoded = audio.decode(EXAMPLES / "address_change.wav")
    left, right = (c[: 12 * 16000 : 2] for c in decoded.channels)  # 16 kHz -> 8 kHz
    return np.stack([left, right])


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    return Transcriber(Settings())


FORMATS = [
    ("wav", "pcm_s16le", "wav", RATE),
    ("wav", "pcm_s24le", "wav", RATE),
    ("wav", "pcm_s32le", "wav", RATE),
    ("wav", "pcm_f32le", "wav", RATE),
    ("wav", "pcm_mulaw", "wav", RATE),
    ("wav", "pcm_alaw", "wav", RATE),
    ("mp3", "libmp3lame", "mp3", 16000),
    ("ogg", "libopus", "ogg", 16000),
    ("flac", "flac", "flac", RATE),
    ("m4a", "aac", "mp4", 16000),
]


@pytest.mark.parametrize(
    ("ext", "codec", "container", "rate"), FORMATS, ids=[f[1] for f in FORMATS]
)
@pytest.mark.parametrize("layout", ["stereo", "mono"])
def test_format_decodes_and_transcribes(
    tmp_path, call_clip, transcriber, ext, codec, container, rate, layout
):
    samples = call_clip if layout == "stereo" else call_clip.mean(axis=0, keepdims=True)
    if rate != RATE:
        samples = np.repeat(samples, rate // RATE, axis=1)
    path = write_audio(tmp_path / f"call.{ext}", samples, rate, codec=codec, fmt=container)
    info = audio.probe(path)
    assert info.channels == (2 if layout == "stereo" else 1)
    decoded = audio.decode(path)
    assert decoded.duration_s == pytest.approx(12.0, abs=0.1)
    assert len(decoded.channels) == (2 if layout == "stereo" else 1)

    transcript = transcribe_call(path, Settings(), transcriber=transcriber)
    heard = " ".join(u.text for u in transcript.utterances)
    # Lossy codecs shift a word or two of tiny.en's output (mp3 turns "thank you for calling
    # Acme Bank" into "and you for calling at the man"): the words, not one phrase, are checked.
    said = " ".join(t["text"] for t in reference("address_change")["turns"] if t["end"] <= 12.5)
    assert wer(said, heard) < 0.35, heard
    first = transcript.utterances[0]
    assert "for calling" in first.text.lower()
    if layout == "stereo":
        assert first.speaker == "agent" and not transcript.roles_estimated


def test_an_hour_long_stereo_call_decodes_in_bounded_memory(tmp_path):
    hour = 3600 * RATE
    rng = np.random.default_rng(0)
    noise = (rng.normal(0, 0.01, (2, hour))).astype(np.float32)
    path = write_audio(tmp_path / "long.wav", noise, RATE, codec="pcm_s16le", fmt="wav")
    tracemalloc.start()
    decoded = audio.decode(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert decoded.duration_s == pytest.approx(3600, abs=0.1)
    # The two 16 kHz float32 channels are 461 MB; decoding must not hold several copies.
    needed = 2 * 3600 * 16000 * 4
    assert peak < 1.3 * needed, f"peak {peak / 1e6:.0f} MB for {needed / 1e6:.0f} MB of audio"


@pytest.mark.parametrize("kind", ["digital silence", "line noise"])
def test_a_recording_without_speech_fails_with_a_reason(tmp_path, transcriber, kind):
    n = 20 * RATE
    samples = (
        np.zeros((2, n))
        if kind == "digital silence"
        else np.random.default_rng(1).normal(0, 0.01, (2, n))
    )
    path = write_audio(tmp_path / "quiet.wav", samples, RATE, codec="pcm_s16le", fmt="wav")
    with pytest.raises(NoSpeech, match="No speech"):
        transcribe_call(path, Settings(), transcriber=transcriber)


def test_a_silent_customer_channel_leaves_only_agent_speech(tmp_path, call_clip, transcriber):
    samples = call_clip.copy()
    samples[1] = 0.0
    path = write_audio(tmp_path / "one-sided.wav", samples, RATE, codec="pcm_s16le", fmt="wav")
    transcript = transcribe_call(path, Settings(), transcriber=transcriber)
    assert {u.speaker for u in transcript.utterances} == {"agent"}
    assert transcript.speech["customer"] == []
    assert transcript.speech["agent"]
