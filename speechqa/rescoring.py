"""Re-scoring: evaluate stored transcripts again with a ruleset version, without audio.

Each call gains an evaluation by that version and keeps its earlier ones (history); running it
twice leaves the same result. Used by the queue job and by ``speechqa rules rescore``.
"""

from __future__ import annotations

from collections.abc import Callable

from speechqa import repository, ruleset_store
from speechqa.db import session_scope
from speechqa.metrics import call_metrics
from speechqa.scoring import evaluate
from speechqa.settings import Settings

BATCH = 500


def rescore(
    settings: Settings,
    name: str,
    version: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Re-evaluate every analysed call of ruleset ``name``; return (version, calls)."""
    with session_scope(settings) as session:
        ruleset = ruleset_store.get(session, name, version)
        call_ids = repository.analysed_calls(session, name, default=name == ruleset_store.DEFAULT)
    done = 0
    for at in range(0, len(call_ids), BATCH):
        batch = call_ids[at : at + BATCH]
        with session_scope(settings) as session:
            found = repository.transcripts(session, batch)
            evaluations = []
            for cid, t in found.items():
                measured = call_metrics(t.utterances, t.duration_s, t.metrics)
                evaluations.append(
                    (
                        cid,
                        evaluate(ruleset, t.utterances, duration_s=t.duration_s, metrics=measured),
                    )
                )
            ruleset_store.save_evaluations(session, evaluations)
        done += len(batch)
        if progress is not None:
            progress(done, len(call_ids))
    return ruleset.version or 0, done
