"""Moves and renames: on Confluence, in the folder (with children and attachments)."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from syncd.confluence import VersionConflict
from syncd.confluence.models import CONTAINER_KINDS
from syncd.local.atomic import UnsafePathError, move_inside, rmdir_inside
from syncd.local.layout import HOME_FILE, attachments_dir_of
from syncd.local.names import fold
from syncd.sync.executor.base import ExecutorBase
from syncd.sync.executor.results import Held
from syncd.sync.model import MoveLocal, MoveRemote, RecordLocal


class Moves(ExecutorBase):
    """MoveRemote, MoveLocal and RecordLocal actions; moving a page's files together."""

    async def _do_MoveRemote(self, a: MoveRemote) -> None:
        record = self.db.get_page(a.page_id)
        kind = record.kind if record else "page"
        page = await self.client.get_page(a.page_id, kind=kind, ancestors=False)  # type: ignore[arg-type]
        title = a.title if a.title is not None else page.title
        parent = self._remote_parent(a.parent_id, a.parent_path) if a.parent_changed else None
        try:
            if a.parent_changed and (
                self._is_container(parent) or page.parent_type in CONTAINER_KINDS
            ):
                # Into or out of a folder (whiteboard, ...): v1 move/append, the call known
                # to move pages into folders (atlcli folder notes, realapi/SOURCES.md).
                target = parent or self.s.root_id
                if target is None:
                    raise Held(f"{a.path}: the space has no home page to move the page under")
                await self.client.move_page(a.page_id, target, "append")
                page = await self.client.get_page(a.page_id, kind=kind, ancestors=False)  # type: ignore[arg-type]
                parent = None  # placed: the update below (a rename) leaves the parent alone
            if title != page.title or parent is not None:
                updated = await self.client.update_page(
                    a.page_id,
                    title=title,
                    body=page.body,
                    base_version=page.version,
                    parent_id=parent,
                    kind=kind,  # type: ignore[arg-type]
                )
            else:
                updated = page
        except VersionConflict:
            raise Held(
                f"{a.path}: changed in Confluence while moving it; synced on the next run"
            ) from None
        new_parent = page.parent_id if parent is None else parent
        if a.parent_changed and parent is None:
            new_parent = self._remote_parent(a.parent_id, a.parent_path)
        if record is not None:
            version = (
                updated.version if page.version == record.remote_version else record.remote_version
            )
            path = self._file_of(a.page_id, a.path) or record.local_path
            self._follow_attachments(a.page_id, record.local_path, path)
            self.db.update_page(
                a.page_id,
                title=title,
                parent_id=new_parent if kind == "page" else None,
                remote_version=version,
                local_path=path,
                tombstone=None,
            )
        self.index.set_page(a.page_id, title, None)
        self._applied("moved_remote", "local->remote", a.page_id, title, updated.version, a.path)

    async def _do_MoveLocal(self, a: MoveLocal) -> None:
        record = self.db.get_page(a.page_id)
        old = self._file_of(a.page_id, a.from_path)
        if old is None or record is None:
            raise Held(f"{a.from_path}: the file disappeared before it could be moved")
        kind = record.kind
        if a.parent_path is not None:
            folder = self._folder_of_parent_path(a.parent_path)
            parent_id = self._remote_parent(None, a.parent_path)
        else:
            folder = self._children_folder(a.parent_id, kind)
            parent_id = a.parent_id or self.s.root_id
        new = (
            HOME_FILE
            if a.page_id == self.s.root_id
            else self._free_path(folder, a.title, a.page_id, own=old)
        )
        text, doc = self._read(old)
        new_text = (
            self._render(a.page_id, a.title, doc.meta.labels, doc.body, doc)
            if (doc.has_front_matter)
            else text
        )
        if new != old:
            self._move_tree(old, new)
        if new_text != text:
            self._write(new, new_text)
        mtime, size = self._stat(new)
        with self.db.transaction():
            if new != old:
                old_dir, new_dir = old[:-3] + "/", new[:-3] + "/"
                for other in self.db.page_summaries().values():
                    if other.local_path.startswith(old_dir):
                        moved = new_dir + other.local_path[len(old_dir) :]
                        self.db.update_page(other.page_id, local_path=moved)
                        self.index.set_page(other.page_id, None, moved)
                self._rebase_containers(old[:-3], new[:-3])
            self.db.update_page(
                a.page_id,
                local_path=new,
                title=a.title,
                parent_id=parent_id if kind == "page" else None,
                local_mtime_ns=mtime,
                local_size=size,
            )
        if new != old:
            self.moves.append((old, new))
        self.index.set_page(a.page_id, a.title, new)
        self._applied(
            "moved_local", "remote->local", a.page_id, a.title, record.remote_version, new
        )

    def _move_tree(self, old: str, new: str) -> None:
        """Move a page file with its children folder and attachments folder."""
        pairs = [
            (old, new),
            (old[:-3], new[:-3]),
            (attachments_dir_of(old), attachments_dir_of(new)),
        ]
        for src, dst in pairs:
            if not self._exists(src):
                continue
            if self._exists(dst) and fold(src) != fold(dst):
                raise Held(f"{old}: cannot move to {new}: {dst} already exists")
            if self.observer is not None:
                for rel in self._files_under(src):
                    self.observer.expect_delete(rel)
                    sha = self._sha_of(rel)
                    self.observer.expect_write(dst + rel[len(src) :], sha)
            try:
                move_inside(self.root, src, dst)  # never through a linked folder
            except UnsafePathError:
                raise Held(
                    f"{old}: cannot move to {new}: a folder on the way is a link; syncd "
                    "never moves files through links (replace the link with a folder)"
                ) from None
        parent = PurePosixPath(old).parent.as_posix()
        if parent not in (".", ""):
            rmdir_inside(self.root, parent)  # only succeeds when it is left empty

    def _follow_attachments(self, page_id: str, old: str, new: str) -> None:
        """A page file renamed or moved locally takes its attachments folder along.

        The user moved the file, not `<Title>.attachments/`; left behind, the folder
        would belong to no page and its files would read as deleted. Nothing moves when
        the folder went along already, or another page claims the old place.
        """
        src, dst = attachments_dir_of(old), attachments_dir_of(new)
        if old == new or src == dst or not self._exists(src) or self._exists(dst):
            return
        other = self.db.find_page_by_path(old)
        if other is not None and other.page_id != page_id and other.tombstone is None:
            return
        if self._exists(old):
            return  # a file still sits at the old path: the folder is its
        if self.observer is not None:
            for rel in self._files_under(src):
                self.observer.expect_delete(rel)
                self.observer.expect_write(dst + rel[len(src) :], self._sha_of(rel))
        try:
            move_inside(self.root, src, dst)
        except OSError as exc:  # a link on the way, or a folder in the way
            self.result.errors.append(
                f"{new}: its attachments folder {src} could not follow it ({exc}); "
                f"move it to {dst} by hand"
            )

    def _files_under(self, rel: str) -> list[str]:
        full = self.root / rel
        if full.is_file():
            return [rel]
        out = []
        for dirpath, _dirs, files in os.walk(full):
            for name in files:
                out.append((Path(dirpath) / name).relative_to(self.root).as_posix())
        return out

    async def _do_RecordLocal(self, a: RecordLocal) -> None:
        record = self.db.get_page(a.page_id)
        path = self._file_of(a.page_id, a.path)
        if record is None or path is None:
            return
        _text, _doc = self._read(path)
        self._follow_attachments(a.page_id, record.local_path, path)
        mtime, size = self._stat(path)
        self.db.update_page(
            a.page_id,
            local_path=path,
            title=a.title,
            parent_id=(a.parent_id or self.s.root_id) if record.kind == "page" else None,
            local_mtime_ns=mtime,
            local_size=size,
            tombstone=None,
        )
        self.index.set_page(a.page_id, a.title, path)
