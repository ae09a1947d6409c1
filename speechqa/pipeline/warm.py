"""Models kept warm: each is loaded once per process and shared by every job after it.

A worker pays a model's load once, not once per call; the lock keeps two threads that ask for the
same model at once (the API's thread pool) from loading it twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Loaded(Generic[K, V]):
    """The models ``load`` made, by the key it made each from."""

    def __init__(self, load: Callable[[K], V]) -> None:
        self._load = load
        self._items: dict[K, V] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V:
        with self._lock:
            if key not in self._items:
                self._items[key] = self._load(key)
            return self._items[key]
