"""Atlassian's API gateway in front of the emulated Cloud site, and ``/_edge/tenant_info``.

Scoped API tokens (a service account's, or a person's token created with scopes) are refused
by the site and accepted only at ``https://api.atlassian.com/ex/confluence/{cloudId}``, with
basic auth (email + token), for the scopes chosen when the token was made. Sources:

* Atlassian, "Manage API tokens for your Atlassian account" (support.atlassian.com): the
  URL for API tokens with scopes is ``https://api.atlassian.com/ex/confluence/{cloudId}``,
  used with ``--user me@example.com:my-api-token``.
* Atlassian KB "Scoped API Tokens in Confluence Cloud": scoped tokens "use the
  api.atlassian.com domain instead of your site-specific URL".
* The cloud id: ``https://<site>.atlassian.net/_edge/tenant_info`` answers
  ``{"cloudId": "..."}`` without credentials (DX's Confluence Cloud connector docs;
  stablyai/orca#20092 reads it unauthenticated).
* A token without the route's scope: ``401`` ``{"code": 401, "message": "Unauthorized;
  scope does not match"}`` with ``X-Failure-Category: FAILURE_CLIENT_SCOPE_CHECK``
  (kovetskiy/mark#917, HolmesGPT/holmesgpt#2373, Atlassian community thread 3094683).
* Scopes per route: v2 from ``x-atlassian-oauth2-scopes`` in the v2 OpenAPI document; v1
  from Atlassian's v1 reference, which lists a classic scope and a granular set for each
  operation (either is enough). Routes not listed (the undocumented webhook API among them)
  have no scope a token can hold, so the gateway refuses them.

Not verified against Atlassian's documentation, and modelled on the safe side: the body of a
401 for an unknown or expired token (``{"code": 401, "message": "Unauthorized"}``), the 404
for an unknown cloud id, next links that still speak of the site's ``/wiki/...`` paths, and
the attachment download redirect staying on the gateway.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from aiohttp import web
from yarl import URL

from syncd.emulator.middleware import serve
from syncd.emulator.state import EmulatorState, state_of

SCOPE_MISMATCH = "Unauthorized; scope does not match"

_V2 = "/wiki/api/v2"
_V1 = "/wiki/rest/api"
_READ_PAGE = (("read:page:confluence",),)
_WRITE_PAGE = (("write:page:confluence",),)
_LABEL_WRITE = (("write:confluence-content",), ("read:label:confluence", "write:label:confluence"))

#: (method, route template) -> alternatives, each a set of scopes that together suffice.
ROUTE_SCOPES: dict[tuple[str, str], tuple[tuple[str, ...], ...]] = {
    ("GET", f"{_V2}/spaces"): (("read:space:confluence",),),
    ("GET", f"{_V2}/spaces/{{id}}"): (("read:space:confluence",),),
    ("GET", f"{_V2}/spaces/{{id}}/content/labels"): (("read:space:confluence",),),
    ("GET", f"{_V2}/spaces/{{id}}/pages"): _READ_PAGE,
    ("GET", f"{_V2}/spaces/{{id}}/blogposts"): _READ_PAGE,
    ("GET", f"{_V2}/pages"): _READ_PAGE,
    ("GET", f"{_V2}/blogposts"): _READ_PAGE,
    ("GET", f"{_V2}/pages/{{id}}"): _READ_PAGE,
    ("GET", f"{_V2}/blogposts/{{id}}"): _READ_PAGE,
    ("GET", f"{_V2}/pages/{{id}}/children"): _READ_PAGE,
    ("GET", f"{_V2}/pages/{{id}}/versions"): _READ_PAGE,
    ("GET", f"{_V2}/blogposts/{{id}}/versions"): _READ_PAGE,
    ("GET", f"{_V2}/pages/{{id}}/labels"): _READ_PAGE,
    ("GET", f"{_V2}/blogposts/{{id}}/labels"): _READ_PAGE,
    ("GET", f"{_V2}/labels/{{id}}/pages"): _READ_PAGE,
    ("GET", f"{_V2}/pages/{{id}}/ancestors"): (("read:content.metadata:confluence",),),
    ("POST", f"{_V2}/pages"): _WRITE_PAGE,
    ("POST", f"{_V2}/blogposts"): _WRITE_PAGE,
    ("PUT", f"{_V2}/pages/{{id}}"): _WRITE_PAGE,
    ("PUT", f"{_V2}/blogposts/{{id}}"): _WRITE_PAGE,
    ("DELETE", f"{_V2}/pages/{{id}}"): (("delete:page:confluence",),),
    ("DELETE", f"{_V2}/blogposts/{{id}}"): (("delete:page:confluence",),),
    ("GET", f"{_V2}/pages/{{id}}/attachments"): (("read:attachment:confluence",),),
    ("GET", f"{_V2}/blogposts/{{id}}/attachments"): (("read:attachment:confluence",),),
    ("GET", f"{_V2}/attachments/{{id}}"): (("read:attachment:confluence",),),
    ("DELETE", f"{_V2}/attachments/{{id}}"): (("delete:attachment:confluence",),),
    ("GET", f"{_V2}/folders/{{id}}"): (("read:folder:confluence",),),
    ("POST", f"{_V2}/folders"): (("write:folder:confluence",),),
    ("DELETE", f"{_V2}/folders/{{id}}"): (("delete:folder:confluence",),),
    ("GET", f"{_V2}/folders/{{id}}/ancestors"): (("read:content.metadata:confluence",),),
    ("GET", f"{_V2}/folders"): (("read:folder:confluence",),),
    **{
        (method, f"{_V2}/{kind}{suffix}"): ((f"{verb}:{scope}:confluence",),)
        for kind, scope in (
            ("whiteboards", "whiteboard"),
            ("databases", "database"),
            ("embeds", "embed"),
        )
        for method, suffix, verb in (
            ("POST", "", "write"),
            ("GET", "/{id}", "read"),
            ("DELETE", "/{id}", "delete"),
        )
    },
    **{
        ("GET", f"{_V2}/{kind}/{{id}}/ancestors"): (("read:content.metadata:confluence",),)
        for kind in ("whiteboards", "databases", "embeds")
    },
    # Newer than the vendored spec; the scope is CONFCLOUD-82041's "read:hierarchical-content"
    # (not verified against the endpoint's reference page). For descendants it is the
    # published v2 document's x-atlassian-oauth2-scopes (api-evangelist/confluence
    # openapi/confluence-descendants-api-openapi.yml).
    **{
        ("GET", f"{_V2}/{kind}/{{id}}/{tail}"): (("read:hierarchical-content:confluence",),)
        for kind in ("pages", "folders", "whiteboards", "databases", "embeds")
        for tail in ("direct-children", "descendants")
    },
    ("GET", f"{_V1}/content/search"): (
        ("search:confluence",),
        ("read:content-details:confluence",),
    ),
    ("GET", f"{_V1}/user/current"): (
        ("read:confluence-user",),
        ("read:content-details:confluence",),
    ),
    ("GET", f"{_V1}/content/{{id}}"): (
        ("read:confluence-content.summary",),
        ("read:content-details:confluence",),
    ),
    ("POST", f"{_V1}/content/{{id}}/child/attachment"): (
        ("write:confluence-file",),
        ("read:content-details:confluence", "write:attachment:confluence"),
    ),
    ("PUT", f"{_V1}/content/{{id}}/child/attachment"): (
        ("write:confluence-file",),
        ("read:content-details:confluence", "write:attachment:confluence"),
    ),
    ("POST", f"{_V1}/content/{{id}}/child/attachment/{{attachmentId}}/data"): (
        ("write:confluence-file",),
        ("read:content-details:confluence", "write:attachment:confluence"),
    ),
    ("GET", f"{_V1}/content/{{id}}/child/attachment/{{attachmentId}}/download"): (
        ("readonly:content.attachment:confluence",),
        ("read:attachment:confluence",),
    ),
    ("GET", "/wiki/download/attachments/{pageId}/{filename}"): (
        ("readonly:content.attachment:confluence",),
        ("read:attachment:confluence",),
    ),
    ("POST", f"{_V1}/content/{{id}}/label"): _LABEL_WRITE,
    ("DELETE", f"{_V1}/content/{{id}}/label"): _LABEL_WRITE,
    ("DELETE", f"{_V1}/content/{{id}}/label/{{label}}"): _LABEL_WRITE,
    ("PUT", f"{_V1}/content/{{pageId}}/move/{{position}}/{{targetId}}"): (
        ("write:confluence-content",),
        ("write:page:confluence",),
    ),
}


def _gateway_error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"code": status, "message": message}, status=status, headers=headers)


def _scoped_token(request: web.Request, st: EmulatorState) -> frozenset[str] | None:
    """The scopes of the request's scoped token (basic auth: the user's email + token)."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(user.encode(), st.user.encode()):
        return None
    for token, scopes in st.scoped_tokens.items():
        if hmac.compare_digest(secret.encode(), token.encode()):
            return scopes
    return None


