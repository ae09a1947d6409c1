"""A limit on failed authentication, so keys cannot be guessed at line speed, that does not
lock out the right key.

Failures are counted over a sliding minute, per client address *and key prefix* (what a key
starts with: ``sqa_`` and 6 of its random characters, the part :mod:`speechqa.apikeys` stores
and shows as the key's prefix), and per address over all prefixes:

- After ``per_minute`` failures with one prefix from one address, a key with that prefix from
  that address gets 429 with ``Retry-After``, without being checked, until the oldest of those
  failures is a minute old. A guess can only succeed if it starts with a real key's prefix, so
  this bounds the guesses that could succeed to ``per_minute`` a minute per key and address.
  Every other key from that address (people behind the same NAT or proxy) is checked as usual.
- After ``per_address`` failures from one address over all prefixes (5 x ``per_minute`` by
  default), every further wrong key from it is answered 429 instead of 401. The key is still
  checked first, so a right key from that address passes: a guesser that makes up a new prefix
  each time is told to stop, but cannot lock anyone out. (Its made-up prefixes match no key:
  there are 2^36 of them, with 220 more random bits behind each.)

So a key that authenticates is refused only while someone at its address has sent
``per_minute`` wrong keys starting with *its own* prefix in the last minute, i.e. is guessing
at that very key. Successful requests are never counted. Counts live in the process (several
API processes each keep their own), which is enough to turn 300 quick guesses into a handful.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

from speechqa.apikeys import prefix_of
from speechqa.errors import TooManyRequests, Unauthorized

WINDOW_S = 60.0
ADDRESS_FACTOR = 5
"""An address may fail this many times more over all prefixes than with one prefix."""

T = TypeVar("T")


class _Windows:
    """Failure times per bucket over the last minute, for at most ``max_buckets`` buckets."""

    def __init__(self, limit: int, max_buckets: int) -> None:
        self.limit = limit
        self.max_buckets = max_buckets
        self._failures: dict[object, deque[float]] = {}

    def wait_s(self, bucket: object, now: float) -> int | None:
        """Seconds until ``bucket`` is under its limit again; None when it is now."""
        failures = self._failures.get(bucket)
        if failures is None:
            return None
        while failures and now - failures[0] >= WINDOW_S:
            failures.popleft()
        if len(failures) < self.limit:
            return None
        return max(1, int(WINDOW_S - (now - failures[0])) + 1)

    def add(self, bucket: object, now: float) -> None:
        if bucket not in self._failures and len(self._failures) >= self.max_buckets:
            self._failures.pop(next(iter(self._failures)))  # forget the oldest bucket
        self._failures.setdefault(bucket, deque()).append(now)


class FailureLimiter:
    def __init__(
        self, per_minute: int, per_address: int | None = None, max_clients: int = 10_000
    ) -> None:
        self.per_minute = per_minute
        self.per_address = per_address or ADDRESS_FACTOR * per_minute
        self._by_prefix = _Windows(per_minute, max_clients)
        self._by_address = _Windows(self.per_address, max_clients)
        self._lock = threading.Lock()

    def attempt(self, client: str, key: str | None, check: Callable[[], T]) -> T:
        """``check()`` (which authenticates ``key``), unless ``client`` is over its limit for
        keys with this prefix; a failure (Unauthorized) is counted, and past the address's
        limit answered with TooManyRequests instead."""
        bucket = (client, prefix_of(key or ""))
        with self._lock:
            wait = self._by_prefix.wait_s(bucket, time.monotonic())
        if wait is not None:
            raise _too_many(wait)
        try:
            return check()
        except Unauthorized as exc:
            now = time.monotonic()
            with self._lock:
                wait = self._by_address.wait_s(client, now)
                self._by_prefix.add(bucket, now)
                self._by_address.add(client, now)
            if wait is not None:
                raise _too_many(wait) from exc
            raise


def _too_many(wait: int) -> TooManyRequests:
    return TooManyRequests(
        "Too many requests with a wrong API key; wait before trying again.",
        retry_after_s=wait,
    )
