"""Checks on every request before any route runs: body size as it streams, and NUL bytes.

- The body is counted as it arrives, so a chunked upload (no ``Content-Length``) is refused
  with 413 as soon as it passes the limit, not after it has been read whole.
- A NUL character in the path or query is refused with 400: no id, name or filter holds one,
  and PostgreSQL rejects them in text.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from speechqa.errors import UploadTooLarge
from speechqa.settings import Settings

from .errors import error_body

OTHER_BODY_BYTES = 1024 * 1024
"""Bodies other than recordings (rulesets, JSON) are small."""


class RequestGuard:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    def limit(self, scope: Scope) -> int:
        if scope["method"] == "POST" and scope["path"].rstrip("/") == "/v1/calls":
            return self.settings.max_upload_bytes + 128 * 1024  # the audio and the form around it
        return OTHER_BODY_BYTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await _answer(send, 400, "invalid_input", "NUL characters are not allowed in a URL.")
            return
        limit = self.limit(scope)
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise UploadTooLarge(f"The request body is over the limit of {limit} bytes.")
            return message

        await self.app(scope, counted, send)


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    body: Any = json.dumps(error_body(code, message)).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
