"""An in-memory model of both sides that applies a Plan the way the executor must.

It is the reference for the action semantics documented in `syncd.sync.model`:
the convergence property test plans, applies and re-plans until nothing is
left, then checks both sides agree and no authored line was lost. Conflicts are
resolved "keep-both" (remote content in the file, local content in a
`.conflict-N.md` copy that the scan ignores), so every run can converge.
Labels are modelled like the executor handles them: the front matter's set and
the page's set, merged three-way (each side's additions and removals against
the record); a label edit in Confluence bumps no version.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from syncd.sync.merge import merge_markdown
from syncd.sync.model import (
    Action,
    CreateRemote,
    Forget,
    Link,
    LocalEntry,
    Merge,
    MoveLocal,
    MoveLocalToTrash,
    MoveRemote,
    Plan,
    Pull,
    Push,
    RecordLocal,
    RemoteEntry,
    RestoreRemote,
    TrashRemote,
    body_hash,
)
from syncd.sync.records import PageRecord, Tombstone

ROOT = "root"


@dataclass
class RPage:
    title: str
    parent: str
    version: int
    body: str
    status: str = "current"
    labels: frozenset[str] = frozenset()


@dataclass
class LFile:
    page_id: str | None
    title: str
    body: str
    labels: frozenset[str] = frozenset()


@dataclass
class World:
    remote: dict[str, RPage] = field(default_factory=dict)
    local: dict[str, LFile] = field(default_factory=dict)
    state: dict[str, PageRecord] = field(default_factory=dict)
    trash: list[tuple[str, LFile]] = field(default_factory=list)
    copies: dict[str, str] = field(default_factory=dict)
    purged_bodies: list[str] = field(default_factory=list)
    counter: int = 0
    log: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ snapshots

    def scan(self) -> list[LocalEntry]:
        return [
            LocalEntry(path, f.page_id, f.title, body_hash(f.body), labels=tuple(f.labels))
            for path, f in sorted(self.local.items())
        ]

    def listing(self) -> dict[str, RemoteEntry]:
        return {
            pid: RemoteEntry(
                pid,
                r.title,
                r.parent,
                r.version,
                r.status,  # type: ignore[arg-type]
                labels=tuple(r.labels),
            )
            for pid, r in self.remote.items()
        }

    def new_id(self) -> str:
        self.counter += 1
        return f"n{self.counter}"

    # ------------------------------------------------------------------ layout helpers

    def path_of(self, pid: str) -> str | None:
        """The file that carries this id (the record's path first)."""
        rec = self.state.get(pid)
        if rec and rec.local_path in self.local and self.local[rec.local_path].page_id == pid:
            return rec.local_path
        for path, f in sorted(self.local.items()):
            if f.page_id == pid:
                return path
        return None

    def free_path(self, title: str, parent_path: str | None, own: str | None = None) -> str:
        folder = f"{parent_path[:-3]}/" if parent_path else ""
        candidate, n = f"{folder}{title}.md", 1
        while candidate in self.local and candidate != own:
            n += 1
            candidate = f"{folder}{title} ({n}).md"
        return candidate

    def parent_file(self, parent_id: str | None, parent_path: str | None = None) -> str | None:
        if parent_id and parent_id != ROOT:
            return self.path_of(parent_id)
        return self.cur(parent_path)

    def resolve_parent(self, parent_id: str | None, parent_path: str | None) -> str:
        """Like Confluence: a parent must be a current page (or the root)."""
        if parent_id:
            owner = parent_id
        elif parent_path:
            owner = self.local[self.cur(parent_path)].page_id
            assert owner, f"parent {parent_path} was not created before its child"
        else:
            return ROOT
        assert owner in self.remote and self.remote[owner].status == "current", (
            f"parent {owner} is not a current page"
        )
        return owner

    def record(self, pid: str, path: str, **kw: object) -> None:
        f = self.local[path]
        old = self.state.get(pid)
        base = dict(
            page_id=pid,
            local_path=path,
            title=f.title,
            parent_id=old.parent_id if old else ROOT,
            remote_version=old.remote_version if old else 0,
            base_markdown=old.base_markdown if old else f.body,
            local_hash=old.local_hash if old else body_hash(f.body),
            labels=old.labels if old else tuple(sorted(f.labels)),
        )
        base.update(kw)
        if "base_markdown" in kw:
            base["local_hash"] = body_hash(kw["base_markdown"])  # type: ignore[arg-type]
        self.state[pid] = PageRecord(**base, tombstone=None)  # type: ignore[arg-type]

    def synced(self, pid: str, path: str) -> None:
        r = self.remote[pid]
        self.record(
            pid,
            path,
            title=r.title,
            parent_id=r.parent,
            remote_version=r.version,
            base_markdown=r.body,
            labels=tuple(sorted(r.labels)),
        )

    def keep_both(self, path: str, local_body: str) -> None:
        n = len(self.copies) + 1
        self.copies[f"{path[:-3]}.conflict-{n}.md"] = local_body

    # ------------------------------------------------------------------ executor

    def cur(self, path: str | None) -> str | None:
        """A planning-time path after the folder moves made earlier in this plan."""
        for old, new in self.moves:
            if path == old:
                path = new
            elif path is not None and path.startswith(old[:-3] + "/"):
                path = new[:-3] + "/" + path[len(old) - 2 :]
        return path

    def apply(self, plan: Plan) -> None:
        self.moves: list[tuple[str, str]] = []
        for action in plan.actions:
            self.log.append(action.describe())
            getattr(self, f"_do_{type(action).__name__}")(action)

    def _do_Pull(self, a: Pull) -> None:
        r = self.remote[a.page_id]
        path = self.path_of(a.page_id)
        if path is None:
            wanted = self.cur(a.path)
            wanted = wanted if wanted and wanted not in self.local else None
            path = wanted or self.free_path(r.title, self.parent_file(r.parent))
        self.local[path] = LFile(a.page_id, r.title, r.body, r.labels)
        self.synced(a.page_id, path)

    def _do_Push(self, a: Push) -> None:
        rec, r = self.state[a.page_id], self.remote[a.page_id]
        path = self.path_of(a.page_id)
        assert r.version == rec.remote_version, "push would be a 409 (plan out of date)"
        f = self.local[path]
        r.labels = merge_labels(frozenset(rec.labels), f.labels, r.labels)
        if f.body != r.body:  # a label-only edit is no page update
            r.body, r.version = f.body, r.version + 1
        self.synced(a.page_id, path)

    def _merge(self, pid: str, path: str, base: str | None) -> None:
        r, f = self.remote[pid], self.local[path]
        rec = self.state.get(pid)
        base_labels = frozenset(rec.labels) if rec else frozenset()  # a link: the union
        labels = merge_labels(base_labels, f.labels, r.labels)
        result = merge_markdown(base, f.body, r.body)
        f.page_id = pid
        if result.text == r.body:
            f.body = r.body
        elif result.clean:
            f.body = r.body = result.text
            r.version += 1
        else:
            # keep-both: Confluence's body in the file, the merged labels too; the record
            # keeps Confluence's labels, so the merged set is pushed on the next run
            self.keep_both(path, f.body)
            f.body = r.body
            f.labels = labels
            self.synced(pid, path)
            return
        f.labels = r.labels = labels
        self.synced(pid, path)

    def _do_Merge(self, a: Merge) -> None:
        self._merge(a.page_id, self.path_of(a.page_id), self.state[a.page_id].base_markdown)

    def _do_Link(self, a: Link) -> None:
        path = self.cur(a.path)
        self.local[path].page_id = a.page_id
        self._merge(a.page_id, path, None)

    def _do_CreateRemote(self, a: CreateRemote) -> None:
        pid = self.new_id()
        parent = self.resolve_parent(a.parent_id, a.parent_path)
        path = self.cur(a.path)
        if a.placeholder:
            self.local[path] = LFile(pid, a.title, "")
        f = self.local[path]
        f.page_id = pid
        self.remote[pid] = RPage(a.title, parent, 1, f.body, labels=f.labels)
        if a.recreate_of:
            self.state.pop(a.recreate_of, None)
        self.synced(pid, path)

    def _do_MoveRemote(self, a: MoveRemote) -> None:
        rec, r = self.state.get(a.page_id), self.remote[a.page_id]
        fetched = r.version
        if a.title is not None:
            r.title = a.title
        if a.parent_changed:
            r.parent = self.resolve_parent(a.parent_id, a.parent_path)
        r.version += 1
        version = (
            r.version
            if rec and fetched == rec.remote_version
            else (rec.remote_version if rec else 0)
        )
        self.record(
            a.page_id,
            self.path_of(a.page_id),
            title=r.title,
            parent_id=r.parent,
            remote_version=version,
        )

    def _do_MoveLocal(self, a: MoveLocal) -> None:
        old = self.path_of(a.page_id)
        new = self.free_path(a.title, self.parent_file(a.parent_id, a.parent_path), own=old)
        self.moves.append((old, new))
        old_dir, new_dir = f"{old[:-3]}/", f"{new[:-3]}/"
        f = self.local.pop(old)
        f.title = a.title
        self.local[new] = f
        for path in [p for p in self.local if p.startswith(old_dir)]:
            self.local[new_dir + path[len(old_dir) :]] = self.local.pop(path)
        for pid, rec in list(self.state.items()):
            if rec.local_path.startswith(old_dir):
                self.state[pid] = replace(rec, local_path=new_dir + rec.local_path[len(old_dir) :])
        parent = self.resolve_parent(a.parent_id, a.parent_path)
        self.record(a.page_id, new, title=a.title, parent_id=parent)

    def _do_RecordLocal(self, a: RecordLocal) -> None:
        self.record(
            a.page_id, self.path_of(a.page_id), title=a.title, parent_id=a.parent_id or ROOT
        )

    def _do_TrashRemote(self, a: TrashRemote) -> None:
        self._remote_delete(a.page_id, "trashed")
        self.state[a.page_id] = replace(self.state[a.page_id], tombstone=Tombstone("local", 1.0))

    def _do_MoveLocalToTrash(self, a: MoveLocalToTrash) -> None:
        path = self.path_of(a.page_id)
        self.trash.append((path, self.local.pop(path)))
        if a.remote_status == "trashed":
            self.state[a.page_id] = replace(
                self.state[a.page_id], tombstone=Tombstone("remote", 1.0, path)
            )
        else:
            del self.state[a.page_id]

    def _do_RestoreRemote(self, a: RestoreRemote) -> None:
        r = self.remote[a.page_id]
        r.status = "current"
        parent = self.remote.get(r.parent)
        if r.parent != ROOT and (parent is None or parent.status != "current"):
            r.parent = ROOT  # restored without its parent: at the top, like Confluence
        path = self.path_of(a.page_id)
        if a.page_id in self.state and path is not None:  # else the Pull that follows records
            self.record(a.page_id, path)

    def _do_Forget(self, a: Forget) -> None:
        del self.state[a.page_id]

    # ------------------------------------------------------------------ remote edits

    def _remote_delete(self, pid: str, status: str) -> None:
        """Trash or purge; like Confluence, children move up to the grandparent."""
        r = self.remote[pid]
        for child in self.remote.values():
            if child.parent == pid and child.status == "current":
                child.parent = r.parent
        if status == "absent":
            self.purged_bodies.append(" ".join([r.body, *sorted(r.labels)]))
            del self.remote[pid]
        else:
            r.status = status

    def descendants(self, pid: str) -> set[str]:
        out, frontier = set(), [pid]
        while frontier:
            cur = frontier.pop()
            for k, r in self.remote.items():
                if r.parent == cur and k not in out:
                    out.add(k)
                    frontier.append(k)
        return out


def merge_labels(
    base: frozenset[str], local: frozenset[str], remote: frozenset[str]
) -> frozenset[str]:
    """Three-way label merge, as the executor does: remote plus local additions, minus
    local removals."""
    return (remote | (local - base)) - (base - local)


def all_actions(plan: Plan) -> list[Action]:
    return list(plan.actions) + list(
        plan.blocked_deletions.actions if plan.blocked_deletions else []
    )
