"""``syncd doctor`` with a scoped token: which scopes syncd needs, and which the token has.

The scopes are not guessed from the token (Atlassian offers no way to list a token's scopes):
each is checked by the gateway's own answer to a harmless request that needs it. Atlassian's
gateway checks the scope before Confluence sees the request, and refuses with ``401
Unauthorized; scope does not match``; a request that passes the check gets Confluence's
answer, which for these probes is a listing or a 404/400 for an object that does not exist
(id 0), so nothing is ever changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from syncd.confluence.scopes import Requirement, scopes_for_features

#: (method, path below {gateway}/wiki, body) per scope; "{space}" is the space id.
_PROBES: dict[str, tuple[str, str, Any]] = {
    "read:space:confluence": ("GET", "/api/v2/spaces/{space}", None),
    "read:page:confluence": ("GET", "/api/v2/spaces/{space}/pages?limit=1", None),
    "write:page:confluence": ("PUT", "/api/v2/pages/0", {}),
    "delete:page:confluence": ("DELETE", "/api/v2/pages/0", None),
    "read:content.metadata:confluence": ("GET", "/api/v2/pages/0/ancestors", None),
    "read:hierarchical-content:confluence": ("GET", "/api/v2/pages/0/descendants", None),
    "read:content-details:confluence": ("GET", "/rest/api/content/search?cql=id%3D0&limit=1", None),
    "write:label:confluence": ("POST", "/rest/api/content/0/label", []),
    "read:attachment:confluence": ("GET", "/api/v2/pages/0/attachments?limit=1", None),
    "write:attachment:confluence": ("POST", "/rest/api/content/0/child/attachment", None),
    "delete:attachment:confluence": ("DELETE", "/api/v2/attachments/att0", None),
}


@dataclass(frozen=True)
class ScopeResult:
    requirement: Requirement
    granted: bool | None  # None: the answer did not tell (e.g. a network error)
    detail: str = ""


def is_scope_refusal(reply: httpx.Response) -> bool:
    if reply.status_code != 401:
        return False
    if reply.headers.get("X-Failure-Category") == "FAILURE_CLIENT_SCOPE_CHECK":
        return True
    return "scope does not match" in reply.text.lower()


async def check_scopes(
    raw: httpx.AsyncClient,
    base_url: str,
    space_id: str,
    *,
    attachments: bool,
    root_page: bool = False,
) -> list[ScopeResult]:
    """Probe every scope syncd needs for the configured features (``base_url``: the
    gateway's ``.../wiki``)."""
    out: list[ScopeResult] = []
    for need in scopes_for_features(attachments=attachments, root_page=root_page):
        method, path, body = _PROBES[need.scope]
        url = base_url + path.replace("{space}", space_id)
        headers = {"X-Atlassian-Token": "nocheck"}
        content = None
        if body is not None:
            content = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            reply = await raw.request(method, url, content=content, headers=headers)
        except httpx.HTTPError as exc:
            out.append(ScopeResult(need, None, type(exc).__name__))
            continue
        if is_scope_refusal(reply):
            out.append(ScopeResult(need, False))
        elif reply.status_code == 401:
            out.append(ScopeResult(need, None, "the token was refused"))
        else:
            out.append(ScopeResult(need, True))
    return out
