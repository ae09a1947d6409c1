"""Signing in and out: an API key for a browser session held in an HTTP-only cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from speechqa import signin
from speechqa.errors import Forbidden, TooManyRequests, Unauthorized
from speechqa.throttle import FailureLimiter

from .. import signin_form
from ..deps import COOKIE, REASONS, PageRoute, SignedIn, database, form_of, settings_of

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site (never another host) is followed after signing in."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/calls"


@router.get("/")
def home(request: Request) -> Response:
    return RedirectResponse("/calls", status_code=303)


@router.get("/login")
def login_page(request: Request, next: str | None = None, reason: str | None = None) -> Response:
    return signin_form.page(request, _safe_next(next), message=REASONS.get(reason or ""))


@router.post("/login")
def login(
    request: Request,
    key: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form()] = "/calls",
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if not signin_form.sent_here(request, csrf):  # before the key is looked at or counted
        return signin_form.page(request, _safe_next(next), error=signin_form.REFUSED, status=403)
    settings = settings_of(request)
    limiter: FailureLimiter = request.app.state.auth_failures  # the API's: one budget per client
    client = request.client.host if request.client else "unknown"

    def check() -> str:
        with database(request) as session:
            return signin.sign_in(session, key, settings.web_session_hours)[0]

    try:
        token = limiter.attempt(client, key.strip(), check)
    except (TooManyRequests, Unauthorized) as exc:
        page = signin_form.page(request, _safe_next(next), error=exc.message, status=401)
        if isinstance(exc, TooManyRequests):
            page.status_code = 429
            page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    except Forbidden as exc:  # a right key that may not use the web app (ingest)
        return signin_form.page(request, _safe_next(next), error=exc.message, status=403)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(settings.web_session_hours * 3600),
        httponly=True,
        secure=settings.web_cookie_secure,
        samesite="lax",
        path="/",
    )
    response.delete_cookie(signin_form.COOKIE, path="/login")  # its form token is spent
    return response


@router.post("/logout")
async def logout(request: Request, who: SignedIn) -> Response:
    await form_of(request, who)
    with database(request) as session:
        signin.sign_out(session, request.cookies.get(COOKIE))
    response = RedirectResponse("/login?reason=signed-out", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response
