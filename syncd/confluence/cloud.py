"""Confluence Cloud: REST v2 for reads and page writes, v1 where v2 has no endpoint.

v1 is used only for: attachment upload, label add/remove, CQL search, the move endpoint,
the current user, and the (undocumented) webhook registration API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from .backend import Backend
from .errors import ConfluenceError, Gone, NoRestApi, NotFound
from .models import (
    Attachment,
    Container,
    Kind,
    Page,
    PageRef,
    Space,
    Webhook,
    is_managed_label,
    parse_attachment_v1,
    parse_attachment_v2,
    parse_container_v2,
    parse_page_v2,
    parse_ref_v2,
    parse_space_v2,
    parse_webhook_cloud,
)
from .pagination import paginate
from .transport import Reply

_COLLECTION: dict[str, str] = {"page": "pages", "blogpost": "blogposts"}

#: Tree content type -> its v2 collection (each has ``/{collection}/{id}/descendants``).
_TREE_COLLECTION: dict[str, str] = {
    "page": "pages",
    "folder": "folders",
    "whiteboard": "whiteboards",
    "database": "databases",
    "embed": "embeds",
}

#: ``depth`` asked of the descendants endpoints: their documented maximum (default 2, at
#: most 10; the published v2 document's getPageDescendants). Content at this depth may have
#: more below it, read from its own descendants endpoint.
SUBTREE_DEPTH = 10

log = logging.getLogger("syncd.confluence")

#: Above this many distinct labels in a space, a full run does not sweep them (it would cost
#: a request per label); see ``_labels_by_page``.
MAX_SWEPT_LABELS = 200


class CloudBackend(Backend):
    deployment = "cloud"
    lists_subtrees = True
    cql_date_format = "%Y-%m-%d %H:%M"

    def v2(self, path: str) -> str:
        return f"{self.base_url}/api/v2{path}"

    def _content(self, kind: Kind, page_id: str = "", suffix: str = "") -> str:
        path = f"/{_COLLECTION[kind]}"
        if page_id:
            path += f"/{page_id}"
        return self.v2(path + suffix)

    # -- spaces and tree ---------------------------------------------------------------------

    async def get_space(self, key: str) -> Space:
        try:
            reply = await self.t.request("GET", self.v2("/spaces"), params={"keys": key})
        except NotFound as exc:
            # A listing answers an unknown key with no results, never 404 (the v2 spec
            # documents 200, 400 and 401 for GET /spaces): a 404 here means no REST API
            # lives at the base URL (a wrong path such as /wikii).
            if isinstance(exc, Gone):
                raise
            base = self.t.settings.base_url
            raise NoRestApi(
                f"no Confluence REST API at {base} (HTTP 404 at {base}/api/v2/spaces)",
                status=404,
                url=exc.url,
            ) from None
        for item in (reply.json() or {}).get("results", []):
            if item.get("key") == key:
                return parse_space_v2(item)
        raise NotFound(f"no space with key {key!r}", status=404, method="GET", url="/spaces")

    async def iter_refs(
        self, space: Space, kind: Kind, *, with_labels: bool = False, expected: int | None = None
    ) -> AsyncIterator[PageRef]:
        # `expected` is not used: a cursor cannot be asked for before its page arrives.
        params: dict[str, str] = {"status": "current", "limit": str(self.page_size)}
        if kind == "page":
            params["depth"] = "all"
        url = self.v2(f"/spaces/{space.id}/{_COLLECTION[kind]}")
        # Blog posts: v2 has no label -> blog posts listing, so their labels stay unknown.
        if not (with_labels and kind == "page"):
            async for item in paginate(self.t, url, params):
                yield parse_ref_v2(item, kind)
            return
        # The label sweep and the listing are independent requests: they run side by side
        # (over a 100 ms link the sweep would otherwise add its round trips to the
        # listing's). Pages listed before the sweep is in wait for it; then they stream.
        sweep = asyncio.ensure_future(self._labels_by_page(space))
        waiting: list[PageRef] = []
        try:
            async for item in paginate(self.t, url, params):
                waiting.append(parse_ref_v2(item, kind))
                if sweep.done():
                    labels = sweep.result()
                    for ref in waiting:
                        yield _labelled(ref, labels)
                    waiting.clear()
            labels = await sweep
        finally:
            sweep.cancel()
        for ref in waiting:
            yield _labelled(ref, labels)

    async def iter_subtree_refs(
        self, space: Space, root_id: str, *, with_labels: bool = False
    ) -> AsyncIterator[PageRef]:
        """The page ``root_id`` and every current page below it, parents first, whatever
        content lies between (folders, whiteboards, databases, embeds).

        ``GET /pages/{id}/descendants`` lists the subtree as minimal records of every tree
        type "in top-to-bottom order", ``depth`` levels deep (at most 10): content at the
        last level is asked for its own descendants. Versions and ``parentType`` come from
        ``GET /pages?id=...`` (250 ids a request). Labels: the space's label sweep, or one
        label read per page where the subtree has fewer pages than the space has labels.
        The cost follows the subtree, never the space's pages.
        """
        order = await self._subtree_page_ids(root_id)
        labels = await self._labels_by_page(space, of_pages=order) if with_labels else None
        for start in range(0, len(order), self.bulk_body_limit):
            chunk = order[start : start + self.bulk_body_limit]
            params = [("id", ",".join(chunk)), ("status", "current"), ("limit", str(len(chunk)))]
            found: dict[str, PageRef] = {}
            async for item in paginate(self.t, self.v2("/pages"), params):
                ref = parse_ref_v2(item, "page")
                if ref.space_id is None or ref.space_id == str(space.id):
                    found[ref.id] = ref
            for pid in chunk:  # the listing's order: parents first
                ref = found.get(pid)
                if ref is not None:
                    if labels is not None:
                        ref = replace(ref, labels=labels.get(ref.id, ()))
                    yield ref

    async def _subtree_page_ids(self, root_id: str) -> list[str]:
        """``root_id`` then the ids of the pages below it, in the descendants' order."""
        pages = [root_id]
        todo = [("pages", root_id)]
        params = {"depth": str(SUBTREE_DEPTH), "limit": "250"}
        while todo:
            collection, cid = todo.pop(0)
            url = self.v2(f"/{collection}/{cid}/descendants")
            async for item in paginate(self.t, url, params):
                kind = item.get("type") or "page"
                if kind == "page":
                    pages.append(str(item["id"]))
                if int(item.get("depth") or 0) >= SUBTREE_DEPTH and kind in _TREE_COLLECTION:
                    todo.append((_TREE_COLLECTION[kind], str(item["id"])))
        return list(dict.fromkeys(pages))

    async def _labels_by_page(
        self, space: Space, *, of_pages: list[str] | None = None
    ) -> dict[str, tuple[str, ...]] | None:
        """Page id -> global labels of every labelled page of the space, or None.

        The v2 page listing cannot include labels. Instead: the labels used in the space
        (``/spaces/{id}/content/labels``), then the pages of each (``/labels/{id}/pages``,
        filtered to the space); a page in no list has none. With ``of_pages`` (a subtree)
        and more labels than pages, each of those pages' labels is read instead (fewer
        requests). All or nothing: if any request fails the answer is None (unknown),
        never a partial map that would read as labels removed.
        """
        names: dict[str, str] = {}
        try:
            url = self.v2(f"/spaces/{space.id}/content/labels")
            async for item in paginate(self.t, url, {"limit": "250"}):
                if is_managed_label(item) and item.get("id") is not None:
                    names[str(item["id"])] = item["name"]
            if of_pages is not None and len(names) > len(of_pages):
                return await self._labels_of_pages(of_pages)
            if len(names) > MAX_SWEPT_LABELS:
                # One request per label would outgrow the listing itself: leave labels
                # unknown; label edits then arrive with webhooks and page fetches.
                log.info(
                    "space %s uses %d labels (more than %d); labels are read per page, "
                    "not swept on full runs",
                    space.key,
                    len(names),
                    MAX_SWEPT_LABELS,
                )
                return None
            found: dict[str, set[str]] = {}
            gate = asyncio.Semaphore(max(1, self.t.settings.concurrency))

            async def pages_of(label_id: str) -> None:
                params = {"space-id": str(space.id), "limit": "250"}
                async with gate:
                    async for item in paginate(
                        self.t, self.v2(f"/labels/{label_id}/pages"), params
                    ):
                        if str(item.get("spaceId") or space.id) == str(space.id):
                            found.setdefault(str(item["id"]), set()).add(names[label_id])

            outcomes = await asyncio.gather(
                *(pages_of(label_id) for label_id in names), return_exceptions=True
            )
            for outcome in outcomes:
                if isinstance(outcome, BaseException):
                    raise outcome
        except ConfluenceError as exc:
            log.warning(
                "labels of space %s not loaded (%s); label edits in Confluence are "
                "picked up when pages are fetched",
                space.key,
                exc,
            )
            return None
        return {pid: tuple(sorted(labels)) for pid, labels in found.items()}

    async def _labels_of_pages(self, page_ids: list[str]) -> dict[str, tuple[str, ...]]:
        """Each page's global labels, one listing per page (errors propagate)."""
        gate = asyncio.Semaphore(max(1, self.t.settings.concurrency))

        async def one(pid: str) -> tuple[str, tuple[str, ...]]:
            async with gate:
                return pid, tuple(sorted([n async for n in self.iter_labels(pid, "page")]))

        return dict(await asyncio.gather(*(one(pid) for pid in page_ids)))

    # -- pages -------------------------------------------------------------------------------

    async def get_page(
        self, page_id: str, *, kind: Kind, ancestors: bool, include_trashed: bool
    ) -> Page:
        params: list[tuple[str, str]] = [("body-format", "storage"), ("include-labels", "true")]
        # v2 documents no default status filter: always say which ones are wanted.
        statuses = (
            ("current", "archived", "trashed") if include_trashed else ("current", "archived")
        )
        params += [("status", s) for s in statuses]
        reply = await self.t.request("GET", self._content(kind, page_id), params=params)
        data = reply.json()
        page = parse_page_v2(data, kind)
        if page.status not in statuses:
            raise NotFound(
                f"{kind} {page_id} is {page.status}", status=404, method="GET", url=reply.url
            )
        labels_meta = (data.get("labels") or {}).get("meta") or {}
        if page.labels is None or labels_meta.get("hasMore"):
            page = page.with_labels(tuple([n async for n in self.iter_labels(page_id, kind)]))
        if ancestors:
            page = page.with_ancestors(await self.get_ancestors(page_id) if kind == "page" else ())
        return page

    async def get_ancestors(self, page_id: str) -> tuple[str, ...]:
        anc = await self.t.request(
            "GET", self.v2(f"/pages/{page_id}/ancestors"), params={"limit": "250"}
        )
        return tuple(str(a["id"]) for a in (anc.json() or {}).get("results", []))

    async def iter_pages_by_id(self, page_ids: list[str], kind: Kind) -> AsyncIterator[Page]:
        # GET /pages?id=...: "Multiple page ids can be specified as a comma-separated list",
        # at most 250 (maxItems), limit up to 250 (Cloud v2 spec). The listing cannot
        # include labels: the caller takes them from the label sweep.
        for start in range(0, len(page_ids), self.bulk_body_limit):
            chunk = page_ids[start : start + self.bulk_body_limit]
            params = [
                ("id", ",".join(chunk)),
                ("body-format", "storage"),
                ("status", "current"),
                ("limit", str(len(chunk))),
            ]
            async for item in paginate(self.t, self.v2(f"/{_COLLECTION[kind]}"), params):
                yield parse_page_v2(item, kind)

    async def find_by_title(self, space: Space, title: str, kind: Kind) -> PageRef | None:
        url = self.v2(f"/spaces/{space.id}/{_COLLECTION[kind]}")
        async for item in paginate(self.t, url, {"title": title, "status": "current"}):
            if item.get("title") == title:
                return parse_ref_v2(item, kind)
        return None

    async def user_names(self, kind: str, values: list[str]) -> dict[str, str]:
        """Cloud names users by account id: v2 ``POST /users-bulk`` (at most 250 ids a call,
        body ``{"accountIds": [...]}``, answer ``{"results": [{"accountId", "displayName",
        "publicName", ...}]}``, OpenAPI v2 ``/users-bulk``)."""
        if kind != "account-id":
            return {}
        names: dict[str, str] = {}
        for i in range(0, len(values), 250):
            reply = await self.t.request(
                "POST",
                self.v2("/users-bulk"),
                json_body={"accountIds": values[i : i + 250]},
                idempotent=True,  # a lookup: repeating it changes nothing
            )
            data = reply.json()
            for user in data.get("results", []) if isinstance(data, dict) else []:
                name = user.get("displayName") or user.get("publicName")
                if isinstance(user.get("accountId"), str) and isinstance(name, str) and name:
                    names[user["accountId"]] = name
        return names

    async def create_page(
        self, space: Space, title: str, body: str, parent_id: str | None, kind: Kind
    ) -> Reply:
        payload: dict[str, Any] = {
            "spaceId": space.id,
            "status": "current",
            "title": title,
            "body": {"representation": "storage", "value": body},
        }
        if parent_id and kind == "page":
            payload["parentId"] = parent_id
        return await self.t.request(
            "POST", self._content(kind), json_body=payload, retry_unsafe=True
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
            "status": status,
            "title": title,
            "body": {"representation": "storage", "value": body},
            "version": {"number": version, "message": message, "minorEdit": minor_edit},
        }
        if parent_id and kind == "page":
            payload["parentId"] = parent_id
        return await self.t.request(
            "PUT", self._content(kind, page_id), json_body=payload, retry_unsafe=True
        )

    def parse_page(self, data: dict[str, Any], kind: Kind) -> Page:
        return parse_page_v2(data, kind)

    async def move_page(self, page_id: str, target_id: str, position: str) -> None:
        await self.t.request("PUT", self.v1(f"/content/{page_id}/move/{position}/{target_id}"))

    async def trash_page(self, page_id: str, kind: Kind) -> None:
        await self.t.request("DELETE", self._content(kind, page_id))

    async def purge_page(self, page_id: str, kind: Kind) -> None:
        await self.t.request("DELETE", self._content(kind, page_id), params={"purge": "true"})

    # -- containers: folders, whiteboards, databases, embeds --------------------------------
    # v2 has GET/POST/DELETE for folders (openapi-v2 /folders, /folders/{id}); a rename goes
    # through v1 PUT /content/{id} with type folder and a move through v1 move/append
    # (atlcli docs/confluence/folders.md, ../shared/realapi/SOURCES.md).

    supports_containers = True

    async def get_container(self, kind: str, container_id: str) -> Container:
        reply = await self.t.request("GET", self.v2(f"/{kind}s/{container_id}"))
        return parse_container_v2(reply.json() or {}, kind)

    async def create_folder(self, space: Space, title: str, parent_id: str | None) -> Container:
        payload: dict[str, Any] = {"spaceId": space.id, "title": title}
        if parent_id:
            payload["parentId"] = parent_id
        reply = await self.t.request(
            "POST", self.v2("/folders"), json_body=payload, retry_unsafe=True
        )
        return parse_container_v2(reply.json() or {}, "folder")

    async def rename_folder(self, folder_id: str, title: str, version: int) -> None:
        payload = {"type": "folder", "title": title, "version": {"number": version}}
        await self.t.request(
            "PUT", self.v1(f"/content/{folder_id}"), json_body=payload, retry_unsafe=True
        )

    async def trash_folder(self, folder_id: str) -> None:
        await self.t.request("DELETE", self.v2(f"/folders/{folder_id}"))

    # -- labels ------------------------------------------------------------------------------

    async def iter_labels(self, page_id: str, kind: Kind) -> AsyncIterator[str]:
        url = self._content(kind, page_id, "/labels")
        async for item in paginate(self.t, url, {"limit": str(self.page_size)}):
            if is_managed_label(item):
                yield item["name"]

    # -- attachments -------------------------------------------------------------------------

    async def iter_attachments(self, page_id: str, kind: Kind) -> AsyncIterator[Attachment]:
        url = self._content(kind, page_id, "/attachments")
        async for item in paginate(self.t, url, {"limit": str(self.page_size)}):
            yield parse_attachment_v2(item, page_id)

    def parse_uploaded(self, data: dict[str, Any], page_id: str) -> Attachment:
        return parse_attachment_v1(data, page_id)

    async def delete_attachment(self, attachment_id: str) -> None:
        await self.t.request("DELETE", self.v2(f"/attachments/{attachment_id}"))

    # -- webhooks (undocumented /rest/webhooks/1.0; one registration per event) --------------

    def _hooks(self, suffix: str = "") -> str:
        return f"{self.base_url}/rest/webhooks/1.0/webhook{suffix}"

    async def iter_webhooks(self) -> AsyncIterator[Webhook]:
        async for item in paginate(self.t, self._hooks()):
            yield parse_webhook_cloud(item)

    def _hook_body(
        self, name: str, url: str, events: list[str], secret: str | None, active: bool
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": name,
            "url": url,
            "events": list(events),
            "excludeBody": False,
            "filters": {},
            "enabled": active,
            "description": "",
        }
        if secret:
            body["secret"] = secret  # Cloud ignores it today; harmless if it starts to sign
        return body

    async def create_webhook(
        self, name: str, url: str, events: list[str], secret: str | None, active: bool
    ) -> Webhook:
        reply = await self.t.request(
            "POST", self._hooks(), json_body=self._hook_body(name, url, events, secret, active)
        )
        return parse_webhook_cloud(reply.json() or {})

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
            self._hooks(f"/{webhook_id}"),
            json_body=self._hook_body(name, url, events, secret, active),
        )
        data = reply.json() or {}
        if not data.get("self") and not data.get("id"):
            data = {**data, "id": webhook_id}
        return parse_webhook_cloud(data)

    async def delete_webhook(self, webhook_id: str) -> None:
        await self.t.request("DELETE", self._hooks(f"/{webhook_id}"))


def _labelled(ref: PageRef, labels: dict[str, tuple[str, ...]] | None) -> PageRef:
    """`ref` with its labels from the sweep (unknown if the sweep failed)."""
    return ref if labels is None else replace(ref, labels=labels.get(ref.id, ()))
