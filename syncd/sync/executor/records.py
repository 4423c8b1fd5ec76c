"""Recording a synced page in the state (its new base), after its effect."""

from __future__ import annotations

import time

from syncd.confluence.models import Page
from syncd.convert import Sidecar
from syncd.local.atomic import WriteResult
from syncd.sync.executor.base import ExecutorBase
from syncd.sync.model import body_hash
from syncd.sync.records import PageRecord


class PageRecords(ExecutorBase):
    """Records a page as synced: its new base, version, labels and file stat."""

    def _record(
        self,
        page: Page,
        path: str,
        markdown: str,
        sidecar: Sidecar | None,
        *,
        labels: tuple[str, ...] | None = None,
        title: str | None = None,
        parent_id: str | None = None,
        drop: str | None = None,
        written: WriteResult | None = None,
    ) -> PageRecord:
        """`written`: the write of `path` this action just made (its stat is not taken
        again). `labels` None: Confluence's, else the recorded ones."""
        mtime, size = self._stat(path, written)
        # The record before is read only when needed: to undo a file the group's batch
        # cannot put in place, or for the labels.
        undo = self._batch is not None and path in self._batch and path not in self._undo
        old = self.db.get_page(page.id) if undo or (labels is None and not page.labels) else None
        if undo:
            self._undo[path] = (page.id, old)
        record = PageRecord(
            page_id=page.id,
            local_path=path,
            title=title if title is not None else page.title,
            parent_id=parent_id if parent_id is not None else self._parent_of(page),
            remote_version=page.version,
            base_markdown=markdown,
            local_hash=body_hash(markdown),
            kind=page.kind,
            base_sidecar=sidecar.to_json() if sidecar is not None else None,
            labels=tuple(
                sorted(
                    labels if labels is not None else (page.labels or (old.labels if old else ()))
                )
            ),
            local_mtime_ns=mtime,
            local_size=size,
            synced_at=time.time(),
            tombstone=None,
        )
        with self.db.transaction():
            if drop is not None and drop != page.id:
                self.db.delete_page(drop)
            self.db.put_page(record)
            self._flush_scan_rows()
        self.index.set_page(page.id, record.title, path)
        return record
