"""Reading and atomically writing page files, and the scan-cache rows of what was written."""

from __future__ import annotations

import os

from syncd.confluence.models import Page
from syncd.convert import Sidecar, storage_to_markdown
from syncd.local import frontmatter
from syncd.local.atomic import MISSING, WriteResult, atomic_write, sha256_bytes
from syncd.local.frontmatter import FrontMatter
from syncd.local.ignore import is_page_path
from syncd.sync.executor.base import ExecutorBase
from syncd.sync.executor.results import Held
from syncd.sync.snapshots import read_text, utf8_problem, written_attachment_row, written_page_row
from syncd.sync.users import UserNames


class FileAccess(ExecutorBase):
    """Page files: read (with the checks that hold a page), write atomically, render, stat."""

    def _read(self, rel: str) -> tuple[str, frontmatter.Document]:
        if self._batch is not None and rel in self._batch:  # written, not yet in place
            text = self._batch.read(rel).decode("utf-8", errors="surrogateescape")
        else:
            text = read_text(self.root, rel)
        encoding = utf8_problem(text)
        if encoding is not None:
            raise Held(f"{rel}: {encoding}")
        try:
            doc = frontmatter.parse(text)
        except frontmatter.FrontMatterError as exc:
            raise Held(f"{rel}: {exc}; fix the front matter to sync this page") from None
        return text, doc

    def _write(
        self, rel: str, text: str, *, expect: str | None = None, batched: bool = False
    ) -> WriteResult:
        """Atomic write; `expect` is the sha256 the file must still have (MISSING: absent).
        `batched`: inside a group, the file is put in place when the group closes."""
        data = text.encode("utf-8", errors="surrogateescape")
        if self.observer is not None:
            self.observer.expect_write(rel, sha256_bytes(data))
        batch = self._batch if batched else None
        result = atomic_write(self.root, rel, data, if_hash=expect, dirs=self._dirs, batch=batch)
        if is_page_path(rel):
            rendered = self._rendered
            doc = rendered[1] if rendered is not None and rendered[0] is text else None
            self._scan_rows[rel] = written_page_row(result, text, doc)
        return result

    def _cache_attachments(self, page_id: str, written: list[str]) -> None:
        """Scan-cache rows for the attachment files a pull just wrote (from their records,
        whose size and mtime are those `atomic_write` returned)."""
        paths = set(written)
        for r in self.db.attachments(page_id):
            if r.local_path in paths and r.size is not None and r.mtime_ns is not None:
                row = written_attachment_row(r.local_path, r.size, r.mtime_ns, r.hash)
                self._scan_rows[r.local_path] = row

    def _flush_scan_rows(self) -> None:
        if self._scan_rows:
            rows, self._scan_rows = list(self._scan_rows.values()), {}
            self.db.put_scan_cache(rows)

    def _render(
        self,
        page_id: str | None,
        title: str,
        labels: tuple[str, ...],
        body: str,
        old: frontmatter.Document | None = None,
    ) -> str:
        extra = dict(old.meta.extra) if old is not None else {}
        meta = FrontMatter(page_id=page_id, title=title, labels=tuple(labels), extra=extra)
        text, doc = frontmatter.render_and_parse(meta, body)
        self._rendered = (text, doc)
        return text

    def _sha_of(self, rel: str) -> str:
        written = self._batch.result(rel) if self._batch is not None else None
        if written is not None:
            return written.sha256
        try:
            with open(self.root / rel, "rb") as f:
                return sha256_bytes(f.read())
        except FileNotFoundError:
            return MISSING

    def _stat(self, rel: str, written: WriteResult | None = None) -> tuple[int | None, int | None]:
        """(mtime_ns, size) of the file. `written`: its write a moment ago, whose answer
        (the fstat `atomic_write` took of the file it wrote) is used instead of a stat; so
        is the answer for a file a batch holds."""
        if written is None or written.path != rel:
            written = self._batch.result(rel) if self._batch is not None else None
        if written is not None:
            return written.mtime_ns, written.size
        try:
            st = os.stat(self.root / rel, follow_symlinks=False)
        except OSError:
            return None, None
        return st.st_mtime_ns, st.st_size

    async def _learn_users(self, body: str) -> None:
        """Names of the users the page mentions, for ``@Display Name`` (looked up rarely)."""
        if self.index.users is None:
            self.index.users = UserNames(self.db)
        await self.index.users.learn(self.client, body)

    def _convert(self, page: Page, path: str) -> tuple[str, Sidecar]:
        result = storage_to_markdown(page.body, resolver=self.index.for_page(path))
        return result.markdown, result.sidecar

    async def _convert_pulled(self, page: Page, path: str) -> tuple[str, Sidecar]:
        """`_convert`, taking the conversion a worker did ahead when it is the same."""
        if self.conversions is not None:
            live = self.index.for_page(path)
            done = await self.conversions.take(page.id, page.version, page.body, live)
            if done is not None:
                return done
        return self._convert(page, path)


def doc_labels(doc: frontmatter.Document) -> tuple[str, ...]:
    return tuple(sorted(set(doc.meta.labels)))
