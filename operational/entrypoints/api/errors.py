"""How refusals become HTTP answers: domain errors are 4xx with the reason, database
trouble is 409, 422 or 503, and a 404 outside the API is a page of the visitors' web."""

import logging

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from operational.domain import errors
from operational.entrypoints.api.schemas import ErrorOut
from operational.entrypoints.throttle import TooManyFailedAttempts
from operational.service_layer import access

log = logging.getLogger(__name__)

# Paths that answer in JSON; every other path is the visitors' web.
NOT_WEB = ("/api/", "/docs", "/redoc", "/openapi.json")

# The refusals every API operation documents.
ERROR_RESPONSES = {
    status: {"model": ErrorOut, "description": description}
    for status, description in [
        (401, "no token, or an unknown, expired or revoked one"),
        (403, "the role may not do this, or the municipality may not use that branch"),
        (404, "the patron, item, title, loan, hold or transport does not exist"),
        (409, "the request clashes with the current state"),
        (429, "too many failed authentication attempts from this client"),
        (503, "the lending database is unavailable"),
    ]
}

# The first kind an error is an instance of gives its status; any other DomainError is 400.
_STATUS = [
    (TooManyFailedAttempts, 429),
    (access.Unauthenticated, 401),
    (access.Forbidden, 403),
    (errors.NotPermitted, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
]


def install_error_handlers(app: FastAPI, not_found_page) -> None:
    """Map refusals to answers on app; not_found_page(request) answers a 404 outside the
    JSON paths."""

    @app.exception_handler(errors.InvalidRequest)
    async def _invalid(_request: Request, error: errors.InvalidRequest) -> JSONResponse:
        # The same shape as FastAPI's own 422s, so a client handles both one way.
        location = ["body", error.field] if error.field else ["body"]
        problem = {"type": "invalid_value", "loc": location, "msg": str(error)}
        return JSONResponse({"detail": [problem], "error": "InvalidRequest"}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException):
        if error.status_code == 404 and not request.url.path.startswith(NOT_WEB):
            return not_found_page(request)  # a page for people, not JSON
        if error.status_code == 400:
            # A body that is not even JSON text is malformed input like any other: 422.
            problem = {"type": "json_invalid", "loc": ["body"], "msg": str(error.detail)}
            return JSONResponse({"detail": [problem]}, 422)
        return await http_exception_handler(request, error)

    @app.exception_handler(errors.DomainError)
    async def _domain_error(_request: Request, error: errors.DomainError) -> JSONResponse:
        status = next((code for kind, code in _STATUS if isinstance(error, kind)), 400)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(error, TooManyFailedAttempts):
            headers = {"Retry-After": str(error.retry_after)}
        return JSONResponse(
            {"detail": str(error), "error": type(error).__name__}, status, headers=headers
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, error: IntegrityError) -> JSONResponse:
        # A concurrent request won a race on a uniqueness rule the database also enforces.
        log.info("integrity conflict: %s", error.orig)
        return JSONResponse(
            {
                "detail": "the request conflicts with a concurrent change; try again",
                "error": "Conflict",
            },
            409,
        )

    @app.exception_handler(DataError)
    async def _data_error(_request: Request, error: DataError) -> JSONResponse:
        return JSONResponse({"detail": f"invalid value: {error.orig}", "error": "DataError"}, 422)

    @app.exception_handler(OperationalError)
    async def _unavailable(_request: Request, error: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", error.orig)
        return JSONResponse(
            {
                "detail": "the lending database is unavailable; try again shortly",
                "error": "DatabaseUnavailable",
            },
            503,
            headers={"Retry-After": "5"},
        )
