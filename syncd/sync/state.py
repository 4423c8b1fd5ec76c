"""The state database: what each page looked like when last in sync.

One SQLite file (`state.db`) under `state_dir`, stdlib `sqlite3`:

* `journal_mode=WAL`: readers (`syncd status`) never block the writer.
* `synchronous=FULL`: a commit is on disk when `commit()` returns. With WAL,
  NORMAL can lose the last commits on power loss; that is harmless for pulls and
  pushes (they re-resolve as false conflicts) but not for the create intent
  journal, whose whole point is to be durable *before* the POST. Commits are per
  applied action, so the extra fsync is small next to the network round trip.
* `foreign_keys=ON`: tombstones and attachments die with their page.
* Schema versioned by `PRAGMA user_version` and the `MIGRATIONS` list; a newer
  database than this code understands is refused, never downgraded.

Commit ordering rule (how a crash at any point converges)
---------------------------------------------------------
Effect first, record second, one transaction per applied action:

1. Local effects: write the file atomically (temp, fsync, rename, dir fsync),
   *then* commit the record. A crash in between leaves a file whose body differs
   from the recorded base while the remote version is also newer than the
   record: the next reconcile plans `Merge`, whose executor sees local == remote
   and only records (the false-conflict rule). Nothing is pushed.
2. Remote effects: PUT with the base version, *then* commit the record. A crash
   in between: the remote is at base+1 and the file differs from the base, so
   again `Merge` resolves silently (the re-read remote equals the file).
3. Creates: commit a `PendingCreate` intent, POST, then in one transaction
   record the page and resolve the intent. On restart, a leftover intent is
   looked up remotely before any new POST.
4. Deletions: move the file to the local trash / trash the remote page, *then*
   commit the tombstone. A crash in between is re-planned as "deleted on both
   sides" and forgotten, or re-attempted idempotently.

A lock file (`syncd.lock`, `fcntl.flock`, held while open) makes one syncd per
state; passing `folder=` also locks `<folder>/.syncd/lock`, one syncd per folder.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from syncd.sync.records import (
    KEEP_BOTH,
    AttachmentRecord,
    ConflictRecord,
    ContainerRecord,
    PageRecord,
    PendingCreate,
    Tombstone,
    WebhookRecord,
)

DB_NAME = "state.db"
LOCK_NAME = "syncd.lock"
FOLDER_LOCK = (".syncd", "lock")
#: Delivery dedupe keys kept (oldest dropped first).
DELIVERY_KEYS_MAX = 10_000


class StateError(Exception):
    """The state database cannot be used."""


class StateLocked(StateError):
    """Another syncd holds the lock on this state directory or folder."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        who = f"pid {pid}" if pid else "another process"
        super().__init__(f"syncd is already running on this state/folder ({who} holds {path})")


class StateTooNew(StateError):
    """The database was written by a newer syncd (schema version above ours)."""


class StateCorrupt(StateError):
    """The state file is not a readable SQLite database."""


