"""What every page shares: templates, the signed-in person, CSRF, and errors as pages.

A page is a route of :class:`PageRoute`: a :class:`speechqa.errors.Unauthorized` (no session,
an expired one, a revoked key) sends the browser to the sign-in page with the reason; any other
speechqa error renders the error page with its HTTP status and message.

What a form did is told on the page it redirects to (:func:`back`) by a *flash*: a cookie that
lives a minute, is shown once, and is signed with the browser's session token (a secret only
that browser holds), so no link and no other site can put words in the app's banner. The
sign-in page's reasons are codes in its address (``?reason=expired``) with fixed texts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from speechqa import access, signin
from speechqa.access import Action
from speechqa.errors import InvalidInput, SpeechQAError, Unauthorized
from speechqa.jobs import JobQueue
from speechqa.kpis import labels
from speechqa.reviews.workflow import readable
from speechqa.settings import Settings
from speechqa.storage.database import answered_scope
from speechqa.text import disallowed_character
from speechqa_service.http import status_for

COOKIE = "speechqa_session"
FLASH = "speechqa_flash"
FLASH_SECONDS = 60
TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(directory=TEMPLATES)
templates.env.globals.update(
    measure_label=labels.label,
    measure_value=labels.shown,
    counter_label=labels.counter_label,
    readable=readable,
)

REASONS = {
    "signin": "Sign in to continue.",
    "expired": "Your session has expired. Sign in again.",
    "invalid": "The API key is not valid.",
    "key-expired": "The API key has expired.",
    "signed-out": "You are signed out.",
}
"""Why the sign-in page is shown: ``/login?reason=CODE`` shows only these texts."""
_REASON_OF = {text: code for code, text in REASONS.items()}


def reason_code(message: str) -> str:
    """The sign-in reason for an Unauthorized message (a text not in REASONS: 'signin')."""
    return _REASON_OF.get(message, "signin")


class Back(RedirectResponse):
    """A redirect after a form, with the message for the page it goes to (see :func:`back`)."""

    flash: str | None = None


def _signature(token: str, value: str) -> str:
    return hmac.new(token.encode(), b"flash:" + value.encode(), hashlib.sha256).hexdigest()


def _set_flash(request: Request, response: Back) -> None:
    """Sign the redirect's message with the session token, as a cookie for the next page."""
    token = request.cookies.get(COOKIE)
    if not response.flash or not token:
        return
    value = base64.urlsafe_b64encode(response.flash[:500].encode()).decode()
    response.set_cookie(
        FLASH,
        f"{value}.{_signature(token, value)}",
        max_age=FLASH_SECONDS,
        httponly=True,
        secure=settings_of(request).web_cookie_secure,
        samesite="strict",
        path="/",
    )


def flash_of(request: Request) -> str | None:
    """The message a form's redirect left for this page, if its signature is this browser's."""
    cookie, token = request.cookies.get(FLASH), request.cookies.get(COOKIE)
    if not cookie or not token:
        return None
    value, _, signature = cookie.partition(".")
    if not hmac.compare_digest(signature, _signature(token, value)):
        return None
    try:
        return base64.urlsafe_b64decode(value.encode()).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


class PageRoute(APIRoute):
    """A route that answers errors with pages, and a missing session with the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                answer = await handler(request)
                if isinstance(answer, Back):
                    _set_flash(request, answer)
                return answer
            except Unauthorized as exc:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(
                    f"/login?next={quote(target)}&reason={reason_code(exc.message)}",
                    status_code=303,
                )
                response.delete_cookie(COOKIE)
                return response
            except SpeechQAError as exc:
                try:
                    who: Viewer | None = viewer(request)
                except SpeechQAError:
                    who = None
                status = status_for(exc)
                context = {"viewer": who, "status": status, "problem": exc.message}
                return templates.TemplateResponse(
                    request, "error.html", context, status_code=status
                )

        return page


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def jobs_of(request: Request) -> JobQueue:
    """The job queue the app factory handed the app (``speechqa_service.app``)."""
    jobs: JobQueue = request.app.state.jobs
    return jobs


@contextmanager
def database(request: Request) -> Iterator[Session]:
    """A transaction that commits before the page answers (so a redirect sees its writes); a
    refused commit is :class:`speechqa.errors.NotStored`, shown as the 500 error page."""
    with answered_scope(settings_of(request)) as session:
        yield session


class Viewer:
    """The signed-in person as the pages see them: principal, CSRF token, what to show."""

    def __init__(self, signed: signin.SignedIn) -> None:
        self.principal = signed.principal
        self.csrf = signed.csrf

    @property
    def name(self) -> str:
        return self.principal.user or self.principal.name or f"key {self.principal.key_id}"

    def may(self, action: str) -> bool:
        """Whether the page should offer ``action`` (an :class:`Action` name)."""
        return access.may(self.principal, Action[action])

    @property
    def agent_id(self) -> str | None:
        return self.principal.agent_id


def viewer(request: Request) -> Viewer:
    with database(request) as session:
        return Viewer(signin.resume(session, request.cookies.get(COOKIE)))


SignedIn = Annotated[Viewer, Depends(viewer)]
"""Anyone signed in (signing out, for one); every other page names its action with
:func:`allowed`."""


def allowed(action: Action) -> Callable[[Request], Viewer]:
    """A dependency: the signed-in person, if they may do ``action`` (else a 403 page);
    :mod:`speechqa.access` decides, as for the API."""

    def dependency(request: Request) -> Viewer:
        who = viewer(request)
        access.require(who.principal, action)
        return who

    return dependency


async def form_of(request: Request, who: Viewer) -> FormData:
    """A posted form, after checking its CSRF token; a field holding a control character
    (NUL and the like, as for the API's bodies) is refused before anything reads it."""
    form = await request.form()
    sent = form.get("csrf")
    signin.check_csrf(who.csrf, sent if isinstance(sent, str) else None)
    for key, value in form.multi_items():
        problem = disallowed_character(key) or (
            disallowed_character(value) if isinstance(value, str) else None
        )
        if problem:
            raise InvalidInput(
                f"The form field {key!r} holds the control character {problem[1]}, "
                "which is not allowed.",
                details={"field": key},
            )
    return form


def render(request: Request, template: str, who: Viewer | None, **context: Any) -> HTMLResponse:
    """A page, with the message a form's redirect left for it (shown once)."""
    response = templates.TemplateResponse(
        request, template, {"viewer": who, "message": flash_of(request), **context}
    )
    if FLASH in request.cookies:
        response.delete_cookie(FLASH, path="/")
    return response


def back(url: str, message: str | None = None) -> Back:
    """Post/redirect/get: after a form, back to a page (with a message, as a signed flash)."""
    response = Back(url, status_code=303)
    response.flash = message
    return response
