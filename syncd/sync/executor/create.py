"""Create: a new local file becomes a Confluence page, and the file gets the page's id."""

from __future__ import annotations

import time
from dataclasses import replace

from syncd.confluence import TitleExists
from syncd.local.atomic import MISSING, sha256_bytes
from syncd.sync.executor.base import ExecutorBase
from syncd.sync.executor.results import Held
from syncd.sync.model import CreateRemote
from syncd.sync.records import ContainerRecord


class Creating(ExecutorBase):
    """CreateRemote actions."""

    async def _create_folder(self, a: CreateRemote, path: str, parent: str | None) -> None:
        """A new local directory becomes a Cloud folder (`sync.new_directories: folder`);
        the pages planned under it then find it by its directory."""
        directory = path[:-3]
        folder = await self.client.create_folder(self.s.space_key, a.title, parent_id=parent)
        self.db.put_container(
            ContainerRecord(
                folder.id,
                "folder",
                folder.title or a.title,
                folder.parent_id or parent,
                directory,
                folder.version,
                time.time(),
            )
        )
        self._applied("folder_created_remote", "local->remote", folder.id, a.title, None, directory)

    async def _do_CreateRemote(self, a: CreateRemote) -> None:
        path = self.cur(a.path) or a.path
        parent = self._remote_parent(a.parent_id, a.parent_path)
        if a.kind != "page":
            parent = None
        if a.folder:
            await self._create_folder(a, path, parent)
            return
        if a.placeholder:
            doc = None
            text = None
            body = ""
            labels: tuple[str, ...] = ()
            title = a.title
            storage = ""
        else:
            if not self._exists(path):
                raise Held(f"{path}: the file disappeared before its page was created")
            text, doc = self._read(path)
            body = doc.body
            labels = tuple(sorted(doc.meta.labels))
            title = a.title
            storage = self._to_storage(doc, None, path, title) or ""
        intent = self.db.add_pending_create(path, title, parent, a.kind)
        try:
            page = await self.client.create_page(
                self.s.space_key, title, storage, parent_id=parent, kind=a.kind
            )
        except TitleExists:
            # Someone else's page (or one in the trash) has the title: not ours to link.
            self.db.resolve_pending_create(intent.client_key)
            raise Held(
                f"{path}: Confluence already has a page titled {title!r} (possibly in the "
                "trash); change the title in the front matter to create this page"
            ) from None
        if labels:
            await self.client.add_labels(page.id, labels)
        # Write the new id into the file before anything else can be lost.
        new_text = self._render(page.id, title, labels, body, doc)
        self._write(
            path,
            new_text,
            expect=MISSING
            if text is None
            else sha256_bytes(text.encode("utf-8", errors="surrogateescape")),
        )
        _, new_doc = self._read(path)
        self.index.set_page(page.id, title, path)
        page = await self._after_remote_write(
            page.id,
            path,
            new_doc,
            a.kind,
            answered=replace(page, labels=tuple(sorted(labels))),
            parent_id=parent if a.kind == "page" else None,
        )
        with self.db.transaction():
            if a.recreate_of:
                self.db.delete_page(a.recreate_of)
            self.db.resolve_pending_create(intent.client_key)
        if self.attachments is not None and not a.placeholder:
            await self.attachments.push(page.id, path, a.kind)
        self._clear_path_conflicts(path)  # a refusal recorded before the page existed
        self._applied("created_remote", "local->remote", page.id, page.title, page.version, path)
