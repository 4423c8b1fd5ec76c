"""Many atomic writes made durable together: temp files first, one flush, then the renames.

:func:`syncd.local.atomic.atomic_write` fsyncs each temp file before renaming it over its
target, so that a crash never leaves a named file empty or half written. On a first sync of
a thousand pages those fsyncs are the largest single cost of the executor's process (each is
a journal commit; 0.5-1 ms here, milliseconds with ``F_FULLFSYNC`` on macOS), while the
machine's other cores convert the next pages.

With a :class:`WriteBatch` passed to ``atomic_write``, a write stops after its temp file is
complete (data, mode, lagged mtime) and returns what the file will be. :meth:`WriteBatch.publish`
then does, for all of them at once, what each write would have done on its own, in the same
order: make every temp file durable (on Linux one ``syncfs`` of the file system when there
are many, else an fsync per file), re-verify each target that had to be unchanged, rename
each temp file over its target, and owe each directory its fsync (:class:`DirSyncs`, which
the caller flushes before recording the files). The guarantee is unchanged: a name only
ever points at complete, durable bytes, and no record says a file is written before it is.

A batch writes many files into few folders: each folder is walked from the root (without
following links) once per batch, and its fd kept for the batch's later writes there.

Until :meth:`publish`, the files are not at their names: callers that look for them (a free
name for the next page, the stat of a file just written) ask the batch (:meth:`result`,
:meth:`names_in`, :meth:`read`). A target that changed meanwhile is not replaced: its temp
file is removed and :meth:`publish` reports it, for the caller to undo what it recorded.

``syncfs`` flushes the whole file system, other programs' pending writes included: it is
used only for a batch of ``SYNCFS_MIN_FILES`` files or more, where it replaces that many
journal commits (see :func:`syncd.local.atomic.sync_file_systems`). Where it is missing or
fails, each file is fsynced.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import PurePosixPath

from syncd.local.atomic import (
    _NOFOLLOW,
    SYNCFS_MIN_FILES,
    DirSyncs,
    WriteResult,
    _exists,
    _fsync,
    _verify,
    dir_key,
    sync_file_systems,
)


@dataclass
class _Pending:
    dir_key: tuple[int, int]
    tmp: str
    name: str
    if_hash: str | None
    result: WriteResult


class WriteBatch:
    """Temp files waiting for one flush and their renames (see the module docstring)."""

    def __init__(self, dirs: DirSyncs) -> None:
        self.dirs = dirs
        self._pending: dict[str, _Pending] = {}
        self._dir_fds: dict[tuple[int, int], int] = {}
        #: Folders (as path parts below the root) walked once, by the fd kept for them.
        self._folders: dict[tuple[str, ...], int] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def __contains__(self, rel: object) -> bool:
        return rel in self._pending

    def folder_fd(self, folder: tuple[str, ...]) -> int | None:
        """The fd kept for `folder` (parts below the root), if it was walked already."""
        return self._folders.get(folder)

    def keep_folder(self, folder: tuple[str, ...], dfd: int) -> int:
        """Keep (a duplicate of) `dfd`, just walked to `folder`, for the batch's next
        writes there; returns the kept fd."""
        key = dir_key(dfd)
        kept = self._dir_fds.get(key)
        if kept is None:
            kept = self._dir_fds[key] = os.dup(dfd)
        self._folders[folder] = kept
        return kept

    def add(self, dfd: int, tmp: str, name: str, if_hash: str | None, result: WriteResult) -> None:
        """Take over `tmp` (complete, not yet durable) in the directory open as `dfd`."""
        key = dir_key(dfd)
        if key not in self._dir_fds:
            self._dir_fds[key] = os.dup(dfd)
        earlier = self._pending.pop(result.path, None)
        if earlier is not None:  # written twice before the publish: the last write wins
            self._unlink(earlier)
            if_hash = earlier.if_hash
        self._pending[result.path] = _Pending(key, tmp, name, if_hash, result)

    def result(self, rel: str) -> WriteResult | None:
        """What `rel` will be once published, if it is waiting here."""
        pending = self._pending.get(rel)
        return pending.result if pending is not None else None

    def names_in(self, folder: str) -> list[str]:
        """Names of the files waiting to appear in `folder` ("" is the root)."""
        return [
            PurePosixPath(rel).name
            for rel in self._pending
            if (PurePosixPath(rel).parent.as_posix() if "/" in rel else "") == folder
        ]

    def read(self, rel: str) -> bytes:
        """The bytes waiting to become `rel` (KeyError if nothing is waiting)."""
        pending = self._pending[rel]
        fd = os.open(pending.tmp, os.O_RDONLY | _NOFOLLOW, dir_fd=self._dir_fds[pending.dir_key])
        with os.fdopen(fd, "rb") as f:
            return f.read()

    def publish(self) -> list[tuple[str, OSError]]:
        """Make every waiting file durable, then rename each into place; the directories
        owe their fsync to `dirs`. Returns the targets left alone, with why. If the data
        cannot be made durable, nothing is renamed, the temp files go and it raises."""
        pending, self._pending = list(self._pending.values()), {}
        failed: list[tuple[str, OSError]] = []
        try:
            try:
                self._make_durable(pending)
            except BaseException:
                for p in pending:
                    self._unlink(p)
                raise
            for p in pending:
                dfd = self._dir_fds[p.dir_key]
                try:
                    if p.if_hash is not None:  # unchanged since the caller read it?
                        _verify(dfd, p.name, p.result.path, _exists(dfd, p.name), p.if_hash)
                    os.replace(p.tmp, p.name, src_dir_fd=dfd, dst_dir_fd=dfd)
                except OSError as exc:
                    self._unlink(p)
                    failed.append((p.result.path, exc))
                    continue
                self.dirs.owe(dfd)
        finally:
            self._close()
        return failed

    def discard(self) -> None:
        """Drop every waiting file (nothing is renamed)."""
        pending, self._pending = list(self._pending.values()), {}
        try:
            for p in pending:
                self._unlink(p)
        finally:
            self._close()

    def _make_durable(self, pending: list[_Pending]) -> None:
        if len(pending) >= SYNCFS_MIN_FILES and sync_file_systems(
            self._dir_fds[key] for key in {p.dir_key for p in pending}
        ):
            return
        for p in pending:
            fd = os.open(p.tmp, os.O_RDONLY | _NOFOLLOW, dir_fd=self._dir_fds[p.dir_key])
            try:
                _fsync(fd)
            finally:
                os.close(fd)

    def _unlink(self, p: _Pending) -> None:
        with contextlib.suppress(OSError, KeyError):
            os.unlink(p.tmp, dir_fd=self._dir_fds[p.dir_key])

    def _close(self) -> None:
        fds, self._dir_fds = list(self._dir_fds.values()), {}
        self._folders = {}
        for fd in fds:
            os.close(fd)
