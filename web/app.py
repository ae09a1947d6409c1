"""Mounts the web app on the FastAPI application: its pages, its static files, and the chart
library served from the installed plotly package (no CDN: the app works with no network)."""

from __future__ import annotations

from pathlib import Path

import plotly
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from web import times
from web.deps import templates
from web.pages import auth, calls, coaching, exports, kpis, rulesets, work

STATIC = Path(__file__).parent / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def install(app: FastAPI) -> None:
    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(
            PLOTLY_JS,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    times.install(templates.env)
    for pages in (auth, exports, calls, work, kpis, coaching, rulesets):
        app.include_router(pages.router)
