"""Merge and link: three-way merge of both sides, and what each `on_conflict` mode does."""

from __future__ import annotations

from dataclasses import replace

from syncd.confluence import VersionConflict
from syncd.confluence.models import Page
from syncd.convert import Sidecar
from syncd.local import frontmatter
from syncd.local.atomic import MISSING, sha256_bytes
from syncd.sync.executor.base import ExecutorBase
from syncd.sync.executor.files import doc_labels
from syncd.sync.executor.results import Held
from syncd.sync.merge import MergeResult, merge_markdown
from syncd.sync.model import Link, Merge
from syncd.sync.records import MARKERS


class Merging(ExecutorBase):
    """Merge and Link actions (also reached from a 409 or a save during a pull)."""

    async def _do_Merge(self, a: Merge) -> None:
        record = self.db.get_page(a.page_id)
        path = self._file_of(a.page_id, a.path)
        if record is None or path is None:
            raise Held(f"{a.path}: the file or its record disappeared; synced on the next run")
        await self._merge(a.page_id, path, record.base_markdown, version=a.remote_version)

    async def _do_Link(self, a: Link) -> None:
        path = self.cur(a.path)
        if path is None or not self._exists(path):
            raise Held(f"{a.path}: the file disappeared; synced on the next run")
        await self._merge(a.page_id, path, None, link=True)

    async def _merge(
        self,
        page_id: str,
        path: str,
        base: str | None,
        *,
        link: bool = False,
        version: int | None = None,
    ) -> None:
        """`version`: the remote version the plan saw (a page read while planning at that
        version is used); None (a 409, a save during a pull) always fetches."""
        record = self.db.get_page(page_id)
        kind = record.kind if record else "page"
        page = await self._get_page(page_id, kind, version)
        self.index.set_page(page_id, page.title, path)
        remote_md, sidecar = self._convert(page, path)
        text, doc = self._read(path)
        file_sha = sha256_bytes(text.encode("utf-8", errors="surrogateescape"))
        local_md = doc.body
        labels = confluence_labels = tuple(sorted(page.labels or ()))
        if doc.has_front_matter:
            # Three-way like the body; no record (a link) means an empty base: the union.
            local_labels = set(doc.meta.labels)
            remote_labels = set(labels)
            base_labels = set(record.labels) if record is not None else set()
            labels = tuple(
                sorted(
                    (remote_labels | (local_labels - base_labels)) - (base_labels - local_labels)
                )
            )
        result = merge_markdown(base, local_md, remote_md)
        if (
            result.text != remote_md
            and record is not None
            and base is not None
            and self._as_pushed(local_md, record, path) == remote_md
        ):
            # Confluence holds exactly what pushing this file gives: the push went through
            # but its record did not (a crash in between), and the stored page reads back
            # differently from the file (an escape, a normalisation). Our own write, not an
            # edit to merge with.
            result = MergeResult(True, remote_md)
        if result.clean and result.text == remote_md:
            # Both sides agree on the body (a false conflict, e.g. after a crash, or only
            # labels changed): the body is not PUT; labels are written for the difference.
            if labels != tuple(sorted(page.labels or ())):
                await self._push_labels(page_id, tuple(page.labels or ()), labels)
            new_text = self._render(page.id, page.title, labels, remote_md, doc)
            if new_text != text:
                self._write(path, new_text, expect=file_sha)
            self._record(page, path, remote_md, sidecar, labels=labels)
            self._clear_conflicts(page_id)
            self._applied("merged", "both", page_id, page.title, page.version, path)
            return
        if result.clean:
            await self._push_merged(page, path, result.text, sidecar, labels, doc, file_sha)
            return
        mode = self.s.on_conflict
        if mode == "local":
            await self._push_merged(page, path, local_md, sidecar, labels, doc, file_sha)
            return
        if mode == "remote":
            self._save_loser(path, text)
            self._write(path, self._render(page.id, page.title, labels, remote_md, doc))
            self._record(page, path, remote_md, sidecar, labels=confluence_labels)
            self._applied("pulled", "remote->local", page_id, page.title, page.version, path)
            return
        if mode == "keep-both":
            copy = self._conflict_copy_path(path)
            self._write(copy, text, expect=MISSING)
            self._write(path, self._render(page.id, page.title, labels, remote_md, doc))
            with self.db.transaction():
                self._record(page, path, remote_md, sidecar, labels=confluence_labels)
                self._keep_copy(page_id, path, copy)
            # Listed (with what to do) by the run's conflicts until the user deletes the copy.
            self._applied("conflict", "both", page_id, page.title, page.version, path)
            return
        # merge (default): markers in the file, page held until they are resolved.
        self._write(
            path, self._render(page.id, page.title, labels, result.text, doc), expect=file_sha
        )
        self._record(page, path, remote_md, sidecar, labels=confluence_labels)
        self._add_conflict(page_id, path, MARKERS, f"{result.conflicts} conflict(s)")
        self._applied("conflict", "both", page_id, page.title, page.version, path)
        self.result.held.append(path)

    async def _push_merged(
        self,
        page: Page,
        path: str,
        merged: str,
        sidecar: Sidecar,
        labels: tuple[str, ...],
        doc: frontmatter.Document,
        file_sha: str,
    ) -> None:
        new_doc = replace(doc, body=merged)
        storage = self._to_storage(new_doc, sidecar, path, page.title, page.id)
        if self.attachments is not None:
            await self.attachments.push(page.id, path, page.kind)
        updated = None
        if storage is not None:
            try:
                updated = await self.client.update_page(
                    page.id,
                    title=page.title,
                    body=storage,
                    base_version=page.version,
                    kind=page.kind,
                )
            except VersionConflict:
                raise Held(
                    f"{page.title!r} ({path}): Confluence changed again while merging; "
                    "synced on the next run"
                ) from None
        if labels != tuple(sorted(page.labels or ())):
            await self._push_labels(page.id, tuple(page.labels or ()), labels)
        if merged != doc.body or doc_labels(doc) != labels:
            self._write(
                path, self._render(page.id, page.title, labels, merged, doc), expect=file_sha
            )
            _, doc = self._read(path)
        if updated is None:
            self._record(page, path, merged, sidecar, labels=labels)
            self._clear_conflicts(page.id)
        else:
            page = await self._after_remote_write(
                page.id,
                path,
                doc,
                page.kind,
                answered=replace(updated, labels=labels),
                parent_id=self._parent_of(page),
            )
        self._applied("merged", "both", page.id, page.title, page.version, path)
