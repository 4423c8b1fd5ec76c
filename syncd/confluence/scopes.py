"""Which scope each Cloud request needs when it goes through Atlassian's API gateway.

A scoped API token (a service account's, or a person's token created "with scopes") works
only through ``https://api.atlassian.com/ex/confluence/{cloudId}``, and only for the scopes
chosen when it was created. The gateway refuses a request the token has no scope for with
``401 {"code": 401, "message": "Unauthorized; scope does not match"}`` (header
``X-Failure-Category: FAILURE_CLIENT_SCOPE_CHECK``), without naming the scope; so syncd
names it from this table.

Sources: v2 routes carry ``x-atlassian-oauth2-scopes`` in the v2 OpenAPI document
(``tests/data/specs/openapi-v2.v3.json``). v1 routes are listed with their granular scopes
as Atlassian's v1 reference pages give them (the vendored v1 spec, a 2021 snapshot, lists
only the classic scopes in ``security``). Webhook registration (``/rest/webhooks/1.0``) is
undocumented and has no scope at all, so a scoped token cannot register webhooks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "GATEWAY_PATH",
    "Requirement",
    "gateway_root",
    "is_gateway_url",
    "requirement_for",
    "scopes_for_features",
]

#: ``/ex/confluence/{cloudId}`` (optionally followed by ``/wiki``): the gateway's path shape.
GATEWAY_PATH = re.compile(r"^(/ex/confluence/[^/]+)(?:/wiki)?/?$")


def gateway_root(url: str) -> str | None:
    """``scheme://host/ex/confluence/{cloudId}`` when ``url`` is a gateway URL, else None."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    match = GATEWAY_PATH.match(parts.path)
    if not match or not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}{match.group(1)}"


def is_gateway_url(url: str) -> bool:
    return gateway_root(url) is not None


@dataclass(frozen=True)
class Requirement:
    """What one kind of request is for, and the granular scope(s) it needs (all of them)."""

    operation: str
    scope: str
    also: tuple[str, ...] = ()

    @property
    def scopes(self) -> tuple[str, ...]:
        return (self.scope, *self.also)

    def __str__(self) -> str:
        return " + ".join(self.scopes)


