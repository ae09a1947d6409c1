"""Re-scoring: evaluate stored transcripts again with a ruleset version, without audio.

Each call gains an evaluation by that version and keeps its earlier ones (history); its KPI row
and journal follow the evaluation that counts. Running it twice leaves the same result. Used by
the queue job and by ``speechqa rules rescore``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from speechqa.calls import repository
from speechqa.rules import versions
from speechqa.scoring.step import score_calls
from speechqa.settings import Settings
from speechqa.storage.database import session_scope

BATCH = 500


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one batch.

    A batch builds hundreds of thousands of small objects (words, hits) that all live until the
    batch ends; collecting while they are built costs about a sixth of re-scoring and frees
    nothing. They are collected as usual once the batch is done.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def rescore(
    settings: Settings,
    name: str,
    version: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Re-evaluate every analysed call of ruleset ``name``; return (version, calls)."""
    with session_scope(settings) as session:
        ruleset = versions.get(session, name, version)
        call_ids = repository.analysed_calls(session, name, default=name == versions.DEFAULT)
    done = 0
    for at in range(0, len(call_ids), BATCH):
        batch = call_ids[at : at + BATCH]
        with _collector_paused(), session_scope(settings) as session:
            score_calls(session, batch, ruleset)
        done += len(batch)
        if progress is not None:
            progress(done, len(call_ids))
    return ruleset.version or 0, done
