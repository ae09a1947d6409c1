"""Here the PostgreSQL + external Redis deployment keeps its audio in an S3 bucket (moto's
server), as API and workers on many machines do; the embedded one keeps it in the data dir. So
every test below runs once with each audio store."""

from __future__ import annotations

import pytest


@pytest.fixture
def audio_store_url(backend: str, request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("s3_store")) if backend == "external" else ""
