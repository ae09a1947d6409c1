"""The import graph of the core: no module imports, directly or through others, one that
imports it back.

Imports are read from the source (ast), every one of them: at the top, inside functions and
under ``TYPE_CHECKING``, since a circle drawn only for the type checker is still a circle in the
design. A package's ``__init__`` is its own node; importing ``speechqa.a.b`` is an edge to
``speechqa.a.b`` only (Python runs ``speechqa/a/__init__.py`` first, but a face that hands
names on is no dependency of the module beside it).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGES = ("speechqa",)
"""Top-level packages whose modules are nodes of the graph."""


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, Path]:
    """Every module of the packages by its dotted name."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            found[module_name(path, root)] = path
    return found


def imported(path: Path, name: str, known: Mapping[str, Path]) -> set[str]:
    """The modules of ``known`` that the module ``name`` at ``path`` imports."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from a import b``: the module a.b where there is one, else a (a name in it).
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]  # ``import a.b.c`` of a name or a module
            if target and target != name:
                out.add(target)
    return out


def import_graph(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    known = modules(root, packages)
    return {name: imported(path, name, known) for name, path in known.items()}


def circles(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def describe(graph: Mapping[str, set[str]], circle: list[str]) -> str:
    members = set(circle)
    edges = [f"  {a} -> {b}" for a in circle for b in sorted(graph[a] & members)]
    return "circle of " + ", ".join(circle) + ":\n" + "\n".join(edges)


def test_the_core_has_no_import_circle() -> None:
    graph = import_graph(ROOT)
    assert "speechqa.redaction.tags" in graph["speechqa.rules.index"]  # the graph is read
    found = circles(graph)
    assert not found, "\n".join(describe(graph, c) for c in found)


def reachable(graph: Mapping[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        for w in graph.get(todo.pop(), ()):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def test_redaction_knows_no_rulesets_nor_settings() -> None:
    """The caller chooses the types (``Ruleset.redaction_types``); redaction only redacts them."""
    graph = import_graph(ROOT)
    package = [m for m in graph if m == "speechqa.redaction" or m.startswith("speechqa.redaction.")]
    assert "speechqa.redaction.tags" in package
    used = set().union(*(reachable(graph, m) for m in package))
    assert not {m for m in used if m.startswith("speechqa.rules") or m == "speechqa.settings"}


def test_a_circle_is_found_through_any_kind_of_import(tmp_path: Path) -> None:
    pkg = tmp_path / "speechqa"
    (pkg / "stage").mkdir(parents=True)
    (pkg / "rules").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "stage" / "__init__.py").write_text("")
    (pkg / "rules" / "__init__.py").write_text("")
    (pkg / "stage" / "tags.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..rules import ruleset\n"
    )
    (pkg / "rules" / "index.py").write_text("from speechqa.stage.tags import TAG\n")
    (pkg / "rules" / "ruleset.py").write_text("def f():\n    import speechqa.rules.index\n")
    (pkg / "apart.py").write_text("from speechqa import stage\n")
    graph = import_graph(tmp_path)
    assert graph["speechqa.apart"] == {"speechqa.stage"}
    assert circles(graph) == [
        ["speechqa.rules.index", "speechqa.rules.ruleset", "speechqa.stage.tags"]
    ]
    with pytest.raises(AssertionError, match=r"speechqa.stage.tags -> speechqa.rules.ruleset"):
        assert not circles(graph), describe(graph, circles(graph)[0])
