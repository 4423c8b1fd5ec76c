"""Containers (Cloud folders, whiteboards, databases, embeds) -> directories. Pure planning.

A page in Confluence Cloud can hang under content that is not a page: a folder (v2
``parentType: "folder"``, ../shared/realapi/cloud_v2_page_in_folder_create_answer.json),
a whiteboard, a database or an embed (openapi-v2 ``ParentContentType``). Locally such a
container is a directory with no ``.md`` of its own: ``DailyNotes/Standup.md``.

`plan_containers` compares the recorded containers with what Confluence says about them
now and with the directories found locally, and returns the structure steps to take
before the pages are reconciled (record new containers, follow renames and moves on
either side) and the deletions to take after them (a folder trashed on one side
trashes the directory / the folder on the other, once its pages went the page way).
It also hands the page reconcile the map "directory -> container" (`ContainerMap`):
with it a file in a folder's directory has that folder as its parent, so a page is
only ever moved in Confluence when its file moved.

Rules
* Only folders are written by syncd (create, rename, move, trash). A whiteboard,
  database or embed whose directory was renamed or removed locally stays as it is in
  Confluence; the directory keeps its new name (recorded), with one note.
* A container that could not be read keeps its record; without a record its pages go
  into a directory named ``<kind> <id>`` (a note says so) until it can be read. Nothing
  in Confluence moves because of it.
* A directory renamed or moved locally is recognised by its pages: every tracked page
  that was under it is now under one other directory at the same relative place.
* Both sides renamed/moved a container differently: Confluence wins (as for pages).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import ClassVar, Literal

from syncd.local.names import safe_stem
from syncd.sync.model import LocalEntry
from syncd.sync.records import ContainerRecord, PageRecord

#: ``outside``: current, but moved out of the configured ``root_page`` subtree.
ContainerStatus = Literal["current", "trashed", "absent", "unknown", "outside"]


@dataclass(frozen=True)
class RemoteContainer:
    """A container as Confluence showed it this run (`status` unknown: it could not be read)."""

    container_id: str
    kind: str
    title: str
    parent_id: str | None
    version: int = 0
    status: ContainerStatus = "current"


@dataclass(frozen=True)
class ContainerMap:
    """What the page reconcile needs to know of containers.

    `dirs`: the page-file form of each container directory (``"Notes.md"`` for the
    directory ``Notes``; that is how a file's folder is named in `LocalEntry.parent_path`)
    -> container id. `status`: container id -> its remote status.
    """

    dirs: Mapping[str, str] = field(default_factory=dict)
    status: Mapping[str, str] = field(default_factory=dict)
    #: Directories of folders syncd moved to the local trash because they are in the
    #: Confluence trash (page-file form -> id): a file put back there waits for the folder.
    trashed: Mapping[str, str] = field(default_factory=dict)

    def at(self, parent_path: str | None) -> str | None:
        return self.dirs.get(parent_path) if parent_path else None


@dataclass(frozen=True)
class ContainerAction:
    verb: ClassVar[str] = "?"
    destructive: ClassVar[bool] = False
    #: Runs after the page actions (deletions wait for the pages to go first).
    after_pages: ClassVar[bool] = False

    container_id: str
    path: str

    def describe(self) -> str:  # pragma: no cover - every subclass overrides
        raise NotImplementedError


@dataclass(frozen=True)
class RecordContainer(ContainerAction):
    """Record a container found in Confluence (new, restored or unreadable) and create
    its directory."""

    kind: str = "folder"
    title: str = ""
    parent_id: str | None = None
    version: int = 0
    reason: str = "new in Confluence"
    verb: ClassVar[str] = "record-folder"

    def describe(self) -> str:
        return f"{self.kind} {self.title!r} -> directory {self.path}/ ({self.reason})"


@dataclass(frozen=True)
class MoveContainerLocal(ContainerAction):
    """Confluence renamed or moved the container: move its directory (pages inside follow)."""

    kind: str = "folder"
    title: str = ""
    parent_id: str | None = None
    version: int = 0
    verb: ClassVar[str] = "move-folder-local"

    def describe(self) -> str:
        return (
            f"move directory {self.path}/ for {self.kind} {self.title!r} "
            f"({self.kind} {self.container_id} renamed or moved in Confluence)"
        )


@dataclass(frozen=True)
class UpdateContainerRemote(ContainerAction):
    """The directory was renamed or moved locally: rename/move the folder in Confluence.

    `title` None: unchanged; `parent_changed` with `parent_id` None: to the top level
    (under the space home page). `path` is the directory's new place.
    """

    from_path: str = ""
    title: str | None = None
    parent_changed: bool = False
    parent_id: str | None = None
    verb: ClassVar[str] = "move-folder-remote"

    def describe(self) -> str:
        parts = []
        if self.title is not None:
            parts.append(f"rename to {self.title!r}")
        if self.parent_changed:
            parts.append(f"move under {f'{self.parent_id}' if self.parent_id else 'the top'}")
        return (
            f"{' and '.join(parts)} in Confluence (folder {self.container_id}, "
            f"{self.from_path}/ -> {self.path}/)"
        )


@dataclass(frozen=True)
class RecordContainerPath(ContainerAction):
    """State only: the container's directory is now `path` (nothing changes remotely)."""

    reason: str = ""
    verb: ClassVar[str] = "record-folder-path"

    def describe(self) -> str:
        return f"record directory {self.path}/ for container {self.container_id} ({self.reason})"


@dataclass(frozen=True)
class TrashContainerLocal(ContainerAction):
    """The container was trashed (or deleted) in Confluence: once its pages went to the
    local trash, the directory (whatever is left in it) goes there too."""

    remote_status: str = "trashed"
    destructive: ClassVar[bool] = True
    after_pages: ClassVar[bool] = True
    verb: ClassVar[str] = "trash-folder-local"

    def describe(self) -> str:
        why = self.remote_status
        if why == "outside":
            why = "moved out of confluence.root_page"
        return (
            f"move directory {self.path}/ to the local trash (folder {self.container_id} "
            f"was {why} in Confluence)"
        )


@dataclass(frozen=True)
class TrashContainerRemote(ContainerAction):
    """The directory was removed locally: once its pages are in the Confluence trash,
    move the folder there too (v2 DELETE /folders/{id} is a move to the trash)."""

    title: str = ""
    destructive: ClassVar[bool] = True
    after_pages: ClassVar[bool] = True
    verb: ClassVar[str] = "trash-folder-remote"

    def describe(self) -> str:
        return (
            f"move folder {self.container_id} {self.title!r} to the Confluence trash "
            f"({self.path}/ was deleted)"
        )


@dataclass(frozen=True)
class ForgetContainer(ContainerAction):
    reason: str = ""
    verb: ClassVar[str] = "forget-folder"

    def describe(self) -> str:
        return f"forget container {self.container_id} ({self.path}/: {self.reason})"


@dataclass(frozen=True)
class ContainerPlan:
    actions: tuple[ContainerAction, ...] = ()
    notes: tuple[str, ...] = ()
    #: The map the page reconcile uses (directories after this plan, and before it).
    map: ContainerMap = field(default_factory=ContainerMap)

    @property
    def before_pages(self) -> tuple[ContainerAction, ...]:
        return tuple(a for a in self.actions if not a.after_pages)

    @property
    def after_pages(self) -> tuple[ContainerAction, ...]:
        """Deletions, outermost directories first: a folder's deletion takes the folders
        inside it along (one trash entry, one restore)."""
        return tuple(
            sorted(
                (a for a in self.actions if a.after_pages),
                key=lambda a: (a.path.count("/"), a.path),
            )
        )

    def describe(self) -> list[str]:
        return [a.describe() for a in self.actions] + [f"note: {n}" for n in self.notes]


def stand_in_title(kind: str, container_id: str) -> str:
    """The directory name of a container that could not be read (and has no record)."""
    return f"{kind} {container_id}"


def _parent_dir(path: str) -> str:
    parent = PurePosixPath(path).parent.as_posix()
    return "" if parent == "." else parent


def _under(path: str, folder: str) -> bool:
    return path.startswith(folder + "/")


def plan_containers(
    records: Mapping[str, ContainerRecord],
    remote: Mapping[str, RemoteContainer],
    *,
    wanted_dirs: Mapping[str, str],
    present_dirs: Iterable[str],
    pages: Mapping[str, PageRecord],
    local_entries: Iterable[LocalEntry],
    root_page_id: str | None = None,
) -> ContainerPlan:
    """The container steps of one full run.

    `records`: recorded containers (deleted ones included). `remote`: containers read
    this run (those referenced by pages, and every recorded one). `wanted_dirs`: where the
    layout puts each remote container (new ones go there). `present_dirs`: which of the
    recorded directories (and their candidates) exist locally. `pages`: page records;
    `local_entries`: the scanned files (with ids), to recognise a directory moved locally.
    """
    present = set(present_dirs)
    actions: list[ContainerAction] = []
    notes: list[str] = []
    now_at: dict[str, str] = {}  # container id -> directory after this plan
    before: dict[str, str] = {}  # container id -> directory before (dry runs map both)
    status: dict[str, str] = {}
    file_of = {e.page_id: e.path for e in local_entries if e.page_id}
    page_dirs = {p.local_path[:-3] for p in pages.values() if p.tombstone is None}
    live = {cid: r for cid, r in records.items() if r.deleted is None}
    container_dirs = {r.local_path for r in live.values()}

    def norm(parent: str | None) -> str | None:
        return None if parent is None or parent == root_page_id else parent

    # Local renames: a recorded directory that is gone while its pages sit elsewhere.
    moved_locally: dict[str, str] = {}
    for _cid, record in sorted(live.items(), key=lambda kv: kv[1].local_path.count("/")):
        old = record.local_path
        for a_old, a_new in moved_locally.items():  # a parent directory moved first
            if _under(old, a_old):
                old = a_new + old[len(a_old) :]
        if old in present:
            if old != record.local_path:
                moved_locally[record.local_path] = old
            continue
        candidates: set[str] = set()
        for page in pages.values():
            if page.tombstone is not None:
                continue
            if page.parent_id == record.container_id and not _under(
                page.local_path, record.local_path
            ):
                # Recorded elsewhere already (an earlier run followed the files): the
                # directory its file is in now.
                found = file_of.get(page.page_id)
                if found is not None:
                    candidates.add(_parent_dir(found))
                continue
            if not _under(page.local_path, record.local_path):
                continue
            found = file_of.get(page.page_id)
            rest = page.local_path[len(record.local_path) + 1 :]
            if found is None:
                continue
            if not found.endswith("/" + rest) and found != rest:
                candidates.add("\0")  # moved elsewhere on its own: not a directory move
                continue
            candidates.add(found[: -len(rest) - 1] if found != rest else "")
        if len(candidates) == 1:
            (target,) = candidates
            if target not in ("\0", "") and target not in container_dirs - {old}:
                if target not in page_dirs:
                    moved_locally[record.local_path] = target

    page_at_dir = {path[:-3]: pid for pid, path in file_of.items()}

    def owner_of(directory: str) -> str | None:
        """The page or container whose directory `directory` is, after this plan
        (None: the top; NUL: nothing known)."""
        if directory == "":
            return None
        for cid, path in now_at.items():
            if path == directory:
                return cid
        if directory in page_at_dir:
            return page_at_dir[directory]
        return "\0"

    for cid, record in sorted(records.items(), key=lambda kv: kv[1].local_path.count("/")):
        rc = remote.get(cid)
        state = rc.status if rc is not None else "unknown"
        status[cid] = state
        if record.deleted is not None:
            if state == "current" and rc is not None:
                path = wanted_dirs.get(cid, record.local_path)
                actions.append(
                    RecordContainer(
                        cid, path, rc.kind, rc.title, rc.parent_id, rc.version, "restored"
                    )
                )
                now_at[cid] = path
            elif state in ("absent", "outside"):
                actions.append(ForgetContainer(cid, record.local_path, "deleted on both sides"))
            continue
        before[cid] = record.local_path
        now_at[cid] = record.local_path
        local_new = moved_locally.get(record.local_path)
        if state == "unknown" or rc is None:
            if rc is not None:
                notes.append(
                    f"{record.kind} {record.title!r} ({cid}) could not be read; "
                    f"{record.local_path}/ and its pages stay as they are"
                )
            if local_new is not None:
                actions.append(
                    RecordContainerPath(
                        cid,
                        local_new,
                        "moved locally; Confluence could not be asked, so nothing changes there",
                    )
                )
                now_at[cid] = local_new
            continue
        if state in ("trashed", "absent", "outside"):
            actions.append(TrashContainerLocal(cid, local_new or record.local_path, state))
            continue
        remote_changed = rc.title != record.title or norm(rc.parent_id) != norm(record.parent_id)
        if remote_changed:
            if local_new is not None:
                notes.append(
                    f"{record.local_path}/: moved or renamed locally and in Confluence; "
                    "keeping the Confluence place"
                )
            target = wanted_dirs.get(cid) or _join(
                _parent_dir(local_new or record.local_path), safe_stem(rc.title)
            )
            actions.append(
                MoveContainerLocal(
                    cid,
                    local_new or record.local_path,
                    rc.kind,
                    rc.title,
                    rc.parent_id,
                    rc.version,
                )
            )
            now_at[cid] = target
            continue
        if local_new is not None:
            now_at[cid] = local_new
            new_name = PurePosixPath(local_new).name
            title = None if new_name == safe_stem(record.title) else new_name
            owner = owner_of(_parent_dir(local_new))
            if owner == "\0":
                actions.append(
                    RecordContainerPath(cid, local_new, "moved locally into a new directory")
                )
                notes.append(
                    f"{record.local_path}/ -> {local_new}/: the new parent directory is not "
                    "synced yet; the move is carried over once it is"
                )
                continue
            parent_changed = norm(owner) != norm(record.parent_id)
            if title is None and not parent_changed:
                actions.append(RecordContainerPath(cid, local_new, "moved with its parent"))
                continue
            if record.kind != "folder":
                actions.append(
                    RecordContainerPath(
                        cid,
                        local_new,
                        f"{record.kind} {record.title!r} moved or renamed locally; syncd "
                        f"does not move or rename a {record.kind} in Confluence",
                    )
                )
                notes.append(
                    f"{record.local_path}/ -> {local_new}/: a {record.kind} is not renamed or "
                    "moved in Confluence by syncd; the directory keeps its new name"
                )
                continue
            actions.append(
                UpdateContainerRemote(
                    cid,
                    local_new,
                    from_path=record.local_path,
                    title=title,
                    parent_changed=parent_changed,
                    parent_id=norm(owner),
                )
            )
            continue
        if record.local_path not in present:
            # Removed locally: its pages are deletions of the page plan; the folder
            # follows them once they are in the trash.
            if record.kind == "folder":
                actions.append(TrashContainerRemote(cid, record.local_path, record.title))
            else:
                notes.append(
                    f"{record.local_path}/: {record.kind} {record.title!r} is kept in "
                    f"Confluence (syncd does not delete a {record.kind}); its directory "
                    "comes back when it is synced again"
                )

    for cid, rc in sorted(remote.items()):
        if cid in records:
            continue
        status[cid] = rc.status
        if rc.status != "current" and rc.status != "unknown":
            continue
        path = wanted_dirs.get(cid) or safe_stem(rc.title)
        reason = "new in Confluence"
        if rc.status == "unknown":
            reason = "could not be read; its pages are kept here until it can be"
            notes.append(
                f"{rc.kind} {cid} could not be read; its pages are put in {path}/ and stay "
                "where they are in Confluence"
            )
        actions.append(
            RecordContainer(cid, path, rc.kind, rc.title, rc.parent_id, rc.version, reason)
        )
        now_at[cid] = path

    dirs = {f"{p}.md": cid for cid, p in before.items()}
    dirs.update({f"{p}.md": cid for cid, p in now_at.items()})
    trashed = {
        f"{r.local_path}.md": cid
        for cid, r in records.items()
        if r.deleted == "remote" and status.get(cid) == "trashed"
    }
    return ContainerPlan(tuple(actions), tuple(notes), ContainerMap(dirs, status, trashed))


def container_map(records: Mapping[str, ContainerRecord]) -> ContainerMap:
    """The map for a run that does not read containers (a targeted run): the records."""
    live = {cid: r for cid, r in records.items() if r.deleted is None}
    return ContainerMap(
        {f"{r.local_path}.md": cid for cid, r in live.items()},
        {cid: "current" for cid in live},
        {f"{r.local_path}.md": cid for cid, r in records.items() if r.deleted == "remote"},
    )


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name
