"""Redaction: precision and recall per type on spoken-style utterances, and the cost per call.

The utterances (``bench/data/redaction_utterances.txt``) are written as faster-whisper writes
calls: digits as words or numbers, in groups, "double five", "oh", cues said by the agent,
misheard words. Each word is scored: a word of type T redacted as T is a true positive of T; a
word redacted as T that is not T (another type or no personal data) a false positive; a T word
left or redacted as another type a false negative. "Leaked" counts the marked spans of which any
word was left in the clear (whatever type it was given).

The cost: the text stage on the example calls' reference transcripts, and writing the redacted
copy of each example recording (decode, silence the spans, FLAC), per call; and the text stage
on one hour-long transcript.

    python -m bench.redaction
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import ROOT
from speechqa import redaction
from speechqa.calls import recordings
from speechqa.contracts import Transcript, Utterance, Word
from speechqa.settings import Settings

DATA = ROOT / "bench" / "data" / "redaction_utterances.txt"
_MARK = re.compile(r"\{([A-Z_]+): ([^}]*)\}")


def parse(
    line: str,
) -> tuple[list[Utterance], list[list[str | None]], list[tuple[str, list[tuple[int, int]]]]]:
    """Utterances, the gold type of each word, and the marked spans as (type, [(utt, word)])."""
    utterances, gold, spans = [], [], []
    t = 0.0
    for k, turn in enumerate(line.split(" | ")):
        speaker, _, text = turn.partition(": ")
        labels: list[str | None] = []
        tokens: list[str] = []
        pos = 0
        for m in _MARK.finditer(text):
            before = text[pos : m.start()].split()
            tokens += before
            labels += [None] * len(before)
            inside = m.group(2).split()
            spans.append((m.group(1), [(k, len(tokens) + i) for i in range(len(inside))]))
            tokens += inside
            labels += [m.group(1)] * len(inside)
            pos = m.end()
        after = text[pos:].split()
        tokens += after
        labels += [None] * len(after)
        words = [
            Word(w, round(t + i * 0.35, 3), round(t + i * 0.35 + 0.3, 3), 0.9)
            for i, w in enumerate(tokens)
        ]
        utterances.append(Utterance(k, speaker.strip(), t, words[-1].end, " ".join(tokens), words))
        gold.append(labels)
        t = words[-1].end + 1.2
    return utterances, gold, spans


def predicted(utterances: list[Utterance]) -> list[list[str | None]]:
    """The type each word was redacted as (None: left in the clear)."""
    found = redaction.find(utterances)
    out: list[list[str | None]] = [[None] * len(u.words) for u in utterances]
    for s in found:
        for i, w in enumerate(utterances[s.utterance].words):
            if s.start <= w.start and w.end <= s.end:
                out[s.utterance][i] = s.type
    return out


def quality(path: Path) -> dict[str, dict[str, Any]]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    spans_total: Counter[str] = Counter()
    leaked: Counter[str] = Counter()
    false_alarm_lines = 0
    clean_lines = 0
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        utterances, gold, spans = parse(line)
        pred = predicted(utterances)
        for g_row, p_row in zip(gold, pred, strict=True):
            for g, p in zip(g_row, p_row, strict=True):
                if g is not None and p == g:
                    tp[g] += 1
                else:
                    if p is not None:
                        fp[p] += 1
                    if g is not None:
                        fn[g] += 1
        for kind, positions in spans:
            spans_total[kind] += 1
            if any(pred[u][w] is None for u, w in positions):
                leaked[kind] += 1
        if not spans:
            clean_lines += 1
            false_alarm_lines += any(p is not None for row in pred for p in row)
    table: dict[str, dict[str, Any]] = {}
    for kind in redaction.TYPES:
        prec = tp[kind] / (tp[kind] + fp[kind]) if tp[kind] + fp[kind] else float("nan")
        rec = tp[kind] / (tp[kind] + fn[kind]) if tp[kind] + fn[kind] else float("nan")
        table[kind] = {
            "precision": round(prec, 3),
            "recall": round(rec, 3),
            "words": tp[kind] + fn[kind],
            "spans": spans_total[kind],
            "leaked": leaked[kind],
        }
    all_tp, all_fp, all_fn = sum(tp.values()), sum(fp.values()), sum(fn.values())
    table["all"] = {
        "precision": round(all_tp / (all_tp + all_fp), 3),
        "recall": round(all_tp / (all_tp + all_fn), 3),
        "words": all_tp + all_fn,
        "spans": sum(spans_total.values()),
        "leaked": sum(leaked.values()),
        "clean_lines": clean_lines,
        "clean_lines_with_a_false_alarm": false_alarm_lines,
    }
    return table


def reference_transcript(ref: dict[str, Any]) -> Transcript:
    utterances = []
    for i, turn in enumerate(ref["turns"]):
        tokens = turn["text"].split()
        step = (turn["end"] - turn["start"]) / len(tokens)
        words = [
            Word(w, turn["start"] + k * step, turn["start"] + (k + 1) * step, 0.9)
            for k, w in enumerate(tokens)
        ]
        utterances.append(
            Utterance(i, turn["speaker"], turn["start"], turn["end"], turn["text"], words)
        )
    return Transcript(float(ref["duration_s"]), 2, ref["channels"], "en", utterances)


def cost(repeat: int) -> list[dict[str, object]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp))
        settings.audio_dir.mkdir(parents=True)
        for ref_path in sorted((ROOT / "examples").glob("*.json")):
            ref = json.loads(ref_path.read_text())
            transcript = reference_transcript(ref)
            shutil.copy(ROOT / "examples" / ref["audio"], settings.audio_dir / ref["audio"])
            text_s, audio_s = [], []
            for _ in range(repeat):
                started = time.perf_counter()
                result = redaction.redact(transcript)
                text_s.append(time.perf_counter() - started)
                started = time.perf_counter()
                recordings.write_redacted(
                    settings,
                    settings.audio_dir / ref["audio"],
                    ref["audio"],
                    redaction.silences(result, 0.15),
                )
                audio_s.append(time.perf_counter() - started)
            rows.append(
                {
                    "call": ref_path.stem,
                    "duration_s": ref["duration_s"],
                    "words": sum(len(u.words) for u in transcript.utterances),
                    "spans": [s.type for s in result.spans],
                    "text_ms": round(statistics.median(text_s) * 1000, 2),
                    "audio_ms": round(statistics.median(audio_s) * 1000, 1),
                }
            )
    return rows


def long_call(times: int = 60) -> dict[str, object]:
    """The text stage on one long transcript: billing_refund's turns said ``times`` over."""
    ref = json.loads((ROOT / "examples" / "billing_refund.json").read_text())
    utterances: list[Utterance] = []
    t = 0.0
    for _ in range(times):
        for turn in ref["turns"]:
            tokens = turn["text"].split()
            words = [Word(w, t + k * 0.3, t + k * 0.3 + 0.25, 0.9) for k, w in enumerate(tokens)]
            utterances.append(
                Utterance(len(utterances), turn["speaker"], t, words[-1].end, turn["text"], words)
            )
            t = words[-1].end + 1.5
    transcript = Transcript(t, 2, None, "en", utterances)
    started = time.perf_counter()
    result = redaction.redact(transcript)
    return {
        "minutes": round(t / 60, 1),
        "words": sum(len(u.words) for u in utterances),
        "spans": len(result.spans),
        "text_s": round(time.perf_counter() - started, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    table = quality(args.data)
    print(f"{'type':<14}{'precision':>10}{'recall':>8}{'words':>7}{'spans':>7}{'leaked':>8}")
    for kind, row in table.items():
        print(
            f"{kind:<14}{row['precision']:>10}{row['recall']:>8}{row['words']:>7}"
            f"{row['spans']:>7}{row['leaked']:>8}"
        )
    extra = table["all"]
    print(
        f"lines without personal data: {extra['clean_lines']}, "
        f"with a false alarm: {extra['clean_lines_with_a_false_alarm']}"
    )
    print("\ncost per call (median of", args.repeat, "runs)")
    for row in cost(args.repeat):
        print(json.dumps(row))
    print("one long call:", json.dumps(long_call()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
