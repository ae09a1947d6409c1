"""A stored call analysed by id, as the worker's job runs it, beside the storage-free entry point."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from speechqa.analysis import analyse_recording
from speechqa.analysis.stored import Outcome, analyse_call
from speechqa.apikeys import Scope
from speechqa.calls import repository
from speechqa.calls.document import CallHeader, as_json, build_document
from speechqa.contracts import Sentiment
from speechqa.rules import versions
from speechqa.rules.ruleset import default_ruleset_text, load_ruleset
from speechqa.storage.database import session_scope
from speechqa_service.app import create_app
from tests.support import EXAMPLES, key_for, reference_transcript, store_call, submit


def _json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def test_the_document_serves_the_sentiment_summary_stored_with_the_call(settings):
    t = reference_transcript("angry_to_satisfied")
    moods = iter(k / 10 for k in range(-9, 20))
    t = replace(
        t, utterances=[replace(u, sentiment=Sentiment("x", next(moods))) for u in t.utterances]
    )
    with session_scope(settings) as session:
        call_id = store_call(session, t)
        stored = repository.get_call(session, call_id).sentiment
    assert stored is not None and stored["roles"]["customer"]["turns"] > 0
    admin = key_for(settings, Scope.ADMIN)
    with TestClient(create_app(settings)) as client:
        assert client.get(f"/v1/calls/{call_id}", headers=admin).json()["sentiment"] == stored
        with session_scope(settings) as session:
            repository.get_call(session, call_id).sentiment = None  # analysed before 0021
        assert client.get(f"/v1/calls/{call_id}", headers=admin).json()["sentiment"] == stored
        with session_scope(settings) as session:  # read, not computed again
            marked = {"roles": {}, "customer_sentiment_shift": 0.125}  # no turns could give it
            repository.get_call(session, call_id).sentiment = marked
        doc = client.get(f"/v1/calls/{call_id}", headers=admin).json()
    assert doc["sentiment"] == marked


def test_a_call_that_is_gone_or_done_is_left_as_it_is(settings):
    assert analyse_call(settings, "no-such-call").outcome == Outcome.GONE
    with session_scope(settings) as session:
        call_id = store_call(session, reference_transcript("address_change"))
    run = analyse_call(settings, call_id)
    assert run.outcome == Outcome.ALREADY_DONE and run.analysis is None
    with session_scope(settings) as session:
        assert repository.get_call(session, call_id).attempts == 0


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["embedded"])  # the pipeline does not depend on it
def test_analysing_a_file_gives_the_document_the_worker_stores(settings, backend):
    """``speechqa analyze`` (no storage) and the worker's use case give the same words,
    measures, sentiment and scores for the same recording."""
    path = EXAMPLES / "card_payment.wav"  # personal data, redacted in both
    with session_scope(settings) as session:
        ruleset = versions.get(session, versions.DEFAULT)  # the shipped one, as version 1
    assert ruleset.source == load_ruleset(default_ruleset_text()).source
    local = analyse_recording(path, ruleset, settings)
    admin = key_for(settings, Scope.ADMIN)
    with TestClient(create_app(settings)) as client:
        call_id = submit(client, admin, path=path).json()["id"]
        run = analyse_call(settings, call_id)
        doc = client.get(f"/v1/calls/{call_id}", headers=admin).json()
    assert run.outcome == Outcome.DONE and run.analysis is not None
    assert run.analysis.transcript == local.transcript
    assert run.analysis.redaction == local.redaction and local.redaction is not None
    assert local.redaction.spans
    assert run.analysis.evaluation.as_dict() == local.evaluation.as_dict()
    printed = as_json(build_document(CallHeader(id=path.stem, status="done"),
                                     local.transcript.utterances, local.evaluation,
                                     local.measures, sentiment_summary=local.sentiment))  # fmt: skip
    assert doc["utterances"] == _json(printed["utterances"])
    assert doc["metrics"] == _json(local.measures.as_dict())
    assert doc["sentiment"] == _json(local.sentiment.as_dict())
    assert {k: doc[k] for k in ("rules", "script", "score")} == _json(local.evaluation.as_dict())
    assert (doc["status"], doc["duration_s"]) == ("done", local.transcript.duration_s)
    assert analyse_call(settings, call_id).outcome == Outcome.ALREADY_DONE
