"""Names by their pattern: capitalised words after "my name is", "Mr", "I spoke to"..., and
the other party's answer to "your full name"."""

from __future__ import annotations

from collections.abc import Sequence

from speechqa.redaction.lexicon import NAME_CUE_INDEX, NAME_QUESTION_INDEX
from speechqa.redaction.words import CallWord, Found, capitalised, find_phrase


def name_spans(words: Sequence[CallWord]) -> list[Found]:
    """Up to three capitalised words after a name cue; the answer to a question for a name."""
    found = []
    for i in range(len(words)):
        for cue in NAME_CUE_INDEX.get(words[i].norm, ()):
            if not find_phrase(words, cue, i):
                continue
            j = i + len(cue)
            k = j
            while k < len(words) and k - j < 3 and words[k].speaker == words[i].speaker:
                if not capitalised(words[k]):
                    break
                k += 1
                if words[k - 1].text.rstrip()[-1:] in ".,?!;":
                    break  # "my name is Sarah. How..."
            if k > j:
                found.append(Found("NAME", j, k - 1))
            break
        for question in NAME_QUESTION_INDEX.get(words[i].norm, ()):
            if not find_phrase(words, question, i):
                continue
            asker = words[i].speaker
            # the other party's next few words: "Sure, it is John Smith."
            answer = [
                p
                for p in range(i + len(question), min(i + 20, len(words)))
                if words[p].speaker != asker
            ][:6]
            run: list[int] = []
            for p in answer:
                if capitalised(words[p]) and (not run or p == run[-1] + 1):
                    run.append(p)
                elif run:
                    break
            if run:
                found.append(Found("NAME", run[0], run[-1]))
            break
    return found
