"""Score a sentiment model on the test splits, beside VADER measured in the same run.

Reads ``../shared/data/sentiment/unified/*_test.jsonl`` (label 0 negative, 1 neutral, 2 positive)
and prints macro-F1 (3-class; 2-class on the binary UCI set) and the model's speed on one core.

    python scripts/evaluate_sentiment.py [--model models/sentiment] [--shared ../shared/data/sentiment]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from speechqa.pipeline.sentiment import load_model  # noqa: E402

SPLITS = ["tweeteval_test", "airline_test", "meld_test", "goemotions_test", "uci_test"]
LABELS = ["negative", "neutral", "positive"]


def macro_f1(gold: list[int], pred: list[int], classes: list[int]) -> float:
    scores = []
    for k in classes:
        tp = sum(g == k and p == k for g, p in zip(gold, pred, strict=True))
        fp = sum(g != k and p == k for g, p in zip(gold, pred, strict=True))
        fn = sum(g == k and p != k for g, p in zip(gold, pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument(
        "--shared", type=Path, default=ROOT.parent / "shared" / "data" / "sentiment"
    )
    args = parser.parse_args()
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    model = load_model(args.model, threads=1)
    print(f"{'split':16} {'rows':>6} {'model':>7} {'VADER':>7}")
    for split in SPLITS:
        rows = [
            json.loads(line)
            for line in (args.shared / "unified" / f"{split}.jsonl").open(encoding="utf-8")
        ]
        texts, gold = [r["text"] for r in rows], [int(r["label"]) for r in rows]
        ours = [LABELS.index(s.label) for s in model.predict(texts)]
        compound = [vader.polarity_scores(t)["compound"] for t in texts]
        theirs = [2 if c >= 0.05 else 0 if c <= -0.05 else 1 for c in compound]
        classes = [0, 2] if split == "uci_test" else [0, 1, 2]
        if split == "uci_test":  # binary gold: a neutral guess is simply wrong
            ours = [p if p != 1 else (0 if g == 2 else 2) for p, g in zip(ours, gold, strict=True)]
            theirs = [
                p if p != 1 else (0 if g == 2 else 2) for p, g in zip(theirs, gold, strict=True)
            ]
        print(
            f"{split:16} {len(rows):6} {macro_f1(gold, ours, classes):7.3f} {macro_f1(gold, theirs, classes):7.3f}"
        )
    sample = ["I'm sorry to hear that, let me check that for you right away."] * 300
    t0 = time.perf_counter()
    for text in sample:
        model.predict([text])
    print(
        f"speed: {(time.perf_counter() - t0) / len(sample) * 1000:.2f} ms per utterance, one core, batch 1"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
