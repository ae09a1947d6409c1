"""Plotly figures for the pages, built from the same numbers the API serves. Each is a plain
dict (data and layout) that ``static/charts.js`` draws; clicking a point can open the calls
behind it."""

from __future__ import annotations

from typing import Any

from speechqa.kpis import labels
from speechqa.pipeline.sentiment import SentimentSummary

COMPACT = {"margin": {"t": 10, "b": 40, "l": 50, "r": 10}}


def sentiment_quarters(summary: SentimentSummary) -> dict[str, Any] | None:
    roles = summary.by_role()
    if not roles:
        return None
    data = [
        {
            "x": ["Q1", "Q2", "Q3", "Q4"],
            "y": roles[role].quarters,
            "name": role,
            "type": "scatter",
            "mode": "lines+markers",
        }
        for role in sorted(roles)
    ]
    layout = {**COMPACT, "height": 220, "yaxis": {"range": [-1, 1], "title": {"text": "mood"}}}
    return {"data": data, "layout": layout}


def trend(buckets: list[dict[str, Any]], metric: str, label: str) -> dict[str, Any]:
    """A KPI's mean per bucket, with the call count in the hover."""
    points = [(b["start"], b["metrics"].get(metric), b["calls"]) for b in buckets]
    points = [(x, m["mean"], n) for x, m, n in points if m is not None]
    data = [
        {
            "x": [p[0] for p in points],
            "y": [p[1] for p in points],
            "name": label,
            "type": "scatter",
            "mode": "lines+markers+text",
            "text": [f"{p[2]} call{'s' if p[2] != 1 else ''}" for p in points],
            "textposition": "top center",
            "hovertemplate": "%{x}: %{y:.1f} (%{text})<extra></extra>",
        }
    ]
    yaxis: dict[str, Any] = {"title": {"text": label}}
    if labels.measure(metric).unit == "score":
        yaxis["range"] = [0, 112]  # a week of one 80 is not a collapse from 88
    layout = {**COMPACT, "height": 260, "yaxis": yaxis, "xaxis": {"type": "category"}}
    return {"data": data, "layout": layout}


def against_team(agent: list[float], team: list[float], label: str) -> dict[str, Any]:
    """The agent's calls beside the team's distribution of the same KPI."""
    data = [
        {"y": team, "name": "team", "type": "box", "boxpoints": False},
        {"y": agent, "name": "this agent", "type": "box", "boxpoints": "all", "jitter": 0.3},
    ]
    return {
        "data": data,
        "layout": {
            **COMPACT,
            "height": 260,
            "yaxis": {"title": {"text": label}},
            "showlegend": False,
        },
    }


def before_after(impact: Any) -> dict[str, Any]:
    """A coaching focus before and after the session, the agent beside the rest of the team."""

    def bars(change: Any, name: str) -> dict[str, Any]:
        sides = [change.before, change.after]
        return {
            "x": ["before", "after"],
            "y": [s.value for s in sides],
            "name": name,
            "type": "bar",
            "text": [
                f"{s.value:.3g} · {s.calls} calls" if s.value is not None else f"{s.calls} calls"
                for s in sides
            ],
            "textposition": "auto",
        }

    data = [bars(impact.agent, "agent")]
    if impact.team is not None:
        data.append(bars(impact.team, "rest of team"))
    return {
        "data": data,
        "layout": {
            **COMPACT,
            "height": 260,
            "margin": {"t": 30, "b": 40, "l": 50, "r": 10},
            "barmode": "group",
            "title": {"text": impact.label, "font": {"size": 14}},
        },
    }
