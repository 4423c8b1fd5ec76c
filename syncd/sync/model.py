"""Snapshot and action types shared by the reconcile step and the executor.

Everything here is a small frozen dataclass with no I/O, so the reconcile step
(`syncd.sync.reconcile`) stays a pure function that tests can drive with literals.

Vocabulary
----------
* A **snapshot** is what one side looks like now: `LocalEntry` per Markdown file,
  `RemoteEntry` per page in the remote listing.
* A **record** (`syncd.sync.state.PageRecord`) is what both sides looked like when
  they were last in sync: the merge base.
* An **action** is one step the executor performs. Actions are *intents*: paths and
  versions in them are the planning-time values used for descriptions and logs.

Executor contract (tests/sync/simulator.py is a reference implementation that
the convergence property test runs against the planner)
---------------------------------------------------------------------------
1. Apply `Plan.actions` in order; the content actions between the structure
   and deletion phases (Push, Merge, Pull of a tracked page) may run
   concurrently for different pages, in order for one page. Each applied action
   commits its record(s) in one `StateDB.transaction()` *after* its effect (see
   `syncd.sync.state`).
   Recording a page (any action but the deletions) clears its tombstone.
2. Current values come from the state, not the action: the base version and
   base Markdown of a page are the record's at execution time (an earlier
   `RestoreRemote` or `MoveRemote` of the same plan may have changed them).
3. Paths are planning-time paths. `MoveLocal` is the only action that moves
   files; the executor keeps the list of moves it made in this run (file
   `A.md -> B.md` and folder `A/ -> B/`, descendants' records updated) and
   rewrites every later path (`path`, `from_path`, `parent_path`) through it.
   A page with an id is best found by id (record, or the file whose front
   matter has it).
4. Parents: `parent_id` None means the space root page; `parent_path` set
   means "the page recorded at that (rewritten) path", created earlier in the
   plan (`StateDB.find_page_by_path`).
5. A 409 on an update (Push, MoveRemote) means the remote moved on: re-fetch
   and handle it as `Merge`, never overwrite.
6. After every remote write, record what Confluence stored (storage, sidecar,
   converted Markdown as base) so the next run sees no change and nothing
   loops: the write's answer when it carries the stored body, else a re-read.
7. Conflicts (`Merge`/`Link` not clean), by `sync.on_conflict`:
   `merge`: write the merged text with markers, record the remote version and
   Markdown as base, add a "markers" conflict; the page is held (reconcile
   sees local edits with markers) until the user removes them, then pushed.
   `keep-both`: write the remote Markdown to the file, the local text beside
   it as `<stem>.conflict-<YYYYMMDD-HHMMSS>.md` (the scanner must skip
   `*.conflict-*.md`), record as synced, add a "keep-both" conflict.
   `local` / `remote`: push the local text / write the remote one; the loser
   stays in Confluence's history / the local trash.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar, Literal

PageKind = Literal["page", "blogpost"]
RemoteStatus = Literal["current", "trashed", "absent", "outside"]


def body_hash(markdown: str) -> str:
    """Hash of a Markdown body (the file without its front matter).

    Line endings are normalised first, so an editor switching CRLF/LF is not an
    edit. The local scanner and the executor must both use this function.
    """
    text = markdown.replace("\r\n", "\n").replace("\r", "\n")
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_parent_path(path: str) -> str | None:
    """The page file that owns the folder `path` lives in (`A/B/C.md` -> `A/B.md`).

    This is the folder layout of issue 5: a page is `<Title>.md` and its children
    live in the folder `<Title>/` beside it. Top-level files return None (their
    parent is the space's root page).
    """
    parent = PurePosixPath(path).parent
    if str(parent) in ("", "."):
        return None
    return f"{parent.as_posix()}.md"


# --------------------------------------------------------------------------- snapshots

#: Default of `LocalEntry.parent_path`: derive it with `default_parent_path`.
AUTO_PARENT = "\x00auto"


@dataclass(frozen=True)
class LocalEntry:
    """One Markdown file in the sync folder, as the local scanner sees it now.

    `page_id` and `title` come from the front matter (`title` falls back to the
    file stem when the front matter has none). `parent_path` is the page file that
    owns the folder this file is in, per the folder layout; leave it unset to use
    `default_parent_path`. `labels` None means "not managed by the front matter".
    """

    path: str
    page_id: str | None
    title: str
    body_hash: str
    kind: PageKind = "page"
    labels: tuple[str, ...] | None = None
    has_conflict_markers: bool = False
    parent_path: str | None = AUTO_PARENT

    def __post_init__(self) -> None:
        if self.parent_path == AUTO_PARENT:
            auto = default_parent_path(self.path) if self.kind == "page" else None
            object.__setattr__(self, "parent_path", auto)
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(sorted(set(self.labels))))


@dataclass(frozen=True)
class RemoteEntry:
    """One page in the remote listing.

    `status` is `current`, `trashed` (in Confluence's trash, restorable),
    `absent` (purged or never visible) or `outside` (current, but moved out of the
    configured `root_page` subtree: no longer synced). A page missing from the remote mapping
    passed to `reconcile` is treated as `absent`. `labels` None means this
    snapshot did not load the page's labels (unknown, never "no labels"):
    adding or removing a label in Confluence does not bump the version, so a
    known label set that differs from the record is a remote edit.
    """

    page_id: str
    title: str
    parent_id: str | None
    version: int
    status: RemoteStatus = "current"
    kind: PageKind = "page"
    labels: tuple[str, ...] | None = None
    #: Confluence's `parentType` when it said (Cloud): a parent that is a folder,
    #: whiteboard, database or embed is not a page of the listing.
    parent_type: str | None = None

    @property
    def in_container(self) -> bool:
        return self.parent_type not in (None, "page")

    def __post_init__(self) -> None:
        if self.labels is not None:
            object.__setattr__(self, "labels", tuple(sorted(set(self.labels))))


# --------------------------------------------------------------------------- actions


@dataclass(frozen=True)
class Action:
    """Base of every planned step. `verb` is the dry-run label."""

    verb: ClassVar[str] = "?"
    destructive: ClassVar[bool] = False
    #: Which side the action changes: "local", "remote", "both" or "state".
    side: ClassVar[str] = "state"

    def describe(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError


def _page(page_id: str | None) -> str:
    return f"page {page_id}" if page_id else "new page"


def _parent(parent_id: str | None, parent_path: str | None) -> str:
    if parent_id:
        return f"page {parent_id}"
    if parent_path:
        return f"the page or folder created for {parent_path[:-3]}/"
    return "the space root"


@dataclass(frozen=True)
class Pull(Action):
    """Fetch the remote page, convert it and write the file; record the new base.

    `path` is None for a page that has no file yet: the executor derives it from
    the title and the parent's current path (parents are ordered first). The
    executor writes nothing when the converted Markdown equals the file already
    there (a crash between write and record, or a rename-only version bump).
    `reason`: "changed", "new", "restored" (trashed remotely earlier, now back)
    or "undelete" (deleted locally but changed remotely: the edit wins).
    """

    page_id: str
    path: str | None
    remote_version: int
    title: str
    parent_id: str | None
    reason: Literal["changed", "new", "restored", "undelete"] = "changed"
    kind: PageKind = "page"
    verb: ClassVar[str] = "pull"
    side: ClassVar[str] = "local"

    def describe(self) -> str:
        where = self.path or f"new file for {self.title!r}"
        why = {
            "changed": "changed in Confluence",
            "new": "new in Confluence",
            "restored": "restored in Confluence",
            "undelete": "deleted locally but changed in Confluence: the edit wins",
        }[self.reason]
        return f"pull {where} ({_page(self.page_id)} v{self.remote_version}, {why})"


@dataclass(frozen=True)
class Push(Action):
    """Convert the local file and update the remote page (body and labels).

    The update carries the base version from the state; a 409 re-fetches and
    goes through `Merge`. A converter result of "unchanged" sends nothing.
    After the update the page is re-read and what Confluence stored becomes the
    new base.
    """

    page_id: str
    path: str
    base_version: int
    verb: ClassVar[str] = "push"
    side: ClassVar[str] = "remote"

    def describe(self) -> str:
        return f"push {self.path} ({_page(self.page_id)}, based on v{self.base_version})"


@dataclass(frozen=True)
class Merge(Action):
    """Both sides changed the body: three-way merge base/local/remote Markdown.

    The executor fetches the remote page, runs `syncd.sync.merge.merge_markdown`
    with the state's base Markdown, and then: if the merge equals the remote
    Markdown, only writes the file (when different) and records (this is the
    false-conflict rule that makes a crash between effect and record converge);
    if clean, writes and pushes the merged text; otherwise follows
    `sync.on_conflict` and records a conflict.
    """

    page_id: str
    path: str
    base_version: int
    remote_version: int
    verb: ClassVar[str] = "merge"
    side: ClassVar[str] = "both"

    def describe(self) -> str:
        return (
            f"merge {self.path} ({_page(self.page_id)}: edited locally and in Confluence, "
            f"v{self.base_version} -> v{self.remote_version})"
        )


@dataclass(frozen=True)
class Link(Action):
    """Tie an existing local file to an existing remote page with no common base.

    Used when the state has no record (state lost, or a new file and a new page
    with the same title under the same parent). The executor fetches the page;
    if its Markdown equals the file body it records them as in sync (writing the
    id into the front matter if missing), otherwise it handles them as a
    conflict with an empty base (`sync.on_conflict`).
    """

    page_id: str
    path: str
    remote_version: int
    verb: ClassVar[str] = "link"
    side: ClassVar[str] = "both"

    def describe(self) -> str:
        return f"link {self.path} to {_page(self.page_id)} v{self.remote_version} (compare, keep both if they differ)"


@dataclass(frozen=True)
class CreateRemote(Action):
    """Create a page for a local file, then write the new id into its front matter.

    The parent is `parent_id`, or, when that is None and `parent_path` is set,
    the page created for `parent_path` earlier in the same plan (the executor
    looks it up in the state by path); both None means the space root.
    `placeholder`: the file does not exist; create an empty page titled after a
    folder that has no page file, and write its file. `recreate_of`: the page
    this file belonged to was purged but the file was edited: the edit wins.
    The executor journals the intent (`StateDB.add_pending_create`) before the
    POST so a crash cannot create the page twice.
    """

    path: str
    title: str
    parent_id: str | None
    parent_path: str | None = None
    kind: PageKind = "page"
    placeholder: bool = False
    recreate_of: str | None = None
    #: With `placeholder`: create a Cloud folder (not an empty page) for the directory
    #: `path[:-3]` (`sync.new_directories: folder`).
    folder: bool = False
    verb: ClassVar[str] = "create"
    side: ClassVar[str] = "remote"

    def describe(self) -> str:
        if self.folder:
            return (
                f"create folder {self.title!r} for {self.path[:-3]}/ under "
                f"{_parent(self.parent_id, self.parent_path)}"
            )
        what = "empty parent page" if self.placeholder else self.kind
        extra = f", replacing purged page {self.recreate_of}" if self.recreate_of else ""
        return (
            f"create {what} {self.title!r} for {self.path} under "
            f"{_parent(self.parent_id, self.parent_path)}{extra}"
        )


@dataclass(frozen=True)
class MoveRemote(Action):
    """Rename and/or re-parent the remote page to match the local side.

    `title` / `parent_*` are None for the field that does not change
    (`parent_changed` tells a move to the space root apart from "unchanged").
    Only title and parent change; the executor sends the body it fetched at the
    current version, and records the new remote version only when that version
    was the base (otherwise a later Pull/Merge still sees the remote edit).
    """

    page_id: str
    path: str
    title: str | None = None
    parent_changed: bool = False
    parent_id: str | None = None
    parent_path: str | None = None
    verb: ClassVar[str] = "move-remote"
    side: ClassVar[str] = "remote"

    def describe(self) -> str:
        parts = []
        if self.title is not None:
            parts.append(f"rename to {self.title!r}")
        if self.parent_changed:
            parts.append(f"move under {_parent(self.parent_id, self.parent_path)}")
        return f"{' and '.join(parts)} in Confluence ({_page(self.page_id)}, {self.path})"


@dataclass(frozen=True)
class MoveLocal(Action):
    """Move/rename the file (and its child folder) to the wanted title/parent.

    The parent is `parent_id` (None: top level), or, when `parent_path` is set,
    the page created for that path earlier in the plan (the file stays under a
    local parent while the title follows Confluence). The executor computes the
    destination from `title` and the parent's current path with the folder
    layout (collision suffixes included), rewrites the front matter title, moves
    the page's child folder and attachments along, and records the new
    path/title/parent.
    """

    page_id: str
    from_path: str
    title: str
    parent_id: str | None
    parent_path: str | None = None
    verb: ClassVar[str] = "move-local"
    side: ClassVar[str] = "local"

    @property
    def path(self) -> str:
        return self.from_path

    def describe(self) -> str:
        return (
            f"move {self.from_path} to {self.title!r} under "
            f"{_parent(self.parent_id, self.parent_path)} "
            f"({_page(self.page_id)}, moved or renamed in Confluence)"
        )


@dataclass(frozen=True)
class RecordLocal(Action):
    """State only: re-stat the file and record its path (and clear a tombstone).

    Used when the file moved in a way that changes neither title nor parent (a
    file rename, a case change), or when both sides made the same change. The
    executor records `path`, `title` and `parent_id` (None: top level) with the
    file's current hash and stat, keeping the remote version and base.
    """

    page_id: str
    path: str
    title: str
    parent_id: str | None
    reason: str = "moved locally"
    verb: ClassVar[str] = "record"

    def describe(self) -> str:
        return f"record {self.path} for {_page(self.page_id)} ({self.reason})"


@dataclass(frozen=True)
class TrashRemote(Action):
    """Move the remote page to Confluence's trash (never purge).

    After success the executor keeps the record with a local-side tombstone, so
    a restore in Confluence brings the file back (`Pull(reason="restored")`).
    """

    page_id: str
    path: str
    title: str
    destructive: ClassVar[bool] = True
    verb: ClassVar[str] = "trash-remote"
    side: ClassVar[str] = "remote"

    def describe(self) -> str:
        return f"move {_page(self.page_id)} {self.title!r} to the Confluence trash ({self.path} was deleted)"


@dataclass(frozen=True)
class MoveLocalToTrash(Action):
    """Move the file into the local trash under state_dir (restorable).

    `remote_status` "trashed": the record stays with a remote-side tombstone
    naming the trash path, so a restore on either side brings it back.
    "purged": nothing remains remotely; the executor deletes the record.
    """

    page_id: str
    path: str
    remote_status: Literal["trashed", "absent"]
    #: Why, when not the remote status (a page moved out of the `root_page` subtree).
    why: str = ""
    destructive: ClassVar[bool] = True
    verb: ClassVar[str] = "trash-local"
    side: ClassVar[str] = "local"

    def describe(self) -> str:
        why = self.why or ("trashed" if self.remote_status == "trashed" else "deleted for good")
        return (
            f"move {self.path} to the local trash ({_page(self.page_id)} was {why} in Confluence)"
        )


@dataclass(frozen=True)
class RestoreRemote(Action):
    """Restore the page from Confluence's trash because the local file was edited.

    The executor updates the record's remote version; the Push/MoveRemote that
    follows in the same plan then applies the local edit.
    """

    page_id: str
    path: str
    verb: ClassVar[str] = "restore-remote"
    side: ClassVar[str] = "remote"

    def describe(self) -> str:
        return f"restore {_page(self.page_id)} from the Confluence trash ({self.path} was edited)"


@dataclass(frozen=True)
class Forget(Action):
    """State only: drop the record (gone on both sides, nothing left to sync)."""

    page_id: str
    path: str
    reason: str
    verb: ClassVar[str] = "forget"

    def describe(self) -> str:
        return f"forget {_page(self.page_id)} ({self.path}: {self.reason})"


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Held:
    """A page the plan leaves alone, reported to the user (counts as a conflict)."""

    page_id: str | None
    path: str
    reason: str

    def describe(self) -> str:
        return f"hold {self.path} ({_page(self.page_id)}): {self.reason}"


@dataclass(frozen=True)
class BlockedDeletions:
    """Destructive actions withheld by the mass-deletion guard."""

    reason: str
    actions: tuple[Action, ...]

    def describe(self) -> str:
        return f"blocked {len(self.actions)} deletion(s): {self.reason}"


@dataclass(frozen=True)
class ReconcileOptions:
    """Knobs of the decision step.

    `root_page_id`: the space home page; top-level files are its children and a
    remote parent equal to it (or None) means "top level" locally.
    `max_delete`: the most deletions per side a run may make without
    `allow_delete` (`sync.max_delete`). `new_directories`: see the field.
    """

    root_page_id: str | None = None
    max_delete: int = 10
    allow_delete: bool = False
    #: What a new local directory without a page file becomes: an empty parent "page",
    #: or a "folder" (Cloud; `sync.new_directories`).
    new_directories: str = "page"


@dataclass(frozen=True)
class Plan:
    """The ordered actions of one reconcile, plus what it refused to do and why.

    Order: state-only steps; then structure (creates, pulls of new/restored
    pages, restores, moves) parents first; then content (push/pull/merge);
    then deletions children first.
    """

    actions: tuple[Action, ...] = ()
    held: tuple[Held, ...] = ()
    blocked_deletions: BlockedDeletions | None = None
    notes: tuple[str, ...] = ()

    @property
    def conflicts(self) -> tuple[Held, ...]:
        return self.held

    @property
    def in_sync(self) -> bool:
        """Nothing to do, nothing held, nothing blocked."""
        return not self.actions and not self.held and self.blocked_deletions is None

    def describe(self) -> list[str]:
        """Human-readable one-liners for `syncd sync --dry-run`."""
        lines = [a.describe() for a in self.actions]
        lines += [h.describe() for h in self.held]
        if self.blocked_deletions is not None:
            lines.append(self.blocked_deletions.describe())
            lines += [f"  (blocked) {a.describe()}" for a in self.blocked_deletions.actions]
        lines += [f"note: {n}" for n in self.notes]
        return lines
