"""RFC 9457 problem details: the one rendering of every error the API returns."""

import functools
import re
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from starlette.routing import Mount, Route
from starlette.types import Send

from insightboards.errors import InsightboardsError

PROBLEM_JSON = "application/problem+json"


class Problem(BaseModel):
    """RFC 9457 problem details: every error the API returns (its OpenAPI schema)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = Field(
        default=None, description="For 400: each bad field and what is wrong with it."
    )


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem_body(
    status: int, detail: str, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(
    status: int,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        problem_body(status, detail, errors),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


async def send_problem(
    send: Send, status: int, detail: str, headers: Mapping[str, str] | None = None
) -> None:
    """Answer with a problem from ASGI middleware, before any route runs."""
    response = problem_response(status, detail, headers=headers)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": response.raw_headers,
        }
    )
    await send({"type": "http.response.body", "body": response.body})


# Pydantic names the member of a union in an error's location (`DashboardItemIn`,
# `list[DashboardItemIn]`): model names and generic types, never a field of this API.
_UNION_MEMBER = re.compile(r"[A-Z][A-Za-z]*|[a-z]+\[.+\]")


def _errors_of_the_sent_kind(exc: RequestValidationError) -> list[Any]:
    """The errors, less those of a union's member that the body was not of (an object's
    errors as a list's, say), and without the members' names in their locations."""
    errors = []
    sent_a_list = isinstance(exc.body, list)
    for error in exc.errors():
        location = list(error.get("loc", ()))
        members = [
            part for part in location if isinstance(part, str) and _UNION_MEMBER.fullmatch(part)
        ]
        if members and members[0].startswith("list[") != sent_a_list:
            continue
        errors.append({**error, "loc": tuple(p for p in location if p not in members)})
    return errors or list(exc.errors())


def _field_errors(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    errors = []
    detail = "The request is not valid; see errors."
    for error in _errors_of_the_sent_kind(exc):
        location = [str(part) for part in error.get("loc", ())]
        message = str(error.get("msg", ""))
        errors.append({"field": ".".join(location), "message": message})
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        detail = "The request body is not valid JSON."
    elif len(errors) == 1:
        detail = f"{errors[0]['field']}: {errors[0]['message']}"
    return detail, errors


def _allowed_methods(request: Request) -> list[str]:
    """The methods of the path's operations in the OpenAPI document (Starlette names only
    the first route's, and FastAPI keeps included routes out of its router's list). Where
    paths overlap (`/dashboards/reports`, `/dashboards/{dashboardId}`), the one with the
    most fixed segments is the path's, as the document describes it."""
    matches = [
        (fixed, served)
        for pattern, fixed, served in _operations_by_path(request.app)
        if pattern.fullmatch(request.url.path)
    ]
    most = max((fixed for fixed, _ in matches), default=0)
    return sorted(set().union(*(served for fixed, served in matches if fixed == most)))


@functools.cache
def _operations_by_path(app: FastAPI) -> list[tuple[re.Pattern[str], int, frozenset[str]]]:
    """Each path's pattern, fixed segments and methods: the document's operations, then the
    routes it leaves out (the docs pages, their files). A GET answers HEAD too (api/paths.py)."""
    paths = {path: {m.upper() for m in item} for path, item in app.openapi()["paths"].items()}
    for route in app.routes:
        if isinstance(route, Route) and route.path not in paths:
            paths[route.path] = set(route.methods or ())
        elif isinstance(route, Mount):
            paths[route.path + "/{path:path}"] = {"GET"}
    operations = []
    for path, methods in paths.items():
        pattern = re.compile(
            re.sub(
                r"\\\{[^/]+?:path\\\}", ".+", re.sub(r"\\\{[^/:]+?\\\}", "[^/]+", re.escape(path))
            )
        )
        fixed = sum(1 for segment in path.split("/") if segment and "{" not in segment)
        if "GET" in methods:
            methods = methods | {"HEAD"}
        operations.append((pattern, fixed, frozenset(methods)))
    return operations


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";")[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def domain_error_response(exc: InsightboardsError) -> JSONResponse:
    headers = dict(exc.headers or {})
    if exc.status_code == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return problem_response(exc.status_code, exc.detail, exc.errors, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(InsightboardsError)
    async def _domain_error(_request: Request, exc: InsightboardsError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail, errors = _field_errors(exc)
        content_type = request.headers.get("content-type", "")
        body_refused = any(error["field"].split(".")[0] == "body" for error in errors)
        if body_refused and not _is_json(content_type):
            # FastAPI reads a body as JSON only when it is labelled so.
            detail = (
                "The request body must be JSON, sent with Content-Type: application/json "
                f"(this one came as {content_type or 'no Content-Type'})."
            )
        return problem_response(400, detail, errors)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(_allowed_methods(request))
            if "access-control-request-method" in request.headers:  # a browser's preflight
                detail = (
                    "Cross-origin calls from browsers are not enabled on this server: "
                    "INSIGHTBOARDS_CORS_ORIGINS lists the web origins that may make them."
                )
        return problem_response(exc.status_code, detail, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, _exc: Exception) -> JSONResponse:
        return problem_response(500, "An unexpected error occurred.")
