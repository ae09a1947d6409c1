"""A worker whose audio store is unreachable retries the call instead of failing it at once.

An outage of the bucket is not the recording's fault (unlike undecodable audio): the job goes
through the queue's retries like any other transient error, and leaves no temporary copy.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from speechqa.storage.database import session_scope
from speechqa.storage.tables import Call
from tests.support import EXAMPLES, S3Server, submit, work


@pytest.fixture
def s3_endpoint(s3_server: S3Server, tmp_path) -> Iterator[S3Server]:
    own = S3Server(tmp_path / "own-s3.log").start()  # this test stops it
    yield own
    own.stop()


@pytest.fixture
def audio_store_url(s3_store: str) -> str:
    return s3_store


@pytest.mark.parametrize("backend", ["embedded"])
def test_an_unreachable_store_is_retried_and_leaves_no_copy(client, settings, admin, s3_endpoint):
    r = submit(client, admin, EXAMPLES / "address_change.wav")
    assert r.status_code == 202, r.text
    s3_endpoint.stop()

    work(settings)

    with session_scope(settings) as session:
        call = session.get(Call, r.json()["id"])
        assert call is not None
        assert call.attempts == 1 + settings.job_retries  # retried, not failed at the first try
        assert call.status == "failed"
        assert "StorageUnavailable" in (call.status_reason or "")
    assert [p for p in settings.data_dir.rglob("*") if p.suffix == ".wav"] == []
