"""The words of a call as the finders read them: one list in time order, both parties together.

Cues are said by one party and answered by the other, and a number may run over pauses and
turns, so the finders work on positions in this list; a :class:`Found` stretch of positions is
turned back into times per utterance at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from speechqa.contracts import Utterance
from speechqa.redaction.lexicon import NOT_NAMES


@dataclass
class CallWord:
    """A word of the call in time order, with where it sits in the transcript."""

    utt: int
    idx: int
    speaker: str
    text: str
    norm: str
    start: float
    end: float


@dataclass(frozen=True)
class Found:
    """Personal data a finder found: its type and its first and last word."""

    type: str
    first: int
    """Position in the call's word list (time order)."""
    last: int


def norm(word: str) -> str:
    """A word as cues and lexicon hold it: lower case, without punctuation or quotes."""
    return word.strip().strip(".,;:!?\"'()").lower()


def call_words(utterances: Sequence[Utterance]) -> list[CallWord]:
    """Every word of the utterances, in time order."""
    words = [
        CallWord(ui, wi, u.speaker, w.word, norm(w.word), w.start, w.end)
        for ui, u in enumerate(utterances)
        for wi, w in enumerate(u.words)
    ]
    words.sort(key=lambda w: (w.start, w.utt, w.idx))
    return words


def find_phrase(words: Sequence[CallWord], phrase: tuple[str, ...], at: int) -> bool:
    """Whether the phrase is said from position ``at`` on."""
    if words[at].norm != phrase[0] or at + len(phrase) > len(words):
        return False
    return all(words[at + k].norm == p for k, p in enumerate(phrase))


def capitalised(w: CallWord) -> bool:
    """Written as ASR writes a name: a capital first, letters only, no word that is never one."""
    t = w.text.strip().strip("\"'(")
    return bool(t) and t[0].isupper() and w.norm not in NOT_NAMES and w.norm.isalpha()
