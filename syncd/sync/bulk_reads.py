"""Bulk reads for a run that pulls many pages: bodies and attachment lists in few requests.

A first sync (or a catch-up after many remote edits) would otherwise read each page with
its own GET and each page's attachment list with another: at 100 ms per request that is
the whole cost of the run. Here the pages a plan pulls are read by id in batches
(`ConfluenceClient.iter_pages_by_id`: 250 per request on Cloud, 50 on Data Center), in
plan order, a few batches ahead of the executor, so memory holds a bounded number of
bodies whatever the size of the space; the attachments of the whole space come from one
CQL listing (`ConfluenceClient.space_attachments`).

What a bulk answer says is used only where it can be trusted, else the executor reads the
page (or its attachment list) on its own, as for a handful of pages:
* a body only with the version that came with it, and only when that version is not
  older than the one the plan saw (a newer one is a page edited between listing and
  read: it is pulled at that version, as a GET would have done; an edit after the read
  is an ordinary concurrent edit, found by the next run);
* labels: from the answer (DC), else from the run's label sweep (Cloud), else unknown;
* an attachment list only for a page whose recorded attachments it lists every one of
  (the search index can lag behind an upload; a recorded attachment missing from it
  must not read as deleted in Confluence).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from syncd.confluence import ConfluenceClient, ConfluenceError, stops_every_request
from syncd.confluence.models import Attachment, Kind, Page

log = logging.getLogger(__name__)

#: Below this many pages to pull, per-page reads cost about as much and start at once.
BULK_MIN_PAGES = 16
#: Batches read ahead of the one the executor waits for.
BATCHES_AHEAD = 2
#: Planned pages whose attachment downloads start ahead of the page being read.
DOWNLOADS_AHEAD = 64
#: Attachments one bulk attachment request returns (DC's cap with expansions).
ATTACHMENTS_PER_REQUEST = 200


def worth_bulk(pulls: int) -> bool:
    """Whether a run pulling `pulls` pages reads their bodies in bulk."""
    return pulls >= BULK_MIN_PAGES


def worth_bulk_attachments(pulls: int, known_attachments: int) -> bool:
    """Whether listing the space's attachments costs fewer requests than one list per
    pulled page (the space's size is judged by the attachments the state records)."""
    return worth_bulk(pulls) and pulls * ATTACHMENTS_PER_REQUEST > known_attachments


class BulkBodies:
    """Pages of a plan's pulls read by id in batches, handed out one at a time."""

    def __init__(
        self,
        client: ConfluenceClient,
        pulls: Iterable[tuple[str, str]],
        *,
        labels: Mapping[str, tuple[str, ...] | None] | None = None,
        ahead: int = BATCHES_AHEAD,
    ) -> None:
        """`pulls`: (page id, kind) in plan order. `labels`: the listing's labels by page
        id (Cloud's page reads carry none)."""
        self.client = client
        self._labels = dict(labels or {})
        self._ahead = max(0, ahead)
        size = max(1, client.bulk_body_limit())
        by_kind: dict[str, list[str]] = {}
        order: dict[str, str] = {}
        for page_id, kind in pulls:
            order.setdefault(page_id, kind)
        self._batches: list[tuple[str, list[str]]] = []
        for page_id, kind in order.items():
            pending = by_kind.setdefault(kind, [])
            pending.append(page_id)
            if len(pending) == size:
                self._batches.append((kind, pending))
                by_kind[kind] = []
        self._batches += [(kind, ids) for kind, ids in by_kind.items() if ids]
        self._batch_of: dict[str, int] = {}
        for i, (_, ids) in enumerate(self._batches):
            for page_id in ids:
                self._batch_of.setdefault(page_id, i)
        self._left = [len(ids) for _, ids in self._batches]
        self._tasks: dict[int, asyncio.Task[dict[str, Page]]] = {}
        #: Bulk requests answered and pages they vouched for (for tests and benches).
        self.batches_read = 0
        self.pages_served = 0

    def _start(self, i: int) -> None:
        if i < len(self._batches) and i not in self._tasks and self._left[i] > 0:
            kind, ids = self._batches[i]
            self._tasks[i] = asyncio.ensure_future(self._read(kind, ids))

    async def _read(self, kind: str, ids: list[str]) -> dict[str, Page]:
        found: dict[str, Page] = {}
        async for page in self.client.iter_pages_by_id(ids, kind=kind):  # type: ignore[arg-type]
            found[page.id] = page
        self.batches_read += 1
        return found

    async def get(self, page_id: str, version: int | None, kind: str) -> Page | None:
        """The page as the bulk read found it, or None: read it on its own (not in a
        batch, not found there, older than `version`, labels unknown, or the batch
        failed). Each page is handed out once."""
        i = self._batch_of.pop(page_id, None)
        if i is None or self._batches[i][0] != kind:
            return None
        for j in range(i, i + self._ahead + 1):
            self._start(j)
        task = self._tasks[i]
        ids = self._batches[i][1]
        try:
            found = await asyncio.shield(task)
        except ConfluenceError as exc:
            if stops_every_request(exc):
                raise
            log.info("bulk read of %d pages failed (%s); reading them one by one", len(ids), exc)
            found = {}
        page = found.pop(page_id, None)
        self._left[i] -= 1
        if self._left[i] <= 0:
            self._tasks.pop(i, None)  # its bodies are all handed out: free them
        if page is None or (version is not None and page.version < version):
            return None
        if page.labels is None:
            labels = self._labels.get(page_id)
            if labels is None:
                return None
            page = replace(page, labels=tuple(labels))
        if page.ancestors is None:
            page = replace(page, ancestors=())
        self.pages_served += 1
        return page

    def close(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        self._tasks.clear()


async def load_space_attachments(
    client: ConfluenceClient, space_key: str
) -> dict[str, list[Attachment]] | None:
    """Every current attachment of the space by page id; None if the listing failed
    (the pages' own lists are read instead)."""
    try:
        return await client.space_attachments(space_key)
    except ConfluenceError as exc:
        if stops_every_request(exc):
            raise
        log.info("bulk attachment listing failed (%s); reading lists page by page", exc)
        return None


class BulkAttachments:
    """The space's attachment lists from one CQL listing, read when first needed."""

    def __init__(
        self,
        client: ConfluenceClient,
        space_key: str,
        recorded: Mapping[str, set[str]],
        *,
        started: asyncio.Task[dict[str, list[Attachment]] | None] | None = None,
    ) -> None:
        """`recorded`: attachment ids the state holds, by page id. `started`: the
        listing (`load_space_attachments`), when the run started it early."""
        self.client = client
        self.space_key = space_key
        self._recorded = recorded
        self._served: set[str] = set()
        self._task = started

    async def _load(self) -> dict[str, list[Attachment]] | None:
        return await load_space_attachments(self.client, self.space_key)

    async def get(self, page_id: str) -> list[Attachment] | None:
        """The page's current attachments, or None where the listing cannot vouch for
        them (it failed, or a recorded attachment is missing from it). Once per page:
        a later call is answered by the page's own list."""
        if page_id in self._served:
            return None
        self._served.add(page_id)
        if self._task is None:
            self._task = asyncio.ensure_future(self._load())
        await asyncio.shield(self._task)
        return self.peek(page_id)

    def peek(self, page_id: str) -> list[Attachment] | None:
        """What `get` would answer, if the listing is in; no waiting, nothing marked."""
        if self._task is None or not self._task.done() or self._task.cancelled():
            return None
        lists = self._task.result()
        if lists is None:
            return None
        listed = lists.get(page_id, [])
        if not self._recorded.get(page_id, set()) <= {a.id for a in listed}:
            return None
        return listed

    def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()


class ReadAheadClient:
    """The client as the executor sees it during a run with bulk reads: page reads and
    attachment lists of the planned pulls come from the bulk answers (when they can be
    trusted, see the module docs), everything else goes to the real client. A page's
    attachment list, once known, starts its downloads ahead of the page's turn."""

    def __init__(
        self,
        client: ConfluenceClient,
        bodies: BulkBodies,
        versions: Mapping[str, int],
        attachments: BulkAttachments | None = None,
        on_listed: Callable[[str, list[Attachment]], None] | None = None,
    ) -> None:
        self._client = client
        self.bodies = bodies
        self.attachments = attachments
        self._versions = dict(versions)
        self._on_listed = on_listed
        self._order = list(self._versions)
        self._position = {pid: i for i, pid in enumerate(self._order)}
        self._announced = 0  # pages of the plan whose downloads were started ahead

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def get_page(
        self,
        page_id: str,
        *,
        kind: Kind = "page",
        ancestors: bool = True,
        include_trashed: bool = False,
    ) -> Page:
        page_id = str(page_id)
        if not ancestors and not include_trashed:
            page = await self.bodies.get(page_id, self._versions.get(page_id), kind)
            if page is not None:
                return page
        return await self._client.get_page(
            page_id, kind=kind, ancestors=ancestors, include_trashed=include_trashed
        )

    async def list_attachments(self, page_id: str, *, kind: Kind = "page") -> list[Attachment]:
        page_id = str(page_id)
        listed = None
        if self.attachments is not None and page_id in self._versions:
            listed = await self.attachments.get(page_id)
        if listed is None:
            listed = await self._client.list_attachments(page_id, kind=kind)
        if self._on_listed is not None and page_id in self._versions:
            self._on_listed(page_id, listed)
            self._download_ahead(self._position[page_id])
        return listed

    def _download_ahead(self, position: int) -> None:
        """Start the downloads of the next `DOWNLOADS_AHEAD` planned pages whose lists the
        bulk listing vouches for: the executor reads a few pages ahead, the link is kept
        busy further ahead (staged on disk, so memory does not grow)."""
        if self.attachments is None or self._on_listed is None:
            return
        end = min(len(self._order), position + DOWNLOADS_AHEAD)
        start = max(self._announced, position + 1)
        for pid in self._order[start:end]:
            listed = self.attachments.peek(pid)
            if listed is None:
                continue
            self._on_listed(pid, listed)
        self._announced = max(self._announced, end)

    def close(self) -> None:
        self.bodies.close()
        if self.attachments is not None:
            self.attachments.close()


class ListsAhead:
    """The client as a targeted run sees it: the attachment list of each page a hint
    names (a webhook, a poll) is read at the same time as the page itself, not after
    it, so a remote edit reaches the disk in one round trip instead of two. Each list is
    served once, to the first caller asking for that page and kind; a failed read is
    read again by that caller."""

    def __init__(self, client: ConfluenceClient, pages: Mapping[str, str]) -> None:
        """`pages`: page id -> kind (as recorded; "page" for a page not known yet)."""
        self._client = client
        self._kinds = dict(pages)
        self._tasks = {
            pid: asyncio.ensure_future(client.list_attachments(pid, kind=kind))  # type: ignore[arg-type]
            for pid, kind in self._kinds.items()
        }

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    async def list_attachments(self, page_id: str, *, kind: Kind = "page") -> list[Attachment]:
        page_id = str(page_id)
        task = self._tasks.pop(page_id, None)
        if task is not None and self._kinds.get(page_id) == kind:
            try:
                return await task
            except ConfluenceError as exc:
                if stops_every_request(exc):
                    raise
        elif task is not None:
            self._drop(task)
        return await self._client.list_attachments(page_id, kind=kind)

    @staticmethod
    def _drop(task: asyncio.Task[list[Attachment]]) -> None:
        task.cancel()
        task.add_done_callback(lambda t: t.cancelled() or t.exception())

    def close(self) -> None:
        for task in self._tasks.values():
            self._drop(task)
        self._tasks.clear()
