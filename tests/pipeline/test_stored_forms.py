"""A call's conversation measures and sentiment summary read back as they were stored."""

from __future__ import annotations

from speechqa.contracts import Sentiment, Utterance, Word
from speechqa.pipeline.conversation import Measures, conversation, kpis
from speechqa.pipeline.sentiment import SentimentSummary, summary


def test_measures_read_back_as_they_were_stored():
    turns = [Utterance(0, "agent", 0.0, 4.0, "how can I help?", [Word("how", 0.0, 0.5, 0.9)])]
    measured = conversation({"agent": [[0, 4]], "customer": [[5, 9]]}, turns, 12.0)
    stored = measured.as_dict()
    back = Measures.from_stored(stored)
    assert back.as_dict() == stored and kpis(back) == kpis(measured)
    assert (back.talk_s.agent, back.talk_s.customer, back.agent_questions) == (4.0, 4.0, 1)
    assert back.wpm == measured.wpm and back.wpm.customer == 0.0  # talk, but no words heard


def test_a_sentiment_summary_reads_back_as_it_was_stored():
    turns = [
        Utterance(0, "customer", 0.0, 4.0, "this is awful", sentiment=Sentiment("negative", -0.8)),
        Utterance(1, "customer", 30.0, 34.0, "thanks a lot", sentiment=Sentiment("positive", 0.6)),
    ]
    stored = summary(turns, 40.0).as_dict()
    back = SentimentSummary.from_stored(stored)
    assert back.as_dict() == stored and back.customer_sentiment_shift == 1.4
    assert back.by_role()["customer"].quarters == [-0.8, None, None, 0.6]
