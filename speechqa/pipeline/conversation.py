"""Metrics stage: how the conversation went, measured per call.

Talk, silence, overlap and interruptions come from each speaker's VAD speech intervals (the
voice on the speaker's channel; for a mono call, the speaker's separated turns); rates and
questions from the words. Definitions follow what contact-center users know from Contact Lens,
CCAI and Gong (see README):

- ``talk_s``: a speaker's speech intervals with gaps under ``bridge_s`` (1.0 s) bridged;
- non-talk (``silence_*``): stretches of ``silence_min_s`` (3 s) or more where nobody talks,
  the start and end of the call included;
- ``overtalk_s``: time both talk at once;
- an interruption: a party starts talking while the other is mid-turn, and both talk for at
  least ``interrupt_min_s`` (0.5 s); it counts for the party who starts;
- ``wpm``: words / talk minutes; ``longest_monologue_s``: the longest stretch of one party's
  talk that the other party does not break; ``agent_questions``: agent utterances that end in
  a question mark.

Every figure is a plain number so scorecards can test it (``agent_interruptions``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Self, TypeVar

from speechqa.contracts import Utterance
from speechqa.pipeline import sentiment
from speechqa.stored import SERVED, ReadsAsStored

Span = tuple[float, float]
ROLES = ("agent", "customer")
T = TypeVar("T")


@dataclass(frozen=True)
class MetricOptions:
    bridge_s: float = 1.0
    silence_min_s: float = 3.0
    interrupt_min_s: float = 0.5


def bridge(intervals: Sequence[Sequence[float]], gap_s: float) -> list[Span]:
    """Sort and merge intervals, joining those separated by less than ``gap_s``."""
    merged: list[list[float]] = []
    for start, end in sorted((float(a), float(b)) for a, b in intervals if b > a):
        if merged and start - merged[-1][1] < gap_s:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _total(spans: Sequence[Span]) -> float:
    return sum(b - a for a, b in spans)


def _intersection(a: Sequence[Span], b: Sequence[Span]) -> list[Span]:
    out: list[Span] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if hi > lo:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _gaps(spans: Sequence[Span], duration: float) -> list[Span]:
    """The stretches of [0, duration] not covered by ``spans`` (already merged and sorted)."""
    gaps, cursor = [], 0.0
    for a, b in spans:
        if a > cursor:
            gaps.append((cursor, a))
        cursor = max(cursor, b)
    if duration > cursor:
        gaps.append((cursor, duration))
    return gaps


def overtalk(
    speech: Mapping[str, Sequence[Sequence[float]]], bridge_s: float = MetricOptions.bridge_s
) -> list[Span]:
    """Stretches where the agent and the customer talk at once (``overtalk_s`` adds them up)."""
    agent, customer = (bridge(speech.get(role, []), bridge_s) for role in ROLES)
    return _intersection(agent, customer)


def silences(
    speech: Mapping[str, Sequence[Sequence[float]]],
    duration_s: float,
    min_s: float,
    bridge_s: float = MetricOptions.bridge_s,
) -> list[Span]:
    """Stretches of at least ``min_s`` where neither party talks, the call's edges included."""
    talk = [s for role in ROLES for s in bridge(speech.get(role, []), bridge_s)]
    return [(a, b) for a, b in _gaps(bridge(talk, 0.0), duration_s) if b - a >= min_s]


def _interruptions(mine: Sequence[Span], theirs: Sequence[Span], min_s: float) -> int:
    """Times a turn of ``mine`` starts inside one of ``theirs`` and overlaps it long enough."""
    count = 0
    for a, b in mine:
        for c, d in theirs:
            if c < a < d and min(b, d) - a >= min_s:
                count += 1
                break
    return count


def _longest_monologue(mine: Sequence[Span], theirs: Sequence[Span]) -> float:
    """Longest run of ``mine`` (joined across pauses) that ``theirs`` does not break."""
    best, run_start, run_end = 0.0, None, None
    for a, b in mine:
        broken = run_end is not None and any(c < a and d > run_end for c, d in theirs)
        if run_start is None or broken:
            run_start = a
        run_end = b
        best = max(best, run_end - run_start)
    return best


@dataclass(frozen=True)
class ByRole(Generic[T]):
    """A figure for each party."""

    agent: T
    customer: T

    def as_dict(self) -> dict[str, T]:
        return {"agent": self.agent, "customer": self.customer}

    @classmethod
    def from_stored(cls, d: Mapping[str, T]) -> Self:
        return cls(d["agent"], d["customer"])


# One class per kind of figure, so each has a name of its own in the OpenAPI schema.
@dataclass(frozen=True)
class RoleSeconds(ByRole[float]):
    """Seconds, for each party."""


@dataclass(frozen=True)
class RoleCounts(ByRole[int]):
    """A count, for each party."""


@dataclass(frozen=True)
class RoleRates(ByRole[float | None]):
    """Words per minute of talk, for each party (None: it did not talk)."""

    __pydantic_config__ = SERVED


