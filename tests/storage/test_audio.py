"""The audio store's two backends do the same things: a folder, and a bucket on a real S3 server.

The S3 server is moto's standalone server on 127.0.0.1 (tests/conftest.py), spoken to over
HTTP by boto3 as a MinIO or AWS endpoint would be.
"""

from __future__ import annotations

import io
import os

import pytest

from speechqa.errors import StorageUnavailable
from speechqa.settings import Settings
from speechqa.storage.audio import LocalAudioStore, S3AudioStore, audio_store
from tests.support import EXAMPLES, S3Server

SAMPLE = EXAMPLES / "billing_refund.wav"


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path, s3_server: S3Server):
    if request.param == "local":
        return LocalAudioStore(tmp_path / "audio")
    bucket = s3_server.new_bucket()
    return S3AudioStore(bucket, "calls/", tmp_path / "spool", endpoint_url=s3_server.url)


def _spooled(store, data: bytes):
    store.spool_dir.mkdir(parents=True, exist_ok=True)
    path = store.spool_dir / "upload.part"
    path.write_bytes(data)
    return path


def test_put_read_ranges_copy_and_delete(store):
    original = SAMPLE.read_bytes()
    source = _spooled(store, original)
    store.put("ab/abc.wav", source)
    assert not source.exists()  # the store took the file
    assert store.size("ab/abc.wav") == len(original)
    assert store.size("ab/other.wav") is None

    assert b"".join(store.stream("ab/abc.wav", 0, len(original) - 1)) == original
    assert b"".join(store.stream("ab/abc.wav", 100, 199)) == original[100:200]
    with store.open("ab/abc.wav") as f:
        f.seek(-64, io.SEEK_END)
        assert f.read() == original[-64:]
        f.seek(1000)
        assert f.read(10) == original[1000:1010] and f.tell() == 1010

    with store.local_copy("ab/abc.wav") as path:
        assert path.read_bytes() == original
    assert path.exists() == isinstance(store, LocalAudioStore)  # a fetched copy is removed

    store.delete("ab/abc.wav")
    assert store.size("ab/abc.wav") is None
    store.delete("ab/abc.wav")  # deleting what is not there is not an error
    assert [p for p in store.spool_dir.rglob("*") if p.is_file()] == []


def test_any_key_can_be_written_beside_a_recording(store):
    """A derived copy (a redacted recording) is stored and removed like the original."""
    store.put("ab/abc.wav", _spooled(store, b"original"))
    store.put("ab/abc.redacted.wav", _spooled(store, b"redacted"))
    assert b"".join(store.stream("ab/abc.redacted.wav", 0, 7)) == b"redacted"
    store.delete("ab/abc.redacted.wav")
    assert store.size("ab/abc.redacted.wav") is None
    assert store.size("ab/abc.wav") == len(b"original")


def test_a_large_file_is_uploaded_in_parts(tmp_path, s3_server: S3Server):
    threshold = 5 * 1024 * 1024  # S3's smallest part
    store = S3AudioStore(s3_server.new_bucket(), "", tmp_path / "spool",
                         endpoint_url=s3_server.url, multipart_threshold=threshold)  # fmt: skip
    data = os.urandom(2 * threshold + 12345)
    store.put("big.wav", _spooled(store, data))
    head = store.client.head_object(Bucket=store.bucket, Key="big.wav")
    assert (
        head["ETag"].strip('"').endswith("-3")
    )  # S3 marks a multipart object's ETag with its parts
    assert store.size("big.wav") == len(data)
    with store.local_copy("big.wav") as path:
        assert path.read_bytes() == data
    assert (
        b"".join(store.stream("big.wav", threshold - 10, threshold + 9))
        == data[threshold - 10 : threshold + 10]
    )


def test_a_missing_bucket_or_a_stopped_server_is_storage_unavailable(tmp_path, s3_server):
    missing = S3AudioStore("no-such-bucket", "", tmp_path / "spool", endpoint_url=s3_server.url)
    source = _spooled(missing, b"audio")
    with pytest.raises(StorageUnavailable):
        missing.put("a.wav", source)
    assert source.exists()  # still the caller's, to remove

    stopped = S3Server(tmp_path / "stopped.log").start()
    bucket = stopped.new_bucket()
    stopped.stop()
    down = S3AudioStore(bucket, "", tmp_path / "spool", endpoint_url=stopped.url)
    with pytest.raises(StorageUnavailable):
        down.put("a.wav", source)
    for call in (down.size, down.delete):
        with pytest.raises(StorageUnavailable):
            call("a.wav")
    with pytest.raises(StorageUnavailable), down.local_copy("a.wav"):
        pass
    assert [p.name for p in down.spool_dir.iterdir()] == ["upload.part"]  # no copy left


@pytest.mark.parametrize(
    ("setting", "kind", "where"),
    [("", LocalAudioStore, None), ("local", LocalAudioStore, None),
     ("s3://bucket/some/prefix", S3AudioStore, ("bucket", "some/prefix/")),
     ("s3://bucket", S3AudioStore, ("bucket", ""))],
)  # fmt: skip
def test_the_store_is_chosen_by_one_setting(tmp_path, s3_server, setting, kind, where):
    store = audio_store(Settings(data_dir=tmp_path, audio_store=setting))
    assert isinstance(store, kind)
    if where is not None:
        assert isinstance(store, S3AudioStore) and (store.bucket, store.prefix) == where
    else:
        assert store.spool_dir.parent == tmp_path / "audio" / "incoming"  # a folder per process


@pytest.mark.parametrize("setting", ["s3://", "gs://bucket", "/some/folder"])
def test_a_store_setting_that_is_not_a_bucket_is_refused(setting):
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        Settings(audio_store=setting)
