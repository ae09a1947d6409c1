"""Benchmark: evaluating rulesets on transcripts, and re-scoring stored calls.

Builds its own data: a 10-minute two-party transcript (sentences of the sample calls, with word
timings) and a 100-rule ruleset using every operator and scope. Prints the time to compile the
ruleset, to index a transcript, and to evaluate the 100 rules on it.

    python bench/rules.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from speechqa.rulesets import load_ruleset  # noqa: E402
from speechqa.scoring import evaluate  # noqa: E402
from speechqa.textindex import TranscriptIndex  # noqa: E402
from speechqa.transcription import Word  # noqa: E402
from speechqa.utterances import Utterance  # noqa: E402

TEMPLATES = [
    ("agent", '"thank you for calling" OR "good morning"', "{first: 30}"),
    ("agent", '"my name is" OR "this is"', "{first: 45}"),
    ("customer", '"charged twice" OR expensive OR "too much"', None),
    ("agent", "(price NEAR/4 (high OR low)) OR discount*", None),
    ("agent", '"sorry to hear" OR apologi* OR "i understand"', None),
    ("customer", 'cancel* AND NOT "don\'t cancel"', None),
    ("agent", '"refund of [num] dollars" OR credit*', None),
    ("agent", 'hold BEFORE "thank you for holding"', None),
    ("any", '"anything else" OR "something else"', '{last: "20%"}'),
    ("agent", 'goodbye OR "great day"', "{last: 30}"),
]


def transcript(minutes: float = 10.0) -> list[Utterance]:
    turns = []
    for path in sorted((ROOT / "examples").glob("*.json")):
        turns += json.loads(path.read_text())["turns"]
    utterances: list[Utterance] = []
    t = 0.0
    while t < minutes * 60:
        turn = turns[len(utterances) % len(turns)]
        words = []
        for w in turn["text"].split():
            words.append(Word(w, round(t, 2), round(t + 0.3, 2), 0.9))
            t += 0.35
        utterances.append(
            Utterance(
                len(utterances), turn["speaker"], words[0].start, words[-1].end, turn["text"], words
            )
        )
        t += 0.8
    return utterances


def ruleset_text(n: int = 100) -> str:
    lines = ["name: bench", "rules:"]
    for i in range(n):
        speaker, match, window = TEMPLATES[i % len(TEMPLATES)]
        lines += [
            f"  - id: rule_{i}",
            f"    speaker: {speaker}",
            f"    match: '{match.replace(chr(39), chr(39) * 2)}'",
        ]
        if window:
            lines.append(f"    window: {window}")
        if i % 7 == 0:
            lines.append("    fuzzy: 1")
    lines += [
        "script:",
        "  steps: [rule_0, rule_1, rule_4, rule_8, rule_9]",
        "scorecard:",
        "  sections:",
        "    - name: All",
        "      items:",
    ]
    lines += [f"        - {{rule: rule_{i}, points: 5}}" for i in range(0, n, 3)]
    return "\n".join(lines) + "\n"


def main() -> int:
    utterances = transcript()
    words = sum(len(u.words) for u in utterances)
    t0 = time.perf_counter()
    ruleset = load_ruleset(ruleset_text())
    compile_ms = (time.perf_counter() - t0) * 1000
    TranscriptIndex.build(utterances[:3])  # loads spaCy and the lemma table once
    index_ms, eval_ms = [], []
    for _ in range(20):
        t0 = time.perf_counter()
        index = TranscriptIndex.build(utterances)
        index_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        result = evaluate(ruleset, index)
        eval_ms.append((time.perf_counter() - t0) * 1000)
    matched = sum(r.matched for r in result.rules)
    print(
        f"transcript: {utterances[-1].end / 60:.1f} min, {len(utterances)} utterances, "
        f"{words} words"
    )
    print(
        f"ruleset: {len(ruleset.rules)} rules ({matched} matched), compiled in {compile_ms:.1f} ms"
    )
    print(f"index a transcript: median {statistics.median(index_ms):.2f} ms")
    print(
        f"evaluate {len(ruleset.rules)} rules + script + scorecard: "
        f"median {statistics.median(eval_ms):.2f} ms (target < 5 ms)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
