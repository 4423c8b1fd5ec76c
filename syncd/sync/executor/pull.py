"""Pull: write a page from Confluence into its file (a save meanwhile turns it into a merge)."""

from __future__ import annotations

import time

from syncd.confluence import ConfluenceError, NotFound
from syncd.confluence.models import Page
from syncd.convert import keep_wording
from syncd.local import frontmatter
from syncd.local.atomic import MISSING, sha256_bytes
from syncd.sync.executor.base import ExecutorBase, log
from syncd.sync.executor.files import doc_labels
from syncd.sync.executor.results import Held
from syncd.sync.model import Pull, body_hash
from syncd.sync.records import PageRecord
from syncd.sync.snapshots import lost_id_problem


class Pulling(ExecutorBase):
    """Pull actions: Confluence's page into the file, or only its labels."""

    async def _do_Pull(self, a: Pull) -> None:
        await self._do_pull(a, await self._fetch(a))

    async def _do_pull(self, a: Pull, fetched: Page | ConfluenceError) -> None:
        if isinstance(fetched, NotFound):
            self.result.errors.append(
                f"pull {a.path or a.title!r}: page {a.page_id} is gone; handled on the next run"
            )
            return
        if isinstance(fetched, ConfluenceError):
            raise fetched
        page = fetched
        path = self._file_of(a.page_id, a.path)
        if path is None:
            wanted = self.cur(a.path)
            if wanted and not self._exists(wanted):
                path = wanted
            else:
                path = self._new_page_path(page.id, page.title, self._norm_parent(page), page.kind)
        # The index must know where this page lives before links to it are resolved.
        self.index.set_page(page.id, page.title, path)
        await self._learn_users(page.body)
        markdown, sidecar = await self._convert_pulled(page, path)
        old_doc: frontmatter.Document | None = None
        expect = MISSING
        record: PageRecord | None = None
        if self._exists(path):
            old_text, old_doc = self._read(path)
            record = self.db.get_page(page.id)
            ours = old_doc.meta.page_id == page.id or (
                # The file at the recorded path that lost its id is still this page's.
                not old_doc.meta.page_id
                and record is not None
                and record.local_path == path
                and lost_id_problem(old_text, old_doc) is None
            )
            if not ours:
                # Never overwrite a file that is not this page's (a user's own README.md,
                # a file another page claims): it stays, the page waits.
                raise Held(
                    f"{page.title!r}: {path} already exists and is not this page's file "
                    f"(page id {old_doc.meta.page_id or 'missing'}); move it away to pull "
                    f"page {page.id}"
                )
            if record is not None and (
                body_hash(old_doc.body) != record.local_hash
                or (
                    old_doc.has_front_matter and doc_labels(old_doc) != tuple(sorted(record.labels))
                )
            ):
                # Saved after the plan was made (which saw the recorded text): the pull
                # would overwrite that save. Both sides changed: merge instead.
                log.info("%s: saved while pulling; merging", path)
                await self._merge(page.id, path, record.base_markdown)
                return
            expect = sha256_bytes(old_text.encode("utf-8", errors="surrogateescape"))
        labels = tuple(sorted(page.labels or ()))
        if old_doc is not None and record is not None and page.version == record.remote_version:
            await self._pull_labels_only(page, path, labels, old_text, old_doc, expect)
            return
        if old_doc is not None and record is not None:
            # Only the blocks whose meaning changed are rewritten; the rest stay as worded.
            markdown = sidecar.markdown = keep_wording(old_doc.body, markdown)
        text = self._render(page.id, page.title, labels, markdown, old_doc)
        written = None
        if old_doc is None or text != old_text:
            written = self._write(path, text, expect=expect, batched=True)
            event = "created_local" if old_doc is None else "pulled"
            self._applied(event, "remote->local", page.id, page.title, page.version, path)
        self._record(page, path, markdown, sidecar, labels=labels, written=written)
        self._clear_conflicts(page.id)
        self.pulled.add(page.id)
        if self.attachments is not None:
            listed = self._listed.pop(page.id, None)
            written = await self.attachments.pull(page.id, path, page.kind, listed=listed)
            if written:
                self._cache_attachments(page.id, written)

    async def _pull_labels_only(
        self,
        page: Page,
        path: str,
        labels: tuple[str, ...],
        old_text: str,
        old_doc: frontmatter.Document,
        expect: str,
    ) -> None:
        """The page's version is the recorded one: only its labels changed (a label edit
        in Confluence bumps no version). Rewrite the front matter, keep the body byte
        for byte, keep the base; nothing is sent to Confluence."""
        text = self._render(page.id, page.title, labels, old_doc.body, old_doc)
        written = None
        if text != old_text:
            written = self._write(path, text, expect=expect)
            self._applied("pulled", "remote->local", page.id, page.title, page.version, path)
        mtime, size = self._stat(path, written)
        self.db.update_page(
            page.id,
            labels=labels,
            local_path=path,
            local_mtime_ns=mtime,
            local_size=size,
            synced_at=time.time(),
            tombstone=None,
        )
        self._clear_conflicts(page.id)
        self.pulled.add(page.id)
        if self.attachments is not None:
            listed = self._listed.pop(page.id, None)
            await self.attachments.pull(page.id, path, page.kind, listed=listed)
