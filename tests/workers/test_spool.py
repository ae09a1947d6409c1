"""The spool: a killed worker's copy of a recording does not outlive it."""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from speechqa.storage.audio import audio_store
from tests.support import call_status, start_worker, submit_sample

pytestmark = pytest.mark.slow  # the workers run the speech model


@pytest.fixture
def backend() -> str:
    return "embedded"


@pytest.fixture
def audio_store_url(s3_store: str) -> str:
    """A bucket: a worker downloads the recording to its spool for the time of the job."""
    return s3_store


def _written(folder) -> bool:
    return any(p.stat().st_size > 0 for p in folder.glob("tmp*.wav"))


def test_a_killed_workers_copy_of_a_recording_is_removed_when_a_worker_starts(settings):
    root = audio_store(settings).spool_dir.parent
    host = socket.gethostname()
    living = root / f"{host}.{os.getpid()}"  # this test process's own, alive
    elsewhere = root / "other-machine.1"  # a worker on another host sharing the data dir
    for folder in (living, elsewhere):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "upload.part").write_bytes(b"in use")

    call_id = submit_sample(settings, external_id="spool-1")
    first = start_worker()
    mine = root / f"{host}.{first.pid}"
    try:
        deadline = time.monotonic() + 60
        # the copy is made before transcribing starts; wait until its bytes are on disk
        # (the file exists, empty, for a moment before they are written)
        while call_status(settings, call_id)[0] != "transcribing" or not _written(mine):
            assert time.monotonic() < deadline, "the worker never started the job"
            assert first.poll() is None, "the worker exited"
            time.sleep(0.05)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    (copy,) = mine.glob("tmp*.wav")  # the unredacted recording, left by the crash
    assert copy.stat().st_size > 0

    time.sleep(4)  # the dead worker's heartbeat (3 s) runs out
    second = start_worker("--burst")
    assert second.wait(120) == 0
    assert call_status(settings, call_id)[0] == "done"
    assert not mine.exists()
    assert (living / "upload.part").exists() and (elsewhere / "upload.part").exists()
    assert not [p for p in root.rglob("*") if p.is_file() and p.name != "upload.part"]
