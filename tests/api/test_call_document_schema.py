"""The OpenAPI schema describes the call document fully: a generated client gets a typed model
for every object in it (none is a bare map of unknown keys)."""

from __future__ import annotations

from typing import Any

import pytest

from api.app import create_app


def _reachable(schemas: dict[str, Any], root: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every object schema reachable from ``root``, by its path from the root."""
    found: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()

    def walk(node: Any, where: str) -> None:
        if isinstance(node, list):
            for i, inner in enumerate(node):
                walk(inner, f"{where}[{i}]")
            return
        if not isinstance(node, dict):
            return
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                seen.add(name)
                walk(schemas[name], name)
            return
        if node.get("type") == "object" or "additionalProperties" in node:
            found[where] = node
        for key, inner in node.items():
            if key in ("properties", "$defs"):
                for name, prop in inner.items():
                    walk(prop, f"{where}.{name}")
            elif key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
                walk(inner, f"{where}.{key}")

    walk(root, "CallDocument")
    return found


@pytest.mark.parametrize("backend", ["embedded"])
def test_every_object_in_the_call_document_has_properties(settings: Any, backend: str) -> None:
    spec = create_app(settings).openapi()
    ok = spec["paths"]["/v1/calls/{call_id}"]["get"]["responses"]["200"]
    root = ok["content"]["application/json"]["schema"]
    objects = _reachable(spec["components"]["schemas"], root)
    assert {where for where, schema in objects.items() if not schema.get("properties")} == set()
    names = {where.rsplit(".", 1)[-1] for where in objects}
    # the parts a client walks: utterances with words and sentiment, the measures, the rules
    # with hits, the script, the scorecard down to an item's weak spots, the counted review
    assert {
        "Utterance",
        "Word",
        "Sentiment",
        "Measures",
        "RuleResult",
        "Hit",
        "Script",
        "ScriptStep",
        "Scorecard",
        "SectionResult",
        "ItemResult",
        "WeakSpot",
        "SentimentSummary",
        "RoleSentiment",
        "CountedReview",
    } <= names
    hit = spec["components"]["schemas"]["Hit"]["properties"]
    assert set(hit) == {"utterance", "speaker", "start", "end", "text"}  # no token positions
