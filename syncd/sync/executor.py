"""Apply a Plan to the folder and to Confluence.

This is the real counterpart of tests/sync/simulator.py and follows the
executor contract in `syncd.sync.model` point by point: effect first, record
second (one transaction per action); current values from the state; planning
paths rewritten through the moves made so far; a 409 becomes a merge; after
every remote write what Confluence stored becomes the base (from the update's
answer when it carries the stored body, else re-read), so the next run makes
no request and nothing loops.

Actions run in plan order, except the content phase (push, merge, pull of a
tracked page), whose pages are applied up to `concurrency` at a time (actions
of one page still in order). Bodies are fetched ahead of time for runs of
`Pull` actions (bounded window), but applied in plan order, so a first sync
streams: fetch, convert, write, record per page, with at most `prefetch`
bodies in memory.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from syncd.confluence import (
    ConfluenceClient,
    ConfluenceError,
    NotFound,
    TitleExists,
    VersionConflict,
    stops_every_request,
)
from syncd.confluence.models import Page
from syncd.convert import ConversionRefused, Sidecar, markdown_to_storage, storage_to_markdown
from syncd.local import frontmatter
from syncd.local.atomic import (
    MISSING,
    ChangedOnDiskError,
    UnsafePathError,
    atomic_write,
    move_inside,
    move_to_trash,
    rmdir_inside,
    sha256_bytes,
)
from syncd.local.frontmatter import FrontMatter
from syncd.local.ignore import is_page_path
from syncd.local.layout import HOME_FILE, attachments_dir_of
from syncd.local.names import claimed_names, fold, safe_stem, with_suffix_id
from syncd.sync.attachments import AttachmentSync
from syncd.sync.merge import MergeResult, merge_markdown
from syncd.sync.model import (
    Action,
    CreateRemote,
    Forget,
    Link,
    Merge,
    MoveLocal,
    MoveLocalToTrash,
    MoveRemote,
    Plan,
    Pull,
    Push,
    RecordLocal,
    RestoreRemote,
    TrashRemote,
    body_hash,
)
from syncd.sync.records import PageRecord, Tombstone
from syncd.sync.resolver import PageIndex
from syncd.sync.snapshots import (
    BLOG_FOLDER,
    lost_id_problem,
    read_text,
    utf8_problem,
    written_attachment_row,
    written_page_row,
)
from syncd.sync.state import StateDB
from syncd.sync.users import UserNames

log = logging.getLogger(__name__)

CONFLICT_STAMP = "%Y%m%d-%H%M%S"


class WriteObserver(Protocol):
    def expect_write(self, rel: str, sha256: str) -> None: ...
    def expect_delete(self, rel: str) -> None: ...


@dataclass(frozen=True)
class Applied:
    """One change made on either side (the engine turns these into AppliedChange)."""

    event_type: str
    direction: str
    page_id: str | None
    title: str
    version: int | None
    path: str


class Held(Exception):
    """This page cannot be synced now; the message names title, path and what to do."""


@dataclass
class ExecutionResult:
    applied: list[Applied] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # paths held during execution


@dataclass
class ExecutorSettings:
    space_key: str
    root_id: str | None
    on_conflict: str = "merge"
    trash_dir: Path | None = None
    blog_posts: bool = False
    prefetch: int = 16
    #: Content actions (push, pull, merge) of different pages applied at the same time.
    concurrency: int = 8


class Executor:
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
    ) -> None:
        self.attachments = attachments
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
        #: Pages with a recorded conflict: only those need clearing (saves a commit per page).
        self._conflicted = {c.page_id for c in db.conflicts()}
        self._conflicted_paths = {c.path for c in db.conflicts() if c.page_id is None}
        #: Scan-cache rows of the files written this run, committed with the next record
        #: (and at the end): the next scan then reads none of them.
        self._scan_rows: dict[str, tuple] = {}

    # ================================================================== driver

    async def apply(self, plan: Plan) -> ExecutionResult:
        actions = list(plan.actions)
        fetches: dict[int, asyncio.Task[Page | ConfluenceError]] = {}
        total = len(actions)
        self._done = 0
        # A page another action changes first (a rename, a restore) is fetched when its
        # turn comes, never ahead: the prefetched copy would be stale.
        touched = {getattr(a, "page_id", None) for a in actions if not isinstance(a, Pull)} - {None}
        # Likewise a page read while planning: only a Pull or Merge may use it, and only
        # when no other action of the plan changes that page first.
        for a in actions:
            if not isinstance(a, Pull | Merge):
                self._fetched.pop(getattr(a, "page_id", None), None)  # type: ignore[arg-type]
        runs = _content_runs(actions)
        try:
            i = 0
            while i < total:
                if i in runs:
                    end = runs[i]
                    await self._apply_concurrently(actions[i:end], total)
                    i = end
                    continue
                for j in range(i, min(total, i + self.s.prefetch)):
                    ahead = actions[j]
                    if (
                        j not in fetches
                        and isinstance(ahead, Pull)
                        and (j == i or (ahead.page_id not in touched and not _is_content(ahead)))
                    ):
                        fetches[j] = asyncio.ensure_future(self._fetch(actions[j]))
                await self._run_action(actions[i], fetches.pop(i, None))
                self._tick(actions[i], total)
                i += 1
        finally:
            for task in fetches.values():
                task.cancel()
            self._flush_scan_rows()
        return self.result

    async def _run_action(
        self, action: Action, prefetched: asyncio.Task[Page | ConfluenceError] | None = None
    ) -> None:
        """Apply one action; its failure is reported and the run goes on (unless fatal)."""
        try:
            if prefetched is not None:
                await self._do_pull(action, await prefetched)  # type: ignore[arg-type]
            else:
                await getattr(self, f"_do_{type(action).__name__}")(action)
        except Held as held:
            self.result.errors.append(str(held))
            if getattr(action, "page_id", None):
                self.held_ids.add(action.page_id)  # type: ignore[attr-defined]
            self.result.held.append(getattr(action, "path", None) or "")
        except ChangedOnDiskError as exc:
            self.result.errors.append(
                f"{getattr(action, 'path', '')}: changed while syncing ({exc.strerror}); "
                "it is synced on the next run"
            )
        except (ConfluenceError, ConversionRefused, OSError) as exc:
            if stops_every_request(exc):
                raise
            self.result.errors.append(f"{action.describe()}: failed: {exc}")
            log.warning("%s failed: %s", action.describe(), exc)

    def _tick(self, action: Action, total: int) -> None:
        self._done += 1
        if self.progress is not None:
            self.progress(self._done, total, action.describe())

    async def _apply_concurrently(self, run: list[Action], total: int) -> None:
        """Apply a run of content actions (Push, Merge, Pull of a tracked page), several
        pages at a time.

        They come after every create and move of the plan and before its deletions, and
        each touches only its own page's file, record and remote page, so pages do not
        wait for one another; actions on the same page still run one after the other, in
        plan order. Each commits its own record after its effect, as in order. The
        executor runs on one event loop: state, index and file writes between two awaits
        are not interleaved, and no transaction spans an await. A fatal error (credentials,
        Confluence unreachable) or a bug stops new actions from starting; those under way
        finish (and record) before it is raised.
        """
        chains: dict[str, list[Action]] = {}
        for action in run:
            chains.setdefault(action.page_id, []).append(action)  # type: ignore[attr-defined]
        gate = asyncio.Semaphore(max(1, self.s.concurrency))
        stop: list[BaseException] = []

        async def chain(actions: list[Action]) -> None:
            for action in actions:
                async with gate:
                    if stop:
                        return
                    try:
                        await self._run_action(action)
                    except Exception as exc:  # fatal: let the others finish, then raise
                        stop.append(exc)
                        return
                self._tick(action, total)

        tasks = [asyncio.ensure_future(chain(c)) for c in chains.values()]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        if stop:
            raise stop[0]

    def _already_fetched(self, page_id: str, version: int) -> Page | None:
        """The page as read while planning, if it is at `version` (it is dropped either way)."""
        page = self._fetched.pop(page_id, None)
        if page is None or page.version != version or page.status != "current":
            return None
        return page

    async def _get_page(self, page_id: str, kind: str, version: int | None = None) -> Page:
        """The current page, from what planning read when `version` is the one it read."""
        page = self._already_fetched(page_id, version) if version is not None else None
        if page is not None and page.kind == kind:
            return page
        return await self.client.get_page(page_id, kind=kind, ancestors=False)  # type: ignore[arg-type]

    async def _fetch(self, action: Pull) -> Page | ConfluenceError:
        """The page body (and, ahead of need, its attachment list) for a Pull."""
        try:
            page_task = self._get_page(action.page_id, action.kind, action.remote_version)
            if self.attachments is None:
                return await page_task
            page, listed = await asyncio.gather(
                page_task, self.client.list_attachments(action.page_id, kind=action.kind)
            )
            self._listed[action.page_id] = listed
            return page
        except ConfluenceError as exc:
            return exc

    # ================================================================== helpers: paths

    def cur(self, path: str | None) -> str | None:
        """A planning-time path after the moves made earlier in this run."""
        for old, new in self.moves:
            if path is None:
                return None
            if path == old:
                path = new
            else:
                old_dir = old[:-3] + "/"
                if path.startswith(old_dir):
                    path = new[:-3] + "/" + path[len(old_dir) :]
        return path

    def _exists(self, rel: str | None) -> bool:
        return bool(rel) and os.path.lexists(self.root / rel)  # type: ignore[operator]

    def _file_of(self, page_id: str, planned: str | None) -> str | None:
        """The file carrying `page_id`: its record's path, else the planned path."""
        record = self.db.get_page(page_id)
        if record is not None and record.tombstone is None and self._exists(record.local_path):
            return record.local_path
        path = self.cur(planned)
        return path if self._exists(path) else None

    def _children_folder(self, parent_id: str | None, kind: str) -> str:
        if kind == "blogpost":
            return BLOG_FOLDER
        if parent_id is None or parent_id == self.s.root_id:
            return ""
        record = self.db.get_page(parent_id)
        path = record.local_path if record and record.tombstone is None else None
        path = path or self.index.path_of(parent_id)
        if not path or path == HOME_FILE:
            return ""
        return path[:-3]

    def _folder_of_parent_path(self, parent_path: str | None) -> str:
        path = self.cur(parent_path)
        if not path or path == HOME_FILE:
            return ""
        return path[:-3]

    def _taken(self, folder: str, own: str | None) -> set[str]:
        """Folded names already used in `folder` (on disk), minus those of `own`."""
        try:
            names = {fold(n) for n in os.listdir(self.root / folder if folder else self.root)}
        except FileNotFoundError:
            names = set()
        if own is not None:
            names -= set(claimed_names(PurePosixPath(own).stem))
        if folder == "":
            names |= {fold(HOME_FILE), fold("README.attachments")}
            if self.s.blog_posts:
                names |= {fold(BLOG_FOLDER), fold(BLOG_FOLDER + ".md")}
        return names

    def _free_path(
        self, folder: str, title: str, page_id: str | None, own: str | None = None
    ) -> str:
        """Where a page titled `title` goes in `folder` (collision suffix by page id)."""
        taken = self._taken(folder, own)
        stem = safe_stem(title)
        n = 0
        while True:
            candidate = stem if n == 0 else with_suffix_id(stem, page_id or "new", n)
            # A page's own name (a rename in place) is free for it.
            if own is not None and fold(
                f"{folder}/{candidate}.md" if folder else candidate + ".md"
            ) == fold(own):
                break
            if taken.isdisjoint(claimed_names(candidate)):
                break
            n += 1
        return f"{folder}/{candidate}.md" if folder else f"{candidate}.md"

    def _new_page_path(self, page_id: str, title: str, parent_id: str | None, kind: str) -> str:
        if page_id == self.s.root_id:
            return HOME_FILE
        folder = self._children_folder(parent_id, kind)
        planned = self.layout_paths.get(page_id)
        if (
            planned
            and PurePosixPath(planned).parent.as_posix() in (folder, "." if not folder else folder)
            and not self._exists(planned)
            and not self._exists(planned[:-3])
        ):
            return planned
        return self._free_path(folder, title, page_id)

    # ================================================================== helpers: files

    def _read(self, rel: str) -> tuple[str, frontmatter.Document]:
        text = read_text(self.root, rel)
        encoding = utf8_problem(text)
        if encoding is not None:
            raise Held(f"{rel}: {encoding}")
        try:
            doc = frontmatter.parse(text)
        except frontmatter.FrontMatterError as exc:
            raise Held(f"{rel}: {exc}; fix the front matter to sync this page") from None
        return text, doc

    def _write(self, rel: str, text: str, *, expect: str | None = None) -> None:
        """Atomic write; `expect` is the sha256 the file must still have (MISSING: absent)."""
        data = text.encode("utf-8", errors="surrogateescape")
        if self.observer is not None:
            self.observer.expect_write(rel, sha256_bytes(data))
        result = atomic_write(self.root, rel, data, if_hash=expect)
        if is_page_path(rel):
            self._scan_rows[rel] = written_page_row(result, text)

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
        return frontmatter.render(meta, body)

    def _sha_of(self, rel: str) -> str:
        try:
            with open(self.root / rel, "rb") as f:
                return sha256_bytes(f.read())
        except FileNotFoundError:
            return MISSING

    def _stat(self, rel: str) -> tuple[int | None, int | None]:
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

    # ================================================================== helpers: state

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
    ) -> PageRecord:
        mtime, size = self._stat(path)
        old = self.db.get_page(page.id)
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

    def _clear_conflicts(self, page_id: str) -> None:
        if page_id in self._conflicted:
            self.db.clear_conflicts(page_id)
            self._conflicted.discard(page_id)

    def _add_conflict(self, page_id: str, path: str, kind: str, detail: str) -> None:
        self._clear_conflicts(page_id)
        self.db.add_conflict(page_id, path, kind, detail)
        self._conflicted.add(page_id)

    def _parent_of(self, page: Page) -> str | None:
        if page.kind != "page" or page.id == self.s.root_id:
            return None
        return page.parent_id or self.s.root_id

    def _remote_parent(self, parent_id: str | None, parent_path: str | None) -> str | None:
        """A parent reference of an action -> the page id to use in Confluence."""
        if parent_id is not None:
            return parent_id
        if parent_path is not None:
            record = self.db.find_page_by_path(self.cur(parent_path) or parent_path)
            if record is None:
                raise Held(
                    f"{parent_path}: its page could not be created earlier in this run; "
                    "the pages below it wait for the next run"
                )
            return record.page_id
        return self.s.root_id

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

    # ================================================================== pull

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
        markdown, sidecar = self._convert(page, path)
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
                or (old_doc.has_front_matter and _labels(old_doc) != tuple(sorted(record.labels)))
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
        text = self._render(page.id, page.title, labels, markdown, old_doc)
        if old_doc is None or text != old_text:
            self._write(path, text, expect=expect)
            event = "created_local" if old_doc is None else "pulled"
            self._applied(event, "remote->local", page.id, page.title, page.version, path)
        self._record(page, path, markdown, sidecar, labels=labels)
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
        if text != old_text:
            self._write(path, text, expect=expect)
            self._applied("pulled", "remote->local", page.id, page.title, page.version, path)
        mtime, size = self._stat(path)
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

    def _norm_parent(self, page: Page) -> str | None:
        parent = self._parent_of(page)
        return None if parent == self.s.root_id else parent

    # ================================================================== push

    async def _do_Push(self, a: Push) -> None:
        record = self.db.get_page(a.page_id)
        path = self._file_of(a.page_id, a.path)
        if record is None or path is None:
            raise Held(f"{a.path}: the file or its record disappeared; synced on the next run")
        _text, doc = self._read(path)
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
            if page_id is not None:
                self._add_conflict(page_id, path, "refused", f"line {line}: {exc.message}")
            else:
                self.db.clear_conflicts(path=path)
                self.db.add_conflict(None, path, "refused", f"line {line}: {exc.message}")
                self._conflicted_paths.add(path)
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
    ) -> Page:
        """Record what Confluence stored as the new base (contract rule 6).

        `answered` is the update's answer with the labels as they are after the update.
        When it carries the body the server stored (`body_stored`), that is what a re-read
        at that version returns, so it stands for the re-read; otherwise (the answer had no
        body, or there was no update answer) the page is re-read: a body the server
        normalised (macro ids, entities) must become the base, or the next push would
        differ from it and the page would churn. Either way the stored body is converted
        back here, which is the read-back check of what was pushed.

        The user's file is rewritten only when the stored page reads back
        differently (Confluence normalised something visible).
        """
        if answered is not None and answered.body_stored and answered.labels is not None:
            page = answered
        else:
            page = await self.client.get_page(page_id, kind=kind, ancestors=False)  # type: ignore[arg-type]
        await self._learn_users(page.body)
        markdown, sidecar = self._convert(page, path)
        labels = tuple(sorted(page.labels or ()))
        if (
            doc is None
            or markdown != doc.body
            or doc.meta.page_id != page.id  # a file that lost its id gets it back
            or (doc.has_front_matter and doc.meta.title != page.title)
            or _labels(doc) != labels
        ):
            text = self._render(page.id, page.title, labels, markdown, doc)
            self._write(path, text)
        self._record(page, path, markdown, sidecar, labels=labels, parent_id=parent_id)
        self._clear_conflicts(page_id)
        return page

    # ================================================================== merge, link

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
        await self._learn_users(page.body)
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
            self._record(page, path, remote_md, sidecar, labels=confluence_labels)
            self._add_conflict(page_id, path, "keep-both", copy)
            self._applied("conflict", "both", page_id, page.title, page.version, path)
            self.result.errors.append(
                f"{page.title!r} ({path}): edited on both sides; Confluence's version is in the "
                f"file, yours in {copy}"
            )
            return
        # merge (default): markers in the file, page held until they are resolved.
        self._write(
            path, self._render(page.id, page.title, labels, result.text, doc), expect=file_sha
        )
        self._record(page, path, remote_md, sidecar, labels=confluence_labels)
        self._add_conflict(page_id, path, "markers", f"{result.conflicts} conflict(s)")
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
        if merged != doc.body or _labels(doc) != labels:
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

    def _conflict_copy_path(self, path: str) -> str:
        stamp = time.strftime(CONFLICT_STAMP, time.gmtime())
        base = f"{path[:-3]}.conflict-{stamp}"
        candidate, n = f"{base}.md", 1
        while self._exists(candidate):
            n += 1
            candidate = f"{base}-{n}.md"
        return candidate

    def _save_loser(self, path: str, text: str) -> None:
        """Keep the local text that `on_conflict: remote` overrides in the local trash."""
        if self.s.trash_dir is None:
            return
        dest = Path(self.s.trash_dir) / time.strftime(CONFLICT_STAMP, time.gmtime()) / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8", errors="surrogateescape")

    # ================================================================== create

    async def _do_CreateRemote(self, a: CreateRemote) -> None:
        path = self.cur(a.path) or a.path
        parent = self._remote_parent(a.parent_id, a.parent_path)
        if a.kind != "page":
            parent = None
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
        if path in self._conflicted_paths:  # a refusal recorded before the page existed
            self.db.clear_conflicts(path=path)
            self._conflicted_paths.discard(path)
        self._applied("created_remote", "local->remote", page.id, page.title, page.version, path)

    # ================================================================== moves

    async def _do_MoveRemote(self, a: MoveRemote) -> None:
        record = self.db.get_page(a.page_id)
        kind = record.kind if record else "page"
        page = await self.client.get_page(a.page_id, kind=kind, ancestors=False)  # type: ignore[arg-type]
        title = a.title if a.title is not None else page.title
        parent = self._remote_parent(a.parent_id, a.parent_path) if a.parent_changed else None
        try:
            updated = await self.client.update_page(
                a.page_id,
                title=title,
                body=page.body,
                base_version=page.version,
                parent_id=parent,
                kind=kind,  # type: ignore[arg-type]
            )
        except VersionConflict:
            raise Held(
                f"{a.path}: changed in Confluence while moving it; synced on the next run"
            ) from None
        new_parent = parent if a.parent_changed else page.parent_id
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

    # ================================================================== deletions

    async def _do_TrashRemote(self, a: TrashRemote) -> None:
        record = self.db.get_page(a.page_id)
        kind = record.kind if record else "page"
        try:
            await self.client.trash_page(a.page_id, kind=kind)  # type: ignore[arg-type]
        except NotFound:
            pass  # already gone: the tombstone below is still right
        if record is not None:
            with self.db.transaction():
                self.db.update_page(a.page_id, tombstone=Tombstone("local", time.time(), None))
                self._forget_attachments(a.page_id)
        self._applied("trashed_remote", "local->remote", a.page_id, a.title, None, a.path)

    async def _do_MoveLocalToTrash(self, a: MoveLocalToTrash) -> None:
        path = self._file_of(a.page_id, a.path)
        record = self.db.get_page(a.page_id)
        trash_rel = None
        if path is not None and self.s.trash_dir is not None:
            if self.observer is not None:
                self.observer.expect_delete(path)
            entry = move_to_trash(self.root, path, self.s.trash_dir)
            trash_rel = str(entry.trash_path)
            atts = attachments_dir_of(path)
            if self._exists(atts):
                move_to_trash(self.root, atts, self.s.trash_dir)
            rmdir_inside(self.root, path[:-3])  # its children folder, once emptied
        if record is not None:
            if a.remote_status == "trashed":
                with self.db.transaction():
                    self.db.update_page(
                        a.page_id, tombstone=Tombstone("remote", time.time(), trash_rel)
                    )
                    self._forget_attachments(a.page_id)
            else:
                self.db.delete_page(a.page_id)
        title = record.title if record else a.path
        self._applied("trashed_local", "remote->local", a.page_id, title, None, path or a.path)

    def _forget_attachments(self, page_id: str) -> None:
        """A trashed page's attachment records go: should the page come back, its
        attachments are matched afresh (by bytes), never read as deleted files."""
        for att in self.db.attachments(page_id):
            self.db.delete_attachment(att.attachment_id)

    async def _do_RestoreRemote(self, a: RestoreRemote) -> None:
        record = self.db.get_page(a.page_id)
        kind = record.kind if record else "page"
        page = await self.client.restore_page(a.page_id, kind=kind)  # type: ignore[arg-type]
        if record is not None:
            path = self._file_of(a.page_id, a.path)
            changes: dict[str, Any] = {
                "remote_version": page.version,
                "parent_id": self._parent_of(page),
            }
            if path is not None:
                changes["local_path"] = path
                changes["tombstone"] = None
            self.db.update_page(a.page_id, **changes)
        self._applied("restored", "local->remote", a.page_id, page.title, page.version, a.path)

    async def _do_Forget(self, a: Forget) -> None:
        self.db.delete_page(a.page_id)
        self.index.forget(a.page_id)


def _labels(doc: frontmatter.Document) -> tuple[str, ...]:
    return tuple(sorted(set(doc.meta.labels)))


def _is_content(action: Action) -> bool:
    """A push, merge or pull of a tracked page: the plan's content phase."""
    return isinstance(action, Push | Merge) or (
        isinstance(action, Pull) and action.reason == "changed"
    )


def _content_runs(actions: list[Action]) -> dict[int, int]:
    """Start -> end (exclusive) of each run of two or more consecutive content actions."""
    runs: dict[int, int] = {}
    i = 0
    while i < len(actions):
        j = i
        while j < len(actions) and _is_content(actions[j]):
            j += 1
        if j - i > 1:
            runs[i] = j
        i = max(j, i + 1)
    return runs
