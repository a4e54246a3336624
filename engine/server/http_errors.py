"""Every failure answered the same way: a status and `{"error": "<one line>"}`."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from engine.errors import EngineError
from engine.server.payload import validation_message
from engine.server.work import one_line

log = logging.getLogger("engine.server")


class ApiError(Exception):
    """An answer other than success: status, a one-line message and extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = one_line(message)
        self.headers = headers or {}


def error_answer(
    status: int, message: object, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The JSON answer of a failure."""
    return JSONResponse({"error": one_line(message)}, status_code=status, headers=headers)


def install_error_answers(app: FastAPI) -> None:
    """Answer API errors, bad input, unknown routes and bugs as one-line JSON errors."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> JSONResponse:
        return error_answer(error.status, error.message, error.headers)

    @app.exception_handler(EngineError)
    async def engine_error(request: Request, error: EngineError) -> JSONResponse:
        return error_answer(400, error)

    @app.exception_handler(RequestValidationError)
    async def invalid_body(request: Request, error: RequestValidationError) -> JSONResponse:
        return error_answer(400, validation_message(error.errors()))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        if error.status_code == 404:
            message = f"no such endpoint: {request.url.path[:80]}"
        elif error.status_code == 405:
            message = f"{request.method} is not allowed here"
        elif error.status_code == 400:
            # FastAPI's own words for a body json.loads cannot take (bad bytes, deep nesting).
            message = "body is not valid JSON"
        else:
            message = str(error.detail)
        return error_answer(error.status_code, message, error.headers)

    @app.exception_handler(Exception)
    async def internal_error(request: Request, error: Exception) -> JSONResponse:
        log.exception("error handling %s %s", request.method, request.url.path)
        return error_answer(500, f"internal error: {type(error).__name__}")
