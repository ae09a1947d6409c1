"""The one place where errors become the API's HTTP responses (the status of each core error is
``speechqa_service.http.STATUS``, which the web pages use too).

Every error body is ``{"error": {"code", "message", "details"}}``; nothing leaks a stack trace.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from speechqa import errors as e
from speechqa_service.http import status_for

log = logging.getLogger(__name__)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _allowed(request: Request) -> list[str]:
    """Every method the API serves at this path, as its OpenAPI schema lists them (Starlette
    names only the first matching route's)."""
    paths = request.app.openapi()["paths"]
    if request.url.path in paths:  # /v1/rulesets/validate, not also /v1/rulesets/{name}
        return sorted(m.upper() for m in paths[request.url.path])
    methods: set[str] = set()
    for template, item in paths.items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {m.upper() for m in item}
    return sorted(methods)


def install(app: FastAPI) -> None:
    @app.exception_handler(e.SpeechQAError)
    async def _speechqa(_: Request, exc: e.SpeechQAError) -> JSONResponse:
        status = status_for(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, e.TooManyRequests):
            headers = {"Retry-After": str(exc.retry_after_s)}
        if isinstance(exc, e.ServiceUnavailable):
            headers = {"Retry-After": "5"}
        if isinstance(exc, e.RangeNotSatisfiable) and exc.size is not None:
            headers = {"Content-Range": f"bytes */{exc.size}"}
        return JSONResponse(
            error_body(exc.code, exc.message, exc.details), status_code=status, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "problem": err["msg"]}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['problem']}" for d in details)
        return JSONResponse(
            error_body("invalid_input", f"The request is invalid: {summary}.", details), 422
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed(request))
        return JSONResponse(error_body(code, str(exc.detail)), exc.status_code, headers=headers)

    async def _unavailable(what: str, exc: Exception) -> JSONResponse:
        log.warning("%s unavailable: %s", what, exc)
        return JSONResponse(
            error_body("service_unavailable", f"The {what} is unavailable; try again shortly."),
            503,
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(RedisError)
    async def _redis(_: Request, exc: RedisError) -> JSONResponse:
        return await _unavailable("queue (Redis)", exc)

    @app.exception_handler(OperationalError)
    async def _database(_: Request, exc: OperationalError) -> JSONResponse:
        return await _unavailable("database", exc)

    @app.exception_handler(PoolTimeout)
    async def _pool(_: Request, exc: PoolTimeout) -> JSONResponse:
        return await _unavailable("database", exc)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        # The connection may be in an unknown state: tell the client not to reuse it.
        return JSONResponse(
            error_body("internal_error", "An internal error occurred; it has been logged."),
            500,
            headers={"Connection": "close"},
        )
