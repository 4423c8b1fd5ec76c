"""The executor's shared state: what every part of it reads and writes during one run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from syncd.confluence import ConfluenceClient
from syncd.confluence.models import Page
from syncd.local.atomic import DirSyncs
from syncd.local.frontmatter import Document
from syncd.local.write_batch import WriteBatch
from syncd.sync.attachments import AttachmentSync
from syncd.sync.convert_ahead import ConversionPool
from syncd.sync.executor.results import Applied, ExecutionResult
from syncd.sync.executor.settings import ExecutorSettings, WriteObserver
from syncd.sync.records import KEEP_BOTH, PageRecord
from syncd.sync.resolver import PageIndex
from syncd.sync.state import StateDB

# One logger for the whole executor, named as before the split.
log = logging.getLogger("syncd.sync.executor")


class ExecutorBase:
    """The state of one run (moves made, pages pulled and held, the result); the
    executor's parts (dispatch, paths, files, content, moves, deletions) share it."""

    def __init__(
        self,
        root: Path,
        db: StateDB,
        client: ConfluenceClient,
        index: PageIndex,
        settings: ExecutorSettings,
        *,
        observer: WriteObserver | None = None,
        layout_paths: dict[str, str] | None = None,
        progress: Callable[[int, int, str], None] | None = None,
        attachments: AttachmentSync | None = None,
        fetched: dict[str, Page] | None = None,
        conversions: ConversionPool | None = None,
    ) -> None:
        self.attachments = attachments
        #: Folders owing their fsync while pulls share a group commit (`durability`).
        self._dirs: DirSyncs | None = None
        #: The group's page and attachment files, renamed into place when it closes.
        self._batch: WriteBatch | None = None
        #: Page files of the group -> (page id, its record before the group), to restore
        #: the record of a file the batch could not put in place.
        self._undo: dict[str, tuple[str, PageRecord | None]] = {}
        #: Workers converting the bodies of pulls ahead of their turn (many pulls only).
        self.conversions = conversions
        #: Pages read while planning this run (targeted runs confirm pages by id). One is
        #: used instead of a fetch only at the version the action expects, and only once.
        self._fetched = fetched if fetched is not None else {}
        self.root = root
        self.db = db
        self.client = client
        self.index = index
        self.s = settings
        self.observer = observer
        self.layout_paths = layout_paths or {}
        self.progress = progress
        self.moves: list[tuple[str, str]] = []
        self.result = ExecutionResult()
        if attachments is not None:
            attachments.errors = self.result.errors  # skipped attachments, one line each
        self.pulled: set[str] = set()
        self._listed: dict[str, list] = {}  # attachment lists fetched with the page
        self.held_ids: set[str] = set()
        #: Pages with a recorded conflict that their sync ends: only those need clearing
        #: (saves a commit per page). Keep-both copies are not among them: each stays
        #: recorded until the user deletes it.
        conflicts = [c for c in db.conflicts() if c.kind != KEEP_BOTH]
        self._conflicted = {c.page_id for c in conflicts}
        self._conflicted_paths = {c.path for c in conflicts if c.page_id is None}
        #: Scan-cache rows of the files written this run, committed with the next record
        #: (and at the end): the next scan then reads none of them.
        self._scan_rows: dict[str, tuple] = {}
        #: The text `_render` made last, and what parsing it gives where that is certain:
        #: `_write` of that text makes its scan-cache row without parsing it again.
        self._rendered: tuple[str, Document | None] | None = None

    def _applied(
        self,
        event: str,
        direction: str,
        page_id: str | None,
        title: str,
        version: int | None,
        path: str,
    ) -> None:
        self.result.applied.append(Applied(event, direction, page_id, title, version, path))
