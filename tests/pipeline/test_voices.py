"""The speaker-embedding model: shipped, loaded without torch or librosa, and telling voices apart."""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pytest

from speechqa.errors import ModelUnavailable
from speechqa.pipeline import audio, voices
from speechqa.pipeline.analysis import speaker_encoder
from speechqa.pipeline.audio import SAMPLE_RATE
from speechqa.settings import Settings
from tests.support import EXAMPLES, reference


def turns_of(name: str, speaker: str) -> list[np.ndarray]:
    """The sample call's turns of one party, cut from its own channel."""
    left, right = audio.decode(EXAMPLES / f"{name}.wav").channels
    channel = left if speaker == "agent" else right
    return [
        channel[int(t["start"] * SAMPLE_RATE) : int(t["end"] * SAMPLE_RATE)]
        for t in reference(name)["turns"]
        if t["speaker"] == speaker and t["end"] - t["start"] >= 1.5
    ]


def test_same_voice_is_closer_than_the_other_voice():
    encoder = voices.load_encoder()
    agent = encoder.embed(turns_of("billing_refund", "agent"))
    customer = encoder.embed(turns_of("billing_refund", "customer"))
    assert agent.shape[1] == 256
    assert np.allclose(np.linalg.norm(agent, axis=1), 1.0, atol=1e-4)
    same = agent[1:] @ agent[0]
    other = customer @ agent[0]
    assert same.min() > other.max()


def test_telephone_audio_at_8_khz_gives_the_same_voice():
    encoder = voices.load_encoder()
    turn = turns_of("address_change", "agent")[0]
    wide = encoder.embed([turn])[0]
    # The same speech band-limited and sampled at 8 kHz, as a telephone line delivers it.
    spectrum = np.fft.rfft(turn)
    spectrum[len(spectrum) // 2 :] = 0
    narrow = np.fft.irfft(spectrum, len(turn))[::2].astype(np.float32)
    phone = encoder.embed([narrow], rate=8000)[0]
    other = encoder.embed(turns_of("address_change", "customer")[:1])[0]
    assert phone @ wide > 0.9
    assert phone @ wide > phone @ other + 0.1


def test_resampling_keeps_the_pitch():
    t = np.arange(8000) / 8000
    up = voices.resample(np.sin(2 * np.pi * 300 * t).astype(np.float32), 8000)
    assert len(up) == SAMPLE_RATE
    assert np.argmax(np.abs(np.fft.rfft(up))) == 300  # 1 Hz bins over one second


def test_a_missing_or_corrupt_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelUnavailable, match=r"lacks model\.onnx"):
        voices.SpeakerEncoder(tmp_path)
    shutil.copy(voices.default_model() / "mel_filters.npy", tmp_path)
    (tmp_path / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable, match="could not be loaded"):
        voices.SpeakerEncoder(tmp_path)


def test_without_the_model_separation_falls_back_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="speechqa.pipeline.analysis"):
        assert speaker_encoder(Settings(speaker_model=tmp_path)) is None
    assert "separating by voice prints" in caplog.text
    assert speaker_encoder(Settings()) is voices.load_encoder()


def test_the_model_card_says_where_the_weights_come_from():
    card = (voices.default_model() / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "resemblyzer" in card.lower() and "Apache-2.0" in card
