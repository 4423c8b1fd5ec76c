"""Small helpers for reading requests: JSON bodies, multi-valued and boolean query params."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from syncd.emulator.errors import ApiError, BadRequest

MAX_BODY = 5 * 1024 * 1024  # Cloud caps requests at 5 MB (413 above)


async def read_json(request: web.Request) -> Any:
    raw = await request.read()
    if len(raw) > MAX_BODY:
        raise ApiError("Request entity too large", status=413)
    if not raw:
        raise BadRequest("Request body is empty")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise BadRequest(f"Unable to parse the request body as JSON: {exc}") from None


def multi(request: web.Request, name: str) -> list[str]:
    """``?status=a&status=b`` and ``?status=a,b`` both give ``["a", "b"]``."""
    out: list[str] = []
    for value in request.query.getall(name, []):
        out.extend(v.strip() for v in value.split(",") if v.strip())
    return out


def flag(request: web.Request, name: str, default: bool = False) -> bool:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in ("true", "1", "yes")


def int_param(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"Invalid value for {name}: {raw}") from None


def path_id(request: web.Request, name: str = "id") -> str:
    """A numeric content id from the path (400 when it is not a number, as v2 does)."""
    raw = request.match_info[name]
    if not raw.isdigit():
        raise BadRequest(f"Invalid {name}: {raw}")
    return str(int(raw))


def site_base(request: web.Request, context: str) -> str:
    """``_links.base``: the site as the client reached it."""
    return f"{request.scheme}://{request.host}{context}"
