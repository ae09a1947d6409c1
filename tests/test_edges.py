"""The edges do not lean on each other: the core imports no edge, no edge imports another, and
only the composition root (speechqa_service) imports several.

The edges live in the checkout's folders api/, web/, workers/ and cli/ and are installed as
speechqa_service.api, ... (pyproject maps them): inside an edge its own modules are imported
relatively, anything else by its installed name. Imports are read from the source with ast (also
those inside functions and under TYPE_CHECKING), so a late import cannot hide one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support import ROOT

PACKAGES = ("speechqa", "speechqa_service", "api", "web", "workers", "cli")
EDGES = {"api", "web", "workers", "cli"}
MAY_NOT_IMPORT = {
    "speechqa": {"api", "web", "workers", "cli", "speechqa_service"},
    "api": {"web", "workers", "cli"},
    "web": {"api", "workers", "cli"},
    "workers": {"api", "web", "cli", "speechqa_service"},
    "cli": {"api", "web", "workers"},
    "speechqa_service": {"cli"},
}


def imported_modules(path: Path) -> set[str]:
    """The modules a module imports (absolute imports only)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def unit(name: str) -> str:
    """The package of ours (or the top-level module) that an absolute import names: an edge by
    its installed name (speechqa_service.api -> api), the root's own modules as speechqa_service."""
    parts = name.split(".")
    if parts[0] == "speechqa_service" and len(parts) > 1 and parts[1] in EDGES:
        return parts[1]
    return parts[0]


def imported(path: Path) -> set[str]:
    """The packages a module imports."""
    return {unit(name) for name in imported_modules(path)}


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_every_package_is_read():
    for package in PACKAGES:
        assert modules(package), package
    assert imported(ROOT / "speechqa_service" / "app.py") >= {"api", "web", "workers"}


@pytest.mark.parametrize("package", sorted(MAY_NOT_IMPORT))
def test_a_package_imports_no_edge_it_may_not(package):
    refused = MAY_NOT_IMPORT[package]
    crossing = {
        str(path.relative_to(ROOT)): sorted(imported(path) & refused)
        for path in modules(package)
        if imported(path) & refused
    }
    assert crossing == {}


def test_only_the_composition_root_imports_several_edges():
    several = {
        str(path.relative_to(ROOT)): sorted(imported(path) & EDGES - {package})
        for package in PACKAGES
        for path in modules(package)
        if len(imported(path) & EDGES - {package}) > 1
    }
    assert all(path.startswith("speechqa_service/") for path in several), several


def test_edges_are_imported_by_their_installed_names():
    """A bare `import api` would load a second copy of the edge beside speechqa_service.api (and
    fails once installed, where no top-level api exists)."""
    bare = {
        str(path.relative_to(ROOT)): sorted(
            name for name in imported_modules(path) if name.split(".")[0] in EDGES
        )
        for package in (*PACKAGES, "tests", "bench", "scripts")
        for path in modules(package)
    }
    assert {path: names for path, names in bare.items() if names} == {}


def test_the_shared_edge_code_imports_no_edge():
    """api/ and web/ import speechqa_service.http: it must not import them back."""
    assert imported(ROOT / "speechqa_service" / "http.py") & (EDGES | {"speechqa_service"}) == set()


@pytest.mark.parametrize("package", ["api", "web"])
def test_the_http_edges_take_only_the_shared_code_from_the_root(package):
    """Not the app factory: it imports them (a circle)."""
    taken = {
        name
        for path in modules(package)
        for name in imported_modules(path)
        if unit(name) == "speechqa_service"
    }
    assert taken <= {"speechqa_service.http"}, taken
