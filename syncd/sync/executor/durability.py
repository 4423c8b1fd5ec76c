"""Group commit for a run of pulls: one flush, one state commit, one fsync per folder.

Each pulled page costs, written on its own, three fsyncs besides its data's: its folder's
(the rename), its parent's when the folder is new, and the state's commit of its record;
its data's fsync is itself a journal commit. On a first sync of thousands of pages those
dominate once conversion runs elsewhere, and on macOS (``F_FULLFSYNC``) each costs
milliseconds. Here the pulls applied one after another share them: their records join one
state transaction (`StateDB.begin_group`), their files wait as complete temp files in a
`WriteBatch`, their new folders owe their fsync to a `DirSyncs`; every
:data:`GROUP_PAGES` pulls (or :data:`GROUP_SECONDS`), before any other kind of action and at
the end, the group is closed: the files are made durable together and renamed into place,
the folders fsynced, then the records committed.

The commit order of the state module still holds (effect first, record second): a record
is never on disk before the file it describes, since the files and folders are durable
before the commit, and a name never points at bytes that are not durable. A crash inside a
group loses only records (and temp files, removed at the next start), which the next run
re-derives from the files and Confluence (as a crash between any write and its record
does). Only pulls are grouped: actions whose record must be durable before a remote effect
(a create's intent) never run inside a group.
"""

from __future__ import annotations

import time

from syncd.local.atomic import DirSyncs
from syncd.local.write_batch import WriteBatch
from syncd.sync.executor.base import ExecutorBase
from syncd.sync.records import PageRecord

#: Pulls whose records share one commit, at most.
GROUP_PAGES = 64
#: Age after which a group is committed even if smaller (progress stays visible).
GROUP_SECONDS = 1.0


class GroupCommit(ExecutorBase):
    """Opens, extends and closes the group of pulls that share their fsyncs."""

    _group_size = 0
    _group_started = 0.0

    def _open_group(self) -> None:
        if self._dirs is not None:
            return
        self.db.begin_group()
        self._dirs = DirSyncs()
        self._batch = WriteBatch(self._dirs)
        self._group_size = 0
        self._group_started = time.monotonic()
        if self.attachments is not None:
            self.attachments.dirs = self._dirs
            self.attachments.batch = self._batch

    def _grouped(self) -> None:
        """One more pull joined the group: close it when it is big or old enough."""
        self._group_size += 1
        if (
            self._group_size >= GROUP_PAGES
            or time.monotonic() - self._group_started >= GROUP_SECONDS
        ):
            self._close_group()

    def _close_group(self) -> None:
        """Make the group's files durable, then commit its records."""
        dirs, self._dirs = self._dirs, None
        batch, self._batch = self._batch, None
        undo, self._undo = self._undo, {}
        if dirs is None:
            return
        if self.attachments is not None:
            self.attachments.dirs = None
            self.attachments.batch = None
        try:
            if batch is not None:
                for rel, exc in batch.publish():
                    self._not_published(rel, exc, undo)
            self._flush_scan_rows()
            dirs.flush()
        except BaseException:
            # Not known to be on disk: no record may say it is (the next run re-derives).
            if batch is not None:
                batch.discard()
            self.db.end_group(commit=False)
            raise
        self.db.end_group()

    def _not_published(
        self, rel: str, exc: OSError, undo: dict[str, tuple[str, PageRecord | None]]
    ) -> None:
        """A page file the batch left alone (its target changed meanwhile): its record
        goes back to what it was, and the page is pulled again by the next run. Any other
        file failing is not recoverable here: the group is rolled back."""
        if rel not in undo:
            raise exc
        page_id, before = undo[rel]
        if before is None:
            self.db.delete_page(page_id)
        else:
            self.db.put_page(before)
        self._scan_rows.pop(rel, None)
        self.db.delete_scan_cache([rel])
        self.pulled.discard(page_id)
        self.result.applied = [
            a for a in self.result.applied if not (a.path == rel and a.page_id == page_id)
        ]
        self.result.errors.append(
            f"{rel}: changed while syncing ({exc.strerror}); it is synced on the next run"
        )
