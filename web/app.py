"""Mounts the web app on the FastAPI application: its pages and its static files (web/assets.py:
compressed, cached, with the chart library from the installed plotly package: no CDN, the app
works with no network)."""

from __future__ import annotations

from fastapi import FastAPI, Request, Response

from . import times
from .assets import Assets
from .deps import templates
from .pages import auth, calls, coaching, exports, kpis, rulesets, work

ASSETS = Assets.installed()
templates.env.globals["static_url"] = ASSETS.url


def install(app: FastAPI) -> None:
    @app.get("/favicon.ico", include_in_schema=False)
    def favicon(request: Request) -> Response:  # browsers ask for it whatever a page names
        return ASSETS.response("favicon.png", request)

    app.mount("/static", ASSETS, name="static")
    times.install(templates.env)
    for pages in (auth, exports, calls, work, kpis, coaching, rulesets):
        app.include_router(pages.router)
