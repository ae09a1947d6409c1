"""What ``speechqa serve`` keeps running: workers restarted when they die, no orphans after a crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from speechqa_service.workers.supervisor import RunRecord, Supervisor

from speechqa.errors import ServiceUnavailable

SLEEPER = [sys.executable, "-c", "import time, sys; time.sleep(120)", "worker"]


def _gone(pid: int, within_s: float = 10) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_a_dead_worker_is_replaced_and_all_stop_together():
    seen: list[list[int]] = []
    supervisor = Supervisor(SLEEPER, dict(os.environ), 2, check_every_s=0.1,
                            on_restart=seen.append, quick_death_s=0.0).start()  # fmt: skip
    try:
        first = supervisor.pids
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 10
        while supervisor.restarts == 0:
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.05)
        now = supervisor.pids
        assert now[1] == first[1] and now[0] != first[0]
        assert seen and seen[-1] == now
    finally:
        supervisor.stop(timeout_s=5)
    assert all(_gone(pid) for pid in now)


def test_a_worker_that_dies_at_once_is_not_restarted_in_a_tight_loop():
    failing = [sys.executable, "-c", "raise SystemExit(3)", "worker"]
    supervisor = Supervisor(failing, dict(os.environ), 1, check_every_s=0.05,
                            quick_death_s=5.0).start()  # fmt: skip
    try:
        time.sleep(1.0)
        assert supervisor.restarts == 0
    finally:
        supervisor.stop(timeout_s=5)


def test_a_crashed_runs_children_are_stopped_and_a_live_run_is_refused(tmp_path):
    orphan = subprocess.Popen(SLEEPER)
    dead_owner = subprocess.Popen([sys.executable, "-c", "pass", "serve"])
    dead_owner.wait()
    (tmp_path / "serve.json").write_text(
        json.dumps({"pid": dead_owner.pid, "workers": [orphan.pid], "redis": []})
    )
    RunRecord(tmp_path).claim()
    assert orphan.wait(15) is not None  # stopped: it was the crashed run's worker
    assert json.loads((tmp_path / "serve.json").read_text())["pid"] == os.getpid()

    live_owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "serve"])
    try:
        (tmp_path / "serve.json").write_text(json.dumps({"pid": live_owner.pid}))
        with pytest.raises(ServiceUnavailable, match="Another speechqa serve"):
            RunRecord(tmp_path).claim()
    finally:
        live_owner.kill()
        live_owner.wait()
