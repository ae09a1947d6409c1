"""Full-text search over transcripts, with each database's own engine.

A search is words, ``"quoted phrases"`` and ``prefix*`` terms; a call matches when its
transcript holds every term (a phrase within one utterance). Terms are reduced to plain words
before they reach the database and are passed as bound parameters, so nothing a user types is
read as query syntax. PostgreSQL matches a generated ``tsvector`` column through a GIN index;
SQLite an FTS5 table; both stem English words (Porter), so "refunds" finds "refund".

Each matching call comes with the utterances that match, their speaker and times (for seeking
the audio) and the text with the matched words marked.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    bindparam,
    column,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Session

from speechqa.errors import InvalidInput
from speechqa.storage.tables import Call, UtteranceRow

MAX_QUERY_CHARS = 500
MAX_TERMS = 10
MATCHES_PER_CALL = 5
_TOKEN = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)
_OPEN, _CLOSE = "\x02", "\x03"  # marks from the database, turned into <mark> after escaping


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    prefix: bool = False
    """The last word may be the beginning of a longer word (``refund*``)."""

    def __str__(self) -> str:
        text = " ".join(self.words) + ("*" if self.prefix else "")
        return f'"{text}"' if len(self.words) > 1 else text


@dataclass(frozen=True)
class Match:
    utterance: int
    speaker: str
    start: float
    end: float
    text: str
    """The utterance, HTML-escaped, with each matched word in ``<mark>...</mark>``."""


def parse(query: str) -> list[Term]:
    """The terms of a search box entry; InvalidInput when it holds no word or too much."""
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidInput(
            f"The search is longer than {MAX_QUERY_CHARS} characters.", details={"parameter": "q"}
        )
    terms: list[Term] = []
    for quoted, bare in _TOKEN.findall(query):
        raw = quoted if quoted else bare
        words = tuple(w.lower() for w in _WORD.findall(raw))
        if not words:
            continue
        prefix = not quoted and raw.endswith("*") and len(words) == 1
        terms.append(Term(words, prefix))
    if not terms:
        raise InvalidInput("The search has no words to look for.", details={"parameter": "q"})
    if len(terms) > MAX_TERMS:
        raise InvalidInput(
            f"The search has more than {MAX_TERMS} terms.", details={"parameter": "q"}
        )
    return list(dict.fromkeys(terms))


def _fts5(term: Term) -> str:
    """A term as FTS5 query syntax (its words are plain \\w+ words: nothing to escape)."""
    body = " ".join(term.words)
    return f'"{body}"' + ("*" if term.prefix else "")


def _tsquery(term: Term) -> ColumnElement[Any]:
    if term.prefix:
        # Earlier words as a phrase, the last as a prefix: 'refund' -> to_tsquery('refund:*').
        *head, last = term.words
        prefix = func.to_tsquery("english", func.concat(last, ":*"))
        if not head:
            return prefix
        return func.tsquery_phrase(func.phraseto_tsquery("english", " ".join(head)), prefix)
    return func.phraseto_tsquery("english", " ".join(term.words))


def utterance_condition(session: Session, term: Term) -> ColumnElement[bool]:
    """Utterances that contain ``term``, for the dialect ``session`` talks to."""
    if session.get_bind().dialect.name == "postgresql":
        return literal_column("utterances.tsv").op("@@")(_tsquery(term))
    # unique=True: each term of a search gets its own parameter in the one statement
    matching = text("SELECT rowid FROM utterances_fts WHERE utterances_fts MATCH :q").bindparams(
        bindparam("q", _fts5(term), unique=True)
    )
    return UtteranceRow.id.in_(matching.columns(column("rowid", Integer)))


def calls_containing(session: Session, terms: Sequence[Term]) -> list[ColumnElement[bool]]:
    """One condition per term: the call holds an utterance with it. (On PostgreSQL, EXISTS lets
    the planner either walk the newest calls and probe their utterances, for a common word, or
    start from the index of the word, for a rare one.)"""
    if session.get_bind().dialect.name != "postgresql":
        # SQLite runs an uncorrelated IN once; a correlated EXISTS would query FTS5 per call.
        return [
            Call.id.in_(select(UtteranceRow.call_id).where(utterance_condition(session, term)))
            for term in terms
        ]
    return [
        select(UtteranceRow.id)
        .where(UtteranceRow.call_id == Call.id, utterance_condition(session, term))
        .exists()
        for term in terms
    ]


def matches(
    session: Session, call_ids: Sequence[str], terms: Sequence[Term]
) -> dict[str, list[Match]]:
    """The utterances of ``call_ids`` that hold any of ``terms``, marked, in time order."""
    if not call_ids or not terms:
        return {}
    if session.get_bind().dialect.name == "postgresql":
        query_sql = _tsquery(terms[0])
        for term in terms[1:]:
            query_sql = query_sql.op("||")(_tsquery(term))
        marked = func.ts_headline(
            "english",
            UtteranceRow.text,
            query_sql,
            f"StartSel={_OPEN}, StopSel={_CLOSE}, HighlightAll=true",
        )
        rows = session.execute(
            select(
                UtteranceRow.call_id,
                UtteranceRow.idx,
                UtteranceRow.speaker,
                UtteranceRow.start,
                UtteranceRow.end,
                marked,
            )
            .where(UtteranceRow.call_id.in_(call_ids))
            .where(literal_column("utterances.tsv").op("@@")(query_sql))
            .order_by(UtteranceRow.call_id, UtteranceRow.start)
        )
    else:
        rows = session.execute(
            text(
                'SELECT u.call_id, u.idx, u.speaker, u.start, u."end", '
                f"highlight(utterances_fts, 0, '{_OPEN}', '{_CLOSE}') "
                "FROM utterances_fts JOIN utterances u ON u.id = utterances_fts.rowid "
                "WHERE utterances_fts MATCH :q AND u.call_id IN "
                "(SELECT value FROM json_each(:ids)) ORDER BY u.call_id, u.start"
            ),
            {"q": " OR ".join(_fts5(t) for t in terms), "ids": _json_list(call_ids)},
        )
    found: dict[str, list[Match]] = defaultdict(list)
    for call_id, idx, speaker, start, end, marked_text in rows:
        if len(found[call_id]) < MATCHES_PER_CALL:
            found[call_id].append(Match(idx, speaker, start, end, _marked(marked_text)))
    return dict(found)


def _marked(value: str) -> str:
    return html.escape(value).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


def _json_list(values: Sequence[str]) -> str:
    return json.dumps(list(values))
