"""The deployment-specific half of the client: one implementation per REST surface.

``CloudBackend`` (REST v2, v1 where v2 lacks) and ``DataCenterBackend`` (``/rest/api``)
implement these primitives; ``ConfluenceClient`` adds what is common (subtree filtering,
safe retries of writes, the change feed, webhook reuse) on top of them.
"""

from __future__ import annotations

import abc
import mimetypes
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, ClassVar

from .models import Attachment, Container, Kind, Page, PageRef, Space, Webhook
from .pagination import resolve_next
from .scopes import gateway_root
from .transport import Reply, Transport

NOCHECK = {"X-Atlassian-Token": "nocheck"}


class Backend(abc.ABC):
    deployment: ClassVar[str]
    #: strftime format of CQL date literals for this deployment (minute precision)
    cql_date_format: ClassVar[str]

    def __init__(self, transport: Transport) -> None:
        self.t = transport

    @property
    def base_url(self) -> str:
        return self.t.settings.base_url

    @property
    def page_size(self) -> int:
        return max(1, min(250, self.t.settings.page_size))

    # spaces and tree
    @abc.abstractmethod
    async def get_space(self, key: str) -> Space: ...

    @abc.abstractmethod
    def iter_refs(
        self, space: Space, kind: Kind, *, with_labels: bool = False, expected: int | None = None
    ) -> AsyncIterator[PageRef]:
        """Light records of the space's current content. ``with_labels``: also fill
        ``PageRef.labels`` where they can be loaded completely (else None). ``expected``:
        how many there were last time, if known (offset listings ask ahead up to it)."""

    #: ``iter_subtree_refs`` is served (Cloud's descendants endpoints); otherwise a
    #: ``root_page`` subtree is cut out of the space listing.
    lists_subtrees: bool = False

    def iter_subtree_refs(
        self, space: Space, root_id: str, *, with_labels: bool = False
    ) -> AsyncIterator[PageRef]:
        """The page ``root_id`` and every current page below it, parents first."""
        raise NotImplementedError(f"{self.deployment} lists subtrees from the space listing")

    async def get_ancestors(self, page_id: str) -> tuple[str, ...]:
        """The ids above a page, root first (containers included where the server has
        them)."""
        page = await self.get_page(page_id, kind="page", ancestors=True, include_trashed=False)
        return page.ancestors or ()

    # pages
    @abc.abstractmethod
    async def get_page(
        self, page_id: str, *, kind: Kind, ancestors: bool, include_trashed: bool
    ) -> Page: ...

    #: Most pages with bodies one bulk read asks for (the server may answer with fewer
    #: per page of results and a ``next`` link; that is followed).
    bulk_body_limit: ClassVar[int] = 250

    @abc.abstractmethod
    def iter_pages_by_id(self, page_ids: list[str], kind: Kind) -> AsyncIterator[Page]:
        """The current pages among ``page_ids`` with storage bodies and versions, read in
        as few requests as the server allows (at most ``bulk_body_limit`` ids per call).
        Pages not current (trashed, purged) are simply absent. Labels may be None."""

    @abc.abstractmethod
    async def find_by_title(self, space: Space, title: str, kind: Kind) -> PageRef | None: ...

    @abc.abstractmethod
    async def create_page(
        self, space: Space, title: str, body: str, parent_id: str | None, kind: Kind
    ) -> Reply: ...

    @abc.abstractmethod
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
    ) -> Reply: ...

    @abc.abstractmethod
    def parse_page(self, data: dict[str, Any], kind: Kind) -> Page: ...

    @abc.abstractmethod
    async def move_page(self, page_id: str, target_id: str, position: str) -> None: ...

    @abc.abstractmethod
    async def trash_page(self, page_id: str, kind: Kind) -> None: ...

    @abc.abstractmethod
    async def purge_page(self, page_id: str, kind: Kind) -> None: ...

    # containers (Cloud folders, whiteboards, databases, embeds); Data Center has none
    supports_containers: bool = False

    async def get_container(self, kind: str, container_id: str) -> Container:
        raise NotImplementedError(f"{self.deployment} has no {kind}s")

    async def create_folder(self, space: Space, title: str, parent_id: str | None) -> Container:
        raise NotImplementedError(f"{self.deployment} has no folders")

    async def rename_folder(self, folder_id: str, title: str, version: int) -> None:
        raise NotImplementedError(f"{self.deployment} has no folders")

    async def trash_folder(self, folder_id: str) -> None:
        raise NotImplementedError(f"{self.deployment} has no folders")

    # labels
    @abc.abstractmethod
    def iter_labels(self, page_id: str, kind: Kind) -> AsyncIterator[str]: ...

    async def add_labels(self, page_id: str, names: list[str]) -> None:
        body = [{"prefix": "global", "name": name} for name in names]
        await self.t.request(
            "POST", self.v1(f"/content/{page_id}/label"), json_body=body, idempotent=True
        )

    async def remove_label(self, page_id: str, name: str) -> None:
        # The query form copes with names containing "/".
        await self.t.request("DELETE", self.v1(f"/content/{page_id}/label"), params={"name": name})

    # attachments
    @abc.abstractmethod
    def iter_attachments(self, page_id: str, kind: Kind) -> AsyncIterator[Attachment]: ...

    @abc.abstractmethod
    def parse_uploaded(self, data: dict[str, Any], page_id: str) -> Attachment: ...

    @abc.abstractmethod
    async def delete_attachment(self, attachment_id: str) -> None: ...

    def download_url(self, attachment: Attachment) -> str:
        # Through the API gateway only REST routes are served: the web UI's
        # /download/attachments/... link is not among them, the v1 download route is.
        if attachment.download_link and gateway_root(self.base_url) is None:
            return resolve_next(attachment.download_link, self.base_url)
        return self.v1(f"/content/{attachment.page_id}/child/attachment/{attachment.id}/download")

    async def upload_attachment(
        self,
        page_id: str,
        path: Path,
        *,
        filename: str,
        comment: str,
        minor_edit: bool,
        media_type: str | None,
        existing_id: str | None,
    ) -> Attachment:
        """POST a new attachment, or a new version of ``existing_id`` (multipart, ``file``)."""
        media = media_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"

        handles: list[Any] = []

        def files() -> list[tuple[str, Any]]:
            # A factory: every attempt re-opens the file, so a retry sends the whole body,
            # streamed from disk rather than held in memory.
            handle = path.open("rb")
            handles.append(handle)
            parts: list[tuple[str, Any]] = [("file", (filename, handle, media))]
            if comment:
                parts.append(("comment", (None, comment.encode(), "text/plain; charset=utf-8")))
            parts.append(("minorEdit", (None, b"true" if minor_edit else b"false")))
            return parts

        if existing_id:
            url = self.v1(f"/content/{page_id}/child/attachment/{existing_id}/data")
        else:
            url = self.v1(f"/content/{page_id}/child/attachment")
        # A re-sent upload could add a duplicate version; only resend what was never received.
        try:
            reply = await self.t.request(
                "POST", url, files=files, headers=NOCHECK, idempotent=False
            )
        finally:
            for handle in handles:
                handle.close()
        data = reply.json()
        if isinstance(data, dict) and isinstance(data.get("results"), list):
            data = data["results"][0]
        return self.parse_uploaded(data, page_id)

    # search
    def cql_search(
        self, cql: str, expand: str = "version", limit: int = 100
    ) -> AsyncIterator[dict[str, Any]]:
        from .pagination import paginate

        params = {"cql": cql, "limit": str(min(self.page_size, limit)), "expand": expand}
        return paginate(self.t, self.v1("/content/search"), params)

    async def user_names(self, kind: str, values: list[str]) -> dict[str, str]:
        """Display names of users by ``kind`` ("account-id", "userkey", "username");
        users the server does not know are left out."""
        return {}

    async def current_user(self) -> dict[str, Any]:
        reply = await self.t.request("GET", self.v1("/user/current"))
        data = reply.json()
        return data if isinstance(data, dict) else {}

    # webhooks
    @abc.abstractmethod
    def iter_webhooks(self) -> AsyncIterator[Webhook]: ...

    @abc.abstractmethod
    async def create_webhook(
        self, name: str, url: str, events: list[str], secret: str | None, active: bool
    ) -> Webhook: ...

    @abc.abstractmethod
    async def update_webhook(
        self,
        webhook_id: str,
        name: str,
        url: str,
        events: list[str],
        secret: str | None,
        active: bool,
    ) -> Webhook: ...

    @abc.abstractmethod
    async def delete_webhook(self, webhook_id: str) -> None: ...

    # paths
    def v1(self, path: str) -> str:
        """A ``/rest/api`` path below the base URL (Cloud: ``/wiki/rest/api``)."""
        return f"{self.base_url}/rest/api{path}"


Parser = Callable[[dict[str, Any]], Any]
