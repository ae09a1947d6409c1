"""One log line per request, and the request id that ties it to the caller's own logs.

The id comes from the caller's ``X-Request-ID`` header when it is a sane token (letters,
digits, ``-_.:``, at most 128 characters), otherwise a new one is made; either way the response
carries it back in ``X-Request-ID``. The line names the route template (``/v1/calls/{call_id}``,
never the raw path, so it holds no ids), the status, the time taken and the caller's API key id
when the request was authenticated; every other line logged while the request runs carries
``request_id`` too (see :func:`speechqa.logs.bind`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from speechqa.logs import bind

log = logging.getLogger("api.requests")

HEADER = "X-Request-ID"
UNMATCHED = "<unmatched>"
"""The route of a request that matched no route (a 404): raw paths would be unbounded."""
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def route_template(scope: Scope) -> str:
    """The template of the route that served the request, e.g. ``/v1/calls/{call_id}``."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED


def key_id(scope: Scope) -> Any:
    """The caller's API key id, once authentication has put it in the request state."""
    state = scope.get("state")
    return state.get("key_id") if isinstance(state, dict) else None


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})  # shared with the route's Request, which writes key_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            with bind(request_id=request_id):
                await self.app(scope, receive, send_with_id)
        finally:
            ms = (time.perf_counter() - started) * 1000
            method, route, key = scope["method"], route_template(scope), key_id(scope)
            log.info(
                "%s %s %d %.1f ms request_id=%s key_id=%s",
                method,
                route,
                status,
                ms,
                request_id,
                key if key is not None else "-",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(ms, 1),
                    "request_id": request_id,
                    "key_id": key,
                },
            )


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == b"x-request-id":
            candidate = bytes(value).decode("latin-1")
            if _SANE_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex
