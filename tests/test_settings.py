from pathlib import Path

import pytest

from speechqa.pipeline.transcription import resolve_compute_type, resolve_model
from speechqa.settings import Settings


def test_environment_variables_use_the_speechqa_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("SPEECHQA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SPEECHQA_CHANNEL_MAP", "customer, agent")
    monkeypatch.setenv("SPEECHQA_MAX_UPLOAD_BYTES", "1234")
    s = Settings()
    assert s.data_dir == tmp_path
    assert s.channel_map == ("customer", "agent")
    assert s.max_upload_bytes == 1234


def test_default_database_is_a_sqlite_file_in_the_data_dir(tmp_path):
    s = Settings(data_dir=tmp_path)
    assert s.sqlalchemy_url == f"sqlite:///{tmp_path.resolve() / 'speechqa.db'}"
    assert Settings(data_dir=tmp_path, database_url="postgresql://x/y").sqlalchemy_url == (
        "postgresql://x/y"
    )


def test_invalid_setting_is_rejected(monkeypatch):
    monkeypatch.setenv("SPEECHQA_ASR_DEVICE", "tpu")
    with pytest.raises(ValueError, match="asr_device"):
        Settings()


def test_default_asr_model_is_the_shipped_tiny_en():
    path = Path(resolve_model("default"))
    assert (path / "model.bin").is_file()
    assert resolve_model("/models/large") == "/models/large"


@pytest.mark.parametrize(
    ("compute_type", "device", "expected"),
    [("auto", "cpu", "int8"), ("auto", "cuda", "float16"), ("float32", "cpu", "float32")],
)
def test_compute_type(compute_type, device, expected):
    assert resolve_compute_type(compute_type, device) == expected


def test_auto_language_means_detection():
    assert Settings(asr_language="auto").asr_language is None
    assert Settings(asr_language="").asr_language is None
