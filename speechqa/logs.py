"""Logging for every speechqa process (``serve``, ``worker``, the API processes): one setup.

Lines go to stderr as text or, with ``SPEECHQA_LOG_FORMAT=json``, one JSON object per line
(fields: timestamp, level, logger, message, and the ``extra`` fields a line carries, such as a
request's ``request_id`` or a job's ``job_id``). :func:`bind` adds fields to every line logged
while a request or job is handled.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pythonjsonlogger.json import JsonFormatter

from speechqa.settings import Settings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
NOISY = ("httpx", "httpcore", "faster_whisper", "alembic")
"""Libraries whose INFO lines say nothing an operator needs."""

_bound: ContextVar[dict[str, Any] | None] = ContextVar("speechqa_log_fields", default=None)


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add ``fields`` to every line logged in this context (thread or task)."""
    token = _bound.set({**(_bound.get() or {}), **fields})
    try:
        yield
    finally:
        _bound.reset(token)


class _BoundFields(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_bound.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp=True,
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(settings: Settings, *, verbose: bool = False) -> logging.Handler:
    """Send the root logger's lines to stderr in the configured format and level.

    Calling it again replaces the handler it installed before (never another one).
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "speechqa", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.speechqa = True  # type: ignore[attr-defined]
    handler.setFormatter(formatter(settings.log_format))
    handler.addFilter(_BoundFields())
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else settings.log_level)
    for name in NOISY:
        logging.getLogger(name).setLevel(logging.NOTSET if verbose else logging.WARNING)
    return handler
