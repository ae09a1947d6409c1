"""KPIs and measures read as people read them, in their units."""

from __future__ import annotations

import pytest

from speechqa.kpis import labels


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("agent_talk_pct", 0.4774, "48%"),
        ("silence_ratio", 0.0554, "6%"),
        ("longest_silence_s", 12.4, "0:12"),
        ("duration_s", 3725, "1:02:05"),
        ("qa_score", 86.25, "86.2"),
        ("customer_sentiment_shift", 0.4, "+0.40"),
        ("agent_questions", 3.0, "3"),
        ("agent_questions", 2.5, "2.5"),
        ("agent_wpm", 151.6, "152 words/min"),
        ("something_new", 0.123456, "0.123"),
        ("qa_score", None, ""),
    ],
)
def test_values_are_shown_in_their_unit(name, value, shown):
    assert labels.shown(name, value) == shown


def test_names_read_as_words():
    assert labels.label("agent_talk_pct") == "Agent talk time"
    assert labels.label("qa_score") == "QA score"
    assert labels.label("hold_time_s") == "Hold time"  # an unknown one, in its words
    assert labels.counter_label("rule:greeting") == "Rule 'greeting' hit"
    assert labels.counter_label("silence_over_10s") == "Silence over 10 s"
