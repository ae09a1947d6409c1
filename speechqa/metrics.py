"""Metrics stage: the numbers a scorecard's ``kpi`` items test, computed from a transcript.

So far the sentiment figures (``customer_sentiment``, ``customer_sentiment_shift``); talk time,
silence, overlap and the other conversation metrics of KPIS.md join them here.
"""

from __future__ import annotations

from collections.abc import Sequence

from speechqa import sentiment
from speechqa.utterances import Utterance


def call_metrics(utterances: Sequence[Utterance], duration_s: float) -> dict[str, float]:
    """Every metric that can be computed for this transcript (absent ones are simply missing)."""
    return sentiment.metrics(sentiment.summary(utterances, duration_s))
