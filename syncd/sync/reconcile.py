"""The decision step: (state, local snapshot, remote snapshot) -> Plan. Pure.

`reconcile()` reads no files, makes no requests and keeps no globals: every
trigger (startup, webhook, file event, poll, `syncd sync`) only marks pages
dirty and then comes through here, so there is one place where each decision
is made. Identity is the page id; a file without an id in its front matter is
new.

Per page the three inputs are S (the record: both sides when last in sync),
L (the file now) and R (the remote page now). Local change is measured against
S: body (hash of the Markdown without front matter) or labels = *edited*;
front-matter title = *renamed*; parent page of the folder = *moved*; path alone
= recorded only. Remote change: version, or labels when the snapshot loaded them
(a label edit in Confluence bumps no version) = *edited* (`_remote_edited`),
title = *renamed*, parent = *moved*, status trashed/absent = *trashed*/*purged*. A record with a tombstone
means both sides were deleted by an earlier run (restorable); a current remote
page then is *restored*.

Decision table (S present). tests/sync/test_reconcile_matrix.py pins all 48
cells; "meta" = title (renamed) or parent (moved).

    local \\ remote  unchanged    edited       trashed            purged              moved/renamed            restored (S tombstoned)
    unchanged       -            Pull         MoveLocalToTrash   MoveLocalToTrash    MoveLocal (+Pull)        Pull (file comes back)
    edited          Push         Merge        RestoreRemote+     CreateRemote        MoveLocal+Push/Merge     Push / Merge
                                              Push/Merge         (recreate_of)
    deleted         TrashRemote  Pull         Forget             Forget              Pull (at the new place)  Pull (file comes back)
                                 (undelete)
    moved/renamed   MoveRemote   MoveRemote   RestoreRemote+     CreateRemote        field by field: a side   MoveRemote
                                 +Pull        MoveRemote         (recreate_of)       that changed alone wins;
                                                                                     both differently ->
                                                                                     Confluence wins (+note)
    new file        CreateRemote (beside any of the above); Link when a new remote page has the same
                    title and parent (the "new x new" cell); a title used elsewhere -> held

Other inputs: new remote page -> Pull(new). A file with an id but no record
(state lost, file copied in) -> Link when the page exists, RestoreRemote+Link
when trashed, CreateRemote when gone. Two files with the same id: the one at
the recorded path keeps it, the others are new pages. A tombstoned record with
no file: current -> Pull(restored), trashed -> nothing, purged -> Forget.

Edge rules
* An edit beats a delete on the other side, both ways; any remote change (even
  a move) beats a local delete.
* A page a folder still needs is not deleted: a local delete of a page file
  whose folder holds pages pulls it back (in place, then MoveLocal takes the
  folder along if Confluence moved it); a page deleted in Confluence whose
  folder gains pages (new files, pages moved in, edited children) is restored
  from the trash, re-created, or replaced by an empty placeholder.
* A folder without a page file gets a placeholder page, unless its name is
  the title of another page (titles are unique per space): its files are held.
* Cross moves that would form a parent loop: the Confluence side wins.
* A file still holding conflict markers is held (never pushed, a conflict).
* Renaming to a title another page has is held.
* More than `max_delete` deletions on either side, or any deletion while one
  side's snapshot is empty (unmounted folder, failed listing), are withheld
  (`Plan.blocked_deletions`) unless `allow_delete`.

Order of the plan: state-only steps; creates, links, restores, pulls of new
pages and moves, parents first (by the depth of where each page goes);
content (push, pull, merge); deletions, children first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from syncd.sync.containers import ContainerMap
from syncd.sync.model import (
    Action,
    BlockedDeletions,
    CreateRemote,
    Forget,
    Held,
    Link,
    LocalEntry,
    Merge,
    MoveLocal,
    MoveLocalToTrash,
    MoveRemote,
    Plan,
    Pull,
    Push,
    ReconcileOptions,
    RecordLocal,
    RemoteEntry,
    RestoreRemote,
    TrashRemote,
    default_parent_path,
)
from syncd.sync.records import PageRecord

#: Tie-break inside the structure phase for actions on the same depth.
_RANK: dict[type, int] = {
    CreateRemote: 0,
    Link: 1,
    RestoreRemote: 1,
    Pull: 2,
    MoveRemote: 3,
    MoveLocal: 4,
}

#: (page id or None, path of a page created in this plan or None); (None, None) = top level.
ParentRef = tuple[str | None, str | None]
TOP: ParentRef = (None, None)


def _remote_edited(record: PageRecord, remote: RemoteEntry) -> bool:
    """Did Confluence change the page's content (body or labels) since the record?

    The one test of "remote edited" for every decision. Labels count only when
    the snapshot loaded them (`RemoteEntry.labels` not None): unknown is no change.
    """
    if remote.version != record.remote_version:
        return True
    return remote.labels is not None and remote.labels != tuple(sorted(set(record.labels)))


def reconcile(
    states: Mapping[str, PageRecord],
    local_entries: Iterable[LocalEntry] | Mapping[str, LocalEntry],
    remotes: Mapping[str, RemoteEntry],
    *,
    dirty: Set[str] | None = None,
    options: ReconcileOptions | None = None,
    containers: ContainerMap | None = None,
) -> Plan:
    """Plan the actions that bring both sides in sync.

    `states`: records by page id (tombstoned ones included). `local_entries`:
    the scanned files (an iterable, or a mapping by path). `remotes`: the remote
    listing by page id; a page missing there is treated as absent (purged).
    `dirty`: page ids and/or local paths to consider (None = everything);
    placeholder parents and new parent files are pulled in as needed.
    `containers`: the directories of Cloud folders (and whiteboards, databases,
    embeds) and their status: a file in such a directory has the container as its
    parent (`syncd.sync.containers`).
    """
    opts = options or ReconcileOptions()
    entries = list(local_entries.values() if isinstance(local_entries, Mapping) else local_entries)
    cmap = containers or ContainerMap()
    return _Planner(states, entries, remotes, dirty, opts, cmap=cmap).plan()


#: Why a page stopped being synced when it left the `root_page` subtree.
OUTSIDE = "moved out of confluence.root_page"


@dataclass
class _Planner:
    states: Mapping[str, PageRecord]
    entries: list[LocalEntry]
    remotes: Mapping[str, RemoteEntry]
    dirty: Set[str] | None
    opts: ReconcileOptions
    cmap: ContainerMap = field(default_factory=ContainerMap)
    actions: list[Action] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ indexes

    def __post_init__(self) -> None:
        self.by_path: dict[str, LocalEntry] = {e.path: e for e in self.entries}
        by_id: dict[str, list[LocalEntry]] = defaultdict(list)
        for e in sorted(self.entries, key=lambda e: e.path):
            if e.page_id:
                by_id[e.page_id].append(e)
        # One file per id: the one at the recorded path, else the first by path.
        self.local: dict[str, LocalEntry] = {}
        self.new_files: dict[str, LocalEntry] = {e.path: e for e in self.entries if not e.page_id}
        for pid, files in by_id.items():
            record = self.states.get(pid)
            keeper = next((f for f in files if record and f.path == record.local_path), files[0])
            self.local[pid] = keeper
            for dup in files:
                if dup is not keeper:
                    self.new_files[dup.path] = dup
                    self.notes.append(
                        f"{dup.path} carries the id of {keeper.path} (page {pid}); "
                        "it becomes a new page"
                    )
        self.record_by_path: dict[str, PageRecord] = {r.local_path: r for r in self.states.values()}
        # Pages whose file is gone locally but which still exist (a deleted parent
        # file whose folder is kept): their recorded path still names a page.
        self.live_by_path: dict[str, PageRecord] = {
            r.local_path: r for r in self.states.values() if r.page_id not in self.local
        }
        # Page files whose folder holds pages (at any depth), and direct children.
        self.folders_with_pages: set[str] = set()
        self.children_by_folder: dict[str, list[LocalEntry]] = defaultdict(list)
        for e in self.entries:
            if e.kind != "page" or e.parent_path is None:
                continue
            self.children_by_folder[e.parent_path].append(e)
            folder: str | None = e.parent_path
            while folder is not None and folder not in self.folders_with_pages:
                self.folders_with_pages.add(folder)
                folder = default_parent_path(folder)
        self.placeholders: dict[str, CreateRemote] = {}
        self.blocked_folders: set[str | None] = set()
        self.trashed_folders: set[str] = set()
        #: Paths that will have no page after this plan (held new files).
        self.unborn: set[str] = set()
        self.created_paths: set[str] = set()
        self.linked_remote: set[str] = set()
        titles: dict[tuple[str, str], list[str]] = defaultdict(list)
        for r in self.remotes.values():
            if r.status == "current":
                titles[(r.kind, r.title)].append(r.page_id)
        self.titles_in_use = titles
        self.claimed_titles: set[tuple[str, str]] = set()

    def _norm(self, parent_id: str | None) -> str | None:
        """Remote parent as the folder layout sees it: the root page means top level."""
        if parent_id is None or parent_id == self.opts.root_page_id:
            return None
        return parent_id

    def _remote_status(self, pid: str) -> str:
        r = self.remotes.get(pid)
        if r is None and pid in self.cmap.status:
            status = self.cmap.status[pid]
            return "current" if status == "unknown" else status
        return r.status if r else "absent"

    def _is_container(self, pid: str | None) -> bool:
        return pid is not None and pid in self.cmap.status and pid not in self.remotes

    # ------------------------------------------------------------------ scope

    def _scope(self) -> tuple[list[str], list[LocalEntry]]:
        ids: set[str] = set()
        if self.dirty is None:
            ids |= set(self.states) | set(self.local) | set(self.remotes)
            new = list(self.new_files.values())
        else:
            for key in self.dirty:
                if key in self.states or key in self.local or key in self.remotes:
                    ids.add(key)
                entry = self.by_path.get(key)
                if entry is not None and entry.page_id and self.local.get(entry.page_id) is entry:
                    ids.add(entry.page_id)
                record = self.record_by_path.get(key)
                if record is not None:
                    ids.add(record.page_id)
            new = [e for p, e in self.new_files.items() if p in self.dirty]
        return sorted(ids), sorted(new, key=lambda e: (e.path.count("/"), e.path))

    # ------------------------------------------------------------------ parents

    def _local_parent(self, entry: LocalEntry) -> ParentRef:
        """The parent a file's folder implies; creates placeholders as needed."""
        if entry.kind != "page" or entry.page_id == self.opts.root_page_id:
            return TOP
        return self._parent_of_path(entry.parent_path)

    def _parent_of_path(self, parent_path: str | None) -> ParentRef:
        if parent_path is None:
            return TOP
        container = self.cmap.at(parent_path)
        if container is not None:
            return (container, None)  # a folder's directory: the folder is the parent
        if parent_path in self.cmap.trashed:
            # The directory of a folder in the Confluence trash (a file restored from the
            # local trash, or put there anew): the files wait for the folder's restore.
            self.trashed_folders.add(parent_path)
            return (None, parent_path)
        owner = self.by_path.get(parent_path)
        if owner is not None:
            if owner.page_id and self.local.get(owner.page_id) is owner:
                if self._remote_status(owner.page_id) == "absent":
                    return (None, parent_path)  # purged: re-created in this plan
                return (self._norm(owner.page_id), None)
            self._create_new_file(owner)  # a new parent file outside the dirty set
            return (None, parent_path)
        record = self.live_by_path.get(parent_path)
        if record is not None:  # the parent file was deleted; the page is kept (see _decide)
            if self._remote_status(record.page_id) == "absent":
                return (None, parent_path)  # purged: replaced if a child needs it
            return (self._norm(record.page_id), None)
        self._ensure_placeholder(parent_path)
        return (None, parent_path)

    def _same_parent(self, ref: ParentRef, parent_id: str | None) -> bool:
        """Is `ref` the recorded parent? A purged parent still in its place counts."""
        if ref == (self._norm(parent_id), None):
            return True
        record = self.states.get(parent_id) if parent_id else None
        return ref[0] is None and record is not None and ref[1] == record.local_path

    def _materialize_parents(self) -> None:
        """Give every parent referenced by path a page: a purged parent that a
        child is created or moved under is re-created (its file kept instead of
        trashed), or replaced by a placeholder when its file is gone too."""
        changed = True
        while changed:
            changed = self._revive_parents_by_id()
            for action in list(self.actions):
                path = getattr(action, "parent_path", None)
                if path is None or path in self.created_paths:
                    continue
                changed = True
                owner = self.by_path.get(path)
                if owner is not None and owner.page_id:
                    self.actions = [
                        a
                        for a in self.actions
                        if not (isinstance(a, MoveLocalToTrash) and a.path == path)
                    ]
                    self.notes.append(
                        f"{path}: re-creating the page deleted in Confluence because pages "
                        "are added under it"
                    )
                    self._create_new_file(owner, recreate_of=owner.page_id)
                else:
                    self._ensure_placeholder(path)
                self.created_paths.add(path)

    def _revive_parents_by_id(self) -> bool:
        """A page created or moved under a parent deleted in Confluence brings the
        parent back: restored from the trash, or (purged) re-created by path."""
        changed = False
        restoring = {a.page_id for a in self.actions if isinstance(a, RestoreRemote)}
        for action in list(self.actions):
            if not isinstance(action, CreateRemote | MoveRemote) or action.parent_id is None:
                continue
            parent = action.parent_id
            status = self._remote_status(parent)
            if (
                status in ("current", "outside")
                or parent in restoring
                or self._is_container(parent)
            ):
                continue  # a container's deletion is the container plan's business
            changed = True
            record = self.states.get(parent)
            if status == "trashed":
                restoring.add(parent)
                trashed_here = [
                    a
                    for a in self.actions
                    if isinstance(a, MoveLocalToTrash | Forget) and a.page_id == parent
                ]
                for a in trashed_here:
                    self.actions.remove(a)
                self.notes.append(f"restoring page {parent}: pages are added under it")
                self.actions.append(RestoreRemote(parent, record.local_path if record else ""))
                if record is not None and parent not in self.local:
                    self._pull_back(record, self.remotes[parent], "restored")
            else:  # purged: refer to it by path; _materialize_parents re-creates it
                path = record.local_path if record else None
                if path is None:
                    continue
                index = self.actions.index(action)
                self.actions[index] = replace(action, parent_id=None, parent_path=path)
        return changed

    def _ensure_placeholder(self, path: str) -> None:
        if path in self.placeholders or path in self.created_paths:
            return
        self.created_paths.add(path)
        title = PurePosixPath(path).stem
        parent = self._parent_of_path(default_parent_path(path))
        # A Cloud folder's title is not a page title, so a folder takes no page title.
        # Confluence titles are unique per space: a directory named like another page
        # cannot get its own page, and its files wait until it is renamed.
        folder = self.opts.new_directories == "folder"
        key = ("page", title)
        if parent[1] in self.blocked_folders or (
            not folder and (key in self.titles_in_use or key in self.claimed_titles)
        ):
            self.blocked_folders.add(path)
            return
        if not folder:
            self.claimed_titles.add(key)
        self.placeholders[path] = CreateRemote(
            path=path,
            title=title,
            parent_id=parent[0],
            parent_path=parent[1],
            placeholder=True,
            folder=folder,
        )
        self.actions.append(self.placeholders[path])

    def _blocked_parent(self, pid: str | None, path: str, parent: ParentRef) -> bool:
        """Hold a page whose parent cannot get a page in this plan: a folder without
        a page file named like another page, or a parent file that is held."""
        if parent[1] is None:
            return False
        if parent[1] in self.trashed_folders:
            reason = (
                f"folder {parent[1][:-3]}/ is in the Confluence trash; restore it there (its "
                "pages come back with it), or move the file to another directory"
            )
        elif parent[1] in self.blocked_folders:
            reason = (
                f"folder {parent[1][:-3]}/ has no page file and its name is the title of "
                "another page; rename the folder or add its page file"
            )
        elif parent[1] in self.unborn:
            reason = f"its parent {parent[1]} is held; resolve that first"
        else:
            return False
        self.held.append(Held(pid, path, reason))
        self.unborn.add(path)
        return True

    # ------------------------------------------------------------------ cross moves

    def _peek_parent(self, entry: LocalEntry) -> str | None:
        """The local parent as a node key (page id, or "path:<p>"), without side effects."""
        if entry.kind != "page" or entry.page_id == self.opts.root_page_id:
            return None
        return self._peek_path(entry.parent_path)

    def _peek_path(self, pp: str | None) -> str | None:
        if pp is None:
            return None
        container = self.cmap.at(pp)
        if container is not None:
            return container
        owner = self.by_path.get(pp)
        if owner is not None and owner.page_id and self.local.get(owner.page_id) is owner:
            return self._norm(owner.page_id)
        record = self.live_by_path.get(pp)
        if record is not None:
            return self._norm(record.page_id)
        return f"path:{pp}"

    def _moves_that_would_make_cycles(self) -> set[str]:
        """Local moves that, combined with remote moves, would make a parent cycle.

        A page moved into B's folder locally while B was moved under that page in
        Confluence: each move is fine alone, together they are a loop. The
        remote side wins for the local moves on such a loop.
        """
        target: dict[str, str | None] = {}
        local_moves: set[str] = set()
        for pid, remote in self.remotes.items():
            if remote.status != "current":
                continue
            remote_parent = self._norm(remote.parent_id)
            record, entry = self.states.get(pid), self.local.get(pid)
            target[pid] = remote_parent
            if record is None or entry is None:
                continue
            record_parent = self._norm(record.parent_id)
            local_parent = self._peek_parent(entry)
            if remote_parent == record_parent and local_parent != record_parent:
                target[pid] = local_parent
                local_moves.add(pid)
        # Pages that exist only locally (new files, pages to re-create) hang where
        # their folder puts them.
        for entry in self.entries:
            key = (
                entry.page_id if entry.page_id and self.local.get(entry.page_id) is entry else None
            )
            key = key or f"path:{entry.path}"
            target.setdefault(key, self._peek_parent(entry))

        def parent_of(node: str) -> str | None:
            if node in target:
                return target[node]
            if node.startswith("path:"):  # a placeholder for a folder without a page file
                return self._peek_path(default_parent_path(node[5:]))
            return None

        breaks: set[str] = set()
        for start in sorted(target):
            seen: list[str] = []
            node: str | None = start
            while node is not None and node not in seen:
                seen.append(node)
                node = parent_of(node)
            if node is not None and node in seen:  # a loop: seen[index(node):]
                loop = seen[seen.index(node) :]
                for pid in loop:
                    if pid in local_moves:
                        breaks.add(pid)
                        target[pid] = self._norm(self.remotes[pid].parent_id)
        return breaks

    # ------------------------------------------------------------------ plan

    def plan(self) -> Plan:
        self.cycle_breaks = self._moves_that_would_make_cycles()
        ids, new = self._scope()
        for entry in new:
            self._create_new_file(entry)
        for pid in ids:
            self._decide(pid)
        self._materialize_parents()
        blocked = self._guard_deletions()
        ordered = sorted(self.actions, key=self._order_key)
        return Plan(
            actions=tuple(ordered),
            held=tuple(sorted(self.held, key=lambda h: h.path)),
            blocked_deletions=blocked,
            notes=tuple(self.notes),
        )

    def _create_new_file(self, entry: LocalEntry, recreate_of: str | None = None) -> None:
        """A file without a (usable) id: create its page, or link it to a twin."""
        if entry.path in self.created_paths:
            return
        self.created_paths.add(entry.path)
        self.unborn.add(entry.path)  # until an action below gives it a page
        if entry.has_conflict_markers:
            self.held.append(Held(None, entry.path, "conflict markers in the file"))
            return
        parent = self._local_parent(entry)
        if self._blocked_parent(recreate_of, entry.path, parent):
            return
        if entry.kind == "page":
            claim = ("page", entry.title)  # titles are unique per space, not per parent
            twins = self.titles_in_use.get(("page", entry.title), [])
            for twin in twins:
                if (
                    recreate_of is None
                    and twin not in self.states
                    and twin not in self.local
                    and twin not in self.linked_remote
                    and parent[1] is None
                    and self._norm(self.remotes[twin].parent_id) == parent[0]
                ):
                    self.linked_remote.add(twin)
                    self.actions.append(Link(twin, entry.path, self.remotes[twin].version))
                    self.unborn.discard(entry.path)
                    return
            if twins or claim in self.claimed_titles:
                used = f"page {twins[0]}" if twins else "another new file"
                self.held.append(
                    Held(
                        None,
                        entry.path,
                        f"title {entry.title!r} is already used by {used} in the space; "
                        "change the title in the front matter",
                    )
                )
                return
            self.claimed_titles.add(claim)
        self.unborn.discard(entry.path)
        self.actions.append(
            CreateRemote(
                path=entry.path,
                title=entry.title,
                parent_id=parent[0],
                parent_path=parent[1],
                kind=entry.kind,
                recreate_of=recreate_of,
            )
        )

    def _decide(self, pid: str) -> None:
        record = self.states.get(pid)
        entry = self.local.get(pid)
        remote = self.remotes.get(pid)
        status = remote.status if remote else "absent"

        if status == "outside":
            self._decide_outside(pid, record, entry)
            return
        if record is None:
            self._decide_unrecorded(pid, entry, remote, status)
            return
        if record.tombstone is not None and entry is None:
            if status == "current":
                assert remote is not None
                self._pull_back(record, remote, "restored")
            elif self._revive_for_children(record, remote, status):
                pass
            elif status == "absent":
                self.actions.append(
                    Forget(pid, record.local_path, "deleted on both sides and purged in Confluence")
                )
            return
        if entry is None:
            self._decide_local_deleted(record, remote, status)
            return
        self._decide_present(record, entry, remote, status)

    def _decide_outside(
        self, pid: str, record: PageRecord | None, entry: LocalEntry | None
    ) -> None:
        """Moved in Confluence out of the `root_page` subtree: no longer synced, and never
        moved back. The page is left alone; an unchanged file goes to the local trash
        (restorable) and the record is dropped, so a move back in brings the page back as
        new. A file changed here is held, unpushed, until the page returns or the file goes."""
        if entry is None:
            if record is not None:
                self.actions.append(Forget(pid, record.local_path, f"{OUTSIDE} in Confluence"))
            return
        changed = (
            record is None
            or entry.body_hash != record.local_hash
            or entry.title != record.title
            or entry.path != record.local_path
            or (entry.labels is not None and entry.labels != tuple(sorted(record.labels)))
        )
        if changed:
            self.held.append(
                Held(
                    pid,
                    entry.path,
                    f"{OUTSIDE} in Confluence, and changed here: not pushed (move the page "
                    "back under the root page to sync it, or remove the file)",
                )
            )
            return
        self.actions.append(MoveLocalToTrash(pid, entry.path, "absent", why=OUTSIDE))

    def _decide_unrecorded(
        self, pid: str, entry: LocalEntry | None, remote: RemoteEntry | None, status: str
    ) -> None:
        if entry is None:
            if status == "current" and pid not in self.linked_remote:
                assert remote is not None
                self.actions.append(
                    Pull(
                        pid,
                        None,
                        remote.version,
                        remote.title,
                        self._norm(remote.parent_id),
                        "new",
                        remote.kind,
                    )
                )
            return
        if entry.has_conflict_markers:
            self.held.append(Held(pid, entry.path, "conflict markers in the file"))
            return
        if status == "absent":
            self._create_new_file(entry, recreate_of=pid)
            return
        assert remote is not None
        if status == "trashed":
            self.actions.append(RestoreRemote(pid, entry.path))
        self.actions.append(Link(pid, entry.path, remote.version))

    def _pull_back(self, record: PageRecord, remote: RemoteEntry, reason: str) -> None:
        """Bring a deleted file back.

        Where it was when that is still the right place (same title, and its
        folder is still its remote parent's folder). Otherwise at the place the
        layout gives (path None), except when its old child folder still holds
        pages: then back where it was, followed by a MoveLocal that takes the
        child folder along.
        """
        parent = self._norm(remote.parent_id) if remote.kind == "page" else None
        folder_owner: str | None = None
        folder_page = default_parent_path(record.local_path) if remote.kind == "page" else None
        if folder_page is not None:
            # Only a parent whose file is present pins the folder: a parent that is
            # itself coming back may land elsewhere.
            owner = self.by_path.get(folder_page)
            present = owner is not None and owner.page_id and self.local.get(owner.page_id) is owner
            folder_owner = self._norm(owner.page_id) if present else f"path:{folder_page}"  # type: ignore[union-attr]
            folder_owner = self.cmap.at(folder_page) or folder_owner
        in_place = remote.title == record.title and folder_owner == parent
        keep_path = in_place or self._has_local_children(record)
        self.actions.append(
            Pull(
                record.page_id,
                record.local_path if keep_path else None,
                remote.version,
                remote.title,
                parent,
                reason,  # type: ignore[arg-type]
                remote.kind,
            )
        )
        if keep_path and not in_place:
            self.actions.append(MoveLocal(record.page_id, record.local_path, remote.title, parent))

    def _revive_for_children(
        self, record: PageRecord, remote: RemoteEntry | None, status: str
    ) -> bool:
        """A page gone on both sides whose folder keeps pages comes back for them:
        restored from the trash (and its file pulled), or, when purged, replaced
        by an empty placeholder page. Returns False when nothing needs it."""
        if not self._folder_gains_pages(record.local_path, record.page_id):
            return False
        self.notes.append(
            f"{record.local_path} is gone on both sides but its folder keeps pages; "
            "bringing the page back for them"
        )
        if status == "trashed" and remote is not None:
            self.actions.append(RestoreRemote(record.page_id, record.local_path))
            self._pull_back(record, remote, "restored")
        else:
            self.actions.append(
                Forget(record.page_id, record.local_path, "purged; replaced by a placeholder")
            )
            self._ensure_placeholder(record.local_path)
        return True

    def _has_local_children(self, record: PageRecord) -> bool:
        return record.local_path in self.folders_with_pages

    def _folder_gains_pages(self, path: str, pid: str) -> bool:
        """Will pages stay in this page's folder after the plan (new files, or pages
        moved in locally)? Then the page cannot go away: children need it."""
        for e in self.children_by_folder.get(path, ()):
            if not e.page_id or self.local.get(e.page_id) is not e:
                return True
            record, remote = self.states.get(e.page_id), self.remotes.get(e.page_id)
            if record is None:
                return True
            if remote is None or remote.status != "current":
                # deleted remotely too: it stays only if edited (the edit wins)
                if e.body_hash != record.local_hash or e.title != record.title:
                    return True
                continue
            moved_in = self._norm(record.parent_id) != self._norm(pid)
            if moved_in and self._norm(remote.parent_id) == self._norm(record.parent_id):
                return True
        return False

    def _decide_local_deleted(
        self, record: PageRecord, remote: RemoteEntry | None, status: str
    ) -> None:
        pid = record.page_id
        if status != "current":
            if not self._revive_for_children(record, remote, status):
                self.actions.append(Forget(pid, record.local_path, "deleted on both sides"))
            return
        assert remote is not None
        remote_changed = (
            _remote_edited(record, remote)
            or remote.title != record.title
            or self._norm(remote.parent_id) != self._norm(record.parent_id)
        )
        if remote_changed or self._has_local_children(record):
            if not remote_changed:
                self.notes.append(
                    f"{record.local_path} was deleted but its folder still holds pages; "
                    "pulling it back (delete the folder too to delete the page)"
                )
            self._pull_back(record, remote, "undelete")
            return
        self.actions.append(TrashRemote(pid, record.local_path, record.title))

    def _decide_present(
        self, record: PageRecord, entry: LocalEntry, remote: RemoteEntry | None, status: str
    ) -> None:
        pid = record.page_id
        is_root = pid == self.opts.root_page_id or entry.kind != "page"
        body_changed = entry.body_hash != record.local_hash or (
            entry.labels is not None and entry.labels != tuple(sorted(record.labels))
        )
        title_changed = entry.title != record.title
        local_parent = self._local_parent(entry)
        if self._blocked_parent(pid, entry.path, local_parent):
            return
        record_parent: ParentRef = (self._norm(record.parent_id), None)
        parent_changed = not is_root and not self._same_parent(local_parent, record.parent_id)
        misplaced = False
        if parent_changed and self._placed_by_syncd(record, entry):
            # The file is in the directory syncd put it in, under a parent that is not a
            # page (a container, known or not): the user moved nothing, so nothing moves
            # in Confluence. Once the container is known, the file goes into its directory.
            parent_changed = False
            local_parent = record_parent
            misplaced = self._remote_status(record.parent_id or "") == "current" and (
                record.parent_id in self.cmap.dirs.values()
            )
        meta_changed = title_changed or parent_changed

        if entry.has_conflict_markers and body_changed:
            self.held.append(
                Held(pid, entry.path, "conflict markers in the file: resolve them to sync the page")
            )
            return

        revive = False  # an unedited page comes back because its folder gains pages
        if status in ("absent", "trashed") and not (body_changed or meta_changed):
            revive = self._folder_gains_pages(entry.path, pid)
            if revive:
                self.notes.append(
                    f"page {pid} was deleted in Confluence but new pages were put in its "
                    f"folder; keeping {entry.path}"
                )
        if status == "absent":
            if body_changed or meta_changed or revive:
                self.notes.append(
                    f"page {pid} was deleted for good in Confluence but {entry.path} was edited; "
                    "creating a new page"
                )
                self._create_new_file(entry, recreate_of=pid)
            else:
                self.actions.append(MoveLocalToTrash(pid, entry.path, "absent"))
            return
        assert remote is not None

        before = len(self.actions)
        if status == "trashed":
            if not (body_changed or meta_changed or revive or record.tombstone is not None):
                self.actions.append(MoveLocalToTrash(pid, entry.path, "trashed"))
                return
            # The edit wins: restore, then sync as if the page were current (it may
            # have been edited or renamed in Confluence before it was trashed).
            self.actions.append(RestoreRemote(pid, entry.path))

        # Both sides current: merge title and parent field by field.
        remote_title_changed = remote.title != record.title
        remote_parent: ParentRef = (self._norm(remote.parent_id), None)
        remote_parent_changed = not is_root and remote_parent != record_parent
        # Moved in Confluence under something this run cannot place (a container it
        # has not read: a targeted run, a failed read): follow nothing, push nothing;
        # a full run places it.
        unplaceable = (
            remote_parent_changed
            and remote.in_container
            and remote_parent[0] is not None
            and remote_parent[0] not in self.remotes
            and remote_parent[0] not in self.cmap.status
        )
        if remote_parent[0] is not None and self._remote_status(remote_parent[0]) != "current":
            remote_parent_changed = False  # under a deleted page (a restore): not a place to follow
        target_title = remote.title if remote_title_changed else entry.title
        if title_changed and remote_title_changed and entry.title != remote.title:
            self.notes.append(
                f"{entry.path}: renamed to {entry.title!r} locally and to {remote.title!r} in "
                "Confluence; keeping the Confluence title"
            )
        target_parent = remote_parent if remote_parent_changed else local_parent
        if parent_changed and pid in self.cycle_breaks:
            target_parent = remote_parent
            self.notes.append(
                f"{entry.path}: the local move would put the page inside its own subtree "
                "combined with moves made in Confluence; keeping the Confluence location"
            )
        elif parent_changed and remote_parent_changed and local_parent != remote_parent:
            self.notes.append(
                f"{entry.path}: moved on both sides to different parents; keeping the "
                "Confluence location"
            )
        if unplaceable:
            target_parent = local_parent
            self.notes.append(
                f"{entry.path}: moved in Confluence under {remote_parent[0]}, which this run "
                "could not place; left where it is on both sides"
            )
        if not self._push_meta(
            pid, entry, remote, target_title, target_parent, reparent_ok=not unplaceable
        ):
            del self.actions[before:]  # held: leave the page alone until the user resolves it
            return
        if (
            target_title != entry.title
            or (not is_root and target_parent != local_parent)
            or (misplaced and target_parent == record_parent)
        ):
            self.actions.append(
                MoveLocal(pid, entry.path, target_title, target_parent[0], target_parent[1])
            )

        remote_edited = _remote_edited(record, remote)
        if body_changed and remote_edited:
            self.actions.append(Merge(pid, entry.path, record.remote_version, remote.version))
        elif body_changed:
            self.actions.append(Push(pid, entry.path, record.remote_version))
        elif remote_edited:
            self.actions.append(
                Pull(
                    pid,
                    entry.path,
                    remote.version,
                    remote.title,
                    self._norm(remote.parent_id),
                    "changed",
                    remote.kind,
                )
            )

        stale = (
            entry.path != record.local_path
            or meta_changed
            or remote_title_changed
            or remote_parent_changed
            or record.tombstone is not None
        )
        if len(self.actions) == before and stale:
            reason = "restored on both sides" if record.tombstone else "same change on both sides"
            if entry.path != record.local_path and not (meta_changed or remote_title_changed):
                reason = f"file moved from {record.local_path}"
            self.actions.append(
                RecordLocal(pid, entry.path, target_title, target_parent[0], reason)
            )

    def _placed_by_syncd(self, record: PageRecord, entry: LocalEntry) -> bool:
        """Is the file still in the directory it was recorded in, while its recorded
        parent is not a page syncd tracks (a folder, whiteboard, database or embed, or a
        parent it could not read)? Then a different "local parent" is only syncd not
        recognising the directory, never a move made by the user."""
        parent = self._norm(record.parent_id)
        if parent is None or parent in self.states:
            return False
        same_dir = PurePosixPath(entry.path).parent == PurePosixPath(record.local_path).parent
        return same_dir

    def _push_meta(
        self,
        pid: str,
        entry: LocalEntry,
        remote: RemoteEntry,
        title: str,
        parent: ParentRef,
        *,
        reparent_ok: bool = True,
    ) -> bool:
        """MoveRemote when the wanted title/parent differ from the remote's.

        Returns False (and holds the page) when the new title is taken. `reparent_ok`
        False: the title only (the remote parent is one this run cannot place).
        """
        rename = title != remote.title
        is_root = pid == self.opts.root_page_id or entry.kind != "page"
        reparent = reparent_ok and not is_root and parent != (self._norm(remote.parent_id), None)
        if not (rename or reparent):
            return True
        if rename and entry.kind == "page":
            owners = [p for p in self.titles_in_use.get(("page", title), []) if p != pid]
            if owners:
                self.held.append(
                    Held(
                        pid,
                        entry.path,
                        f"cannot rename to {title!r}: page {owners[0]} already has that title",
                    )
                )
                return False
        self.actions.append(
            MoveRemote(
                pid,
                entry.path,
                title=title if rename else None,
                parent_changed=reparent,
                parent_id=parent[0] if reparent else None,
                parent_path=parent[1] if reparent else None,
            )
        )
        return True

    # ------------------------------------------------------------------ guard

    def _guard_deletions(self) -> BlockedDeletions | None:
        destructive = [a for a in self.actions if a.destructive]
        if not destructive or self.opts.allow_delete:
            return None
        remote_side = [a for a in destructive if isinstance(a, TrashRemote)]
        local_side = [a for a in destructive if isinstance(a, MoveLocalToTrash)]
        reasons = []
        if len(remote_side) > self.opts.max_delete:
            reasons.append(
                f"{len(remote_side)} pages would be moved to the Confluence trash "
                f"(more than max_delete={self.opts.max_delete})"
            )
        if len(local_side) > self.opts.max_delete:
            reasons.append(
                f"{len(local_side)} files would be moved to the local trash "
                f"(more than max_delete={self.opts.max_delete})"
            )
        if self.dirty is None:
            tracked = sum(1 for r in self.states.values() if r.tombstone is None)
            if tracked and remote_side and not self.entries:
                reasons.append(
                    "the local folder is empty although pages are tracked (unmounted or moved?)"
                )
            if (
                tracked
                and local_side
                and not any(r.status == "current" for r in self.remotes.values())
            ):
                reasons.append(
                    "the remote listing is empty although pages are tracked "
                    "(permissions or a failed listing?)"
                )
        if not reasons:
            return None
        self.actions = [a for a in self.actions if not a.destructive]
        reason = (
            "; ".join(reasons)
            + ". Nothing was deleted; run `syncd sync --allow-delete` to proceed."
        )
        return BlockedDeletions(reason, tuple(sorted(destructive, key=self._order_key)))

    # ------------------------------------------------------------------ order

    def _remote_depth(self, pid: str) -> int:
        """Depth in the remote tree (top-level pages are 1, like top-level files)."""
        if pid == self.opts.root_page_id:
            return 0
        depth, current, seen = 0, pid, set()
        while current is not None and current not in seen:
            seen.add(current)
            entry = self.remotes.get(current)
            if entry is None:
                break
            depth += 1
            current = self._norm(entry.parent_id)
        return max(depth, 1)

    @staticmethod
    def _path_depth(path: str) -> int:
        return path.count("/") + 1

    def _order_key(self, action: Action) -> tuple[int, int, int, str]:
        if isinstance(action, Forget | RecordLocal):
            return (0, 0, 0, action.path)
        if isinstance(action, TrashRemote | MoveLocalToTrash):
            return (3, -self._path_depth(action.path), 0, action.path)
        if isinstance(action, Push | Merge) or (
            isinstance(action, Pull) and action.reason == "changed"
        ):
            return (2, self._path_depth(action.path or ""), 0, action.path or "")
        if isinstance(action, CreateRemote | MoveRemote) or (
            isinstance(action, RestoreRemote) and action.path
        ):
            depth = self._path_depth(action.path)
        elif isinstance(action, MoveLocal):  # depth of where it goes
            if action.parent_id is not None:
                depth = self._remote_depth(action.parent_id) + 1
            elif action.parent_path is not None:
                depth = self._path_depth(action.parent_path) + 1
            else:
                depth = 1
        else:
            depth = self._remote_depth(action.page_id)  # type: ignore[attr-defined]
        key = getattr(action, "path", None) or ""
        return (1, depth, _RANK.get(type(action), 9), key)
