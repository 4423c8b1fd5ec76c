"""Pagination as each API does it.

v2: an opaque ``cursor``; ``_links.next`` is a relative URL including ``/wiki`` that keeps every
query parameter of the request, and the same URL goes in a ``Link`` header. It is absent on the
last page. v1/DC: ``start``/``limit`` with ``_links.next`` (relative to ``_links.base``) absent on
the last page. Limits over the maximum are capped, as the real servers do.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import urlencode

from aiohttp import web

from syncd.emulator.errors import BadRequest

T = TypeVar("T")


def encode_cursor(state: dict[str, Any]) -> str:
    raw = json.dumps(state, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    if not cursor:
        return {}
    try:
        pad = "=" * (-len(cursor) % 4)
        state = json.loads(base64.urlsafe_b64decode(cursor + pad))
        if not isinstance(state, dict):
            raise ValueError
        return state
    except (ValueError, TypeError):
        raise BadRequest(f"Invalid cursor: {cursor}") from None


def parse_limit(request: web.Request, default: int, maximum: int) -> int:
    raw = request.query.get("limit")
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"Invalid limit: {raw}") from None
    if value < 1:
        raise BadRequest(f"limit must be at least 1, got {value}")
    return min(value, maximum)


def parse_start(request: web.Request) -> int:
    raw = request.query.get("start", "0") or "0"
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"Invalid start: {raw}") from None
    return max(0, value)


def next_url(request: web.Request, path_prefix: str, **replace: Any) -> str:
    """The request's path (behind ``path_prefix``) with all query params, some replaced."""
    items = [(k, v) for k, v in request.query.items() if k not in replace]
    items.extend((k, str(v)) for k, v in replace.items())
    return f"{path_prefix}{request.path}?{urlencode(items)}"


def v2_page(
    request: web.Request,
    results: list[dict],
    next_cursor: str | None,
    base: str,
) -> web.Response:
    """A v2 list response with ``_links.next`` and a ``Link`` header when there is more."""
    links: dict[str, str] = {"base": base}
    headers = {}
    if next_cursor is not None:
        nxt = next_url(request, "", cursor=next_cursor)
        links["next"] = nxt
        headers["Link"] = f'<{nxt}>; rel="next", <{base}>; rel="base"'
    return json_response({"results": results, "_links": links}, headers=headers)


def take(it: Iterable[T], limit: int) -> tuple[list[T], bool]:
    """Up to ``limit`` items and whether at least one more exists."""
    out: list[T] = []
    for item in it:
        if len(out) == limit:
            return out, True
        out.append(item)
    return out, False


def v1_links(
    request: web.Request, *, base: str, context: str, start: int, limit: int, more: bool
) -> dict[str, str]:
    """``_links`` for a start/limit page; paths are relative to ``base`` (so no ``/wiki``)."""
    path = request.path
    if context and path.startswith(context):
        path = path[len(context) :]
    items = [(k, v) for k, v in request.query.items() if k not in ("start", "limit")]

    def url(s: int) -> str:
        return f"{path}?{urlencode([*items, ('limit', str(limit)), ('start', str(s))])}"

    links = {"base": base, "context": context, "self": f"{base}{url(start)}"}
    if more:
        links["next"] = url(start + limit)
    if start > 0:
        links["prev"] = url(max(0, start - limit))
    return links


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(data).encode(),
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )
