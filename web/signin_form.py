"""The sign-in form's own CSRF token, so no other site can sign a browser in with its key.

Before there is a session there is no session token to tie a form to, so the sign-in page
hands out a random token twice: in an HTTP-only, SameSite=Strict cookie valid for an hour on
``/login`` only, and in the form; ``POST /login`` is refused (403, with a fresh form) unless
the two match. Another site cannot read the cookie, nor set it, and a cross-site form post
does not carry a Strict cookie. A same-site origin (another port on the host, a sibling
subdomain) could set cookies for the app, and signing the token would not stop it (it could
fetch a signed pair itself); what stops it is the browser's ``Sec-Fetch-Site``, which says
whether the form came from the app's own origin: a sign-in posted ``cross-site`` or
``same-site`` is refused whatever its token.
"""

from __future__ import annotations

import re
import secrets

from fastapi import Request
from fastapi.responses import HTMLResponse

from .deps import render, settings_of

COOKIE = "speechqa_signin"
SECONDS = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
REFUSED = (
    "This sign-in form was out of date or came from another site, so it was not used. "
    "Sign in again here."
)


def page(
    request: Request,
    next: str,
    *,
    error: str | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The sign-in page with its form token (the one the browser holds, or a new one)."""
    token = request.cookies.get(COOKIE) or ""
    if not _TOKEN.fullmatch(token):
        token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", None, next=next, error=error, message=message, form_token=token
    )
    response.status_code = status
    response.set_cookie(
        COOKIE,
        token,
        max_age=SECONDS,
        httponly=True,
        secure=settings_of(request).web_cookie_secure,
        samesite="strict",
        path="/login",
    )
    return response


def sent_here(request: Request, sent: str) -> bool:
    """Whether a sign-in was posted from this app's own sign-in form."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        return False
    held = request.cookies.get(COOKIE) or ""
    return bool(_TOKEN.fullmatch(held)) and secrets.compare_digest(sent, held)
