"""Benchmark: evaluating rulesets on transcripts, and re-scoring stored calls.

Builds its own data: a 10-minute two-party transcript (sentences of the sample calls, with word
timings) and a 100-rule ruleset using every operator and scope. Prints the time to compile the
ruleset, to index a transcript, and to evaluate the 100 rules on it. Then stores N calls (each
with a one-minute transcript, like the sample calls) in a fresh database and times re-scoring
all of them with the default ruleset, database reads and writes included.

    python -m bench.rules [--calls 10000] [--database-url postgresql://postgres@127.0.0.1/test]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import asdict
from pathlib import Path

from bench.common import ROOT
from speechqa.contracts import Utterance, Word
from speechqa.rules.index import TranscriptIndex
from speechqa.rules.ruleset import load_ruleset
from speechqa.rules.scorecard import evaluate

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


def rescore_bench(calls: int, database_url: str | None) -> None:
    import tempfile
    import uuid

    from sqlalchemy import insert, text

    from speechqa.scoring import rescore
    from speechqa.settings import Settings
    from speechqa.storage.database import dispose_engines, get_engine, migrate, session_scope
    from speechqa.storage.tables import Agent, Base, Call, UtteranceRow

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=database_url)
        if database_url:
            with get_engine(settings).begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        migrate(settings)
        one_call = transcript(minutes=1.0)
        t0 = time.perf_counter()
        with session_scope(settings) as session:
            session.add(Agent(id="bench"))
            session.flush()
            for at in range(0, calls, 1000):
                ids = [uuid.uuid4().hex for _ in range(min(1000, calls - at))]
                call_row = {
                    "agent_id": "bench",
                    "audio_path": "-",
                    "audio_sha256": "-",
                    "audio_bytes": 0,
                    "status": "done",
                    "duration_s": 60.0,
                    "tags": [],
                    "extra": {},
                }
                session.execute(insert(Call), [{"id": cid, **call_row} for cid in ids])
                rows = [
                    {
                        "idx": u.id,
                        "speaker": u.speaker,
                        "start": u.start,
                        "end": u.end,
                        "text": u.text,
                        "words": [asdict(w) for w in u.words],
                    }
                    for u in one_call
                ]
                session.execute(
                    insert(UtteranceRow), [{"call_id": cid, **row} for cid in ids for row in rows]
                )
        load_s = time.perf_counter() - t0
        rescore(settings, "default")  # seeds the default ruleset; the timed run below is a rerun
        t0 = time.perf_counter()
        version, done = rescore(settings, "default")
        elapsed = time.perf_counter() - t0
        backend = get_engine(settings).dialect.name
        rate = done / elapsed
        print(
            f"{backend}: stored {calls} calls ({len(one_call)} utterances each) in {load_s:.1f} s; "
            f"re-scored {done} with 'default' v{version} in {elapsed:.1f} s = {rate:.0f} calls/s "
            "(target > 500)"
        )
        if database_url:
            Base.metadata.drop_all(get_engine(settings))
        dispose_engines()


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
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
    rescore_bench(args.calls, args.database_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
