"""Confluence Data Center / Server: ``/rest/api`` throughout, start/limit pagination."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from .backend import Backend
from .errors import ConfluenceError, NotFound, VersionConflict
from .models import (
    Attachment,
    Kind,
    Page,
    PageRef,
    Space,
    Webhook,
    is_managed_label,
    parse_attachment_v1,
    parse_page_v1,
    parse_ref_v1,
    parse_space_v1,
    parse_webhook_dc,
)
from .pagination import paginate, paginate_ahead
from .transport import Reply

_PAGE_EXPAND = "body.storage,version,ancestors,space,metadata.labels"


class DataCenterBackend(Backend):
    deployment = "datacenter"
    cql_date_format = "%Y/%m/%d %H:%M"

    @property
    def page_size(self) -> int:
        # DC caps limits server-side; asking for more is harmless, next links do the rest.
        return max(1, min(200, self.t.settings.page_size))

    # -- spaces and tree ---------------------------------------------------------------------

    async def user_names(self, kind: str, values: list[str]) -> dict[str, str]:
        """DC names users by user key or user name: ``GET /rest/api/user?key=K`` (or
        ``?username=N``) answers a ``Person`` with ``displayName`` (DC OpenAPI ``getUser``);
        404 for a user that does not exist."""
        param = {"userkey": "key", "username": "username"}.get(kind)
        if param is None:
            return {}
        names: dict[str, str] = {}
        for value in values:
            try:
                reply = await self.t.request("GET", self.v1("/user"), params={param: value})
            except NotFound:
                continue
            data = reply.json()
            name = data.get("displayName") if isinstance(data, dict) else None
            if isinstance(name, str) and name:
                names[value] = name
        return names

    async def get_space(self, key: str) -> Space:
        reply = await self.t.request("GET", self.v1(f"/space/{key}"), params={"expand": "homepage"})
        return parse_space_v1(reply.json())

    async def iter_refs(
        self, space: Space, kind: Kind, *, with_labels: bool = False, expected: int | None = None
    ) -> AsyncIterator[PageRef]:
        expand = "version,ancestors" if kind == "page" else "version"
        if with_labels:
            expand += ",metadata.labels"
        params = {
            "spaceKey": space.key,
            "type": kind,
            "status": "current",
            "limit": str(self.page_size),
            "expand": expand,
        }
        # Offset pages: the next ones are asked for before their turn (`paginate_ahead`).
        async for item in paginate_ahead(self.t, self.v1("/content"), params, expected=expected):
            ref = parse_ref_v1(item)
            ref = replace(ref, space_id=ref.space_id or space.id, kind=kind)
            if with_labels:
                ref = replace(ref, labels=await self._listed_labels(item, ref.id, kind))
            yield ref

    async def _listed_labels(
        self, item: dict[str, Any], page_id: str, kind: Kind
    ) -> tuple[str, ...] | None:
        """The labels a listing's ``metadata.labels`` expansion carried, completed when the
        expansion was cut short (a ``next`` link, or as many as its ``limit``: the server
        caps expanded collections), None when that fails: never a shorter list."""
        container = (item.get("metadata") or {}).get("labels")
        if not isinstance(container, dict) or not isinstance(container.get("results"), list):
            return None
        results = container["results"]
        limit = container.get("limit")
        truncated = bool((container.get("_links") or {}).get("next")) or (
            isinstance(limit, int) and len(results) >= limit
        )
        if not truncated:
            return tuple(lb["name"] for lb in results if is_managed_label(lb))
        try:
            return tuple([n async for n in self.iter_labels(page_id, kind)])
        except ConfluenceError:
            return None

    # -- pages -------------------------------------------------------------------------------

    async def get_page(
        self, page_id: str, *, kind: Kind, ancestors: bool, include_trashed: bool
    ) -> Page:
        params: list[tuple[str, str]] = [("expand", _PAGE_EXPAND)]
        if include_trashed:
            params.append(("status", "any"))  # DC's catch-all; repeated values vary by version
        reply = await self.t.request("GET", self.v1(f"/content/{page_id}"), params=params)
        data = reply.json()
        page = parse_page_v1(data)
        labels = ((data.get("metadata") or {}).get("labels")) or {}
        if page.labels is None or labels.get("_links", {}).get("next"):
            page = page.with_labels(tuple([n async for n in self.iter_labels(page_id, kind)]))
        if page.ancestors is None:
            page = page.with_ancestors(())
        return page

    #: Data Center caps ``content/search`` at 50 results when a body is expanded (200 with
    #: other expansions, 1,000 with none): Atlassian KB "Searching for content with the
    #: REST API and CQL always limits results to 50" (confkb 1032258424).
    bulk_body_limit = 50

    async def iter_pages_by_id(self, page_ids: list[str], kind: Kind) -> AsyncIterator[Page]:
        for start in range(0, len(page_ids), self.bulk_body_limit):
            chunk = page_ids[start : start + self.bulk_body_limit]
            params = {
                "cql": f"id in ({','.join(chunk)}) and type = {kind}",
                "expand": _PAGE_EXPAND,
                "limit": str(len(chunk)),
            }
            async for item in paginate(self.t, self.v1("/content/search"), params):
                if item.get("status", "current") != "current":
                    continue
                page = parse_page_v1(item)
                labels = ((item.get("metadata") or {}).get("labels")) or {}
                if labels.get("_links", {}).get("next") or (
                    isinstance(labels.get("limit"), int)
                    and len(labels.get("results") or ()) >= labels["limit"]
                ):
                    page = replace(page, labels=None)  # cut short: the caller completes it
                yield replace(page, kind=kind, ancestors=page.ancestors or ())

    async def find_by_title(self, space: Space, title: str, kind: Kind) -> PageRef | None:
        params = {
            "spaceKey": space.key,
            "title": title,
            "type": kind,
            "expand": "version,ancestors",
        }
        async for item in paginate(self.t, self.v1("/content"), params):
            if item.get("title") == title:
                return replace(parse_ref_v1(item), space_id=space.id)
        return None

    async def create_page(
        self, space: Space, title: str, body: str, parent_id: str | None, kind: Kind
    ) -> Reply:
        payload: dict[str, Any] = {
            "type": kind,
            "title": title,
            "space": {"key": space.key},
            "body": {"storage": {"value": body, "representation": "storage"}},
        }
        if parent_id and kind == "page":
            payload["ancestors"] = [{"id": parent_id}]
        return await self.t.request(
            "POST",
            self.v1("/content"),
            json_body=payload,
            params={"expand": _PAGE_EXPAND},
            retry_unsafe=True,
        )

    async def put_page(
        self,
        page_id: str,
        *,
        title: str,
        body: str,
        version: int,
        parent_id: str | None,
        message: str,
        minor_edit: bool,
        kind: Kind,
        status: str = "current",
        current_status: str | None = None,
    ) -> Reply:
        payload: dict[str, Any] = {
            "id": page_id,
            "type": kind,
            "title": title,
            "status": status,
            "body": {"storage": {"value": body, "representation": "storage"}},
            "version": {"number": version, "message": message, "minorEdit": minor_edit},
        }
        if parent_id and kind == "page":
            payload["ancestors"] = [{"id": parent_id}]
        params: dict[str, str] = {"expand": _PAGE_EXPAND}
        if current_status and current_status != status:
            params["status"] = current_status  # DC: the status the content has now
        return await self.t.request(
            "PUT",
            self.v1(f"/content/{page_id}"),
            json_body=payload,
            params=params,
            retry_unsafe=True,
        )

    def parse_page(self, data: dict[str, Any], kind: Kind) -> Page:
        return parse_page_v1(data)

    async def move_page(self, page_id: str, target_id: str, position: str) -> None:
        """DC has no page-move endpoint: a versioned PUT with new ancestors moves the page.

        ``before``/``after`` make the page a sibling of the target (same parent); the order
        among siblings is left to the server.
        """
        if position == "append":
            parent_id = target_id
        else:
            target = await self.get_page(
                target_id, kind="page", ancestors=True, include_trashed=False
            )
            if not target.parent_id:
                raise NotFound(
                    "the target has no parent page to place a sibling under",
                    status=404,
                    method="PUT",
                    url=f"/content/{page_id}",
                )
            parent_id = target.parent_id
        for _ in range(3):  # re-read on a concurrent edit; the move changes no content
            page = await self.get_page(page_id, kind="page", ancestors=False, include_trashed=False)
            try:
                await self.put_page(
                    page_id,
                    title=page.title,
                    body=page.body,
                    version=page.version + 1,
                    parent_id=parent_id,
                    message="",
                    minor_edit=True,
                    kind="page",
                )
                return
            except VersionConflict:
                continue
        raise VersionConflict(
            "the page kept changing while it was being moved",
            status=409,
            method="PUT",
            url=f"/content/{page_id}",
        )

    async def trash_page(self, page_id: str, kind: Kind) -> None:
        await self.t.request("DELETE", self.v1(f"/content/{page_id}"))

    async def purge_page(self, page_id: str, kind: Kind) -> None:
        await self.t.request("DELETE", self.v1(f"/content/{page_id}"), params={"status": "trashed"})

    # -- labels ------------------------------------------------------------------------------

    async def iter_labels(self, page_id: str, kind: Kind) -> AsyncIterator[str]:
        url = self.v1(f"/content/{page_id}/label")
        async for item in paginate(self.t, url, {"limit": str(self.page_size)}):
            if is_managed_label(item):
                yield item["name"]

    # -- attachments -------------------------------------------------------------------------

    async def iter_attachments(self, page_id: str, kind: Kind) -> AsyncIterator[Attachment]:
        url = self.v1(f"/content/{page_id}/child/attachment")
        params = {"limit": str(self.page_size), "expand": "version,container"}
        async for item in paginate(self.t, url, params):
            yield parse_attachment_v1(item, page_id)

    def parse_uploaded(self, data: dict[str, Any], page_id: str) -> Attachment:
        return parse_attachment_v1(data, page_id)

    async def delete_attachment(self, attachment_id: str) -> None:
        # Attachments are listed as "att123" but /content/{id} takes the numeric content id.
        content_id = attachment_id.removeprefix("att")
        await self.t.request("DELETE", self.v1(f"/content/{content_id}"))

    # -- webhooks (/rest/api/webhooks, admin only, signed with the secret) -------------------

    async def iter_webhooks(self) -> AsyncIterator[Webhook]:
        async for item in paginate(self.t, self.v1("/webhooks"), {"limit": "100"}):
            yield parse_webhook_dc(item)

    @staticmethod
    def _hook_body(
        name: str, url: str, events: list[str], secret: str | None, active: bool
    ) -> dict[str, Any]:
        return {
            "name": name,
            "events": list(events),
            "configuration": {"secret": secret} if secret else {},
            "url": url,
            "active": active,
        }

    async def create_webhook(
        self, name: str, url: str, events: list[str], secret: str | None, active: bool
    ) -> Webhook:
        reply = await self.t.request(
            "POST",
            self.v1("/webhooks"),
            json_body=self._hook_body(name, url, events, secret, active),
        )
        return parse_webhook_dc(reply.json())

    async def update_webhook(
        self,
        webhook_id: str,
        name: str,
        url: str,
        events: list[str],
        secret: str | None,
        active: bool,
    ) -> Webhook:
        reply = await self.t.request(
            "PUT",
            self.v1(f"/webhooks/{webhook_id}"),
            json_body=self._hook_body(name, url, events, secret, active),
        )
        data = reply.json() or {}
        return parse_webhook_dc({"id": webhook_id, **data})

    async def delete_webhook(self, webhook_id: str) -> None:
        await self.t.request("DELETE", self.v1(f"/webhooks/{webhook_id}"))
