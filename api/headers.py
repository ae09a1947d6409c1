"""Headers on every response (pages, API, static files, errors) that keep browsers safe.

- No other site may frame the app (``X-Frame-Options: DENY`` and CSP ``frame-ancestors
  'none'``), so a signed-in page cannot be overlaid and clicked through (clickjacking), not even
  from another port of the same host, which shares the session cookie.
- The pages' Content-Security-Policy allows scripts only from the app itself: the pages have no
  inline scripts (``web/static/*.js`` and the served Plotly bundle), so an injected ``<script>``
  or ``onclick=`` would not run. Styles allow ``'unsafe-inline'``: Plotly writes a ``<style>``
  element and the call page positions its timeline marks with ``style=`` (styles cannot run
  code). Images may be ``data:`` URIs (Plotly's). Forms post only to the app; no plugins
  (``object-src 'none'``); no ``<base>`` elsewhere.
- The OpenAPI pages (``/docs``, ``/redoc``) load Swagger UI and ReDoc from the app itself
  (``web/assets.py``, no CDN) but start them with an inline script, so they get a policy that
  allows inline scripts (and ReDoc's ``blob:`` worker), still nothing from another site and never
  framed; they show only the schema.
- ``X-Content-Type-Options: nosniff`` (served types are the real ones) and
  ``Referrer-Policy: same-origin`` (call addresses never leave the site in a Referer).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGES_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'"
)


def headers_for(path: str) -> list[tuple[bytes, bytes]]:
    docs = path == "/docs" or path == "/redoc" or path.startswith("/docs/")
    return [
        (b"content-security-policy", (DOCS_POLICY if docs else PAGES_POLICY).encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]


class SecurityHeaders:
    """Adds :func:`headers_for` to every HTTP response (the outermost middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope["path"])

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (name, value) for name, value in extra if name not in names
                ]
            await send(message)

        await self.app(scope, receive, with_headers)
