"""Apply the container steps of `syncd.sync.containers`: directories and Cloud folders.

Structure steps run before the page actions (so a page pulled into a folder finds its
directory, and a directory moved in either direction is where the page reconcile looks);
deletions run after them, and only when the pages that were inside went first (a page
kept for any reason keeps its folder). Each step records its effect right after making
it, like the page executor.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from syncd.confluence import ConfluenceClient, ConfluenceError, NotFound, stops_every_request
from syncd.local.atomic import UnsafePathError, move_inside, move_to_trash, rmdir_inside
from syncd.local.layout import HOME_FILE
from syncd.local.names import claimed_names, fold, safe_stem, with_suffix_id
from syncd.sync.containers import (
    ContainerAction,
    ForgetContainer,
    MoveContainerLocal,
    RecordContainer,
    RecordContainerPath,
    TrashContainerLocal,
    TrashContainerRemote,
    UpdateContainerRemote,
)
from syncd.sync.records import ContainerRecord, Tombstone
from syncd.sync.state import StateDB

log = logging.getLogger(__name__)


@dataclass
class ContainerChange:
    event_type: str
    direction: str
    container_id: str
    title: str
    path: str


@dataclass
class ContainerSteps:
    root: Path
    db: StateDB
    client: ConfluenceClient
    space_key: str
    root_id: str | None
    trash_dir: Path
    applied: list[ContainerChange] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: Directories moved this run (old, new): the local scan must be taken again.
    moved: list[tuple[str, str]] = field(default_factory=list)
    #: Folder id -> pages deleted locally whose trashing the folder's deletion carries.
    handed: dict[str, list[str]] = field(default_factory=dict)

    async def apply(self, actions: tuple[ContainerAction, ...]) -> None:
        for action in actions:
            try:
                await getattr(self, f"_do_{type(action).__name__}")(action)
            except (ConfluenceError, OSError) as exc:
                if isinstance(exc, ConfluenceError) and stops_every_request(exc):
                    raise
                self.errors.append(f"{action.describe()}: {exc}; retried on the next run")

    # ------------------------------------------------------------------ helpers

    def _children_dir(self, parent_id: str | None) -> str:
        """The directory the children of `parent_id` (page or container) live in."""
        if parent_id is None or parent_id == self.root_id:
            return ""
        container = self.db.get_container(parent_id)
        if container is not None and container.deleted is None:
            return container.local_path
        page = self.db.get_page(parent_id)
        if page is not None and page.tombstone is None and page.local_path != HOME_FILE:
            return page.local_path[:-3]
        return ""

    def _free_dir(self, folder: str, title: str, cid: str, own: str | None) -> str:
        try:
            names = {fold(n) for n in os.listdir(self.root / folder if folder else self.root)}
        except FileNotFoundError:
            names = set()
        if own is not None:
            names -= set(claimed_names(PurePosixPath(own).name))
        if folder == "":
            names |= {fold(HOME_FILE), fold("README.attachments")}
        stem, n = safe_stem(title), 0
        while True:
            candidate = stem if n == 0 else with_suffix_id(stem, cid, n)
            if names.isdisjoint(claimed_names(candidate)):
                return f"{folder}/{candidate}" if folder else candidate
            n += 1

    def _tracked_dir(self, rel: str) -> bool:
        if self.db.find_container_by_path(rel) is not None:
            return True
        return self.db.find_page_by_path(rel + ".md") is not None

    def _exists(self, rel: str) -> bool:
        return os.path.lexists(self.root / rel)

    def _mkdir(self, rel: str) -> None:
        path = self.root / rel
        if not path.is_dir():
            # Through `move_inside`'s parent creation rules: never through a link.
            from syncd.local.atomic import resolve_inside

            resolve_inside(self.root, rel).mkdir(parents=True, exist_ok=True)

    def _put(self, record: ContainerRecord) -> None:
        self.db.put_container(replace(record, synced_at=time.time()))

    # ------------------------------------------------------------------ steps

    async def _do_RecordContainer(self, a: RecordContainer) -> None:
        old = self.db.get_container(a.container_id)
        path = a.path
        if old is None and self._tracked_dir(path):
            # The layout's name is taken locally (a page's children directory, another
            # container): a free name beside it instead.
            path = self._free_dir(self._children_dir(a.parent_id), a.title, a.container_id, None)
        if old is not None and old.deleted is not None:
            # Restored: back in its old directory (files put back there by hand are its),
            # unless that name now belongs to something else; then beside it.
            folder = self._children_dir(a.parent_id)
            wanted = f"{folder}/{safe_stem(a.title)}" if folder else safe_stem(a.title)
            path = old.local_path if old.local_path == wanted else wanted
            if self._tracked_dir(path):
                path = self._free_dir(folder, a.title, a.container_id, None)
        self._mkdir(path)
        self._put(ContainerRecord(a.container_id, a.kind, a.title, a.parent_id, path, a.version))
        self.applied.append(
            ContainerChange("container_recorded", "remote->local", a.container_id, a.title, path)
        )

    async def _do_MoveContainerLocal(self, a: MoveContainerLocal) -> None:
        record = self.db.get_container(a.container_id)
        if record is None:
            return
        old = record.local_path
        new = self._free_dir(self._children_dir(a.parent_id), a.title, a.container_id, old)
        if new != old:
            if (self.root / old).is_dir():
                if self._exists(new) and fold(new) != fold(old):
                    raise OSError(f"{new} already exists")
                try:
                    move_inside(self.root, old, new)
                except UnsafePathError:
                    raise OSError(f"a folder on the way to {new} is a link") from None
                parent = PurePosixPath(old).parent.as_posix()
                if parent not in (".", ""):
                    rmdir_inside(self.root, parent)
            else:
                self._mkdir(new)
            self.db.rebase_paths(old, new)
            self.moved.append((old, new))
        record = self.db.get_container(a.container_id) or record
        self._put(
            replace(record, title=a.title, parent_id=a.parent_id, local_path=new, version=a.version)
        )
        self.applied.append(
            ContainerChange("container_moved_local", "remote->local", a.container_id, a.title, new)
        )

    async def _do_RecordContainerPath(self, a: RecordContainerPath) -> None:
        record = self.db.get_container(a.container_id)
        if record is None:
            return
        self.db.rebase_paths(record.local_path, a.path)
        record = self.db.get_container(a.container_id) or record
        self._put(replace(record, local_path=a.path))

    async def _do_UpdateContainerRemote(self, a: UpdateContainerRemote) -> None:
        record = self.db.get_container(a.container_id)
        if record is None:
            return
        current = await self.client.get_container(record.kind, a.container_id)
        version, title = current.version, current.title
        if a.title is not None and a.title != current.title:
            await self.client.rename_folder(a.container_id, a.title, base_version=version)
            version, title = version + 1, a.title
        parent_id = record.parent_id
        if a.parent_changed:
            target = a.parent_id or self.root_id
            if target is None:
                raise OSError("the space has no home page to move the folder under")
            await self.client.move_page(a.container_id, target, "append")
            parent_id = target
        self.db.rebase_paths(record.local_path, a.path)
        record = self.db.get_container(a.container_id) or record
        self._put(
            replace(record, title=title, parent_id=parent_id, local_path=a.path, version=version)
        )
        self.applied.append(
            ContainerChange(
                "container_moved_remote", "local->remote", a.container_id, title, a.path
            )
        )

    async def _do_TrashContainerLocal(self, a: TrashContainerLocal) -> None:
        record = self.db.get_container(a.container_id)
        if record is None:
            return
        if self._pages_under(record.local_path):
            self.errors.append(
                f"{record.local_path}/: {record.kind} {record.title!r} was {a.remote_status} "
                "in Confluence but pages in it are kept; the directory stays"
            )
            return
        path = record.local_path
        if (self.root / path).is_dir() and not rmdir_inside(self.root, path):
            move_to_trash(self.root, path, self.trash_dir)
        if a.remote_status in ("absent", "outside"):
            self.db.delete_container(a.container_id)
        else:
            self._put(replace(record, deleted="remote"))
        self.applied.append(
            ContainerChange(
                "container_trashed_local", "remote->local", a.container_id, record.title, path
            )
        )

    async def _do_TrashContainerRemote(self, a: TrashContainerRemote) -> None:
        """The folder goes to the trash with its pages (their TrashRemote actions were
        handed over here, `handed`), so that restoring the folder in Confluence brings
        them back together. Each page is then checked: one the server left current is
        trashed on its own, so the outcome is the same whatever the server does with a
        folder's content."""
        record = self.db.get_container(a.container_id)
        pages = self.handed.get(a.container_id, [])
        if record is None or self._exists(record.local_path):
            await self._trash_pages(pages)  # brought back meanwhile: the pages still go
            return
        kept = [p for p in self._pages_under(record.local_path) if p not in pages]
        kept += [  # pages still in the folder in Confluence, wherever their files are
            r.page_id
            for r in self.db.page_summaries().values()
            if r.tombstone is None and r.parent_id == a.container_id and r.page_id not in pages
        ]
        kept += [
            c.container_id
            for c in self.db.containers().values()
            if c.parent_id == a.container_id and c.deleted is None and self._exists(c.local_path)
        ]
        if kept:
            await self._trash_pages(pages)
            self.errors.append(
                f"{record.local_path}/ was deleted but pages in it are kept; folder "
                f"{record.title!r} stays in Confluence"
            )
            return
        if await self._still_current(record):
            await self.client.trash_folder(a.container_id)
        self._put(replace(record, deleted="local"))
        await self._trash_pages(pages)
        self.applied.append(
            ContainerChange(
                "container_trashed_remote",
                "local->remote",
                a.container_id,
                record.title,
                record.local_path,
            )
        )

    async def _still_current(self, record: ContainerRecord) -> bool:
        """False when the folder is in the trash already (it went with its parent)."""
        try:
            current = await self.client.get_container(record.kind, record.container_id)
        except NotFound:
            return False
        return current.status == "current"

    async def _trash_pages(self, page_ids: list[str]) -> None:
        """Pages deleted locally: in the Confluence trash (checked), recorded as deleted."""
        for pid in page_ids:
            record = self.db.get_page(pid)
            if record is None or record.tombstone is not None:
                continue
            try:
                page = await self.client.get_page(
                    pid, kind=record.kind, ancestors=False, include_trashed=True
                )
                if page.status != "trashed":
                    await self.client.trash_page(pid, kind=record.kind)
            except NotFound:
                pass  # gone: the tombstone is still right
            with self.db.transaction():
                self.db.update_page(pid, tombstone=Tombstone("local", time.time(), None))
                for att in self.db.attachments(pid):
                    self.db.delete_attachment(att.attachment_id)
            self.applied.append(
                ContainerChange(
                    "trashed_remote", "local->remote", pid, record.title, record.local_path
                )
            )

    async def _do_ForgetContainer(self, a: ForgetContainer) -> None:
        self.db.delete_container(a.container_id)

    def _pages_under(self, directory: str) -> list[str]:
        prefix = directory + "/"
        return [
            r.page_id
            for r in self.db.page_summaries().values()
            if r.tombstone is None and r.local_path.startswith(prefix)
        ]