# One entry per schema version: MIGRATIONS[i] upgrades user_version i -> i + 1.
MIGRATIONS: list[Sequence[str]] = [
    (
        """CREATE TABLE pages (
            page_id        TEXT PRIMARY KEY,
            kind           TEXT NOT NULL CHECK (kind IN ('page', 'blogpost')),
            local_path     TEXT NOT NULL,
            title          TEXT NOT NULL,
            parent_id      TEXT,
            remote_version INTEGER NOT NULL,
            base_sidecar   TEXT,
            base_markdown  TEXT NOT NULL,
            labels         TEXT NOT NULL DEFAULT '[]',
            local_hash     TEXT NOT NULL,
            local_mtime_ns INTEGER,
            local_size     INTEGER,
            synced_at      REAL NOT NULL
        )""",
        "CREATE INDEX pages_by_path ON pages (local_path)",
        """CREATE TABLE tombstones (
            page_id    TEXT PRIMARY KEY REFERENCES pages (page_id) ON DELETE CASCADE,
            side       TEXT NOT NULL CHECK (side IN ('local', 'remote')),
            deleted_at REAL NOT NULL,
            trash_path TEXT
        )""",
        """CREATE TABLE attachments (
            attachment_id TEXT PRIMARY KEY,
            page_id       TEXT NOT NULL REFERENCES pages (page_id) ON DELETE CASCADE,
            file_name     TEXT NOT NULL,
            version       INTEGER NOT NULL,
            local_path    TEXT NOT NULL,
            hash          TEXT NOT NULL,
            size          INTEGER,
            mtime_ns      INTEGER
        )""",
        "CREATE INDEX attachments_by_page ON attachments (page_id)",
        """CREATE TABLE conflicts (
            id         INTEGER PRIMARY KEY AUTOINCREMENT,
            page_id    TEXT,
            path       TEXT NOT NULL,
            kind       TEXT NOT NULL,
            created_at REAL NOT NULL,
            detail     TEXT NOT NULL DEFAULT ''
        )""",
        """CREATE TABLE webhooks (
            webhook_id TEXT PRIMARY KEY,
            url        TEXT NOT NULL,
            secret_ref TEXT NOT NULL,
            created_at REAL NOT NULL
        )""",
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "CREATE TABLE deliveries (key TEXT PRIMARY KEY, seen_at REAL NOT NULL)",
        """CREATE TABLE pending_creates (
            client_key TEXT PRIMARY KEY,
            local_path TEXT NOT NULL,
            title      TEXT NOT NULL,
            parent_id  TEXT,
            kind       TEXT NOT NULL,
            created_at REAL NOT NULL
        )""",
    ),
    # The local scan's cache, one row per file, read and written row-wise (it was one
    # JSON value in `meta`, loaded and rewritten whole on every run). `area` is "page" or
    # "attachment"; `parsed` is what a page file's front matter and body said (JSON).
    (
        """CREATE TABLE scan_cache (
            path         TEXT PRIMARY KEY,
            area         TEXT NOT NULL CHECK (area IN ('page', 'attachment')),
            size         INTEGER NOT NULL,
            mtime_ns     INTEGER NOT NULL,
            inode        INTEGER NOT NULL,
            sha256       TEXT NOT NULL,
            certified_ns INTEGER NOT NULL,
            parsed       TEXT
        )""",
        "DELETE FROM meta WHERE key = 'scan_cache'",
    ),
    # Cloud containers (folders, whiteboards, databases, embeds): the directories pages
    # in them live in. `deleted` is NULL, 'local' or 'remote' (see ContainerRecord).
    (
        """CREATE TABLE containers (
            container_id TEXT PRIMARY KEY,
            kind         TEXT NOT NULL,
            title        TEXT NOT NULL,
            parent_id    TEXT,
            local_path   TEXT NOT NULL,
            version      INTEGER NOT NULL DEFAULT 0,
            synced_at    REAL NOT NULL,
            deleted      TEXT CHECK (deleted IN ('local', 'remote'))
        )""",
    ),
]

_PAGE_COLUMNS = (
    "page_id, kind, local_path, title, parent_id, remote_version, base_sidecar, "
    "base_markdown, labels, local_hash, local_mtime_ns, local_size, synced_at"
)
_PAGE_SELECT = (
    "SELECT p.page_id, p.kind, p.local_path, p.title, p.parent_id, p.remote_version, "
    "p.base_sidecar, p.base_markdown, p.labels, p.local_hash, p.local_mtime_ns, "
    "p.local_size, p.synced_at, t.side, t.deleted_at, t.trash_path "
    "FROM pages p LEFT JOIN tombstones t ON t.page_id = p.page_id"
)


def count_tracked_pages(state_dir: str | os.PathLike[str]) -> int:
    """Pages recorded in the state database, read without taking its lock (a running daemon
    may hold it); 0 when there is no database yet or it cannot be read."""
    path = Path(state_dir) / DB_NAME
    if not path.is_file():
        return 0
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error:
        return 0
    try:
        return int(conn.execute("SELECT COUNT(*) FROM pages").fetchone()[0])
    except sqlite3.Error:
        return 0
    finally:
        conn.close()


def _page_from_row(row: tuple) -> PageRecord:
    tomb = Tombstone(side=row[13], deleted_at=row[14], trash_path=row[15]) if row[13] else None
    return PageRecord(
        page_id=row[0],
        kind=row[1],
        local_path=row[2],
        title=row[3],
        parent_id=row[4],
        remote_version=row[5],
        base_sidecar=row[6],
        base_markdown=row[7],
        labels=tuple(json.loads(row[8])),
        local_hash=row[9],
        local_mtime_ns=row[10],
        local_size=row[11],
        synced_at=row[12],
        tombstone=tomb,
    )


