"""The package as users install it: a wheel that carries everything speechqa needs at run time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

from tests.support import EXAMPLES, ROOT

PACKAGES = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
# Where each top-level folder of the checkout lands in the wheel: models/ in speechqa.model_files,
# the edges inside speechqa_service (nothing of ours is a top-level api, web, workers or cli).
MAPPED = {
    "models": "speechqa/model_files",
    "api": "speechqa_service/api",
    "workers": "speechqa_service/workers",
    "cli": "speechqa_service/cli",
    "web": "speechqa_service/web",
}
TOPS = ("speechqa", "speechqa_service", *MAPPED)


def _installed_path(path: str) -> str:
    """Where a file of the checkout lands in the wheel."""
    top, _, rest = path.partition("/")
    return f"{MAPPED[top]}/{rest}" if top in MAPPED else path


def _shipped_files() -> list[str]:
    """The checkout's files that the wheel must carry: every committed file of the packages."""
    out = subprocess.run(["git", "ls-files", "--", *TOPS], capture_output=True, text=True,
                         cwd=ROOT, check=True)  # fmt: skip
    return [p for p in out.stdout.splitlines() if (ROOT / p).is_file()]


def test_every_folder_of_the_tree_is_a_named_package():
    folders = {
        ".".join(Path(_installed_path(p)).parent.parts).replace("/", ".") for p in _shipped_files()
    }
    assert folders == set(PACKAGES)


def test_the_wheel_builds_without_a_warning_and_carries_every_file(tmp_path):
    # A copy of the committed files: a stale build/ folder in the checkout cannot hide a gap.
    source = tmp_path / "source"
    for path in [*_shipped_files(), "pyproject.toml", "README.md"]:
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, source / path)
    dist = tmp_path / "dist"
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
         str(dist), str(source)],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PIP_NO_INPUT": "1"},
        timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    for noise in ("would be ignored", "BuildBackendWarning", "SetuptoolsDeprecationWarning"):
        assert noise not in out.stdout + out.stderr
    (wheel,) = dist.glob("speechqa-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        inside = {n for n in zf.namelist() if ".dist-info/" not in n}
    assert inside == {_installed_path(p) for p in _shipped_files()}
    # Two names of ours in site-packages, none that another project may also have.
    assert {n.split("/")[0] for n in inside} == {"speechqa", "speechqa_service"}


@pytest.mark.slow
def test_the_wheel_installs_and_analyses_a_call_outside_the_checkout(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(ROOT)],
        check=True, cwd=tmp_path, env={**os.environ, "PIP_NO_INPUT": "1"},
    )  # fmt: skip
    (wheel,) = dist.glob("speechqa-*.whl")
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True
        ).strip()
    )
    # The dependencies come from this environment (no network in tests); its editable install of
    # speechqa does not, since .pth files in an added folder are not run.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--ignore-installed",
         "-q", wheel],
        check=True, cwd=tmp_path,
    )  # fmt: skip
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    call = shutil.copy(EXAMPLES / "billing_refund.wav", elsewhere / "call.wav")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPEECHQA_", "PYTHON"))}
    env["SPEECHQA_DATA_DIR"] = str(elsewhere / "var")
    speechqa = str(env_dir / "bin" / "speechqa")

    where = subprocess.check_output(
        [python, "-c", "import speechqa.pipeline.sentiment as s; print(s.DEFAULT_MODEL)"],
        cwd=elsewhere, env=env, text=True,
    )  # fmt: skip
    assert Path(where.strip()).is_relative_to(site), where
    # The speaker-embedding model ships too (mono calls are separated with it).
    where = subprocess.check_output(
        [python, "-c", "import speechqa.pipeline.voices as v; v.load_encoder(); "
         "print(v.default_model())"],
        cwd=elsewhere, env=env, text=True,
    )  # fmt: skip
    assert Path(where.strip()).is_relative_to(site), where

    lines = "I am so angry, this is the third time you cut me off.\nThank you, that was great!\n"
    out = subprocess.run(
        [speechqa, "sentiment"], input=lines, capture_output=True, text=True, cwd=elsewhere,
        env=env, timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    labels = [json.loads(line)["label"] for line in out.stdout.splitlines()]
    assert labels == ["negative", "positive"]

    out = subprocess.run(
        [speechqa, "analyze", str(call), "--json"], capture_output=True, text=True,
        cwd=elsewhere, env=env, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["speakers"] == ["agent", "customer"]
    assert doc["score"]["ruleset"] == "default" and doc["score"]["value"] is not None
    assert any(u["sentiment"] for u in doc["utterances"])

    # The web app's pages and assets come with it: the sign-in page renders from the wheel.
    page = subprocess.run(
        [python, "-c", "from fastapi.testclient import TestClient; from speechqa_service.app import create_app; "
         "c = TestClient(create_app()); r = c.get('/login'); s = c.get('/static/call.js'); "
         "p = c.get('/static/vendor/plotly.min.js'); "
         "print(r.status_code, 'Your API key' in r.text, s.status_code, p.status_code)"],
        capture_output=True, text=True, cwd=elsewhere, env=env, timeout=120,
    )  # fmt: skip
    assert page.stdout.split() == ["200", "True", "200", "200"], page.stderr