@dataclass(frozen=True, eq=False)
class Measures(ReadsAsStored):
    """The conversation measures of one call (stored with the call, served as ``metrics``)."""

    __pydantic_config__ = SERVED

    duration_s: float
    talk_s: RoleSeconds
    agent_talk_pct: float | None
    """Share of the call the agent talks, 0-1."""
    talk_listen_ratio: float | None
    """Agent talk over both parties' talk, 0-1."""
    silence_s: float
    silence_ratio: float | None
    longest_silence_s: float
    silence_count: int
    overtalk_s: float
    interruptions: RoleCounts
    wpm: RoleRates
    longest_monologue_s: RoleSeconds
    agent_questions: int

    def as_dict(self) -> dict[str, Any]:
        """The stored form (a call's ``metrics`` column)."""
        return {
            "duration_s": self.duration_s,
            "talk_s": self.talk_s.as_dict(),
            "agent_talk_pct": self.agent_talk_pct,
            "talk_listen_ratio": self.talk_listen_ratio,
            "silence_s": self.silence_s,
            "silence_ratio": self.silence_ratio,
            "longest_silence_s": self.longest_silence_s,
            "silence_count": self.silence_count,
            "overtalk_s": self.overtalk_s,
            "interruptions": self.interruptions.as_dict(),
            "wpm": self.wpm.as_dict(),
            "longest_monologue_s": self.longest_monologue_s.as_dict(),
            "agent_questions": self.agent_questions,
        }

    @classmethod
    def from_stored(cls, d: Mapping[str, Any]) -> Measures:
        return cls(
            d["duration_s"],
            RoleSeconds.from_stored(d["talk_s"]),
            d["agent_talk_pct"],
            d["talk_listen_ratio"],
            d["silence_s"],
            d["silence_ratio"],
            d["longest_silence_s"],
            d["silence_count"],
            d["overtalk_s"],
            RoleCounts.from_stored(d["interruptions"]),
            RoleRates.from_stored(d["wpm"]),
            RoleSeconds.from_stored(d["longest_monologue_s"]),
            d["agent_questions"],
        )


def conversation(
    speech: Mapping[str, Sequence[Sequence[float]]],
    utterances: Sequence[Utterance],
    duration_s: float,
    options: MetricOptions | None = None,
) -> Measures:
    """The conversation metrics of one call (agent/customer roles; others are ignored)."""
    options = options or MetricOptions()
    talk = {role: bridge(speech.get(role, []), options.bridge_s) for role in ROLES}
    quiet = silences(speech, duration_s, options.silence_min_s, options.bridge_s)
    talk_s = {role: round(_total(talk[role]), 2) for role in ROLES}
    words = {role: sum(len(u.words) for u in utterances if u.speaker == role) for role in ROLES}
    both = talk_s["agent"] + talk_s["customer"]
    wpm = {
        role: round(words[role] / (talk_s[role] / 60), 1) if talk_s[role] else None
        for role in ROLES
    }
    return Measures(
        duration_s=round(duration_s, 2),
        talk_s=RoleSeconds(talk_s["agent"], talk_s["customer"]),
        agent_talk_pct=round(talk_s["agent"] / duration_s, 4) if duration_s else None,
        talk_listen_ratio=round(talk_s["agent"] / both, 4) if both else None,
        silence_s=round(_total(quiet), 2),
        silence_ratio=round(_total(quiet) / duration_s, 4) if duration_s else None,
        longest_silence_s=round(max((b - a for a, b in quiet), default=0.0), 2),
        silence_count=len(quiet),
        overtalk_s=round(_total(_intersection(talk["agent"], talk["customer"])), 2),
        interruptions=RoleCounts(
            _interruptions(talk["agent"], talk["customer"], options.interrupt_min_s),
            _interruptions(talk["customer"], talk["agent"], options.interrupt_min_s),
        ),
        wpm=RoleRates(wpm["agent"], wpm["customer"]),
        longest_monologue_s=RoleSeconds(
            round(_longest_monologue(talk["agent"], talk["customer"]), 2),
            round(_longest_monologue(talk["customer"], talk["agent"]), 2),
        ),
        agent_questions=sum(
            1 for u in utterances if u.speaker == "agent" and u.text.rstrip().endswith("?")
        ),
    )


def kpis(measures: Measures) -> dict[str, float]:
    """Flatten the measures into the names scorecard items test (None values are left out)."""
    flat: dict[str, float | None] = {
        "duration_s": measures.duration_s,
        "agent_talk_pct": measures.agent_talk_pct,
        "talk_listen_ratio": measures.talk_listen_ratio,
        "silence_s": measures.silence_s,
        "silence_ratio": measures.silence_ratio,
        "longest_silence_s": measures.longest_silence_s,
        "silence_count": measures.silence_count,
        "overtalk_s": measures.overtalk_s,
        "agent_questions": measures.agent_questions,
    }
    for role in ROLES:
        flat[f"{role}_interruptions"] = getattr(measures.interruptions, role)
        flat[f"{role}_wpm"] = getattr(measures.wpm, role)
        flat[f"{role}_longest_monologue_s"] = getattr(measures.longest_monologue_s, role)
    return {k: float(v) for k, v in flat.items() if v is not None}


def call_metrics(
    utterances: Sequence[Utterance],
    duration_s: float,
    measured: Measures | None = None,
) -> dict[str, float]:
    """Every metric a scorecard can test for this call (what cannot be computed is missing).

    ``measured`` is the call's ``conversation`` metrics, computed once when the transcript is
    stored and kept with the call.
    """
    out = sentiment.metrics(sentiment.summary(utterances, duration_s))
    if measured:
        out.update(kpis(measured))
    return out
