"""The OpenAPI schema describes the call document fully: a generated client gets a typed model
for every object in it (none is a bare map of unknown keys)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from speechqa_service.app import create_app


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


@pytest.mark.parametrize("backend", ["embedded"])
def test_a_generated_client_gets_a_typed_model_for_the_call_document(
    settings: Any, backend: str, tmp_path: Path
) -> None:
    pytest.importorskip("openapi_python_client")
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(create_app(settings).openapi()), encoding="utf-8")
    config = tmp_path / "config.yaml"
    config.write_text("post_hooks: []\n", encoding="utf-8")
    generator = Path(sys.executable).with_name("openapi-python-client")
    done = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(tmp_path / "client"),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Unable to parse" not in done.stdout and "Failure to process" not in done.stdout
    models = next((tmp_path / "client").glob("*/models"))
    document = (models / "call_document.py").read_text(encoding="utf-8")
    for typed in (
        "metrics: Measures | None",
        "sentiment: SentimentSummary",
        "utterances: list[Utterance]",
        "rules: list[RuleResult]",
    ):
        assert typed in document
    assert "sections: list[SectionResult]" in (models / "scorecard.py").read_text(encoding="utf-8")
