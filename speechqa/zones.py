"""Time zones for showing moments to people: names checked against the system's tz database.

Everything is stored in UTC; a page or an export shows it in the viewer's zone (a user's setting,
else their browser's, else UTC) and says which. A zone name comes from a person or a browser
cookie, so it is checked here (an IANA name such as ``Europe/Berlin``) before any lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from speechqa.errors import InvalidInput

ZoneSource = Literal["setting", "browser", "default"]
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+){0,2}$")


@lru_cache(maxsize=512)
def _lookup(name: str) -> ZoneInfo | None:
    if len(name) > 64 or not _NAME.match(name):
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def is_zone(name: str | None) -> bool:
    return bool(name) and _lookup(str(name)) is not None


def check_zone(name: str) -> str:
    """``name`` if it is a time zone the system knows (``Europe/Berlin``, ``UTC``), else
    InvalidInput."""
    if not is_zone(name):
        raise InvalidInput(
            f"{name[:80]!r} is not a time zone; give an IANA name such as Europe/Berlin or UTC.",
            details={"field": "time_zone"},
        )
    return name


@dataclass(frozen=True)
class ShownZone:
    """The zone a viewer sees times in, and where it came from."""

    name: str
    source: ZoneSource

    @property
    def info(self) -> ZoneInfo:
        return _lookup(self.name) or ZoneInfo("UTC")

    def local(self, moment: datetime) -> datetime:
        """``moment`` (naive means UTC) in this zone."""
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return aware.astimezone(self.info)

    def format(self, moment: datetime | str | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        if moment is None or moment == "":
            return ""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        return self.local(moment).strftime(pattern)


UTC_ZONE = ShownZone("UTC", "default")


def choose(setting: str | None, browser: str | None) -> ShownZone:
    """The user's setting if valid, else the browser's zone if valid, else UTC."""
    if setting and is_zone(setting):
        return ShownZone(setting, "setting")
    if browser and is_zone(browser):
        return ShownZone(browser, "browser")
    return UTC_ZONE
