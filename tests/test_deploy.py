"""The deploy files name settings and commands that exist (they cannot be run here: no Docker).

A renamed setting or CLI option would otherwise leave a compose file or unit that starts and
silently ignores it, or does not start at all.
"""

from __future__ import annotations

import shlex

import pytest
import yaml
from speechqa_service.cli.main import app
from typer.testing import CliRunner

from speechqa.settings import Settings
from tests.support import ROOT

DEPLOY = ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def _speechqa_variables(env: dict[str, str]) -> dict[str, str]:
    return {k: str(v) for k, v in env.items() if k.startswith("SPEECHQA_")}


def _check(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    known = {f"SPEECHQA_{name.upper()}" for name in Settings.model_fields}
    assert set(env) <= known, set(env) - known
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    Settings()  # every value is valid


@pytest.mark.parametrize("service", ["api", "worker"])
def test_compose_services_use_known_settings_and_commands(service, monkeypatch):
    spec = COMPOSE["services"][service]
    _check(_speechqa_variables(spec["environment"]), monkeypatch)
    assert spec["environment"]["SPEECHQA_AUDIO_STORE"].startswith("s3://")
    command = spec["command"]
    assert command[0] == "speechqa"
    assert CliRunner().invoke(app, [*command[1:], "--help"]).exit_code == 0, command


def test_the_compose_bucket_is_the_one_the_services_use():
    bucket = COMPOSE["services"]["api"]["environment"]["SPEECHQA_AUDIO_STORE"][5:].split("/")[0]
    assert f"store/{bucket}" in " ".join(COMPOSE["services"]["bucket"]["entrypoint"])


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_units_use_known_settings_and_commands(unit, monkeypatch):
    lines = unit.read_text().splitlines()
    env = dict(
        line.partition("=")[2].split("=", 1) for line in lines if line.startswith("Environment=")
    )
    shared = (DEPLOY / "systemd" / "speechqa.env").read_text().splitlines()
    env |= dict(line.split("=", 1) for line in shared if line and not line.startswith("#"))
    _check(_speechqa_variables({k: v.replace("%i", "1") for k, v in env.items()}), monkeypatch)
    (start,) = (line.split("=", 1)[1] for line in lines if line.startswith("ExecStart="))
    args = shlex.split(start)
    assert args[0].endswith("/speechqa")
    assert CliRunner().invoke(app, [*args[1:], "--help"]).exit_code == 0, args
