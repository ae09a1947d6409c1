import shutil
import tracemalloc

import numpy as np
import pytest

from speechqa.errors import AudioDecodeError, AudioTooLong, EmptyAudio, UnsupportedMedia
from speechqa.pipeline import audio
from tests.audiofiles import silent_flac
from tests.support import EXAMPLES, shared_audio


def test_probe_reads_a_stereo_telephone_call():
    info = audio.probe(EXAMPLES / "billing_refund.wav")
    assert (info.format_name, info.sample_rate, info.channels) == ("wav", 8000, 2)
    assert info.duration_s == pytest.approx(67.0, abs=0.5)


def test_decode_splits_stereo_into_two_16k_channels():
    decoded = audio.decode(EXAMPLES / "address_change.wav")
    assert len(decoded.channels) == 2
    assert decoded.sample_rate == 16000
    assert decoded.duration_s == pytest.approx(41.8, abs=0.2)
    left, right = decoded.channels
    assert left.dtype == np.float32 and len(left) == len(right)
    # The agent speaks first (left) while the customer line is quiet.
    first_second = slice(8000, 16000)
    assert np.abs(left[first_second]).mean() > 5 * np.abs(right[first_second]).mean()


def test_stereo_with_identical_channels_is_mono():
    path = shared_audio("faster-whisper/jfk.flac")
    decoded = audio.decode(path)
    assert decoded.source_channels == 2
    assert decoded.identical_channels
    assert len(decoded.channels) == 1


def test_empty_file_is_rejected(tmp_path):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(EmptyAudio, match="empty"):
        audio.probe(path)


@pytest.mark.parametrize(
    "content",
    [b"this is not audio at all, just some text\n" * 50, bytes(range(256)) * 64],
)
def test_non_audio_bytes_are_rejected(tmp_path, content):
    path = tmp_path / "call.wav"
    path.write_bytes(content)
    with pytest.raises(UnsupportedMedia, match=r"not a recording|no audio"):
        audio.probe(path)


def test_truncated_wav_decodes_what_is_there(tmp_path):
    path = tmp_path / "cut.wav"
    data = (EXAMPLES / "address_change.wav").read_bytes()
    path.write_bytes(data[: len(data) // 4])
    decoded = audio.decode(path)
    assert decoded.duration_s == pytest.approx(41.8 / 4, abs=0.5)


def test_header_only_wav_decodes_to_nothing(tmp_path):
    path = tmp_path / "header.wav"
    path.write_bytes((EXAMPLES / "address_change.wav").read_bytes()[:44])
    with pytest.raises((AudioDecodeError, UnsupportedMedia)):
        audio.decode(path)


def test_duration_limit(tmp_path):
    path = tmp_path / "call.wav"
    shutil.copy(EXAMPLES / "address_change.wav", path)
    with pytest.raises(AudioTooLong, match="over the limit"):
        audio.decode(path, max_duration_s=10)


def test_flac_without_a_length_is_refused_from_its_packets_before_decoding(tmp_path):
    bomb = silent_flac(tmp_path / "bomb.flac", 40 * 60, header_samples=0)
    assert bomb.stat().st_size < 600_000
    assert audio.probe(bomb).duration_s is None  # the header cannot tell
    tracemalloc.start()
    try:
        with pytest.raises(AudioTooLong, match="lasts more than the limit of 600 s"):
            audio.decode(bomb, max_duration_s=600)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1_000_000  # nothing decoded
    assert audio.probe(bomb, max_duration_s=3600).duration_s == pytest.approx(2400)


def test_decoding_stops_at_the_limit_when_the_header_lies(tmp_path):
    # The header says 10 s; the file holds 40 min. Decoding it whole would take 150 MB.
    liar = silent_flac(tmp_path / "liar.flac", 40 * 60, header_samples=10 * 8000)
    assert audio.probe(liar, max_duration_s=120).duration_s == pytest.approx(10)
    tracemalloc.start()
    try:
        with pytest.raises(AudioTooLong, match="lasts more than the limit of 120 s"):
            audio.decode(liar, max_duration_s=120)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    limit_bytes = 120 * audio.SAMPLE_RATE * 4
    assert peak < 2.5 * limit_bytes  # the buffer stops at the limit (growing to it doubles)
