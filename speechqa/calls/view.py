"""A stored call read as its call document, for every edge that shows one (the API and the page)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from speechqa.calls import repository
from speechqa.calls.document import CallDocument, build_document
from speechqa.pipeline.conversation import Measures
from speechqa.pipeline.sentiment import SentimentSummary
from speechqa.scoring import evaluations
from speechqa.storage.tables import Call


def call_document(session: Session, call: Call) -> CallDocument:
    """``call``'s document: its header, utterances, the evaluation or review that counts, and the
    measures and sentiment summary stored when it was analysed."""
    automatic, review = evaluations.for_document(session, call.id)
    return build_document(
        repository.header(call),
        repository.utterances(session, call.id),
        automatic,
        Measures.from_stored(call.metrics) if call.metrics else None,
        review,
        SentimentSummary.from_stored(call.sentiment) if call.sentiment else None,
    )
