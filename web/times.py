"""Times on the pages in the viewer's zone, and which zone that is.

The zone is the user's setting (``speechqa user update NAME --time-zone Europe/Berlin``), else the
browser's (``/static/timezone.js`` keeps it in a cookie, checked here like any input), else UTC.
Templates write ``{{ call.started_at | localtime }}`` and name the zone with ``{{ time_zone() }}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from speechqa import zones

COOKIE = "speechqa_tz"


def zone_of(request: Request, principal: Any | None) -> zones.ShownZone:
    """The zone the viewer sees times in (their setting, else their browser's, else UTC)."""
    cached = getattr(request.state, "time_zone", None)
    if isinstance(cached, zones.ShownZone):
        return cached
    setting = getattr(principal, "time_zone", None) if principal is not None else None
    zone = zones.choose(setting, request.cookies.get(COOKIE))
    request.state.time_zone = zone
    return zone


def _zone(context: Context) -> zones.ShownZone:
    request = context.get("request")
    viewer = context.get("viewer")
    if request is None:
        return zones.UTC_ZONE
    return zone_of(request, getattr(viewer, "principal", None))


@pass_context
def localtime(
    context: Context, value: datetime | str | None, pattern: str = "%Y-%m-%d %H:%M"
) -> str:
    """A stored time (ISO text or a datetime, UTC) in the viewer's zone; '' for none."""
    return _zone(context).format(value, pattern)


@pass_context
def time_zone(context: Context) -> zones.ShownZone:
    return _zone(context)


def install(env: Environment) -> None:
    env.filters["localtime"] = localtime
    env.globals["time_zone"] = time_zone
