"""What ``speechqa serve`` runs beside the API: worker processes it keeps alive, and a record of
its children so that a crashed run's leftovers are found and stopped.

- :class:`Supervisor` starts the workers, restarts one that dies (with a back-off when it dies
  at once, so a broken setup does not spin), and stops them all on shutdown.
- :class:`RunRecord` writes ``serve.json`` in the data folder (this process and its children's
  pids). A second ``serve`` on the same folder is refused while the first runs; after a crash
  (``kill -9``), the next start stops the children the dead run left behind, so there is never
  an orphan worker or an orphan embedded Redis sharing the folder.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from speechqa.errors import ServiceUnavailable

log = logging.getLogger(__name__)

QUICK_DEATH_S = 10.0
"""A worker that dies sooner than this after starting is restarted only after a pause."""


class Supervisor:
    def __init__(
        self,
        command: Sequence[str],
        env: dict[str, str],
        count: int,
        check_every_s: float = 1.0,
        on_restart: Callable[[list[int]], None] | None = None,
        on_exit: Callable[[int], None] | None = None,
        quick_death_s: float = QUICK_DEATH_S,
    ) -> None:
        self.quick_death_s = quick_death_s
        self.on_restart = on_restart
        self.on_exit = on_exit
        self.command = list(command)
        self.env = env
        self.count = count
        self.check_every_s = check_every_s
        self.children: list[subprocess.Popen[bytes]] = []
        self.started_at: list[float] = []
        self.restarts = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return [c.pid for c in self.children]

    def start(self) -> Supervisor:
        with self._lock:
            for _ in range(self.count):
                self.children.append(self._spawn())
                self.started_at.append(time.monotonic())
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._thread.start()
        return self

    def _spawn(self) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.command, env=self.env)

    def _watch(self) -> None:
        pause_until = [0.0] * self.count
        while not self._stop.wait(self.check_every_s):
            for i in range(self.count):
                pids = self._revive(i, pause_until)
                if pids is not None and self.on_restart is not None:
                    self.on_restart(pids)

    def _revive(self, i: int, pause_until: list[float]) -> list[int] | None:
        """Restart worker ``i`` if it died; return the new pids when it was restarted."""
        with self._lock:
            child = self.children[i]
            if self._stop.is_set() or child.poll() is None:
                return None
            now = time.monotonic()
            if now - self.started_at[i] < self.quick_death_s and pause_until[i] == 0.0:
                pause_until[i] = now + self.quick_death_s  # it died at once: wait, then retry
            if now < pause_until[i]:
                return None
            pause_until[i] = 0.0
            log.warning("worker %d exited with %s; starting a new one", child.pid, child.returncode)
            self._exited(child.pid)
            self.children[i] = self._spawn()
            self.started_at[i] = now
            self.restarts += 1
            return [c.pid for c in self.children]

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop every worker: SIGTERM (a running job finishes or is retried), then SIGKILL."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            for child in self.children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + timeout_s
            for child in self.children:
                try:
                    child.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()
            for child in self.children:
                self._exited(child.pid)

    def _exited(self, pid: int) -> None:
        if self.on_exit is None:
            return
        try:
            self.on_exit(pid)
        except Exception:  # a clean-up hook never stops the supervisor
            log.exception("clean-up after worker %d failed", pid)


class RunRecord:
    """``serve.json`` in the data folder: who is running there, and their children."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / "serve.json"

    def claim(self) -> None:
        """Refuse a second live ``serve`` here; stop what a crashed one left running."""
        try:
            record = json.loads(self.path.read_text())
        except (OSError, ValueError):
            record = None
        if isinstance(record, dict):
            owner = record.get("pid")
            if isinstance(owner, int) and owner != os.getpid() and _alive(owner, "serve"):
                raise ServiceUnavailable(
                    f"Another speechqa serve (pid {owner}) is running with this data folder."
                )
            for pid, marker in [(p, "redis-server") for p in record.get("redis", [])] + [
                (p, "worker") for p in record.get("workers", [])
            ]:
                if isinstance(pid, int) and _alive(pid, marker):
                    log.warning("stopping pid %d left running by a crashed speechqa serve", pid)
                    _terminate(pid)
        self.write([], [])

    def write(self, workers: Sequence[int], redis: Sequence[int]) -> None:
        data = {"pid": os.getpid(), "workers": list(workers), "redis": list(redis)}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(self.path)

    def release(self) -> None:
        self.path.unlink(missing_ok=True)


def _alive(pid: int, marker: str) -> bool:
    """Whether ``pid`` runs and its command line mentions ``marker`` (pids get reused)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return marker in cmdline


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited and only waits for its parent to reap it


def _terminate(pid: int, timeout_s: float = 10.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _running(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