def allowed(scopes: frozenset[str], method: str, template: str) -> bool:
    alternatives = ROUTE_SCOPES.get((method, template), ())
    return any(set(needed) <= scopes for needed in alternatives)


async def tenant_info(request: web.Request) -> web.Response:
    """``GET /_edge/tenant_info``: the site's cloud id, asked without credentials."""
    st = state_of(request)
    if not st.tenant_info:
        raise web.HTTPNotFound()
    return web.json_response({"cloudId": st.cloud_id})


async def gateway(request: web.Request) -> web.StreamResponse:
    """``/ex/confluence/{cloudId}/{path}``: check the scoped token, then serve ``/{path}``."""
    st = state_of(request)
    if request.match_info["cloudId"] != st.cloud_id:
        return _gateway_error(404, "Not Found")
    scopes = _scoped_token(request, st)
    if scopes is None:
        return _gateway_error(401, "Unauthorized")
    prefix = f"/ex/confluence/{st.cloud_id}"
    inner = request.clone(
        rel_url=URL.build(path="/" + request.match_info["tail"]).with_query(request.rel_url.query)
    )
    match = await request.app.router.resolve(inner)
    resource = match.route.resource
    template = resource.canonical if resource is not None else inner.path
    if match.http_exception is None and not allowed(scopes, request.method, template):
        return _gateway_error(
            401, SCOPE_MISMATCH, **{"X-Failure-Category": "FAILURE_CLIENT_SCOPE_CHECK"}
        )
    match.add_app(request.app)
    match.freeze()
    inner._match_info = match  # aiohttp has no public way to dispatch a rewritten request
    try:
        return await serve(inner, match.handler, authenticated=True)
    except web.HTTPRedirection as redirect:
        # Keep redirects on the gateway (the site would refuse the scoped token).
        location = URL(redirect.location)
        if location.path.startswith("/wiki/"):
            raise web.HTTPFound(
                str(URL(st.root_url).with_path(prefix + location.path).with_query(location.query))
            ) from None
        raise


def add_routes(app: web.Application) -> None:
    app.router.add_get("/_edge/tenant_info", tenant_info)
    app.router.add_route("*", "/ex/confluence/{cloudId}/{tail:.*}", gateway)
