"""Follow the server's next links, verbatim, to the end of a listing.

Cloud v2 answers with a cursor in ``_links.next`` (a path that already includes ``/wiki``)
and the same link in a ``Link: <...>; rel="next"`` header. Cloud v1 CQL search answers with a
path relative to ``_links.base`` (no ``/wiki``). Data Center answers with start/limit links,
relative to the context path or absolute. The client never builds a cursor or an offset
itself: it only follows what the server said, so a listing cannot skip or repeat items
because of client arithmetic. (`paginate_ahead` asks for offset pages before their turn,
but uses one only at the exact link the server gave for it.)
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from .errors import ServerError
from .scopes import gateway_root
from .transport import Reply, Transport

_LINK_NEXT = re.compile(r'<([^>]*)>\s*;[^,]*?rel="?next"?', re.IGNORECASE)


def link_header_next(value: str | None) -> str | None:
    """The ``rel="next"`` target of a Link header, if any."""
    if not value:
        return None
    match = _LINK_NEXT.search(value)
    return match.group(1) if match else None


def resolve_next(next_link: str, base_url: str, links_base: str | None = None) -> str:
    """Absolute URL for a server-provided next link.

    * absolute links are used as they are;
    * a path that already starts with the base URL's path (``/wiki/api/v2/...``) is joined
      to the origin;
    * any other path is relative to the response's ``_links.base`` when given, else to the
      configured base URL (``/rest/api/content/search?...`` -> ``{base}/rest/api/...``).
    """
    gateway = gateway_root(base_url)
    if gateway is not None:
        return _resolve_on_gateway(next_link, gateway)
    if next_link.startswith(("http://", "https://")):
        return next_link
    parts = urlsplit(base_url)
    origin = f"{parts.scheme}://{parts.netloc}"
    base_path = parts.path.rstrip("/")
    if not next_link.startswith("/"):
        next_link = "/" + next_link
    if base_path and (next_link == base_path or next_link.startswith(base_path + "/")):
        return origin + next_link
    if links_base and links_base.startswith(("http://", "https://")):
        # Trust the base's path but keep our own origin (proxies rewrite hosts).
        lb_path = urlsplit(links_base).path.rstrip("/")
        return origin + lb_path + next_link
    return origin + base_path + next_link


def _resolve_on_gateway(next_link: str, gateway: str) -> str:
    """A next link re-rooted onto the API gateway (``{origin}/ex/confluence/{cloudId}``).

    Answers given through the gateway may still speak of the site: ``/wiki/api/v2/...``
    paths, ``_links.base`` ``https://acme.atlassian.net/wiki``, or absolute site URLs.
    Following those would leave the gateway, where a scoped token is refused; only the path
    below ``/wiki`` is kept, under the gateway.
    """
    parts = urlsplit(gateway)
    origin = f"{parts.scheme}://{parts.netloc}"
    if next_link.startswith(("http://", "https://")):
        link = urlsplit(next_link)
        if f"{link.scheme}://{link.netloc}" == origin and link.path.startswith(parts.path + "/"):
            return next_link
        next_link = link.path + (f"?{link.query}" if link.query else "")
    if not next_link.startswith("/"):
        next_link = "/" + next_link
    if next_link.startswith(parts.path + "/"):
        return origin + next_link
    if next_link == "/wiki" or next_link.startswith("/wiki/"):
        return gateway + next_link
    return gateway + "/wiki" + next_link  # relative to _links.base, the site's /wiki


def next_url(reply: Reply, payload: Any, base_url: str) -> str | None:
    """The next page's URL from the body's ``_links.next``, else from the Link header."""
    links: Mapping[str, Any] = {}
    if isinstance(payload, dict) and isinstance(payload.get("_links"), dict):
        links = payload["_links"]
    link = links.get("next") or link_header_next(reply.headers.get("Link"))
    if not link:
        return None
    return resolve_next(link, base_url, links.get("base"))


async def paginate(
    transport: Transport,
    url: str,
    params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
    *,
    max_pages: int | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """Yield every item of a listing, one server page at a time (constant memory).

    Accepts the array-shaped answers of the Cloud webhook endpoint as a single page.
    """
    seen: set[str] = set()
    current: str | None = transport.url(url)
    current_params = params
    pages = 0
    while current:
        reply = await transport.request("GET", current, params=current_params)
        payload = reply.json()
        pages += 1
        if isinstance(payload, list):
            for item in payload:
                yield item
            return
        results = payload.get("results", []) if isinstance(payload, dict) else []
        for item in results:
            yield item
        following = next_url(reply, payload, transport.settings.base_url)
        if not following or (max_pages is not None and pages >= max_pages):
            return
        _follow_once(seen, following)
        current, current_params = following, None  # next links carry every parameter


def _follow_once(seen: set[str], link: str) -> None:
    """Note `link` as followed; a link followed before means the listing loops."""
    if link in seen:
        raise ServerError(
            "the server's next link repeats an earlier page; stopping the listing",
            method="GET",
            url=link,
        )
    seen.add(link)


#: Offset pages a listing requests before their turn (`paginate_ahead`).
PAGES_AHEAD = 3

_START_PARAM = re.compile(r"([?&]start=)(\d+)(?=&|$)")


def _offset_links(link: str, payload: Any, step_ahead: int) -> list[str]:
    """The next links the server will give after `link`, if its listing pages by offset:
    `link` with its ``start`` moved on by whole pages. Only for a full page whose own
    ``start`` + ``size`` is where `link` starts (the server's answer says how it pages);
    else none, and the listing follows its links one at a time."""
    if not isinstance(payload, dict):
        return []
    start, limit, size = payload.get("start"), payload.get("limit"), payload.get("size")
    match = _START_PARAM.search(link)
    if (
        match is None
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, limit, size))
        or size != limit
        or limit <= 0
        or int(match.group(2)) != start + size
    ):
        return []
    first = int(match.group(2))
    return [
        _START_PARAM.sub(lambda m, s=first + k * limit: f"{m.group(1)}{s}", link, count=1)
        for k in range(1, step_ahead + 1)
    ]


async def paginate_ahead(
    transport: Transport,
    url: str,
    params: Mapping[str, Any] | None = None,
    *,
    expected: int | None = None,
    ahead: int = PAGES_AHEAD,
) -> AsyncIterator[dict[str, Any]]:
    """`paginate` for offset listings (Data Center's start/limit), with the next pages
    requested before their turn, so a listing of N pages costs about N / `ahead` round
    trips instead of N.

    The client still only follows the server's links: a page requested ahead is used only
    if its URL is, byte for byte, the next link the page before it gave (the server's
    answer is the authority; an answer that pages differently is followed one link at a
    time, and what was asked ahead is dropped). `expected` (the items the listing held last
    time, when known) bounds the pages asked ahead, so an unchanged listing costs no extra
    request; without it at most `ahead` requests past the end are spent.
    """
    base = transport.settings.base_url
    reply = await transport.request("GET", transport.url(url), params=params)
    payload = reply.json()
    early: dict[str, asyncio.Task[Reply]] = {}
    seen: set[str] = set()
    try:
        while True:
            results = payload.get("results", []) if isinstance(payload, dict) else []
            following = next_url(reply, payload, base)
            if following:
                _follow_once(seen, following)
                for link in _offset_links(following, payload, ahead):
                    start = int(_START_PARAM.search(link).group(2))  # type: ignore[union-attr]
                    if expected is not None and start >= expected:
                        break
                    if link not in early and link not in seen:
                        early[link] = asyncio.ensure_future(transport.request("GET", link))
            for item in results:
                yield item
            if not following:
                return
            task = early.pop(following, None)
            reply = await (task if task is not None else transport.request("GET", following))
            payload = reply.json()
    finally:
        for task in early.values():
            task.cancel()
        for outcome in await asyncio.gather(*early.values(), return_exceptions=True):
            del outcome  # requests nobody needs: their answers and errors are dropped
