"""Score a sentiment model on the public test splits and on the team's call-centre lines.

Reads ``../shared/data/sentiment/unified/*_test.jsonl`` (label 0 negative, 1 neutral, 2 positive)
and prints macro-F1 (3-class; 2-class on the binary UCI set) of the model alone, of the model
with the pipeline's courtesy correction as if every line were said by a customer and by an
agent, and of VADER, all in the same run; then the model's speed on one core.

Then scores ``data/sentiment/callcenter_<split>.jsonl`` (written by the team, each line with its
speaker; ``dev`` to choose, ``test`` scored once): macro-F1 of the model alone and as the
pipeline runs it (courtesy correction by speaker), the share of the agents' empathy and apology
lines read as negative, and of the customers' complaints read as negative. ``--baseline`` scores
a second model directory in the same run (before/after a retrain).

    python scripts/evaluate_sentiment.py [--model models/sentiment] [--baseline DIR]
        [--shared ../shared/data/sentiment] [--callcenter test|dev] [--skip-public]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from speechqa.contracts import Utterance  # noqa: E402
from speechqa.pipeline.sentiment import (  # noqa: E402
    SentimentModel,
    courtesy,
    load_model,
    neutralise,
    score_utterances,
)

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


def _corrected(
    model: SentimentModel, texts: list[str], rows: list[np.ndarray | None], speaker: str | None
) -> list[int]:
    """Predictions from the model's probabilities ``rows``, corrected as said by ``speaker``."""
    out = []
    for text, row in zip(texts, rows, strict=True):
        if row is not None and speaker and courtesy(text, speaker):
            row = neutralise(model, row)
        out.append(LABELS.index(model.sentiment(row).label))
    return out


def _f1(split: str, gold: list[int], pred: list[int]) -> float:
    if split == "uci_test":  # binary gold: a neutral guess is simply wrong
        pred = [p if p != 1 else (0 if g == 2 else 2) for p, g in zip(pred, gold, strict=True)]
        return macro_f1(gold, pred, [0, 2])
    return macro_f1(gold, pred, [0, 1, 2])


def public(models: dict[str, SentimentModel], shared: Path) -> None:
    """Macro-F1 on the public test splits: each model alone, with the correction, and VADER."""
    try:  # a yardstick only, not a dependency: pip install vaderSentiment
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        vader = SentimentIntensityAnalyzer()
    except ImportError:
        vader = None
    head = "".join(f" {n:>7} {n + '+cust':>11} {n + '+agent':>12}" for n in models)
    print(f"{'split':16} {'rows':>6}{head} {'VADER':>7}")
    for split in SPLITS:
        rows = [
            json.loads(line)
            for line in (shared / "unified" / f"{split}.jsonl").open(encoding="utf-8")
        ]
        texts, gold = [r["text"] for r in rows], [int(r["label"]) for r in rows]

        cells = ""
        for model in models.values():
            probs = model.probabilities(texts)
            alone = _corrected(model, texts, probs, None)
            customer = _corrected(model, texts, probs, "customer")
            agent = _corrected(model, texts, probs, "agent")
            cells += f" {_f1(split, gold, alone):7.3f} {_f1(split, gold, customer):11.3f} {_f1(split, gold, agent):12.3f}"
        yardstick = "    n/a"
        if vader is not None:
            compound = [vader.polarity_scores(t)["compound"] for t in texts]
            theirs = [2 if c >= 0.05 else 0 if c <= -0.05 else 1 for c in compound]
            yardstick = f"{_f1(split, gold, theirs):7.3f}"
        print(f"{split:16} {len(rows):6}{cells} {yardstick}", flush=True)


EMPATHY = {"empathy", "apology"}  # the agents' lines the issue is about
COMPLAINTS = {"complaint", "angry", "sarcasm"}  # the customers' negative lines


def callcenter(models: dict[str, SentimentModel], path: Path) -> None:
    """Macro-F1 and the shares that matter on the team's call-centre lines."""
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    gold = [LABELS.index(r["label"]) for r in rows]
    utterances = [Utterance(i, r["speaker"], 0.0, 0.0, r["text"]) for i, r in enumerate(rows)]
    print(f"\n{path.name}: {len(rows)} lines")
    print(
        f"{'':22} {'macro-F1':>8} {'empathy neg':>12} {'complaints neg':>15} {'refusals neg':>13}"
    )
    for name, model in models.items():
        for mode, aware in (("alone", False), ("pipeline", True)):
            scored = score_utterances(model, utterances, courtesy_aware=aware)
            pred = [LABELS.index(u.sentiment.label) for u in scored if u.sentiment]

            def share(categories: set[str], pred: list[int] = pred) -> str:
                idx = [i for i, r in enumerate(rows) if r["category"] in categories]
                neg = sum(pred[i] == 0 for i in idx)
                return f"{neg}/{len(idx)} {neg / len(idx):.0%}"

            print(
                f"{name + ' ' + mode:22} {macro_f1(gold, pred, [0, 1, 2]):8.3f} "
                f"{share(EMPATHY):>12} {share(COMPLAINTS):>15} {share({'refusal'}):>13}"
            )
            if name == next(iter(models)) and aware:
                by: dict[str, list[int]] = {}
                for i, r in enumerate(rows):
                    by.setdefault(f"{r['category']}/{r['speaker']}", []).append(
                        int(pred[i] == gold[i])
                    )
                print(
                    "  right per category (pipeline): "
                    + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(by.items()))
                )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--baseline", type=Path, default=None, help="a second model, same run")
    parser.add_argument(
        "--shared", type=Path, default=ROOT.parent / "shared" / "data" / "sentiment"
    )
    parser.add_argument("--callcenter", choices=["dev", "test"], default="test")
    parser.add_argument("--skip-public", action="store_true")
    args = parser.parse_args()
    models = {"model": load_model(args.model, threads=1)}
    if args.baseline:
        models = {"base": load_model(args.baseline, threads=1), "new": models["model"]}
    if not args.skip_public:
        public(models, args.shared)
    model = models["model" if "model" in models else "new"]
    sample = ["I'm sorry to hear that, let me check that for you right away."] * 300
    t0 = time.perf_counter()
    for text in sample:
        model.predict([text])
    print(
        f"speed: {(time.perf_counter() - t0) / len(sample) * 1000:.2f} ms per utterance, one core, batch 1"
    )
    callcenter(models, ROOT / "data" / "sentiment" / f"callcenter_{args.callcenter}.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
