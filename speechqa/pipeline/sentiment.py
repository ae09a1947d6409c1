"""Sentiment stage: negative / neutral / positive, with a score in [-1, 1], for each utterance.

The model is an ONNX sequence classifier run with onnxruntime, its text split by the
``tokenizers`` library: no torch at run time. It is loaded lazily, once per process, from a
directory holding ``model.onnx``, ``tokenizer.json`` and a Hugging Face ``config.json`` (its
``id2label`` names the classes); any such directory can replace the shipped model (setting
``SPEECHQA_SENTIMENT_MODEL``). A missing or corrupt file is a clear error when the model is
loaded, never a crash in the middle of a call. The score is p(positive) - p(negative).

The model was trained on tweets and Reddit comments, where "sorry", "frustrating" and "no" mark
a writer's own bad mood. In a call an agent's apology or empathy ("I'm so sorry about the
trouble this has caused") and anyone's polite refusal ("No, that's fine") are courtesy, and the
model reads the customer's trouble in them as the speaker's negativity. The stage knows who
speaks, so ``courtesy`` recognises those lines and ``score_utterances`` moves the model's
negative probability onto neutral for them (measured on the team's call-centre set in
``data/sentiment/``, ``scripts/evaluate_sentiment.py``). Hostile words block the correction, and
customers' complaints are never touched: only polite refusals and clarifying apologies are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, cast

import numpy as np
from pydantic import ConfigDict
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from speechqa.contracts import NEUTRAL, Sentiment, Utterance
from speechqa.errors import ModelUnavailable
from speechqa.pipeline.warm import Loaded
from speechqa.stored import SERVED, ReadsAsStored


def _shipped(name: str) -> Path:
    """A model folder shipped in ``models/`` (installed as the package ``speechqa.model_files``)."""
    import speechqa.model_files

    return Path(speechqa.model_files.__file__).resolve().parent / name


DEFAULT_MODEL = _shipped("sentiment")
MAX_LENGTH = 128


class SentimentModel:
    """A loaded classifier; ``predict`` takes a batch of texts."""

    def __init__(self, directory: Path, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        directory = Path(directory)
        files = {name: directory / name for name in ("model.onnx", "tokenizer.json", "config.json")}
        missing = [name for name, path in files.items() if not path.is_file()]
        if missing:
            raise ModelUnavailable(
                f"The sentiment model in {directory} lacks {', '.join(missing)}."
            )
        try:
            config = json.loads(files["config.json"].read_text(encoding="utf-8"))
            id2label = {int(k): str(v).lower() for k, v in config["id2label"].items()}
            self.labels = [id2label[i] for i in range(len(id2label))]
            extra = directory / "speechqa.json"  # written by scripts/train_sentiment.py
            max_length = MAX_LENGTH
            if extra.is_file():
                max_length = int(
                    json.loads(extra.read_text(encoding="utf-8")).get("max_length", MAX_LENGTH)
                )
            self.tokenizer = Tokenizer.from_file(str(files["tokenizer.json"]))
            self.tokenizer.enable_truncation(max_length=max_length)
            self.tokenizer.enable_padding()
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            self.session = ort.InferenceSession(
                str(files["model.onnx"]), options, providers=["CPUExecutionProvider"]
            )
        except ModelUnavailable:
            raise
        except Exception as exc:  # a corrupt file raises from several libraries
            raise ModelUnavailable(
                f"The sentiment model in {directory} could not be loaded: {exc}"
            ) from exc
        if not {"negative", "positive"} <= set(self.labels):
            raise ModelUnavailable(
                f"The sentiment model's labels {self.labels} lack negative/positive."
            )
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.neg = self.labels.index("negative")
        self.pos = self.labels.index("positive")

    def predict(self, texts: Sequence[str], batch_size: int = 32) -> list[Sentiment]:
        """Label and score each text; empty or symbol-only texts are neutral."""
        return [self.sentiment(row) for row in self.probabilities(texts, batch_size)]

    def sentiment(self, row: np.ndarray | None) -> Sentiment:
        """The label and score of one row of class probabilities (None: no words, neutral)."""
        if row is None:
            return NEUTRAL
        return Sentiment(
            self.labels[int(row.argmax())], round(float(row[self.pos] - row[self.neg]), 4)
        )

    def probabilities(self, texts: Sequence[str], batch_size: int = 32) -> list[np.ndarray | None]:
        """Class probabilities of each text, in ``labels`` order; None for a text without words."""
        results: list[np.ndarray | None] = [None] * len(texts)
        todo = [i for i, t in enumerate(texts) if any(ch.isalnum() for ch in t)]
        # Sort by length so each batch pads little.
        todo.sort(key=lambda i: len(texts[i]))
        for at in range(0, len(todo), batch_size):
            idx = todo[at : at + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in idx])
            feed = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            (logits,) = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})
            probs = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs /= probs.sum(axis=1, keepdims=True)
            for row, i in zip(probs, idx, strict=True):
                results[i] = row
        return results


_models: Loaded[tuple[Path, int], SentimentModel] = Loaded(lambda key: SentimentModel(*key))


def load_model(directory: Path | None = None, threads: int = 1) -> SentimentModel:
    """The sentiment model in ``directory`` (default: the shipped one), loaded once per process."""
    return _models.get((Path(directory or DEFAULT_MODEL).resolve(), threads))


# An agent's apology, empathy or regret about the customer's situation (a superset of the
# default ruleset's empathy rule).
_EMPATHY = re.compile(
    r"\b(sorry|apologi[sz]\w*|apologies|regret|frustrat\w*|unfortunately|i'?m afraid"
    r"|i (completely |totally |really |do |fully |can )?(understand|get (it|how|why|that))"
    r"|i (can )?(hear|see|tell) (you|how|why|that)|i know (how|it'?s|that'?s|what)"
    r"|i can (only )?imagine|that (must|sounds)|must (be|have been))\b",
    re.IGNORECASE,
)
# A polite refusal or "no need" answer, said by anyone ("No, that's fine", "No worries"): a "no"
# with a reassuring word after it (a bare "No." or "Nope, not again" is not courtesy).
_REFUSAL = re.compile(
    r"^\W*(no|nope|nah)\b.*\b(fine|ok|okay|alright|all right|all good|no problem|not a problem"
    r"|no worries|no need|thanks|thank you|that'?s (all|everything|it)|covers|necessary"
    r"|don'?t worry|take your time|don'?t (need|have)|won'?t|nothing|no charge)\b"
    r"|^\W*(not (right )?now|not at the moment|not today|no need|no worries|no problem)\b",
    re.IGNORECASE,
)
# A clarifying apology, said by anyone ("Sorry, could you say that again?").
_CLARIFY = re.compile(
    r"^\W*(i'?m )?sorry\W+(could|can|would|what|which|who|where|when|how|say|one|go on"
    r"|go ahead|i missed|i didn'?t (catch|hear|get)|i couldn'?t hear)\b",
    re.IGNORECASE,
)
# Hostility towards the other party: never courtesy.
_HOSTILE = re.compile(
    r"not my problem|calm down|stupid|idiot|shut up|whatever|\bdumb\b|your (own )?fault"
    r"|waste of (my|your) time|already told you|go elsewhere|stop interrupting",
    re.IGNORECASE,
)
# A complaint, which a refusal or clarifying "sorry" may open ("No, that's not good enough").
_COMPLAINT = re.compile(
    r"\bnot (fine|ok|okay|good|happy|acceptable|alright|all right|on|right(?! now))\b|unacceptable"
    r"|ridiculous|disgrac|terrible|awful|useless|rubbish|pathetic|joke|scam|incompeten"
    r"|furious|angry|livid|fed up|sick (of|and tired)|had enough|complain|disappoint|worst"
    r"|\bwhy\b|\bstill\b|\bnever\b",
    re.IGNORECASE,
)


def courtesy(text: str, speaker: str) -> str | None:
    """Why ``text`` said by ``speaker`` is courtesy, not negativity: its kind, or None.

    ``empathy``: an agent's apology, empathy or regret; ``refusal``: a polite "no" from anyone;
    ``clarification``: "sorry, could you ..." from anyone. Hostile words rule all three out, and
    complaint words rule out a refusal or clarification (customers' complaints stay negative).
    """
    if _HOSTILE.search(text):
        return None
    if speaker == "agent" and _EMPATHY.search(text):
        return "empathy"
    if _COMPLAINT.search(text):
        return None
    if _REFUSAL.search(text):
        return "refusal"
    if _CLARIFY.search(text):
        return "clarification"
    return None


def score_utterances(
    model: SentimentModel, utterances: Sequence[Utterance], courtesy_aware: bool = True
) -> list[Utterance]:
    """The utterances with their sentiment, scored in batches.

    With ``courtesy_aware``, a courteous line (``courtesy``) has its negative probability moved
    onto neutral: the negativity the model hears there is the customer's trouble, not the
    speaker's mood. A model without a neutral class is left as it is.
    """
    rows = model.probabilities([u.text for u in utterances])
    out = []
    for u, row in zip(utterances, rows, strict=True):
        if courtesy_aware and row is not None and courtesy(u.text, u.speaker):
            row = neutralise(model, row)
        out.append(replace(u, sentiment=model.sentiment(row)))
    return out


def neutralise(model: SentimentModel, row: np.ndarray) -> np.ndarray:
    """``row`` with its negative probability moved onto neutral (unchanged without neutral)."""
    if "neutral" not in model.labels:
        return row
    moved = row.copy()
    moved[model.labels.index("neutral")] += moved[model.neg]
    moved[model.neg] = 0.0
    return moved


@dataclass(frozen=True)
class RoleSentiment:
    """One party's mood over the call."""

    __pydantic_config__ = SERVED

    turns: int
    quarters: list[float | None]
    """Mean turn score (-1..1) of each quarter of the call; None for a quarter without turns."""
    overall: float | None
    """Mean of the quarters that have turns."""

    def as_dict(self) -> dict[str, Any]:
        return {"turns": self.turns, "quarters": list(self.quarters), "overall": self.overall}


class SentimentRoles(TypedDict, total=False):
    """Per speaker with scored turns: agent and customer, or the one voice of a mono call
    (``speaker_1``), under its label."""

    # other labels are kept (pydantic reads this); mypy refuses a non-key name in a TypedDict
    __pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[misc]
    agent: RoleSentiment
    customer: RoleSentiment


@dataclass(frozen=True, eq=False)
class SentimentSummary(ReadsAsStored):
    """How each party's mood went over the call (see :func:`summary`)."""

    __pydantic_config__ = SERVED

    roles: SentimentRoles
    customer_sentiment_shift: float | None
    """The customer's last quarter minus the first (both must have turns)."""

    def by_role(self) -> dict[str, RoleSentiment]:
        """Every speaker's, under its label (the agent's and customer's, or another's)."""
        return cast(dict[str, RoleSentiment], self.roles)

    def as_dict(self) -> dict[str, Any]:
        roles = {role: r.as_dict() for role, r in self.by_role().items()}
        return {"roles": roles, "customer_sentiment_shift": self.customer_sentiment_shift}

    @classmethod
    def from_stored(cls, d: Mapping[str, Any]) -> SentimentSummary:
        roles = {
            role: RoleSentiment(r["turns"], list(r["quarters"]), r["overall"])
            for role, r in d["roles"].items()
        }
        return cls(cast(SentimentRoles, roles), d["customer_sentiment_shift"])


def summary(utterances: Sequence[Utterance], duration_s: float) -> SentimentSummary:
    """Per role: turns, the mean turn score of each quarter of the call, and overall.

    ``overall`` is the mean of the quarters that have turns (a long rant in one quarter does not
    outweigh the rest of the call); ``customer_sentiment_shift`` is the customer's last quarter
    minus the first (both must have turns). Quarters are by time; a turn belongs to the quarter
    of its midpoint. Quarters without turns are null.
    """
    duration = duration_s or max((u.end for u in utterances), default=0.0)
    roles: dict[str, RoleSentiment] = {}
    for role in sorted({u.speaker for u in utterances if u.sentiment is not None}):
        quarters: list[list[float]] = [[], [], [], []]
        turns = [u for u in utterances if u.speaker == role and u.sentiment is not None]
        for u in turns:
            mid = (u.start + u.end) / 2
            q = min(3, int(4 * mid / duration)) if duration > 0 else 0
            assert u.sentiment is not None
            quarters[q].append(u.sentiment.score)
        means = [round(sum(q) / len(q), 4) if q else None for q in quarters]
        present = [m for m in means if m is not None]
        overall = round(sum(present) / len(present), 4) if present else None
        roles[role] = RoleSentiment(len(turns), means, overall)
    customer = roles.get("customer")
    shift = None
    if customer and customer.quarters[0] is not None and customer.quarters[3] is not None:
        shift = round(customer.quarters[3] - customer.quarters[0], 4)
    return SentimentSummary(cast(SentimentRoles, roles), shift)


def metrics(summary_: SentimentSummary) -> dict[str, float]:
    """The sentiment figures a scorecard can test."""
    out: dict[str, float] = {}
    customer = summary_.roles.get("customer")
    if customer and customer.overall is not None:
        out["customer_sentiment"] = customer.overall
    if summary_.customer_sentiment_shift is not None:
        out["customer_sentiment_shift"] = summary_.customer_sentiment_shift
    return out