_ID = r"[^/]+"
# (method, path below /wiki, requirement). First match wins; paths are regexes.
_TABLE: list[tuple[str, str, Requirement]] = [
    # REST v2 (x-atlassian-oauth2-scopes of the v2 spec)
    ("GET", r"/api/v2/spaces(/[^/]+)?", Requirement("read the space", "read:space:confluence")),
    (
        "GET",
        rf"/api/v2/spaces/{_ID}/content/labels",
        Requirement("read the space's labels", "read:space:confluence"),
    ),
    (
        "GET",
        rf"/api/v2/pages/{_ID}/ancestors",
        Requirement("read page ancestors", "read:content.metadata:confluence"),
    ),
    (
        "GET",
        rf"/api/v2/folders/{_ID}/ancestors",
        Requirement("read folder ancestors", "read:content.metadata:confluence"),
    ),
    (
        "GET",
        rf"/api/v2/(pages|blogposts)/{_ID}/attachments",
        Requirement("list attachments", "read:attachment:confluence"),
    ),
    (
        "GET",
        rf"/api/v2/attachments/{_ID}",
        Requirement("read attachments", "read:attachment:confluence"),
    ),
    (
        "DELETE",
        rf"/api/v2/attachments/{_ID}",
        Requirement("delete attachments", "delete:attachment:confluence"),
    ),
    ("GET", rf"/api/v2/folders(/{_ID})?", Requirement("read folders", "read:folder:confluence")),
    ("POST", r"/api/v2/folders", Requirement("create folders", "write:folder:confluence")),
    (
        "DELETE",
        rf"/api/v2/folders/{_ID}",
        Requirement("delete folders", "delete:folder:confluence"),
    ),
    (
        "GET",
        rf"/api/v2/(pages|blogposts|folders)/{_ID}/direct-children",
        Requirement("list children", "read:hierarchical-content:confluence"),
    ),
    (
        "GET",
        rf"/api/v2/(pages|folders|whiteboards|databases|embeds)/{_ID}/descendants",
        Requirement(
            "list the pages below confluence.root_page", "read:hierarchical-content:confluence"
        ),
    ),
    (
        "GET",
        rf"/api/v2/(pages|blogposts|spaces/{_ID}/(pages|blogposts)|labels/{_ID}/pages)(/.*)?",
        Requirement("read pages", "read:page:confluence"),
    ),
    ("POST", r"/api/v2/(pages|blogposts)", Requirement("create pages", "write:page:confluence")),
    (
        "PUT",
        rf"/api/v2/(pages|blogposts)/{_ID}",
        Requirement("update pages", "write:page:confluence"),
    ),
    (
        "DELETE",
        rf"/api/v2/(pages|blogposts)/{_ID}",
        Requirement("delete pages", "delete:page:confluence"),
    ),
    # REST v1, where v2 has no equivalent
    (
        "GET",
        r"/rest/api/content/search",
        Requirement("search for changes with CQL", "read:content-details:confluence"),
    ),
    (
        "GET",
        rf"/rest/api/content/{_ID}/child/attachment/{_ID}/download",
        Requirement("download attachments", "read:attachment:confluence"),
    ),
    (
        "POST",
        rf"/rest/api/content/{_ID}/child/attachment(/{_ID}/data)?",
        Requirement(
            "upload attachments",
            "write:attachment:confluence",
            ("read:content-details:confluence",),
        ),
    ),
    (
        "PUT",
        rf"/rest/api/content/{_ID}/child/attachment",
        Requirement(
            "upload attachments",
            "write:attachment:confluence",
            ("read:content-details:confluence",),
        ),
    ),
    (
        "POST",
        rf"/rest/api/content/{_ID}/label",
        Requirement("add labels", "write:label:confluence", ("read:label:confluence",)),
    ),
    (
        "DELETE",
        rf"/rest/api/content/{_ID}/label(/.*)?",
        Requirement("remove labels", "write:label:confluence", ("read:label:confluence",)),
    ),
    (
        "PUT",
        rf"/rest/api/content/{_ID}/move/.*",
        Requirement("move pages", "write:page:confluence"),
    ),
    (
        "GET",
        r"/rest/api/user/current",
        Requirement("read the signed-in user", "read:content-details:confluence"),
    ),
]
_COMPILED = [(m, re.compile(rf"^{p}/?$"), r) for m, p, r in _TABLE]
_BELOW_WIKI = re.compile(r"^(?:/ex/confluence/[^/]+)?(?:/wiki)?(/.*)$")


def requirement_for(method: str, path: str) -> Requirement | None:
    """The requirement of a request path (site or gateway form, query ignored)."""
    path = path.split("?", 1)[0]
    match = _BELOW_WIKI.match(path)
    below = match.group(1) if match else path
    for m, pattern, req in _COMPILED:
        if m == method.upper() and pattern.match(below):
            return req
    return None


def scopes_for_features(
    *, attachments: bool, labels: bool = True, root_page: bool = False
) -> list[Requirement]:
    """The scopes syncd needs for the configured features, in the order to grant them."""
    out = [
        Requirement("read the space", "read:space:confluence"),
        Requirement("read pages", "read:page:confluence"),
        Requirement("create and update pages", "write:page:confluence"),
        Requirement("move deleted pages to the trash", "delete:page:confluence"),
        Requirement("read page ancestors", "read:content.metadata:confluence"),
        Requirement("search for changes with CQL", "read:content-details:confluence"),
    ]
    if root_page:
        out.append(
            Requirement(
                "list the pages below confluence.root_page",
                "read:hierarchical-content:confluence",
            )
        )
    if labels:
        out.append(
            Requirement(
                "add and remove labels", "write:label:confluence", ("read:label:confluence",)
            )
        )
    if attachments:
        out += [
            Requirement("read attachments", "read:attachment:confluence"),
            Requirement(
                "upload attachments",
                "write:attachment:confluence",
                ("read:content-details:confluence",),
            ),
            Requirement("delete attachments", "delete:attachment:confluence"),
        ]
    return out
