"""How people read a KPI or measure: its name in words and its value in its unit.

The stored names (``agent_talk_pct``, ``silence_ratio``) are the API's; pages, charts and
coaching statements show :func:`label` and :func:`shown` instead: "Agent talk time 48%",
"Longest silence 0:12".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["score", "fraction", "seconds", "count", "wpm", "mood", "ratio", "number"]


@dataclass(frozen=True)
class Measure:
    label: str
    unit: Unit


MEASURES: dict[str, Measure] = {
    "qa_score": Measure("QA score", "score"),
    "script_adherence": Measure("Script adherence", "fraction"),
    "duration_s": Measure("Call length", "seconds"),
    "agent_talk_pct": Measure("Agent talk time", "fraction"),
    "talk_listen_ratio": Measure("Agent share of talk", "fraction"),
    "silence_s": Measure("Silence in all", "seconds"),
    "silence_ratio": Measure("Share of silence", "fraction"),
    "longest_silence_s": Measure("Longest silence", "seconds"),
    "silence_count": Measure("Silences", "count"),
    "overtalk_s": Measure("Talking over each other", "seconds"),
    "agent_questions": Measure("Agent questions", "count"),
    "agent_interruptions": Measure("Agent interruptions", "count"),
    "customer_interruptions": Measure("Customer interruptions", "count"),
    "agent_wpm": Measure("Agent speaking rate", "wpm"),
    "customer_wpm": Measure("Customer speaking rate", "wpm"),
    "agent_longest_monologue_s": Measure("Agent's longest monologue", "seconds"),
    "customer_longest_monologue_s": Measure("Customer's longest monologue", "seconds"),
    "customer_sentiment_shift": Measure("Customer mood shift", "mood"),
    "customer_sentiment": Measure("Customer mood", "mood"),
    "agent_sentiment": Measure("Agent mood", "mood"),
    "critical_fail_rate": Measure("Critical fails", "fraction"),
    # a call's conversation measures, per speaker
    "talk_s": Measure("Talk time", "seconds"),
    "interruptions": Measure("Interruptions", "count"),
    "wpm": Measure("Speaking rate", "wpm"),
    "longest_monologue_s": Measure("Longest monologue", "seconds"),
}

COUNTERS = {
    "critical_fail": "Critical fail",
    "silence_over_10s": "Silence over 10 s",
    "customer_sentiment_drop": "Customer mood dropped",
}


def measure(name: str) -> Measure:
    """The measure's label and unit; an unknown name reads as its words."""
    known = MEASURES.get(name)
    if known is not None:
        return known
    words = name.removesuffix("_s").replace("_", " ")
    return Measure(words[:1].upper() + words[1:], "seconds" if name.endswith("_s") else "number")


def label(name: str) -> str:
    return measure(name).label


def counter_label(counter: str) -> str:
    """A journal counter in words: ``rule:greeting`` -> "Rule 'greeting' hit"."""
    if counter.startswith("rule:"):
        return f"Rule '{counter.removeprefix('rule:')}' hit"
    return COUNTERS.get(counter, label(counter))


def clock(seconds: float) -> str:
    """``m:ss`` (``h:mm:ss`` from an hour)."""
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def shown(name: str, value: float | None) -> str:
    """The value as people read it in the measure's unit ("" for no value)."""
    if value is None:
        return ""
    unit = measure(name).unit
    if unit == "fraction":
        return f"{100 * value:.0f}%"
    if unit == "seconds":
        return clock(value)
    if unit == "score":
        return f"{value:.1f}"
    if unit == "count":
        return f"{value:.1f}".removesuffix(".0")
    if unit == "wpm":
        return f"{value:.0f} words/min"
    if unit == "mood":
        return f"{value:+.2f}"
    return f"{value:.3g}"
