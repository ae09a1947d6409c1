"""A call's conversation measures read back as they were stored with the call."""

from __future__ import annotations

from speechqa.contracts import Utterance, Word
from speechqa.pipeline.conversation import Measures, conversation, kpis


def test_measures_read_back_as_they_were_stored():
    turns = [Utterance(0, "agent", 0.0, 4.0, "how can I help?", [Word("how", 0.0, 0.5, 0.9)])]
    measured = conversation({"agent": [[0, 4]], "customer": [[5, 9]]}, turns, 12.0)
    stored = measured.as_dict()
    back = Measures.from_stored(stored)
    assert back.as_dict() == stored and kpis(back) == kpis(measured)
    assert (back.talk_s.agent, back.talk_s.customer, back.agent_questions) == (4.0, 4.0, 1)
    assert back.wpm == measured.wpm and back.wpm.customer == 0.0  # talk, but no words heard
