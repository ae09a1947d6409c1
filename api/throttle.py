"""A per-client limit on failed authentication, so keys cannot be guessed at line speed.

Each API process counts failures per client address over a sliding minute; past the limit the
client gets 429 with ``Retry-After`` until its oldest failure is a minute old. Successful
requests are never slowed. Counts live in the process (several API processes each keep their
own), which is enough to turn 300 quick guesses into a handful.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from speechqa.errors import TooManyRequests

WINDOW_S = 60.0


class FailureLimiter:
    def __init__(self, per_minute: int, max_clients: int = 10_000) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        """Raise TooManyRequests while ``client`` is over the limit."""
        now = time.monotonic()
        with self._lock:
            failures = self._failures.get(client)
            if failures is None:
                return
            while failures and now - failures[0] >= WINDOW_S:
                failures.popleft()
            if len(failures) >= self.per_minute:
                wait = max(1, int(WINDOW_S - (now - failures[0])) + 1)
                raise TooManyRequests(
                    "Too many requests with a wrong API key; wait before trying again.",
                    retry_after_s=wait,
                )

    def failed(self, client: str) -> None:
        with self._lock:
            if client not in self._failures and len(self._failures) >= self.max_clients:
                self._failures.pop(next(iter(self._failures)))  # forget the oldest client
            self._failures.setdefault(client, deque()).append(time.monotonic())
