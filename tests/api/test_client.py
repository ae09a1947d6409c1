"""A client generated from the OpenAPI schema gets a typed model for every answer.

openapi-python-client (as a user of the API would run it) writes a client from the app's
``/openapi.json``; for every operation, each success answer with a JSON body must parse into a
generated model class (or a list of them) whose schema names its fields, never into a bare
``dict`` or ``Any``. Answers without a JSON body (204, audio, CSV) are not JSON and are skipped.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from speechqa_service.app import create_app

PACKAGE = "speechqa_generated_client"


def _generate(spec: dict[str, Any], where: Path) -> Path:
    """Write the client into ``where`` and make it importable; the package's folder."""
    (where / "openapi.json").write_text(json.dumps(spec))
    (where / "config.yaml").write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate",
         "--path", str(where / "openapi.json"), "--output-path", str(where / PACKAGE),
         "--meta", "none", "--config", str(where / "config.yaml")],
        check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    sys.path.insert(0, str(where))
    importlib.invalidate_caches()
    return where / PACKAGE


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def _json_successes(operation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each 2xx status whose answer has a JSON body, with that body's schema."""
    return {code: answer["content"]["application/json"].get("schema", {})
            for code, answer in operation["responses"].items()
            if code.startswith("2") and "application/json" in answer.get("content", {})}  # fmt: skip


def _parsed(source: str, code: str) -> str:
    """What the generated ``_parse_response`` makes of a ``code`` answer: its first lines."""
    found = re.search(
        rf"if response\.status_code == {code}:\n(.*?)\n\s+return response_{code}\n", source, re.S
    )
    return found.group(1) if found else ""


def _model(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any] | None:
    """The component a success schema names, directly or as the items of a list."""
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    ref = schema.get("$ref", "")
    return spec["components"]["schemas"].get(ref.rsplit("/", 1)[-1]) if ref else None


def _problems(spec: dict[str, Any], client: Path) -> list[str]:
    modules = {p.stem: p for p in client.glob("api/*/*.py")}
    problems = []
    for method, path, operation in _operations(spec):
        source_file = modules[re.sub("_+", "_", operation["operationId"])]
        source = source_file.read_text()
        for code, schema in _json_successes(operation).items():
            parsed = _parsed(source, code)
            model = _model(spec, schema)
            made = re.search(r"(\w+)\.from_dict\(", parsed)
            if made is None or model is None:
                problems.append(f"{method} {path} {code}: untyped ({parsed.strip()[:60]!r})")
            elif not model.get("properties") or model.get("additionalProperties") not in (
                None,
                False,
            ):
                problems.append(f"{method} {path} {code}: {made.group(1)} is open-ended")
            else:
                models = importlib.import_module(f"{PACKAGE}.models")
                assert isinstance(getattr(models, made.group(1)), type)
    return problems


@pytest.mark.parametrize("backend", ["embedded"])
def test_every_operation_answers_with_a_generated_model(settings, backend, tmp_path):
    spec = create_app(settings).openapi()
    client = _generate(spec, tmp_path)
    try:
        operations = list(_operations(spec))
        assert len(operations) >= 40
        assert _problems(spec, client) == []
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.split(".")[0] == PACKAGE]:
            del sys.modules[name]
