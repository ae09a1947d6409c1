"""What every page shares: templates, the signed-in person, CSRF, and errors as pages.

A page is a route of :class:`PageRoute`: a :class:`speechqa.errors.Unauthorized` (no session,
an expired one, a revoked key) sends the browser to the sign-in page with the reason; any other
speechqa error renders the error page with its HTTP status and message.
"""

from __future__ import annotations

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

from api.errors import status_for
from speechqa import access, signin
from speechqa.access import Action
from speechqa.apikeys import Scope
from speechqa.errors import InvalidInput, SpeechQAError, Unauthorized
from speechqa.settings import Settings
from speechqa.storage.database import answered_scope
from speechqa.text import disallowed_character

COOKIE = "speechqa_session"
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


class PageRoute(APIRoute):
    """A route that answers errors with pages, and a missing session with the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except Unauthorized as exc:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                response = RedirectResponse(
                    f"/login?next={quote(target)}&message={quote(exc.message)}", status_code=303
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

    def can(self, scope: str) -> bool:
        return Scope(scope) in self.principal.scopes

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
    return templates.TemplateResponse(
        request,
        template,
        {"viewer": who, "message": request.query_params.get("message"), **context},
    )


def back(url: str, message: str | None = None) -> RedirectResponse:
    """Post/redirect/get: after a form, back to a page (with a message)."""
    path, hash_, fragment = url.partition("#")
    if message:
        path += ("&" if "?" in path else "?") + f"message={quote(message)}"
    return RedirectResponse(path + hash_ + fragment, status_code=303)
