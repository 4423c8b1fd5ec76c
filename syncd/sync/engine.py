"""The one entry point every trigger goes through: `SyncEngine.run_once`.

Startup catch-up, webhook hints, file events, polls and `syncd sync` all build a
`SyncRequest` (or pass None for a full reconcile); the engine snapshots both
sides for what the request names, asks the pure `reconcile` step for a plan
and hands it to the `Executor`. Calls are serialised by a lock.

Cost: a full run lists the space tree (no bodies) and scans the folder
(re-reading only files whose size/mtime changed). A targeted run fetches only
the named pages and reads only the named files; every other page is stood in
for by its record, so nothing is listed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from syncd.config import Config
from syncd.confluence import (
    ConfluenceClient,
    ConnectionSettings,
    collapse_scope_errors,
    stops_every_request,
)
from syncd.confluence.models import Attachment, Page
from syncd.local import frontmatter
from syncd.local.atomic import remove_stale_temp_files, sha256_bytes
from syncd.local.layout import Layout, attachments_dir_of, compute_layout
from syncd.local.layout import PageRecord as LayoutRecord
from syncd.local.scan import Snapshot
from syncd.sync.attachments import AttachmentSync
from syncd.sync.bulk_reads import (
    BulkAttachments,
    BulkBodies,
    ListsAhead,
    ReadAheadClient,
    load_space_attachments,
    worth_bulk,
    worth_bulk_attachments,
)
from syncd.sync.container_apply import ContainerSteps
from syncd.sync.container_run import (
    container_dir_gone,
    hand_over_folder_pages,
    in_unknown_container,
    present_dirs,
)
from syncd.sync.containers import ContainerMap, ContainerPlan, container_map, plan_containers
from syncd.sync.model import Plan, Pull, ReconcileOptions, RemoteEntry
from syncd.sync.open_conflicts import (
    ConflictRow,
    conflict_rows,
    left_open,
    live_page,
    name_of_page,
    open_conflict,
    recorded_conflicts,
    status_conflicts,
    titled_conflicts,
    track_conflict_copies,
)
from syncd.sync.reconcile import reconcile
from syncd.sync.records import AttachmentRecord, ConflictRecord, PageRecord
from syncd.sync.resolver import PageIndex
from syncd.sync.snapshots import (
    BLOG_FOLDER,
    LocalScan,
    RemoteListing,
    confirm_pages,
    list_remote,
    local_entries_for_paths,
    read_text,
    scan_local,
)
from syncd.sync.state import StateDB

if TYPE_CHECKING:
    from syncd.sync.executor import Executor

log = logging.getLogger(__name__)

TRASH_FOLDER = "trash"
ALIASES_KEY = "path_aliases"
#: When the last successful full run started (epoch seconds): the attachment change
#: feed is asked for what changed since then.
ATTACHMENTS_WATERMARK_KEY = "attachments_checked_at"
#: Pages whose attachment deletions the guard withheld: their lists are read again on
#: the next full run (a deletion in Confluence is only seen in a page's list).
ATTACHMENTS_RECHECK_KEY = "attachments_recheck"


def load_run_modules() -> None:
    """Import the executor and the conversion workers' module, converter included (about
    0.1 s of CPU). A run needs them only once its plan is made: `SyncEngine.open` starts
    this in a thread, so the imports overlap the listing, where the process waits on the
    network."""
    from syncd.sync import convert_ahead, executor  # noqa: F401


def _quietly(function: Callable[[], None]) -> Callable[[], None]:
    """`function`, its failure left to whoever needs its result (an import that fails in
    the thread fails again, with its traceback, where the run imports it)."""

    def run() -> None:
        with contextlib.suppress(Exception):
            function()

    return run


def _warm_up_workers() -> None:
    from syncd.sync import convert_ahead

    convert_ahead.warm_up()


class Progress(Protocol):
    def __call__(self, done: int, total: int, message: str) -> None: ...


class WriteObserver(Protocol):
    def expect_write(self, rel: str, sha256: str) -> None: ...
    def expect_delete(self, rel: str) -> None: ...


@dataclass
class SyncRequest:
    """What to look at. Empty (and `full` False) with `run_once(None)` = everything."""

    page_ids: set[str] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)
    full: bool = False

    @property
    def targeted(self) -> bool:
        return not self.full and bool(self.page_ids or self.paths)


@dataclass
class AppliedChange:
    event_type: str
    direction: str
    page_id: str | None
    title: str
    space_key: str
    version: int | None
    path: str


@dataclass
class SyncReport:
    plan: Plan
    applied: list[AppliedChange] = field(default_factory=list)
    #: The paths in conflict: page files held, and each keep-both copy still on disk.
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    blocked_deletions: str | None = None
    #: Listed path -> one line with the page and what to do (see `open_conflicts`).
    conflict_help: dict[str, str] = field(default_factory=dict)
    #: Listed path -> the line `syncd sync` prints: `conflict_help` with the page's title
    #: (`ConflictRow.line`, as `syncd status` shows it); unchanged without a page record.
    conflict_lines: dict[str, str] = field(default_factory=dict)
    in_sync: bool = True
    #: Attachment deletions the mass-deletion guard withheld (one line each).
    blocked_attachments: list[str] = field(default_factory=list)
    #: Local files read (hashed or parsed) to snapshot the folder; unchanged files are not.
    files_read: int = 0
    #: Dry runs: the attachment uploads and deletions a real run would start from the
    #: folder (one line each). Changes made in Confluence are found only by a real run.
    attachment_preview: list[str] = field(default_factory=list)
    #: Dry runs: the folder (container) steps a real run would take (one line each).
    container_preview: list[str] = field(default_factory=list)
    #: Dry runs: the conflicts that stay open, each with its page, its file (and conflict
    #: copy) and what ends it, one line each (pages the plan holds are in its own lines).
    conflict_preview: list[str] = field(default_factory=list)


def trash_dir(config: Config) -> Path:
    return Path(config.state_dir) / TRASH_FOLDER


def connection_settings(config: Config, *, interactive: bool = False) -> ConnectionSettings:
    """Client settings from the config; `interactive` (a one-shot command someone waits
    for) gives up on an unreachable server after a few seconds instead of minutes."""
    c = config.confluence
    settings = ConnectionSettings(
        base_url=c.base_url,
        api_url=c.api_url,
        token=c.token,
        email=c.email,
        deployment=c.deployment,
        max_connections=c.max_connections,
        concurrency=min(8, c.max_connections),
    )
    if interactive:
        settings = replace(settings, max_attempts=3, backoff_base=1.0, backoff_cap=10.0)
    return settings


def open_state(config: Config) -> StateDB:
    """Lock and open the state; the folder is created on a first sync only.

    A missing folder while pages are tracked is an unmounted disk or a moved folder,
    not an empty space: refuse without creating anything.
    """
    root = Path(config.local.path)
    if not root.is_dir():
        with StateDB.open(config.state_dir) as db:
            tracked = db.count_pages()
        if tracked:
            raise FileNotFoundError(
                f"the sync folder {root} is missing although {tracked} pages are tracked "
                "(unmounted or moved?); nothing was done"
            )
    return StateDB.open(config.state_dir, folder=root)  # creates the folder (its lock)


class SyncEngine:
    """Two-way sync of one folder with one space. Open with `await SyncEngine.open(config)`."""

    def __init__(
        self,
        config: Config,
        db: StateDB,
        client: ConfluenceClient,
        *,
        own_client: bool,
        observer: WriteObserver | None,
        progress: Progress | None,
    ) -> None:
        self.config = config
        self.state = db
        self.client = client
        self._own_client = own_client
        self.observer = observer
        self.progress = progress
        self.root = Path(config.local.path)
        self.space_key = config.confluence.space
        self.index = PageIndex(self.space_key, jira_url=config.confluence.jira_url)
        self.layout: Layout = Layout(root_id=None, paths={})
        self.root_id: str | None = config.confluence.root_page
        self._lock = asyncio.Lock()
        self._last_sync_at: float | None = None
        self._pending = 0
        self._recent_errors: deque[str] = deque(maxlen=20)
        self._index_loaded = False
        #: Pages a targeted run read while deciding (with bodies), handed to the executor.
        self._fetched: dict[str, Page] = {}
        #: A first sync's space attachment listing, started beside the page listing and
        #: handed to the run's bulk reads (cancelled if the run does not use it).
        self._early_attachments: asyncio.Task[dict[str, list[Attachment]] | None] | None = None
        #: A first sync's start of the conversion workers' fork server (a thread).
        self._warming: asyncio.Future[None] | None = None

    @classmethod
    async def open(
        cls,
        config: Config,
        *,
        client: ConfluenceClient | None = None,
        observer: WriteObserver | None = None,
        progress: Progress | None = None,
        interactive: bool = False,
    ) -> SyncEngine:
        """Take the state lock, open the client (unless given). Raises StateLocked."""
        if "syncd.sync.executor" not in sys.modules:
            threading.Thread(target=_quietly(load_run_modules), daemon=True).start()
        db = open_state(config)
        own = client is None
        try:
            if client is None:
                client = await ConfluenceClient.open(
                    connection_settings(config, interactive=interactive)
                )
        except BaseException:
            db.close()
            raise
        return cls(config, db, client, own_client=own, observer=observer, progress=progress)

    async def close(self) -> None:
        if self._own_client:
            await self.client.aclose()
        self.state.close()

    async def __aenter__(self) -> SyncEngine:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ status

    def status(self) -> dict[str, Any]:
        return {
            "pages": self.state.count_pages(),
            "containers": self.state.count_containers(),
            "pending": self._pending,
            **status_conflicts(self._conflict_rows()),
            "last_sync_at": self._last_sync_at,
            "errors": list(self._recent_errors),
        }

    # ------------------------------------------------------------------ run

    async def run_once(
        self,
        request: SyncRequest | None = None,
        *,
        dry_run: bool = False,
        allow_delete: bool = False,
    ) -> SyncReport:
        async with self._lock:
            try:
                return await self._run(request, dry_run=dry_run, allow_delete=allow_delete)
            finally:
                self._fetched = {}
                early, self._early_attachments = self._early_attachments, None
                if early is not None:
                    early.cancel()  # started for a bulk listing the run did not use
                if self._warming is not None:
                    with contextlib.suppress(Exception):
                        await self._warming  # a thread: finishes, whatever the run did
                    self._warming = None

    async def _run(
        self, request: SyncRequest | None, *, dry_run: bool, allow_delete: bool
    ) -> SyncReport:
        sync = self.config.sync
        run_started = time.time()
        records = self.state.page_summaries()
        containers = ContainerPlan()
        container_steps: ContainerSteps | None = None
        cmap = container_map(self.state.containers())
        if not dry_run:
            await asyncio.to_thread(remove_stale_temp_files, self.root)
        lists_ahead = None
        found_copies: tuple[str, ...] | None = None  # conflict copies seen by a full scan
        targeted = request is not None and request.targeted
        if (
            targeted
            and request is not None
            and container_dir_gone(self.root, self.state.containers(), request.paths)
        ):
            # A folder's directory renamed, moved or removed: only a full run compares
            # the directories with the folders (and sees where the pages went).
            log.info("a folder's directory changed locally: running a full sync")
            request, targeted = None, False
        if targeted:
            assert request is not None
            if request.page_ids and sync.attachments and not dry_run:
                lists_ahead = ListsAhead(
                    self.client,
                    {
                        pid: records[pid].kind if pid in records else "page"
                        for pid in request.page_ids
                    },
                )
            try:
                local, remotes, dirty = await self._targeted_inputs(request, records, cmap)
            except BaseException:
                if lists_ahead is not None:
                    lists_ahead.close()
                raise
            if in_unknown_container(remotes, cmap):
                # A page in a folder (whiteboard, ...) not recorded yet: only a full run
                # reads containers and puts the page in its directory.
                log.info("a page is in a container not synced yet: running a full sync")
                records, request, targeted = self.state.page_summaries(), None, False
                if lists_ahead is not None:
                    lists_ahead.close()
                    lists_ahead = None
        if not targeted:
            if not dry_run and not records:
                # A first sync pulls every page: the conversion workers' fork server
                # starts now, in a thread, beside the listing.
                self._warming = asyncio.ensure_future(asyncio.to_thread(_warm_up_workers))
            if not dry_run and sync.attachments and not records:
                # A first sync lists the space's attachments in bulk (see `_read_ahead`):
                # that listing starts now, beside the page listing, not after the plan.
                self._early_attachments = asyncio.ensure_future(
                    load_space_attachments(self.client, self.space_key)
                )
            listing = await list_remote(
                self.client,
                self.space_key,
                root_page=self.config.confluence.root_page,
                blog_posts=sync.blog_posts,
                records=records,
                container_records=self.state.containers(),
            )
            self.root_id = listing.root_id
            self._set_layout(listing, records)
            if not dry_run:
                await self._finish_pending_creates(listing, records)
            local = await self._scan_all(records)
            remotes, dirty = listing.remotes, None
            containers = self._plan_containers(listing, records, local)
            if containers.actions and not dry_run:
                steps = self._container_steps()
                await steps.apply(containers.before_pages)
                container_steps = steps
                if steps.moved:  # directories moved: the records and the scan moved with them
                    records = self.state.page_summaries()
                    local = await self._scan_all(records)
            cmap = containers.map
            if not dry_run:
                # The records after the steps; the plan's directories too, so a step that
                # failed (a rename refused by Confluence) still names its directory, and
                # its pages are not read as moved into a new folder.
                recorded = container_map(self.state.containers())
                cmap = replace(
                    recorded,
                    dirs={**containers.map.dirs, **recorded.dirs},
                    status=containers.map.status,
                )
            found_copies = local.snapshot.conflicts
        options = ReconcileOptions(
            root_page_id=self.root_id,
            max_delete=sync.max_delete,
            allow_delete=allow_delete,
            new_directories=self._new_directories(),
        )
        plan = reconcile(
            records, local.entries, remotes, dirty=dirty, options=options, containers=cmap
        )
        if containers.notes:
            plan = replace(plan, notes=plan.notes + containers.notes)
        reads: Any = lists_ahead or self.client
        attachment_sync = None if dry_run else self._attachment_sync(reads)
        read_ahead = (
            self._read_ahead(plan, remotes, attachment_sync)
            if not dry_run and dirty is None
            else None
        )
        if read_ahead is not None:
            reads = read_ahead
        # The snapshots are spent: let the executor reuse their memory (only the attachment
        # files of the scan are needed later).
        del records, remotes
        listing = None
        local.entries = []
        local.snapshot = Snapshot(attachments=local.snapshot.attachments)
        errors = list(local.errors)
        errors += [
            f"{path}: {message}; the file is held until its front matter is fixed"
            for path, message in sorted(local.broken.items())
        ]
        blocked = plan.blocked_deletions.describe() if plan.blocked_deletions else None
        if plan.blocked_deletions is not None:
            blocked = plan.blocked_deletions.reason
        if dry_run:
            preview = self._attachment_preview(local) if sync.attachments else []
            conflict_help = {h.path: f"{h.path}: {h.reason}" for h in plan.held}
            waiting = self._conflicts_left_open(plan, found_copies)
            lines = dict(conflict_help)
            conflict_help.update((path, row.todo) for path, (row, _) in waiting.items())
            lines.update((path, row.line()) for path, (row, _) in waiting.items())
            return SyncReport(
                plan=plan,
                conflicts=sorted(conflict_help),
                conflict_help=dict(sorted(conflict_help.items())),
                conflict_lines=dict(sorted(lines.items())),
                errors=errors,
                blocked_deletions=blocked,
                in_sync=plan.in_sync
                and not errors
                and not preview
                and not containers.actions
                and not waiting,
                files_read=local.files_read,
                attachment_preview=preview,
                container_preview=[a.describe() for a in containers.actions],
                conflict_preview=[
                    f"open conflict ({page}): {row.todo}"
                    for path, (row, page) in waiting.items()
                    if path not in {h.path for h in plan.held}
                ],
            )
        if containers.after_pages:
            container_steps = container_steps or self._container_steps()
            plan = hand_over_folder_pages(
                self.state.page_summaries(), containers, plan, container_steps
            )
        from syncd.sync import convert_ahead
        from syncd.sync.executor import Executor, ExecutorSettings

        workers = convert_ahead.pool_workers(sum(1 for a in plan.actions if isinstance(a, Pull)))
        conversions = convert_ahead.ConversionPool(self.index, workers) if workers else None
        if conversions is not None:
            if self._warming is not None:
                with contextlib.suppress(Exception):  # start() says what is wrong, if anything
                    await asyncio.shield(self._warming)
            conversions.start()
        executor = Executor(
            self.root,
            self.state,
            cast(ConfluenceClient, reads),
            self.index,
            ExecutorSettings(
                space_key=self.space_key,
                root_id=self.root_id,
                on_conflict=sync.on_conflict,
                trash_dir=trash_dir(self.config),
                blog_posts=sync.blog_posts,
                # Pages pushed, merged or pulled at once: each waits on a few round trips,
                # so more of them keep a slow link busy; the request budget still caps
                # what is on the wire.
                concurrency=max(1, min(16, self.config.confluence.max_connections // 2)),
            ),
            observer=self.observer,
            layout_paths=dict(self.layout.paths),
            progress=self.progress,
            attachments=attachment_sync,
            fetched=self._fetched,
            conversions=conversions,
        )
        self._pending = len(plan.actions)
        blocked_attachments: list[str] = []
        try:
            result = await executor.apply(plan)
            if executor.attachments is not None:
                full = not (request is not None and request.targeted)
                feed_ok = await self._sync_attachments(executor, request, local)
                reason, blocked_attachments = await self._attachment_deletions(
                    executor, plan, allow_delete=allow_delete
                )
                if reason is not None:
                    blocked = f"{blocked}; {reason}" if blocked else reason
                if full and feed_ok and executor.attachments.failures == 0:
                    self.state.set_meta(ATTACHMENTS_WATERMARK_KEY, repr(run_started))
            container_steps = await self._container_deletions(
                containers, plan, container_steps, allow_delete=allow_delete
            )
        finally:
            self._pending = 0
            if conversions is not None:
                conversions.close()
                log.debug(
                    "conversions ahead: %d used, %d redone", conversions.used, conversions.redone
                )
            if read_ahead is not None:
                read_ahead.close()
                log.debug(
                    "bulk reads: %d requests served %d pages",
                    read_ahead.bodies.batches_read,
                    read_ahead.bodies.pages_served,
                )
            if lists_ahead is not None:
                lists_ahead.close()
            if attachment_sync is not None:
                await attachment_sync.discard_prefetched()
        errors = collapse_scope_errors(errors + result.errors)
        track_conflict_copies(self.state, self.root, found_copies)
        self._save_aliases()
        applied = [
            AppliedChange(
                a.event_type, a.direction, a.page_id, a.title, self.space_key, a.version, a.path
            )
            for a in result.applied
        ]
        if container_steps is not None:
            errors += container_steps.errors
            applied = [
                AppliedChange(
                    c.event_type, c.direction, c.container_id, c.title, self.space_key, None, c.path
                )
                for c in container_steps.applied
            ] + applied
        conflict_help = {h.path: f"{h.path}: {h.reason}" for h in plan.held}
        conflict_help.update((path, path) for path in result.held if path not in conflict_help)
        # what the state says is more precise
        rows = self._conflict_rows()
        conflict_help.update((row.listed, row.todo) for row in rows)
        lines = {**conflict_help, **{row.listed: row.line() for row in rows}}
        conflicts = sorted(conflict_help)
        for line in errors:
            self._recent_errors.append(line)
        self._last_sync_at = time.time()
        return SyncReport(
            plan=plan,
            applied=applied,
            conflicts=conflicts,
            conflict_help={path: conflict_help[path] for path in conflicts},
            conflict_lines={path: lines[path] for path in conflicts},
            errors=errors,
            blocked_deletions=blocked,
            in_sync=not conflicts and not errors and blocked is None,
            blocked_attachments=blocked_attachments,
            files_read=local.files_read,
        )

    # ------------------------------------------------------------------ containers

    def _new_directories(self) -> str:
        """`sync.new_directories` resolved: folders need Cloud (Data Center has none)."""
        wanted = self.config.sync.new_directories
        if not self.client.supports_containers:
            return "page"
        return "folder" if wanted == "auto" else wanted

    async def _scan_all(self, records: dict[str, PageRecord]) -> LocalScan:
        """The whole folder scanned (off the event loop) against the records."""
        sync = self.config.sync
        return await asyncio.to_thread(
            scan_local,
            self.root,
            self.state,
            blog_posts=sync.blog_posts,
            records=records,
            attachments=sync.attachments,
        )

    def _plan_containers(
        self, listing: RemoteListing, records: dict[str, PageRecord], local: Any
    ) -> ContainerPlan:
        crecords = self.state.containers()
        if not listing.containers and not crecords:
            return ContainerPlan()
        present = present_dirs(self.root, local.entries, crecords)
        return plan_containers(
            crecords,
            listing.containers,
            wanted_dirs=self.layout.containers,
            present_dirs=present,
            pages=records,
            local_entries=local.entries,
            root_page_id=self.root_id,
        )

    def _container_steps(self) -> ContainerSteps:
        return ContainerSteps(
            self.root,
            self.state,
            self.client,
            self.space_key,
            self.root_id,
            trash_dir(self.config),
        )

    async def _container_deletions(
        self,
        containers: ContainerPlan,
        plan: Plan,
        steps: ContainerSteps | None,
        *,
        allow_delete: bool,
    ) -> ContainerSteps | None:
        """The container deletions, after the pages: withheld with the page deletions."""
        after = containers.after_pages
        if not after:
            return steps
        steps = steps or self._container_steps()
        if plan.blocked_deletions is not None and not allow_delete:
            steps.errors += [f"withheld with the page deletions: {a.describe()}" for a in after]
            return steps
        await steps.apply(after)
        return steps

    # ------------------------------------------------------------------ inputs

    def _set_layout(self, listing: RemoteListing, records: dict[str, PageRecord]) -> None:
        reserved = (BLOG_FOLDER, BLOG_FOLDER + ".md") if self.config.sync.blog_posts else ()
        self.layout = compute_layout(listing.tree, listing.root_id, reserved_root_names=reserved)
        index = PageIndex(self.space_key, jira_url=self.config.confluence.jira_url)
        live = {pid: r for pid, r in records.items() if r.tombstone is None}
        for pid, entry in listing.remotes.items():
            record = live.get(pid)
            path = record.local_path if record else self.layout.path_of(pid)
            index.set_page(pid, entry.title, path)
        for pid, record in live.items():
            if pid not in listing.remotes:
                index.set_page(pid, record.title, record.local_path)
        self._load_aliases(index)
        self.index = index
        self._index_loaded = True

    def _load_index_from_records(self, records: dict[str, PageRecord]) -> None:
        if self._index_loaded:
            return
        self._load_aliases(self.index)
        for record in records.values():
            if record.tombstone is None:
                self.index.set_page(record.page_id, record.title, record.local_path)
        tree = [
            LayoutRecord(r.page_id, r.title, r.parent_id)
            for r in records.values()
            if r.kind == "page" and r.tombstone is None
        ]
        self.layout = compute_layout(tree, self.root_id)
        self._index_loaded = True

    async def _targeted_inputs(
        self, request: SyncRequest, records: dict[str, PageRecord], cmap: ContainerMap
    ) -> tuple[Any, dict[str, RemoteEntry], set[str]]:
        if self.root_id is None:
            space = await self.client.get_space(self.space_key)
            self.root_id = space.homepage_id
        self._load_index_from_records(records)
        by_path = {r.local_path: r for r in records.values()}
        ids = set(request.page_ids)
        for path in request.paths:
            if path in by_path:
                ids.add(by_path[path].page_id)
        # Stand-ins: every other page as it was when last synced.
        remotes: dict[str, RemoteEntry] = {}
        for r in records.values():
            status = "trashed" if r.tombstone is not None else "current"
            parent = None if r.parent_id == self.root_id else r.parent_id
            remotes[r.page_id] = RemoteEntry(
                r.page_id,
                r.title,
                parent,
                r.remote_version,
                status,
                r.kind,  # type: ignore[arg-type]
            )
        fetched: set[str] = set()
        wanted = set(ids)
        # Below root_page as last synced: a page under one of these needs no ancestors.
        inside = {r.page_id for r in records.values() if r.tombstone is None} | set(
            cmap.dirs.values()
        )
        for _ in range(32):  # parents unknown locally are fetched too (bounded depth)
            todo = wanted - fetched
            if not todo:
                break
            found = await confirm_pages(
                self.client,
                sorted(todo),
                records,
                self.root_id,
                blog_posts=self.config.sync.blog_posts,
                fetched=self._fetched,
                within=self.config.confluence.root_page,
                inside=inside,
            )
            fetched |= todo
            for pid in todo:
                remotes.pop(pid, None)
            remotes.update(found)
            for entry in found.values():
                self.index.set_page(entry.page_id, entry.title, None)
                parent = entry.parent_id
                if (
                    entry.status != "outside"  # its parents are not synced either
                    and parent
                    and parent != self.root_id
                    and parent not in records
                    and parent not in cmap.status
                ):
                    wanted.add(parent)  # a page not synced yet (a container is not a page)
        ids |= fetched
        paths = set(request.paths) | {
            records[i].local_path for i in ids if i in records and records[i].tombstone is None
        }
        local = await asyncio.to_thread(
            local_entries_for_paths,
            self.root,
            paths,
            records,
            blog_posts=self.config.sync.blog_posts,
        )
        return local, remotes, ids | set(request.paths)

    async def _finish_pending_creates(
        self, listing: RemoteListing, records: dict[str, PageRecord]
    ) -> None:
        """A crash between creating a page and writing its id into the file: write it now.

        The intent journal names the file and title; a page with that title that no
        record knows is the one created (titles are unique per space). The next
        reconcile then links file and page (compare, record) instead of creating again.
        """
        for intent in self.state.pending_creates():
            match = [
                e
                for e in listing.remotes.values()
                if e.title == intent.title and e.kind == intent.kind and e.page_id not in records
            ]
            path = intent.local_path
            if match and (self.root / path).is_file():
                text = read_text(self.root, path)
                try:
                    doc = frontmatter.parse(text)
                except frontmatter.FrontMatterError:
                    doc = None
                if doc is not None and not doc.meta.page_id:
                    meta = frontmatter.FrontMatter(
                        page_id=match[0].page_id,
                        title=doc.meta.title or intent.title,
                        labels=doc.meta.labels,
                        extra=doc.meta.extra,
                    )
                    new_text = frontmatter.render(meta, doc.body)
                    from syncd.local.atomic import atomic_write

                    data = new_text.encode("utf-8", errors="surrogateescape")
                    if self.observer is not None:
                        self.observer.expect_write(path, sha256_bytes(data))
                    atomic_write(self.root, path, data)
            self.state.resolve_pending_create(intent.client_key)

    def _read_ahead(
        self,
        plan: Plan,
        remotes: Mapping[str, RemoteEntry],
        attachment_sync: AttachmentSync | None,
    ) -> ReadAheadClient | None:
        """Bulk reads for a full run that pulls many pages (see `bulk_reads`): None when
        per-page reads are as cheap (a handful of pulls, or none: a run with nothing to
        pull stays listing-only)."""
        # A page another action of the plan changes (a rename, a restore, a move) is read
        # when its turn comes, never ahead: a bulk copy would predate that change.
        touched = {getattr(a, "page_id", None) for a in plan.actions if not isinstance(a, Pull)}
        pulls = [a for a in plan.actions if isinstance(a, Pull) and a.page_id not in touched]
        if not worth_bulk(len(pulls)):
            return None
        versions = {a.page_id: a.remote_version for a in pulls}
        labels = {pid: remotes[pid].labels for pid in versions if pid in remotes}
        bodies = BulkBodies(self.client, [(a.page_id, a.kind) for a in pulls], labels=labels)
        attachments = None
        if attachment_sync is not None:
            recorded: dict[str, set[str]] = {}
            for att in self.state.attachments():
                recorded.setdefault(att.page_id, set()).add(att.attachment_id)
            known = sum(len(ids) for ids in recorded.values())
            if worth_bulk_attachments(len(pulls), known):
                wanted = {pid: recorded.get(pid, set()) for pid in versions}
                early, self._early_attachments = self._early_attachments, None
                attachments = BulkAttachments(self.client, self.space_key, wanted, started=early)
        return ReadAheadClient(
            self.client,
            bodies,
            versions,
            attachments,
            on_listed=attachment_sync.prefetch if attachment_sync is not None else None,
        )

    def _attachment_sync(self, client: Any = None) -> AttachmentSync | None:
        if not self.config.sync.attachments:
            return None
        staging = Path(self.config.state_dir) / "staging"
        return AttachmentSync(
            self.root,
            self.state,
            client or self.client,
            staging,
            self.observer,
            trash_dir=trash_dir(self.config),
        )

    def _attachment_preview(self, local: Any) -> list[str]:
        """What a real run would do with attachment files, judged from the scan alone.

        The comparison a full `_sync_attachments` starts from (`scanned_attachment_work`):
        a file new or changed against its record is uploaded; a recorded file gone from
        the folder of a page still there is trashed in Confluence, unless Confluence has
        a newer version.
        """
        summaries = self.state.page_summaries()
        pages = {
            attachments_dir_of(r.local_path): r for r in summaries.values() if r.tombstone is None
        }
        files, missing = scanned_attachment_work(
            local.snapshot.attachments, pages, self._attachments_by_page()
        )
        lines: list[str] = []
        for folder, found in sorted(files.items()):
            record = pages[folder]
            known = {a.file_name: a.hash for a in self.state.attachments(record.page_id)}
            for rel, sha in sorted(found.items()):
                name = rel[len(folder) + 1 :]
                if "/" in name or known.get(name) == sha:
                    continue
                if name not in known:
                    lines.append(f"upload {rel} (new attachment of page {record.page_id})")
                else:
                    lines.append(f"upload {rel} (changed: new version of page {record.page_id}'s)")
        for pid, rels in sorted(missing.items()):
            if not (self.root / summaries[pid].local_path).is_file():
                continue  # the page itself is gone: the page rules decide
            lines += [
                f"trash attachment {rel} in Confluence (deleted locally; page {pid}, unless "
                "Confluence has a newer version)"
                for rel in sorted(rels)
            ]
        return lines

    def _attachments_by_page(self) -> dict[str, list[AttachmentRecord]]:
        by_page: dict[str, list[AttachmentRecord]] = {}
        for att in self.state.attachments():
            by_page.setdefault(att.page_id, []).append(att)
        return by_page

    async def _sync_attachments(
        self, executor: Executor, request: SyncRequest | None, local: Any
    ) -> bool:
        """Attachment changes that no page action carried.

        Full run: pages whose attachments changed in Confluence since the last full
        run (the attachment change feed; an upload leaves the page version alone) have
        their attachments pulled; files in a page's attachments folder that are new or
        whose hash differs from the record are uploaded, and recorded files gone from
        their folder are deletions (local only unless something changed).
        Targeted run: hinted pages not pulled this run have their attachments checked
        (an attachment event does not change the page version), and attachment files
        named by file events are uploaded, or their deletion carried over.
        Returns False when the change feed could not be read (the watermark stays).
        """
        sync = executor.attachments
        assert sync is not None
        summaries = self.state.page_summaries()
        pages = {
            attachments_dir_of(r.local_path): r
            for r in summaries.values()
            if r.tombstone is None and r.page_id not in executor.held_ids
        }
        files: dict[str, dict[str, str]] = {}
        feed_ok = True
        by_page = self._attachments_by_page()
        missing: dict[str, set[str]] = {}  # page id -> recorded files not found locally
        if request is not None and request.targeted:
            for pid in sorted(request.page_ids - executor.pulled):
                record = self.state.get_page(pid)
                if record is not None and record.tombstone is None:
                    await self._guarded(executor, sync.pull(pid, record.local_path, record.kind))
            for path in request.paths:
                folder = path.rsplit("/", 1)[0] if "/" in path else ""
                if folder in pages:
                    files.setdefault(folder, {})
                    record = pages[folder]
                    if any(
                        path == f"{folder}/{a.file_name}" for a in by_page.get(record.page_id, ())
                    ):
                        missing.setdefault(record.page_id, set()).add(path)
        else:
            feed_ok = await self._pull_changed_attachments(executor, summaries, by_page)
            files, missing = scanned_attachment_work(local.snapshot.attachments, pages, by_page)
        for pid, rels in sorted(missing.items()):
            record = summaries[pid]
            if not (self.root / record.local_path).is_file():
                continue  # the page itself is gone: the page rules decide
            folder = attachments_dir_of(record.local_path)
            gone = [a for a in by_page[pid] if f"{folder}/{a.file_name}" in rels]
            await self._guarded(
                executor, sync.check_local_deletions(pid, record.local_path, record.kind, gone)
            )
        for folder, found in sorted(files.items()):
            record = pages[folder]
            known = {a.file_name: a.hash for a in self.state.attachments(record.page_id)}
            if found and all(known.get(rel.rsplit("/", 1)[1]) == sha for rel, sha in found.items()):
                continue
            await self._guarded(
                executor,
                sync.push(record.page_id, record.local_path, record.kind, files=found or None),
            )

        return feed_ok

    async def _pull_changed_attachments(
        self,
        executor: Executor,
        summaries: dict[str, PageRecord],
        by_page: Mapping[str, list[AttachmentRecord]],
    ) -> bool:
        """Full run: read the attachment lists of pages whose attachments changed in
        Confluence since the last successful full run (and of pages whose attachment
        deletions the guard withheld). No watermark yet (a first sync): nothing extra,
        every page was pulled. False when the change feed failed."""
        from syncd.confluence import ConfluenceError

        sync = executor.attachments
        assert sync is not None
        wanted: set[str] = set()
        raw = self.state.get_meta(ATTACHMENTS_RECHECK_KEY)
        if raw:
            with contextlib.suppress(ValueError, TypeError):
                wanted |= {str(p) for p in json.loads(raw)}
        since = self.state.get_meta(ATTACHMENTS_WATERMARK_KEY)
        ok = True
        if since is not None:
            import datetime as dt

            try:
                changes = await self.client.attachment_changes_since(
                    self.space_key, dt.datetime.fromtimestamp(float(since), dt.UTC)
                )
            except (ConfluenceError, ValueError) as exc:
                if stops_every_request(exc):
                    raise
                executor.result.errors.append(
                    f"attachments: the change feed could not be read ({exc}); retried on the "
                    "next run"
                )
                changes, ok = [], False
            # The window overlaps: versions already recorded are not news.
            have = {a.attachment_id: a.version for atts in by_page.values() for a in atts}
            wanted |= {c.page_id for c in changes if have.get(c.id, 0) < c.version}
        for pid in sorted(wanted - executor.pulled):
            record = summaries.get(pid)
            if record is None or record.tombstone is not None:
                continue
            before = len(executor.result.errors)
            await self._guarded(executor, sync.pull(pid, record.local_path, record.kind))
            ok = ok and len(executor.result.errors) == before
        if raw:
            self.state.set_meta(ATTACHMENTS_RECHECK_KEY, None)
        return ok

    async def _attachment_deletions(
        self, executor: Executor, plan: Plan, *, allow_delete: bool
    ) -> tuple[str | None, list[str]]:
        """Apply the attachment deletions found this run, unless the guard withholds them.

        The guard is the page guard's rule on its own count: more than `max_delete`
        attachment deletions on either side, or any while page deletions are blocked
        (a run that is stopped does nothing destructive), wait for `--allow-delete`.
        Returns the reason (None: nothing withheld) and the withheld deletions.
        """
        from syncd.sync.executor import Applied

        sync = executor.attachments
        assert sync is not None
        pending = list(sync.deletions.values())
        sync.deletions.clear()
        if not pending:
            return None, []
        limit = self.config.sync.max_delete
        reasons: list[str] = []
        if not allow_delete:
            remote = sum(1 for d in pending if d.side == "remote")
            local = len(pending) - remote
            if remote > limit:
                reasons.append(
                    f"{remote} attachments would be moved to the Confluence trash "
                    f"(more than max_delete={limit})"
                )
            if local > limit:
                reasons.append(
                    f"{local} attachment files would be moved to the local trash "
                    f"(more than max_delete={limit})"
                )
            if not reasons and plan.blocked_deletions is not None:
                reasons.append(f"{len(pending)} attachment deletion(s) wait with the pages")
        if reasons:
            recheck = sorted({d.record.page_id for d in pending if d.side == "local"})
            if recheck:
                self.state.set_meta(ATTACHMENTS_RECHECK_KEY, json.dumps(recheck))
            reason = "; ".join(reasons) + " (run with --allow-delete to confirm)"
            log.warning("attachment deletions withheld: %s", reason)
            return reason, [d.describe() for d in pending]
        for d in await sync.apply_deletions(pending):
            record = self.state.get_page(d.record.page_id)
            title = record.title if record is not None else d.page_path
            event, direction = (
                ("attachment_trashed_local", "remote->local")
                if d.side == "local"
                else ("attachment_trashed_remote", "local->remote")
            )
            executor.result.applied.append(
                Applied(event, direction, d.record.page_id, title, None, d.rel)
            )
        return None, []

    async def _guarded(self, executor: Executor, coro: Any) -> None:
        from syncd.confluence import ConfluenceError

        try:
            await coro
        except (ConfluenceError, OSError) as exc:
            if stops_every_request(exc):
                raise
            executor.result.errors.append(f"attachments: {exc}")
            if executor.attachments is not None:
                executor.attachments.failures += 1

    def _load_aliases(self, index: PageIndex) -> None:
        raw = self.state.get_meta(ALIASES_KEY)
        if raw:
            with contextlib.suppress(ValueError, TypeError):
                index.add_aliases({str(k): str(v) for k, v in json.loads(raw).items()})

    def _save_aliases(self) -> None:
        """Old paths of moved pages, so links the user has not touched still resolve."""
        aliases = self.index.aliases()
        known = {pid for pid, r in self.state.page_summaries().items() if r.tombstone is None}
        aliases = {k: v for k, v in aliases.items() if v in known}
        text = json.dumps(dict(sorted(aliases.items())), ensure_ascii=False)
        if text != (self.state.get_meta(ALIASES_KEY) or "{}"):
            self.state.set_meta(ALIASES_KEY, text)

    def _conflicts_left_open(
        self, plan: Plan, found: tuple[str, ...] | None
    ) -> dict[str, tuple[ConflictRow, str]]:
        """A dry run's view of the open conflicts (nothing recorded, nothing ended):
        listed path -> (its row, the page named), sorted by path."""
        synced_ids = {getattr(a, "page_id", None) for a in plan.actions} - {None}
        synced_paths = {getattr(a, "path", None) for a in plan.actions} - {None}

        def synced(record: ConflictRecord) -> bool:
            if record.page_id is not None:
                return record.page_id in synced_ids
            return record.path in synced_paths

        out: dict[str, tuple[ConflictRow, str]] = {}
        records = recorded_conflicts(self.state)
        for record in left_open(records, found, lambda rel: (self.root / rel).exists(), synced):
            if open_conflict(record).listed in out:
                continue
            # its page as a real run records it (a copy found without a record: by path)
            page = live_page(self.state, record)
            titled = (replace(record, page_id=page.page_id), page.title) if page else (record, None)
            row = conflict_rows([titled])[0]
            out[row.listed] = (row, name_of_page(record, page))
        return dict(sorted(out.items()))

    def _conflict_rows(self) -> list[ConflictRow]:
        """The recorded conflicts with their pages (copies still on disk only)."""
        return conflict_rows(titled_conflicts(self.state), lambda rel: (self.root / rel).exists())


ProgressFn = Callable[[int, int, str], None]


def scanned_attachment_work(
    scanned: Mapping[str, Any],
    pages: Mapping[str, PageRecord],
    by_page: Mapping[str, list[AttachmentRecord]],
) -> tuple[dict[str, dict[str, str]], dict[str, set[str]]]:
    """What a full scan of attachment files says, against the records.

    `scanned`: the scan's attachment files (path -> entry with `sha256`); `pages`: the
    tracked pages by their attachments folder. Returns the files found in each page's
    folder (folder -> path -> sha256) and, per page id, the recorded files its folder
    no longer has.
    """
    files: dict[str, dict[str, str]] = {}
    for rel, entry in scanned.items():
        folder = rel.rsplit("/", 1)[0]
        if folder in pages:
            files.setdefault(folder, {})[rel] = entry.sha256
    missing: dict[str, set[str]] = {}
    for folder, record in pages.items():
        for att in by_page.get(record.page_id, ()):
            rel = f"{folder}/{att.file_name}"
            if rel not in scanned:
                missing.setdefault(record.page_id, set()).add(rel)
    return files, missing
