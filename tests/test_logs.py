"""The one logging setup: level and format from settings, installed once however often called."""

from __future__ import annotations

import io
import json
import logging

import pytest

from speechqa.logs import bind, configure_logging
from speechqa.settings import Settings


@pytest.fixture
def root():
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield root
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)


def test_level_and_format_come_from_settings(root, monkeypatch, tmp_path):
    monkeypatch.setenv("SPEECHQA_LOG_LEVEL", "warning")
    monkeypatch.setenv("SPEECHQA_LOG_FORMAT", "json")
    settings = Settings(data_dir=tmp_path)
    assert (settings.log_level, settings.log_format) == ("WARNING", "json")
    configure_logging(settings)
    handler = configure_logging(settings)  # again: replaces, never adds a second handler
    assert [h for h in root.handlers if getattr(h, "speechqa", False)] == [handler]
    assert root.level == logging.WARNING
    stream = io.StringIO()
    handler.setStream(stream)
    log = logging.getLogger("speechqa.test")
    log.info("not shown")
    with bind(request_id="r-1"):
        log.warning("shown %d", 1, extra={"call_id": "c-1"})
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["message"] == "shown 1" and line["level"] == "WARNING"
    assert (line["request_id"], line["call_id"]) == ("r-1", "c-1")


def test_text_lines_and_verbose(root, tmp_path):
    handler = configure_logging(Settings(data_dir=tmp_path), verbose=True)
    assert root.level == logging.DEBUG
    stream = io.StringIO()
    handler.setStream(stream)
    logging.getLogger("speechqa.test").debug("details")
    assert stream.getvalue().rstrip().endswith("DEBUG speechqa.test: details")


def test_an_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="log_format"):
        Settings(data_dir=tmp_path, log_format="xml")
