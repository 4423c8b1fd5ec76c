"""Finding a Cloud site's API gateway URL: ``https://api.atlassian.com/ex/confluence/{cloudId}``.

The cloud id is published, without credentials, at ``https://<site>/_edge/tenant_info`` as
``{"cloudId": "..."}`` (DX's Confluence Cloud connector setup; stablyai/orca#20092 resolves
it the same way). Atlassian's support page "Manage API tokens for your Atlassian account"
gives the gateway URL for tokens with scopes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from .errors import NotFound, Unreachable
from .tls import verifying_context

ATLASSIAN_API = "https://api.atlassian.com"


def site_root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def gateway_origin(site_url: str) -> str:
    """api.atlassian.com for an ``*.atlassian.net`` site. Any other site (a local emulator,
    or a proxy that forwards ``/ex/confluence``) is assumed to serve the gateway itself."""
    host = (urlsplit(site_url).hostname or "").lower()
    return ATLASSIAN_API if host.endswith(".atlassian.net") else site_root(site_url)


async def find_cloud_id(
    site_url: str, *, transport: httpx.AsyncBaseTransport | None = None, wait: float = 15.0
) -> str:
    """The site's cloud id from ``/_edge/tenant_info`` (no credentials are sent)."""
    url = site_root(site_url) + "/_edge/tenant_info"
    try:
        async with httpx.AsyncClient(
            transport=transport, timeout=wait, verify=verifying_context()
        ) as http:
            reply = await http.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise Unreachable(f"cannot read {url}: {type(exc).__name__}", url=url) from None
    try:
        data = reply.json() if reply.status_code == 200 else None
    except ValueError:
        data = None
    cloud_id = data.get("cloudId") if isinstance(data, dict) else None
    if not isinstance(cloud_id, str) or not cloud_id:
        raise NotFound(
            f"{url} did not give a cloud id (HTTP {reply.status_code}): is this a Confluence "
            "Cloud site?",
            status=reply.status_code,
            url=url,
        )
    return cloud_id


async def find_gateway_url(
    site_url: str, *, transport: httpx.AsyncBaseTransport | None = None
) -> str:
    """``{gateway origin}/ex/confluence/{cloudId}`` for a Cloud site URL."""
    cloud_id = await find_cloud_id(site_url, transport=transport)
    return f"{gateway_origin(site_url)}/ex/confluence/{cloud_id}"