class _FileLock:
    """An exclusive `flock` on a file holding the owner's PID; released on close."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            pid = _read_pid(fd)
            os.close(fd)
            raise StateLocked(path, pid) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n{time.time():.0f}\n".encode(), 0)
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            # Closing drops the flock; the file stays (unlinking would race a new owner).
            os.close(self._fd)
            self._fd = None


def _read_pid(fd: int) -> int | None:
    try:
        first = os.pread(fd, 64, 0).split(b"\n", 1)[0]
        return int(first) if first.strip() else None
    except (OSError, ValueError):
        return None


class StateDB:
    """Access to the state database. Open with `StateDB.open(state_dir)`.

    Single writer (the lock guarantees it); methods are safe to call from
    several threads of that process (one connection behind an RLock). Every
    write method is atomic on its own; group writes with `transaction()`.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, locks: list[_FileLock]) -> None:
        self._conn = conn
        self.path = path
        self._locks = locks
        self._mutex = threading.RLock()
        self._depth = 0
        self._group = False

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def open(
        cls, state_dir: str | os.PathLike[str], *, folder: str | os.PathLike[str] | None = None
    ) -> StateDB:
        """Lock `state_dir` (and `folder`), open or create the database, migrate it.

        Raises `StateLocked` naming the holder's PID when another syncd has it,
        `StateTooNew` when the schema is newer than this code.
        """
        state_dir = Path(state_dir)
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)  # copies of pages, secrets
        locks = [_FileLock(state_dir / LOCK_NAME)]
        try:
            if folder is not None:
                locks.append(_FileLock(Path(folder).joinpath(*FOLDER_LOCK)))
            path = state_dir / DB_NAME
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
                conn.execute("PRAGMA foreign_keys=ON")
                conn.execute("PRAGMA busy_timeout=5000")
                db = cls(conn, path, locks)
                db._migrate()
                if folder is not None:
                    db._check_folder(Path(folder))
            except sqlite3.DatabaseError as exc:
                conn.close()
                if isinstance(exc, sqlite3.OperationalError) and "syntax" in str(exc):
                    raise  # a broken migration is a bug, not a corrupt file
                raise StateCorrupt(
                    f"{path} is not a usable state database ({exc}); move it away to "
                    "start over (syncd then re-links files and pages without deleting any)"
                ) from exc
            except BaseException:
                conn.close()
                raise
        except BaseException:
            for lock in locks:
                lock.release()
            raise
        return db

    def close(self) -> None:
        with self._mutex:
            if self._conn is not None:
                self._conn.close()
                self._conn = None  # type: ignore[assignment]
            for lock in self._locks:
                lock.release()

    def __enter__(self) -> StateDB:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self._conn.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        current = self.schema_version
        if current > len(MIGRATIONS):
            raise StateTooNew(
                f"{self.path} has schema version {current}; this syncd knows up to "
                f"{len(MIGRATIONS)}. Upgrade syncd or use another state_dir."
            )
        for version in range(current, len(MIGRATIONS)):
            with self.transaction():
                for statement in MIGRATIONS[version]:
                    self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version = {version + 1}")

    def _check_folder(self, folder: Path) -> None:
        resolved = str(folder.resolve())
        known = self.get_meta("folder")
        if known is None:
            self.set_meta("folder", resolved)
        elif known != resolved:
            raise StateError(
                f"state in {self.path.parent} belongs to folder {known}, not {resolved}"
            )

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[StateDB]:
        """All writes inside commit together or not at all.

        Nested blocks join the outermost transaction. An exception rolls the
        whole transaction back and propagates. Inside a group (`begin_group`), a
        block is a savepoint of the group: an exception undoes that block only.
        """
        with self._mutex:
            if self._depth and not (self._group and self._depth == 1):
                self._depth += 1  # joins the block it is in
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            if self._depth:  # an action's block inside a group: a savepoint
                self._conn.execute("SAVEPOINT block")
                self._depth += 1
                try:
                    yield self
                except BaseException:
                    self._conn.execute("ROLLBACK TO block")
                    raise
                finally:
                    self._depth -= 1
                    self._conn.execute("RELEASE block")
                return
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._conn.execute("COMMIT")

    # ------------------------------------------------------------------ group commit

    @property
    def in_group(self) -> bool:
        return self._group

    def begin_group(self) -> None:
        """Open one transaction that the writes of several actions join, committed by
        `end_group`: one commit (one fsync) for many records. Only for effect-first
        records (pulls), whose loss in a crash the next run re-derives; the caller makes
        the records' effects durable before `end_group` (see `executor.durability`)."""
        with self._mutex:
            if self._depth:
                raise StateError("begin_group inside a transaction")
            self._conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            self._group = True

    def end_group(self, *, commit: bool = True) -> None:
        """Commit (or roll back) the group opened by `begin_group` (no-op without one)."""
        with self._mutex:
            if not self._group:
                return
            self._group = False
            self._depth = 0
            self._conn.execute("COMMIT" if commit else "ROLLBACK")

    def _write(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Cursor:
        with self.transaction():
            return self._conn.execute(sql, params)

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        with self._mutex:
            return self._conn.execute(sql, params).fetchall()

    # ------------------------------------------------------------------ pages

    def get_page(self, page_id: str) -> PageRecord | None:
        rows = self._read(_PAGE_SELECT + " WHERE p.page_id = ?", (page_id,))
        return _page_from_row(rows[0]) if rows else None

    def find_page_by_path(self, local_path: str) -> PageRecord | None:
        rows = self._read(
            _PAGE_SELECT + " WHERE p.local_path = ? ORDER BY p.page_id", (local_path,)
        )
        return _page_from_row(rows[0]) if rows else None

    def pages(self) -> dict[str, PageRecord]:
        """All page records (tombstoned ones included), by page id."""
        return {r[0]: _page_from_row(r) for r in self._read(_PAGE_SELECT + " ORDER BY p.page_id")}

    def page_summaries(self) -> dict[str, PageRecord]:
        """All records without their bases (`base_markdown` "", `base_sidecar` None).

        What the reconcile step needs, at a fraction of the memory: the bases hold
        whole page bodies, which a 10,000-page space cannot keep in memory at once.
        The executor reads the full record of the page it works on with `get_page`.
        """
        light = _PAGE_SELECT.replace("p.base_sidecar, p.base_markdown", "NULL, ''")
        out: dict[str, PageRecord] = {}
        with self._mutex:  # in batches: the raw rows are never all held beside the records
            cursor = self._conn.execute(light + " ORDER BY p.page_id")
            while rows := cursor.fetchmany(1000):
                for r in rows:
                    out[r[0]] = _page_from_row(r)
        return out

    def iter_pages(self) -> Iterator[PageRecord]:
        """Stream the records without holding them all (large spaces)."""
        with self._mutex:
            cursor = self._conn.execute(_PAGE_SELECT + " ORDER BY p.page_id")
            rows = cursor.fetchmany(500)
        while rows:
            yield from (_page_from_row(r) for r in rows)
            with self._mutex:
                rows = cursor.fetchmany(500)

    def count_pages(self) -> int:
        return self._read("SELECT COUNT(*) FROM pages")[0][0]

    def put_page(self, record: PageRecord) -> None:
        """Insert or replace the record, tombstone included (None clears it)."""
        with self.transaction():
            self._conn.execute(
                f"INSERT INTO pages ({_PAGE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (page_id) DO UPDATE SET kind=excluded.kind, "
                "local_path=excluded.local_path, title=excluded.title, "
                "parent_id=excluded.parent_id, remote_version=excluded.remote_version, "
                "base_sidecar=excluded.base_sidecar, base_markdown=excluded.base_markdown, "
                "labels=excluded.labels, local_hash=excluded.local_hash, "
                "local_mtime_ns=excluded.local_mtime_ns, local_size=excluded.local_size, "
                "synced_at=excluded.synced_at",
                (
                    record.page_id,
                    record.kind,
                    record.local_path,
                    record.title,
                    record.parent_id,
                    record.remote_version,
                    record.base_sidecar,
                    record.base_markdown,
                    json.dumps(sorted(record.labels)),
                    record.local_hash,
                    record.local_mtime_ns,
                    record.local_size,
                    record.synced_at or time.time(),
                ),
            )
            if record.tombstone is None:
                self._conn.execute("DELETE FROM tombstones WHERE page_id = ?", (record.page_id,))
            else:
                t = record.tombstone
                self._conn.execute(
                    "INSERT OR REPLACE INTO tombstones (page_id, side, deleted_at, trash_path) "
                    "VALUES (?,?,?,?)",
                    (record.page_id, t.side, t.deleted_at, t.trash_path),
                )

    def update_page(self, page_id: str, **changes: object) -> PageRecord:
        """Read-modify-write of some fields of a record (raises KeyError if absent)."""
        with self.transaction():
            current = self.get_page(page_id)
            if current is None:
                raise KeyError(page_id)
            updated = replace(current, **changes)  # type: ignore[arg-type]
            self.put_page(updated)
            return updated

    def delete_page(self, page_id: str) -> bool:
        """Forget a page (its tombstone and attachments go with it)."""
        return self._write("DELETE FROM pages WHERE page_id = ?", (page_id,)).rowcount > 0

    def tombstones(self) -> dict[str, PageRecord]:
        return {pid: rec for pid, rec in self.pages().items() if rec.tombstone is not None}

    def prune_tombstones(self, older_than: float) -> int:
        """Forget tombstoned pages deleted before `older_than` (epoch seconds)."""
        return self._write(
            "DELETE FROM pages WHERE page_id IN "
            "(SELECT page_id FROM tombstones WHERE deleted_at < ?)",
            (older_than,),
        ).rowcount

    # ------------------------------------------------------------------ containers

    def containers(self) -> dict[str, ContainerRecord]:
        """Every recorded container (deleted ones included), by id."""
        rows = self._read(
            "SELECT container_id, kind, title, parent_id, local_path, version, synced_at, "
            "deleted FROM containers"
        )
        return {row[0]: ContainerRecord(*row) for row in rows}

    def get_container(self, container_id: str) -> ContainerRecord | None:
        rows = self._read(
            "SELECT container_id, kind, title, parent_id, local_path, version, synced_at, "
            "deleted FROM containers WHERE container_id = ?",
            (container_id,),
        )
        return ContainerRecord(*rows[0]) if rows else None

    def put_container(self, record: ContainerRecord) -> None:
        self._write(
            "INSERT OR REPLACE INTO containers (container_id, kind, title, parent_id, "
            "local_path, version, synced_at, deleted) VALUES (?,?,?,?,?,?,?,?)",
            (
                record.container_id,
                record.kind,
                record.title,
                record.parent_id,
                record.local_path,
                record.version,
                record.synced_at,
                record.deleted,
            ),
        )

    def delete_container(self, container_id: str) -> bool:
        return (
            self._write("DELETE FROM containers WHERE container_id = ?", (container_id,)).rowcount
            > 0
        )

    def rebase_paths(self, old_dir: str, new_dir: str) -> list[tuple[str, str]]:
        """A directory moved: rewrite the paths of the pages and containers below it.

        Returns ``(page id, new path)`` of the pages rewritten.
        """
        old_prefix, new_prefix = old_dir + "/", new_dir + "/"
        moved: list[tuple[str, str]] = []
        with self.transaction():
            for record in self.page_summaries().values():
                if record.local_path.startswith(old_prefix):
                    path = new_prefix + record.local_path[len(old_prefix) :]
                    self.update_page(record.page_id, local_path=path)
                    moved.append((record.page_id, path))
            for c in self.containers().values():
                if c.local_path == old_dir or c.local_path.startswith(old_prefix):
                    path = new_dir + c.local_path[len(old_dir) :]
                    self.put_container(replace(c, local_path=path))
        return moved

    def count_containers(self) -> dict[str, int]:
        """Live containers by kind ({"folder": 3, "whiteboard": 1}), for `syncd status`."""
        rows = self._read(
            "SELECT kind, COUNT(*) FROM containers WHERE deleted IS NULL GROUP BY kind"
        )
        return {kind: int(n) for kind, n in sorted(rows)}

    def find_container_by_path(self, local_path: str) -> ContainerRecord | None:
        """The live container whose directory is `local_path`."""
        rows = self._read(
            "SELECT container_id, kind, title, parent_id, local_path, version, synced_at, "
            "deleted FROM containers WHERE local_path = ? AND deleted IS NULL",
            (local_path,),
        )
        return ContainerRecord(*rows[0]) if rows else None

    # ------------------------------------------------------------------ attachments

    def put_attachment(self, record: AttachmentRecord) -> None:
        self._write(
            "INSERT OR REPLACE INTO attachments (attachment_id, page_id, file_name, version, "
            "local_path, hash, size, mtime_ns) VALUES (?,?,?,?,?,?,?,?)",
            (
                record.attachment_id,
                record.page_id,
                record.file_name,
                record.version,
                record.local_path,
                record.hash,
                record.size,
                record.mtime_ns,
            ),
        )

    def attachments(self, page_id: str | None = None) -> list[AttachmentRecord]:
        sql = (
            "SELECT page_id, attachment_id, file_name, version, local_path, hash, size, "
            "mtime_ns FROM attachments"
        )
        rows = (
            self._read(sql + " WHERE page_id = ? ORDER BY file_name", (page_id,))
            if page_id is not None
            else self._read(sql + " ORDER BY page_id, file_name")
        )
        return [AttachmentRecord(*r) for r in rows]

    def delete_attachment(self, attachment_id: str) -> bool:
        return (
            self._write(
                "DELETE FROM attachments WHERE attachment_id = ?", (attachment_id,)
            ).rowcount
            > 0
        )

    # ------------------------------------------------------------------ conflicts

    def add_conflict(
        self, page_id: str | None, path: str, kind: str, detail: str = ""
    ) -> ConflictRecord:
        now = time.time()
        cur = self._write(
            "INSERT INTO conflicts (page_id, path, kind, created_at, detail) VALUES (?,?,?,?,?)",
            (page_id, path, kind, now, detail),
        )
        return ConflictRecord(page_id, path, kind, now, detail, cur.lastrowid)

    def conflicts(self) -> list[ConflictRecord]:
        rows = self._read(
            "SELECT page_id, path, kind, created_at, detail, id FROM conflicts ORDER BY id"
        )
        return [ConflictRecord(*r) for r in rows]

    def page_conflicts(
        self, page_id: str | None = None, *, path: str | None = None
    ) -> list[ConflictRecord]:
        """The conflicts a sync of a page ends (by id, or by path for pages without one).
        Keep-both conflicts are not among them: each ends only when the user deletes its
        copy, whatever happens to the page meanwhile."""
        sql = "SELECT page_id, path, kind, created_at, detail, id FROM conflicts WHERE "
        if page_id is not None:
            rows = self._read(sql + "page_id = ? AND kind != ? ORDER BY id", (page_id, KEEP_BOTH))
        elif path is not None:
            rows = self._read(sql + "path = ? AND kind != ? ORDER BY id", (path, KEEP_BOTH))
        else:
            raise ValueError("page_conflicts needs a page_id or a path")
        return [ConflictRecord(*r) for r in rows]

    def set_conflict(
        self, page_id: str | None, path: str, kind: str, detail: str = ""
    ) -> ConflictRecord:
        """Record the page's conflict in place of the one its sync would end (a refusal
        refused again, markers after markers): a replacement, not an end."""
        with self.transaction():
            if page_id is not None:
                self._write(
                    "DELETE FROM conflicts WHERE page_id = ? AND kind != ?", (page_id, KEEP_BOTH)
                )
            else:
                self._write("DELETE FROM conflicts WHERE path = ? AND kind != ?", (path, KEEP_BOTH))
            return self.add_conflict(page_id, path, kind, detail)

    def add_conflict_copy(self, page_id: str | None, path: str, copy: str) -> ConflictRecord:
        """Record a keep-both conflict: `copy` holds the local text of the page at `path`.

        One record per copy: an older record naming the same copy (a copy deleted and the
        name used again before that record was forgotten) is replaced."""
        with self.transaction():
            self._write("DELETE FROM conflicts WHERE kind = ? AND detail = ?", (KEEP_BOTH, copy))
            return self.add_conflict(page_id, path, KEEP_BOTH, copy)

    def end_conflict(self, conflict_id: int) -> bool:
        """Remove one conflict record. Call `open_conflicts.end_conflicts` instead: it
        also tells the log that the conflict ended."""
        return self._write("DELETE FROM conflicts WHERE id = ?", (conflict_id,)).rowcount > 0

    # ------------------------------------------------------------------ webhooks, watermark

    def put_webhook(self, record: WebhookRecord) -> None:
        self._write(
            "INSERT OR REPLACE INTO webhooks (webhook_id, url, secret_ref, created_at) "
            "VALUES (?,?,?,?)",
            (record.webhook_id, record.url, record.secret_ref, record.created_at),
        )

    def webhooks(self) -> list[WebhookRecord]:
        rows = self._read(
            "SELECT webhook_id, url, secret_ref, created_at FROM webhooks ORDER BY created_at"
        )
        return [WebhookRecord(*r) for r in rows]

    def delete_webhook(self, webhook_id: str) -> bool:
        return self._write("DELETE FROM webhooks WHERE webhook_id = ?", (webhook_id,)).rowcount > 0

    def get_meta(self, key: str) -> str | None:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str | None) -> None:
        if value is None:
            self._write("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self._write("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def get_watermark(self) -> str | None:
        """The poll watermark (an opaque string, e.g. an ISO timestamp), None if never polled."""
        return self.get_meta("poll_watermark")

    def set_watermark(self, value: str) -> None:
        self.set_meta("poll_watermark", value)

    # ------------------------------------------------------------------ scan cache

    def iter_scan_cache(self) -> Iterator[tuple]:
        """Rows (path, area, size, mtime_ns, inode, sha256, certified_ns, parsed), streamed."""
        with self._mutex:
            cursor = self._conn.execute(
                "SELECT path, area, size, mtime_ns, inode, sha256, certified_ns, parsed "
                "FROM scan_cache"
            )
            rows = cursor.fetchmany(1000)
        while rows:
            yield from rows
            with self._mutex:
                rows = cursor.fetchmany(1000)

    def put_scan_cache(self, rows: Iterable[tuple]) -> None:
        """Insert or replace rows shaped as `iter_scan_cache` yields them."""
        with self.transaction():
            self._conn.executemany(
                "INSERT OR REPLACE INTO scan_cache (path, area, size, mtime_ns, inode, sha256, "
                "certified_ns, parsed) VALUES (?,?,?,?,?,?,?,?)",
                rows,
            )

    def delete_scan_cache(self, paths: Iterable[str]) -> None:
        with self.transaction():
            self._conn.executemany("DELETE FROM scan_cache WHERE path = ?", ((p,) for p in paths))

    # ------------------------------------------------------------------ delivery dedupe

    def remember_delivery(self, key: str) -> bool:
        """Record a webhook delivery key; False if it was already seen (a duplicate).

        The table is bounded to `DELIVERY_KEYS_MAX` keys, oldest dropped first.
        """
        with self.transaction():
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO deliveries (key, seen_at) VALUES (?, ?)", (key, time.time())
            )
            if cur.rowcount == 0:
                return False
            self._conn.execute(
                "DELETE FROM deliveries WHERE rowid <= (SELECT MAX(rowid) FROM deliveries) - ?",
                (DELIVERY_KEYS_MAX,),
            )
            return True

    def delivery_count(self) -> int:
        return self._read("SELECT COUNT(*) FROM deliveries")[0][0]

    # ------------------------------------------------------------------ create intents

    def add_pending_create(
        self, local_path: str, title: str, parent_id: str | None, kind: str = "page"
    ) -> PendingCreate:
        """Journal a page creation before the POST; returns it with a fresh client key."""
        intent = PendingCreate(uuid.uuid4().hex, local_path, title, parent_id, kind, time.time())  # type: ignore[arg-type]
        self._write(
            "INSERT INTO pending_creates (client_key, local_path, title, parent_id, kind, "
            "created_at) VALUES (?,?,?,?,?,?)",
            (
                intent.client_key,
                intent.local_path,
                intent.title,
                intent.parent_id,
                intent.kind,
                intent.created_at,
            ),
        )
        return intent

    def pending_creates(self) -> list[PendingCreate]:
        rows = self._read(
            "SELECT client_key, local_path, title, parent_id, kind, created_at "
            "FROM pending_creates ORDER BY created_at"
        )
        return [PendingCreate(*r) for r in rows]

    def resolve_pending_create(self, client_key: str) -> None:
        self._write("DELETE FROM pending_creates WHERE client_key = ?", (client_key,))

    # ------------------------------------------------------------------ maintenance

    def integrity_check(self) -> str:
        """SQLite's own consistency check; "ok" when healthy."""
        return self._read("PRAGMA integrity_check")[0][0]

    def run_in_transaction(self, fn: Callable[[StateDB], object]) -> object:
        """Call `fn(self)` inside one transaction (convenience for executors)."""
        with self.transaction():
            return fn(self)
