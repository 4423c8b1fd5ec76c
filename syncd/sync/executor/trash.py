"""Deletions and restores: to the Confluence trash, to the local trash folder, and back."""

from __future__ import annotations

import time
from typing import Any

from syncd.confluence import NotFound
from syncd.local.atomic import move_to_trash, rmdir_inside
from syncd.local.layout import attachments_dir_of
from syncd.sync.executor.base import ExecutorBase
from syncd.sync.model import Forget, MoveLocalToTrash, RestoreRemote, TrashRemote
from syncd.sync.records import Tombstone


class Deletions(ExecutorBase):
    """TrashRemote, MoveLocalToTrash, RestoreRemote and Forget actions."""

    async def _do_TrashRemote(self, a: TrashRemote) -> None:
        record = self.db.get_page(a.page_id)
        kind = record.kind if record else "page"
        try:
            await self.client.trash_page(a.page_id, kind=kind)  # type: ignore[arg-type]
        except NotFound:
            pass  # already gone: the tombstone below is still right
        if record is not None:
            with self.db.transaction():
                self.db.update_page(a.page_id, tombstone=Tombstone("local", time.time(), None))
                self._forget_attachments(a.page_id)
        self._applied("trashed_remote", "local->remote", a.page_id, a.title, None, a.path)

    async def _do_MoveLocalToTrash(self, a: MoveLocalToTrash) -> None:
        path = self._file_of(a.page_id, a.path)
        record = self.db.get_page(a.page_id)
        trash_rel = None
        if path is not None and self.s.trash_dir is not None:
            if self.observer is not None:
                self.observer.expect_delete(path)
            entry = move_to_trash(self.root, path, self.s.trash_dir)
            trash_rel = str(entry.trash_path)
            atts = attachments_dir_of(path)
            if self._exists(atts):
                move_to_trash(self.root, atts, self.s.trash_dir)
            rmdir_inside(self.root, path[:-3])  # its children folder, once emptied
        if record is not None:
            if a.remote_status == "trashed":
                with self.db.transaction():
                    self.db.update_page(
                        a.page_id, tombstone=Tombstone("remote", time.time(), trash_rel)
                    )
                    self._forget_attachments(a.page_id)
            else:
                self.db.delete_page(a.page_id)
        title = record.title if record else a.path
        self._applied("trashed_local", "remote->local", a.page_id, title, None, path or a.path)

    def _forget_attachments(self, page_id: str) -> None:
        """A trashed page's attachment records go: should the page come back, its
        attachments are matched afresh (by bytes), never read as deleted files."""
        for att in self.db.attachments(page_id):
            self.db.delete_attachment(att.attachment_id)

    async def _do_RestoreRemote(self, a: RestoreRemote) -> None:
        record = self.db.get_page(a.page_id)
        kind = record.kind if record else "page"
        page = await self.client.restore_page(a.page_id, kind=kind)  # type: ignore[arg-type]
        if record is not None:
            path = self._file_of(a.page_id, a.path)
            changes: dict[str, Any] = {
                "remote_version": page.version,
                "parent_id": self._parent_of(page),
            }
            if path is not None:
                changes["local_path"] = path
                changes["tombstone"] = None
            self.db.update_page(a.page_id, **changes)
        self._applied("restored", "local->remote", a.page_id, page.title, page.version, a.path)

    async def _do_Forget(self, a: Forget) -> None:
        self.db.delete_page(a.page_id)
        self.index.forget(a.page_id)
