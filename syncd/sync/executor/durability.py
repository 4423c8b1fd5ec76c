"""Group commit for a run of pulls: one state commit and one fsync per folder for many pages.

Each pulled page costs, written on its own, three fsyncs besides its data's: its folder's
(the rename), its parent's when the folder is new, and the state's commit of its record.
On a first sync of thousands of pages those dominate once conversion runs elsewhere, and
on macOS (``F_FULLFSYNC``) each costs milliseconds. Here the pulls applied one after
another share them: their records join one state transaction (`StateDB.begin_group`),
their renames and new folders owe their fsync to a `DirSyncs`, and every
:data:`GROUP_PAGES` pulls (or :data:`GROUP_SECONDS`), before any other kind of action and
at the end, the group is closed: folders fsynced first, then the records committed.

The commit order of the state module still holds (effect first, record second): a record
is never on disk before the file it describes, since the folders are fsynced before the
commit. A crash inside a group loses only records, which the next run re-derives from the
files and Confluence (as a crash between any write and its record does). Only pulls are
grouped: actions whose record must be durable before a remote effect (a create's intent)
never run inside a group.
"""

from __future__ import annotations

import time

from syncd.local.atomic import DirSyncs
from syncd.sync.executor.base import ExecutorBase

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
        self._group_size = 0
        self._group_started = time.monotonic()
        if self.attachments is not None:
            self.attachments.dirs = self._dirs

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
        if dirs is None:
            return
        if self.attachments is not None:
            self.attachments.dirs = None
        try:
            self._flush_scan_rows()
            dirs.flush()
        except BaseException:
            # Not known to be on disk: no record may say it is (the next run re-derives).
            self.db.end_group(commit=False)
            raise
        self.db.end_group()
