import pytest

from speechqa.pipeline.wer import normalize, wer


def test_normalize_lowercases_strips_punctuation_and_expands_contractions():
    assert normalize("Hi, I'm John. It's fine!") == ["hi", "i", "am", "john", "it", "is", "fine"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("press one to mute", ["press", "1", "to", "mute"]),
        ("press 1 to mute", ["press", "1", "to", "mute"]),
        ("twenty five and twenty", ["25", "and", "20"]),
        ("seven of clubs, ten of clubs", ["7", "of", "clubs", "10", "of", "clubs"]),
        ("someone done", ["someone", "done"]),
    ],
)
def test_normalize_writes_numbers_said_in_words_as_digits(text, words):
    assert normalize(text) == words


@pytest.mark.parametrize(
    ("ref", "hyp", "expected"),
    [
        ("thank you for calling", "Thank you for calling.", 0.0),
        ("thank you for calling", "thank you calling", 0.25),
        ("thank you", "thank you very much", 1.0),
        ("a b c d", "x b c d", 0.25),
        ("", "", 0.0),
        ("press 2 for sales", "Press two for sales.", 0.0),
    ],
)
def test_wer(ref, hyp, expected):
    assert wer(ref, hyp) == pytest.approx(expected)
