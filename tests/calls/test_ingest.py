"""Ingest under races and faults: every accepted call has its audio, no audio is left without a call."""

from __future__ import annotations

import errno
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from speechqa.calls import ingest
from speechqa.errors import StorageUnavailable
from speechqa.storage.audio import S3AudioStore, audio_store
from speechqa.storage.database import session_scope
from speechqa.storage.tables import Agent, Call
from tests.support import EXAMPLES, stored_audio, submit

SAMPLE = EXAMPLES / "address_change.wav"


def _files(settings) -> list[str]:
    return stored_audio(settings)


def _upload(settings, external_id: str | None, agent_id: str) -> ingest.Accepted:
    upload = ingest.receive(ingest.read_file(SAMPLE.open("rb")), settings, filename=SAMPLE.name)
    meta = ingest.parse_metadata(
        f'{{"agent_id": "{agent_id}", "team": "new"'
        + (f', "external_id": "{external_id}"' if external_id else "")
        + "}"
    )
    return ingest.accept(settings, upload, meta)


def test_parallel_uploads_for_a_new_agent_and_the_same_external_id(settings):
    with ThreadPoolExecutor(8) as pool:
        fresh = list(pool.map(lambda i: _upload(settings, f"new-{i}", "brand-new"), range(8)))
        same = list(pool.map(lambda _: _upload(settings, "same-call", "other-new"), range(8)))
    assert all(a.created for a in fresh)
    assert sum(a.created for a in same) == 1 and len({a.id for a in same}) == 1
    with session_scope(settings) as session:
        calls = session.query(Call).count()
        assert session.get(Agent, "brand-new") is not None
    assert calls == 9
    assert len(_files(settings)) == calls  # no audio without a call


@pytest.mark.parametrize("where", ["write", "put"])
def test_a_full_or_unwritable_store_is_a_503_and_leaves_nothing(
    client, settings, admin, monkeypatch, where
):
    def full(*_args, **_kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    store = audio_store(settings)
    if where == "write":
        monkeypatch.setattr(os, "fsync", full)
    elif isinstance(store, S3AudioStore):
        store.client.delete_bucket(Bucket=store.bucket)  # the put fails for real
    else:
        monkeypatch.setattr("speechqa.storage.audio.shutil.move", full)
    r = submit(client, admin, SAMPLE)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "storage_unavailable"
    assert "nothing was kept" in r.json()["error"]["message"]
    assert _files(settings) == []
    with session_scope(settings) as session:
        assert session.query(Call).count() == 0


def test_an_audio_folder_that_cannot_be_created_is_a_503(settings):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    blocked = settings.model_copy(update={"data_dir": settings.data_dir / "file"})
    (settings.data_dir / "file").write_text("not a folder")
    with pytest.raises(StorageUnavailable):
        ingest.receive(iter([b"RIFF"]), blocked)
