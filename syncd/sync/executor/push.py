"""Push: send a file's changes to Confluence (a 409 turns it into a merge); record what it stored."""

from __future__ import annotations

import time
from dataclasses import replace

from syncd.confluence import VersionConflict
from syncd.confluence.models import Page
from syncd.convert import (
    ConversionRefused,
    Sidecar,
    keep_wording,
    markdown_to_storage,
    storage_to_markdown,
)
from syncd.local import frontmatter
from syncd.local.atomic import ChangedOnDiskError, sha256_bytes
from syncd.sync.executor.base import ExecutorBase, log
from syncd.sync.executor.files import doc_labels
from syncd.sync.executor.results import Held
from syncd.sync.model import Push, body_hash
from syncd.sync.records import REFUSED, PageRecord


class Pushing(ExecutorBase):
    """Push actions, label pushes, and recording what Confluence stored after a write."""

    async def _do_Push(self, a: Push) -> None:
        record = self.db.get_page(a.page_id)
        path = self._file_of(a.page_id, a.path)
        if record is None or path is None:
            raise Held(f"{a.path}: the file or its record disappeared; synced on the next run")
        text, doc = self._read(path)
        sidecar = Sidecar.from_json(record.base_sidecar) if record.base_sidecar else None
        storage = self._to_storage(doc, sidecar, path, record.title, a.page_id)
        labels_changed = doc.has_front_matter and tuple(sorted(doc.meta.labels)) != tuple(
            sorted(record.labels)
        )
        if storage is None:
            # Nothing Confluence would see changed in the body: no update at all.
            if labels_changed:
                await self._push_labels(a.page_id, record.labels, doc.meta.labels)
            mtime, size = self._stat(path)
            self.db.update_page(
                a.page_id,
                base_markdown=doc.body,
                local_hash=body_hash(doc.body),
                labels=tuple(sorted(doc.meta.labels)) if doc.has_front_matter else record.labels,
                local_path=path,
                local_mtime_ns=mtime,
                local_size=size,
                synced_at=time.time(),
            )
            return
        if self.attachments is not None:
            await self.attachments.push(a.page_id, path, record.kind)
        try:
            updated = await self.client.update_page(
                a.page_id,
                title=record.title,
                body=storage,
                base_version=record.remote_version,
                kind=record.kind,
            )
        except VersionConflict:
            log.info("%s: changed in Confluence meanwhile (409); merging", path)
            await self._merge(a.page_id, path, record.base_markdown)
            return
        if labels_changed:
            await self._push_labels(a.page_id, record.labels, doc.meta.labels)
        labels = tuple(sorted(doc.meta.labels)) if doc.has_front_matter else record.labels
        page = await self._after_remote_write(
            a.page_id,
            path,
            doc,
            record.kind,
            answered=replace(updated, labels=labels),
            parent_id=record.parent_id,
            expect=sha256_bytes(text.encode("utf-8", errors="surrogateescape")),
        )
        self._applied("pushed", "local->remote", a.page_id, page.title, page.version, path)

    def _to_storage(
        self,
        doc: frontmatter.Document,
        sidecar: Sidecar | None,
        path: str,
        title: str,
        page_id: str | None = None,
    ) -> str | None:
        try:
            return markdown_to_storage(
                doc.body, sidecar=sidecar, resolver=self.index.for_page(path)
            ).storage
        except ConversionRefused as exc:
            line = exc.line + doc.body_line - 1 if exc.line else doc.body_line
            self._add_conflict(page_id, path, REFUSED, f"line {line}: {exc.message}")
            raise Held(
                f"{title!r} ({path}, line {line}): {exc.construct} cannot be converted: "
                f"{exc.message}; nothing was pushed. Edit that part of the file to sync it."
            ) from None

    def _as_pushed(self, markdown: str, record: PageRecord, path: str) -> str | None:
        """The Markdown that Confluence's copy reads back as once `markdown` is pushed
        (None when it would send nothing or cannot be converted)."""
        sidecar = Sidecar.from_json(record.base_sidecar) if record.base_sidecar else None
        resolver = self.index.for_page(path)
        try:
            storage = markdown_to_storage(markdown, sidecar=sidecar, resolver=resolver).storage
        except ConversionRefused:
            return None
        if storage is None:
            return None
        return storage_to_markdown(storage, resolver=resolver).markdown

    async def _push_labels(
        self, page_id: str, before: tuple[str, ...], after: tuple[str, ...]
    ) -> None:
        add = sorted(set(after) - set(before))
        if add:
            await self.client.add_labels(page_id, add)
        for name in sorted(set(before) - set(after)):
            await self.client.remove_label(page_id, name)

    async def _after_remote_write(
        self,
        page_id: str,
        path: str,
        doc: frontmatter.Document | None,
        kind: str,
        *,
        answered: Page | None = None,
        parent_id: str | None = None,
        expect: str | None = None,
    ) -> Page:
        """Record what Confluence stored as the new base (contract rule 6).

        `answered` is the update's answer with the labels as they are after the update.
        When it carries the body the server stored (`body_stored`), that is what a re-read
        at that version returns, so it stands for the re-read; otherwise (the answer had no
        body, or there was no update answer) the page is re-read: a body the server
        normalised (macro ids, entities) must become the base, or the next push would
        differ from it and the page would churn. Either way the stored body is converted
        back here, which is the read-back check of what was pushed.

        The user's file keeps the user's wording (line wrapping, bullets, emphasis
        markers): it is rewritten only where the stored page reads back with a different
        meaning (Confluence changed something visible), and then only in those blocks
        (`keep_wording`); the kept text is the new base, so the next push of an unchanged
        file sends nothing. `expect` is the hash of the file as pushed: saved again since,
        the file is left alone and the new save is pushed next.
        """
        if answered is not None and answered.body_stored and answered.labels is not None:
            page = answered
        else:
            page = await self.client.get_page(page_id, kind=kind, ancestors=False)  # type: ignore[arg-type]
        await self._learn_users(page.body)
        markdown, sidecar = self._convert(page, path)
        if doc is not None:
            markdown = sidecar.markdown = keep_wording(doc.body, markdown)
        labels = tuple(sorted(page.labels or ()))
        written = None
        if (
            doc is None
            or markdown != doc.body
            or doc.meta.page_id != page.id  # a file that lost its id gets it back
            or (doc.has_front_matter and doc.meta.title != page.title)
            or doc_labels(doc) != labels
        ):
            text = self._render(page.id, page.title, labels, markdown, doc)
            try:
                written = self._write(path, text, expect=expect)
            except ChangedOnDiskError:
                log.info("%s: saved again while pushing; that save is pushed next", path)
        self._record(
            page, path, markdown, sidecar, labels=labels, parent_id=parent_id, written=written
        )
        self._clear_conflicts(page_id)
        return page
