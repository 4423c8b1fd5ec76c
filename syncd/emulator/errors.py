"""Errors raised by the store and routes, and their bodies in each API's real shape.

v2 (Cloud ``/wiki/api/v2``) answers with the ``errors[]`` envelope; v1 and DC answer with the
``RestError`` shape. See shared/docs/confluence-api.md §3.5 and §3.12.
"""

from __future__ import annotations

import json

from aiohttp import web

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    410: "Gone",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

V2_CODES = {
    400: "INVALID_REQUEST_PARAMETER",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    413: "REQUEST_ENTITY_TOO_LARGE",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    503: "SERVICE_UNAVAILABLE",
}


class ApiError(Exception):
    """An error response. ``message`` is the v1/DC text, ``title`` the v2 one."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.message = message
        self.title = title if title is not None else message
        self.code = code or V2_CODES.get(self.status, "ERROR")
        self.headers = headers or {}


class BadRequest(ApiError):
    status = 400


class NotFound(ApiError):
    status = 404

    def __init__(self, message: str) -> None:
        super().__init__(message, title="Not Found")


class Forbidden(ApiError):
    status = 403


class VersionConflict(ApiError):
    """An update that did not carry current+1."""

    status = 409

    def __init__(self, current: int, provided: int | None, *, kind: str = "page") -> None:
        super().__init__(
            f"Version must be incremented on update. Current version is: {current}",
            title=(
                f"Version must be incremented when updating a {kind}. "
                f"Current Version: [{current}]. Provided version: [{provided}]"
            ),
        )
        self.current = current
        self.provided = provided


class TitleExists(BadRequest):
    def __init__(self, title: str) -> None:
        super().__init__(
            "com.atlassian.confluence.api.service.exceptions.BadRequestException: "
            "A page with this title already exists: "
            "A page already exists with the same TITLE in this space",
            title="A page with this title already exists: "
            "A page already exists with the same TITLE in this space",
        )
        self.page_title = title


def content_not_found(content_id: str) -> NotFound:
    return NotFound(f"No content found with id: ContentId{{id={content_id}}}")


def v2_body(err: ApiError) -> dict:
    return {
        "errors": [{"status": err.status, "code": err.code, "title": err.title, "detail": None}]
    }


def rest_error_body(err: ApiError) -> dict:
    return {
        "statusCode": err.status,
        "data": {
            "authorized": False,
            "valid": True,
            "allowedInReadOnlyMode": True,
            "errors": [],
            "successful": False,
        },
        "message": err.message,
        "reason": REASONS.get(err.status, "Error"),
    }


def error_response(err: ApiError, style: str) -> web.Response:
    """Render ``err`` for an API ``style``: "v2", "v1" (Cloud v1 and DC) or "text"."""
    if style == "text":
        return web.Response(
            status=err.status, text=err.message, content_type="text/plain", headers=err.headers
        )
    body = v2_body(err) if style == "v2" else rest_error_body(err)
    return web.Response(
        status=err.status,
        body=json.dumps(body).encode(),
        content_type="application/json",
        charset="utf-8",
        headers=err.headers,
    )


def style_for_path(path: str) -> str:
    if path.startswith("/wiki/api/v2"):
        return "v2"
    return "v1"
