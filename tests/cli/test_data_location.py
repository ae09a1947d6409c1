"""Which data the user and key commands change: the service's, said on every run, never a new
empty database made by running them in another folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT


def speechqa(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "speechqa_service.cli.main", *args], cwd=cwd, capture_output=True, text=True,
        timeout=120, env={**env, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


@pytest.fixture
def bare_env() -> dict[str, str]:
    """The environment with nothing of speechqa's configured."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SPEECHQA_")}


def test_in_a_folder_without_data_the_commands_refuse_and_create_nothing(tmp_path, bare_env):
    for command in (["user", "list"], ["user", "create", "rita", "--role", "reviewer"],
                    ["apikey", "create", "--scope", "review"], ["apikey", "list"]):  # fmt: skip
        out = speechqa(*command, cwd=tmp_path, env=bare_env)
        if (ROOT / "var" / "speechqa.db").exists():  # a checkout whose service has run
            assert f"Data: {ROOT / 'var' / 'speechqa.db'} (the checkout's" in out.stderr
            continue
        assert out.returncode == 2, out.stderr
        assert f"No speechqa database in {tmp_path / 'var'}" in out.stderr
        assert "SPEECHQA_DATA_DIR" in out.stderr
        assert not (tmp_path / "var").exists()


def test_the_commands_say_which_data_they_use_and_find_it_in_the_folder(tmp_path, bare_env):
    data = tmp_path / "service" / "var"
    configured = {**bare_env, "SPEECHQA_DATA_DIR": str(data)}
    out = speechqa("user", "create", "rita@example.com", "--role", "reviewer", "--team", "billing",
                   "--new-team", cwd=tmp_path, env=configured)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert f"Data: {data / 'speechqa.db'} (as configured)" in out.stderr
    assert out.stdout.strip() == "user rita@example.com: reviewer, sees billing"
    # Run again in the service's folder with nothing configured: the same users, said so.
    out = speechqa("user", "list", cwd=data.parent, env=bare_env)
    assert out.returncode == 0, out.stderr
    assert f"Data: {data / 'speechqa.db'} (in this folder)" in out.stderr
    assert "rita@example.com" in out.stdout
    out = speechqa("apikey", "create", "--user", "rita@example.com", cwd=data.parent, env=bare_env)
    assert out.returncode == 0 and out.stdout.strip().startswith("sqa_"), out.stderr


def test_a_team_no_call_or_user_has_is_refused_naming_the_teams_there(tmp_path, bare_env):
    env = {**bare_env, "SPEECHQA_DATA_DIR": str(tmp_path / "var")}
    out = speechqa("user", "create", "lena", "--role", "lead", "--team", "billing", cwd=tmp_path,
                   env=env)  # fmt: skip
    assert out.returncode == 1
    assert "No call or user has team 'billing'. Teams: none yet." in out.stderr
    assert speechqa("user", "create", "lena", "--role", "lead", "--team", "billing",
                    "--new-team", cwd=tmp_path, env=env).returncode == 0  # fmt: skip
    out = speechqa("user", "create", "rob", "--role", "reviewer", "--team", "bilin", cwd=tmp_path,
                   env=env)  # fmt: skip
    assert out.returncode == 1
    assert "No call or user has team 'bilin'. Teams: billing." in out.stderr
    assert "rob" not in speechqa("user", "list", cwd=tmp_path, env=env).stdout
    out = speechqa("user", "create", "rob", "--role", "reviewer", "--team", "billing",
                   cwd=tmp_path, env=env)  # fmt: skip
    assert out.returncode == 0 and "sees billing" in out.stdout, out.stderr


def test_an_agent_is_told_to_see_only_their_own_calls(tmp_path, bare_env):
    env = {**bare_env, "SPEECHQA_DATA_DIR": str(tmp_path / "var")}
    out = speechqa("user", "create", "a-17", "--role", "agent", "--agent", "a-17", cwd=tmp_path,
                   env=env)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "user a-17: agent a-17, sees only their own calls"
