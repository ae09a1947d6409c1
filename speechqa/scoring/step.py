"""The scoring step: the only code that turns a transcript into scores.

:func:`score_transcript` evaluates a ruleset on a transcript and its conversation measures (no
storage: ``speechqa analyze`` prints it). :func:`score_calls` does that for stored calls and, in
the caller's transaction, stores each evaluation, then rewrites the call's KPI row and journal
entries from the evaluation that counts (:func:`speechqa.scoring.evaluations.counted`). The
worker, the CLI and re-scoring all go through here, so a call's document, the call list, KPIs,
the leaderboard and the journal always agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from speechqa.calls import repository
from speechqa.contracts import Utterance
from speechqa.kpis import records
from speechqa.pipeline.conversation import Measures, call_metrics
from speechqa.rules import versions
from speechqa.rules.ruleset import Ruleset
from speechqa.rules.scorecard import Evaluation, evaluate
from speechqa.scoring import evaluations
from speechqa.storage.tables import ScoreSource


@dataclass(frozen=True)
class Scored:
    evaluation: Evaluation
    measured: dict[str, float]
    """Every figure a scorecard can test (sentiment and conversation measures by KPI name)."""


def score_transcript(
    ruleset: Ruleset,
    utterances: Sequence[Utterance],
    duration_s: float,
    conversation: Measures | None,
) -> Scored:
    """Evaluate ``ruleset`` on a transcript and its conversation measures."""
    measured = call_metrics(utterances, duration_s, conversation)
    evaluation = evaluate(ruleset, utterances, duration_s=duration_s, metrics=measured)
    return Scored(evaluation, measured)


def score_calls(
    session: Session, call_ids: Sequence[str], ruleset: Ruleset | None = None
) -> dict[str, Evaluation]:
    """Score stored calls and write their evaluations, KPI rows and journal (idempotent).

    ``ruleset`` defaults to the newest version of each call's own ruleset. Calls without a
    stored transcript are skipped. Nothing is committed here: the caller's transaction holds
    the evaluations and KPI rows together.
    """
    stored = repository.transcripts(session, call_ids)
    scored: dict[str, Scored] = {}
    for call_id, t in stored.items():
        used = ruleset or versions.get(session, t.ruleset or versions.DEFAULT)
        scored[call_id] = score_transcript(used, t.utterances, t.duration_s, _measures(t))
    evaluations.save(session, [(cid, s.evaluation) for cid, s in scored.items()])
    session.flush()

    fresh = {
        (cid, s.evaluation.ruleset, s.evaluation.version or 0): s.evaluation
        for cid, s in scored.items()
    }
    _write_kpis(session, stored, {cid: s.measured for cid, s in scored.items()}, fresh)
    return {cid: s.evaluation for cid, s in scored.items()}


def refresh_kpis(session: Session, call_ids: Sequence[str]) -> None:
    """Rewrite the KPI rows and journal of calls whose counting evaluation changed without a
    new automatic evaluation (a reviewer's final score)."""
    stored = repository.transcripts(session, call_ids)
    measured = {
        cid: call_metrics(t.utterances, t.duration_s, _measures(t)) for cid, t in stored.items()
    }
    _write_kpis(session, stored, measured, {})


def _measures(t: repository.StoredTranscript) -> Measures | None:
    return Measures.from_stored(t.metrics) if t.metrics else None


def _write_kpis(
    session: Session,
    stored: Mapping[str, repository.StoredTranscript],
    measured: Mapping[str, dict[str, float]],
    fresh: Mapping[tuple[str, str, int], Evaluation],
) -> None:
    """The KPI rows of ``stored`` calls from the evaluation that counts for each. ``fresh``
    holds results just computed (by call, ruleset, version), so they are not read back."""
    counted = evaluations.counted(session, list(stored))
    missing = [c.id for cid, c in counted.items() if (cid, c.ruleset, c.version) not in fresh]
    loaded = evaluations.loaded(session, missing)  # e.g. re-scored with an older version
    finals = evaluations.review_results(session, [c.review_id for c in counted.values()])
    rows = []
    for cid, facts in stored.items():
        which = counted.get(cid)
        result: Evaluation | None = None
        source = ScoreSource.AUTOMATIC
        if which is not None:
            result = fresh.get((cid, which.ruleset, which.version)) or loaded.get(which.id)
            if which.review_id is not None and which.review_id in finals and result is not None:
                result = replace(result, score=finals[which.review_id])
                source = ScoreSource.REVIEW
        stored_form = result.as_dict() if result else None
        rows.append(records.rows_for(facts, stored_form, measured[cid], score_source=source))
    records.write(session, rows)
