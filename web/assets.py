"""Static files as a browser should get them: the app's own (``web/static``), Plotly from the
installed plotly package and the API documentation's Swagger UI and ReDoc from the installed
fastapi-offline package, so no page needs the network.

- Text files (scripts, styles, SVG) are sent gzipped to a browser that accepts it; each is
  compressed once per process (Plotly's 4.8 MB script becomes about 1.4 MB).
- Pages name each file by :meth:`Assets.url`, ``/static/NAME?v=DIGEST``: an answer to that
  address never changes, so it is cached for a year (``immutable``) and a later view asks for
  nothing. Any other address of a file (no or an old ``v``) is revalidated on each use with its
  ``ETag`` (a 304 without a body when nothing changed).
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import fastapi_offline
import plotly
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

STATIC = Path(__file__).parent / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
DOCS_FILES = Path(fastapi_offline.__file__).parent / "static"
YEAR = "public, max-age=31536000, immutable"
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


@dataclass
class Asset:
    """One file that ``/static/NAME`` serves; its bytes are read once, on first use."""

    path: Path
    media_type: str

    @cached_property
    def body(self) -> bytes:
        return self.path.read_bytes()

    @cached_property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:16]

    @cached_property
    def gzipped(self) -> bytes | None:
        """The body compressed, or None for a type that does not shrink (PNG)."""
        if not self.media_type.startswith(COMPRESSIBLE):
            return None
        return gzip.compress(self.body, compresslevel=9, mtime=0)


def _media_type(path: Path) -> str:
    if path.suffix == ".js":
        return "text/javascript; charset=utf-8"
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def _accepts_gzip(header: str) -> bool:
    for part in header.split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            q = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


class Assets:
    """The served files by name (``call.js``, ``vendor/plotly.min.js``, ``docs/swagger-ui.css``)."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = {name: Asset(path, _media_type(path)) for name, path in files.items()}

    @classmethod
    def installed(cls) -> Assets:
        files = {p.relative_to(STATIC).as_posix(): p for p in STATIC.rglob("*") if p.is_file()}
        files["vendor/plotly.min.js"] = PLOTLY_JS
        for name in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
            files[f"docs/{name}"] = DOCS_FILES / name
        return cls(files)

    def url(self, name: str) -> str:
        """The address pages use for a file: it changes when the file does."""
        return f"/static/{name}?v={self.files[name].digest}"

    def response(self, name: str, request: Request) -> Response:
        asset = self.files.get(name)
        if asset is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        gzipped = (
            asset.gzipped if _accepts_gzip(request.headers.get("accept-encoding", "")) else None
        )
        etag = f'"{asset.digest}{"-gz" if gzipped is not None else ""}"'
        headers = {
            "ETag": etag,
            "Cache-Control": YEAR if request.query_params.get("v") == asset.digest else "no-cache",
        }
        if asset.gzipped is not None:
            headers["Vary"] = "Accept-Encoding"
        if etag in (t.strip() for t in request.headers.get("if-none-match", "").split(",")):
            return Response(status_code=304, headers=headers)
        if gzipped is not None:
            headers["Content-Encoding"] = "gzip"
        body = gzipped if gzipped is not None else asset.body
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return Response(status_code=200, headers=headers, media_type=asset.media_type)
        return Response(body, headers=headers, media_type=asset.media_type)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Mounted at ``/static``: GET and HEAD of a file by its name."""
        request = Request(scope, receive)
        if request.method not in ("GET", "HEAD"):
            answer = Response("Method Not Allowed", status_code=405, headers={"Allow": "GET, HEAD"})
        else:
            answer = self.response(
                scope["path"].removeprefix(scope.get("root_path", "")).lstrip("/"), request
            )
        await answer(scope, receive, send)
