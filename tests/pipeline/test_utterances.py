from speechqa.contracts import ChannelTranscript, Word
from speechqa.pipeline.utterances import merge_words


def words(*items):
    return [Word(w, s, e, 0.9) for w, s, e in items]


def channel(speaker, *items):
    return ChannelTranscript(speaker, words(*items), "en")


def test_a_pause_splits_an_utterance():
    ch = channel("agent", ("hello", 0.0, 0.4), ("there", 0.5, 0.9), ("sir", 2.0, 2.3))
    result = merge_words([ch], pause_s=1.0)
    assert [u.text for u in result] == ["hello there", "sir"]
    assert (result[0].start, result[0].end) == (0.0, 0.9)


def test_a_sentence_end_splits_an_utterance():
    ch = channel(
        "agent", ("Hello.", 0.0, 0.4), ("How", 0.5, 0.7), ("are", 0.7, 0.8), ("you?", 0.8, 1.0)
    )
    assert [u.text for u in merge_words([ch])] == ["Hello.", "How are you?"]


def test_speakers_are_ordered_by_time_and_overlaps_are_kept():
    agent = channel(
        "agent", ("thank", 0.0, 0.3), ("you", 0.3, 0.5), ("so", 3.0, 3.2), ("much", 3.2, 3.5)
    )
    customer = channel("customer", ("wait", 3.1, 3.4), ("what", 3.4, 3.7))
    result = merge_words([agent, customer], pause_s=1.0)
    assert [(u.speaker, u.text) for u in result] == [
        ("agent", "thank you"),
        ("agent", "so much"),
        ("customer", "wait what"),
    ]
    assert result[2].start < result[1].end  # overlapping speech stays overlapping
    assert [u.id for u in result] == [0, 1, 2]


def test_no_words_give_no_utterances():
    assert merge_words([channel("agent"), channel("customer")]) == []
