"""Crash-safe file writes inside the synced folder, and the local trash.

:func:`atomic_write` never truncates a file in place: it writes a temp file in the same
directory (``.syncd.<name>.<random>.tmp``, hidden and ignored by the scanner and the watcher),
flushes and fsyncs it (``F_FULLFSYNC`` on macOS), renames it over the target with
``os.replace`` and fsyncs the directory. A reader, an editor that has the file open, or a
crash at any point sees either the old bytes or the new ones, never a mix or an empty file.

Every file written gets a modification time :data:`MTIME_LAG_NS` in the past, set on the temp
file before the rename. A later edit (by anyone, in any clock tick) then always changes the
mtime, so a scan can trust the (size, mtime) of a file syncd wrote without reading it again
(see :mod:`syncd.local.scan`, whose racy window this lag exceeds).

Many writes in a row (a first sync) can share their directory fsyncs: with a
:class:`DirSyncs` passed as ``dirs``, each write still fsyncs its own data before the rename,
but the fsync that makes the rename (or a new folder) durable is owed to the directory and
paid once per directory by :meth:`DirSyncs.flush`. The caller flushes before it records the
files as written (see `syncd.sync.executor.durability`). With a
:class:`~syncd.local.write_batch.WriteBatch` passed as ``batch``, the data fsyncs are shared
too: the temp files are made durable together before their renames.

Writes never follow symbolic links below the root: the path is walked one directory at a
time with ``O_NOFOLLOW``, so a symlinked folder or file (which could point outside the
folder) is refused with :class:`UnsafePathError` rather than written through.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import shutil
import stat
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from syncd.local.write_batch import WriteBatch

TEMP_PREFIX = ".syncd."
TEMP_SUFFIX = ".tmp"
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_USE_DIR_FD = os.open in os.supports_dir_fd and os.rename in os.supports_dir_fd


class UnsafePathError(OSError):
    """The target is outside the root, or reached through a symbolic link."""


class ChangedOnDiskError(OSError):
    """The file on disk is not the one the caller expected (someone edited it meanwhile)."""


MISSING = "<missing>"  # ``if_hash=MISSING``: the file must not exist yet

#: How far in the past the mtime of a written file is set. More than the scan's racy window
#: (2 s, the coarsest timestamp granularity of the file systems syncd supports), so an edit
#: made right after the write, even in the same clock tick, cannot leave the mtime unchanged.
MTIME_LAG_NS = 3_000_000_000


@dataclass(frozen=True)
class WriteResult:
    """What is on disk after the write: size and mtime as stored (the mtime is the lagged
    one, truncated to the file system's granularity), the content hash and the inode."""

    path: str  # relative POSIX path
    size: int
    mtime_ns: int
    sha256: str
    inode: int = 0


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync(fd: int) -> None:
    if sys.platform == "darwin":
        import fcntl

        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, fcntl.F_FULLFSYNC)
            return
    os.fsync(fd)


#: Below this many files (or folders) to make durable, an fsync each costs less than
#: flushing their whole file system (which writes other programs' pending data too).
SYNCFS_MIN_FILES = 8

_SYNCFS: Any = None  # libc's syncfs; False where there is none; None: not looked up yet


def _syncfs_function() -> Any:
    """libc's ``syncfs(fd)`` (Linux, glibc 2.14+), or None."""
    global _SYNCFS
    if _SYNCFS is None:
        _SYNCFS = False
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                function = ctypes.CDLL(None, use_errno=True).syncfs
                function.argtypes = [ctypes.c_int]
                function.restype = ctypes.c_int
                _SYNCFS = function
            except (OSError, AttributeError):
                pass
    return _SYNCFS or None


def sync_file_systems(fds: Iterable[int]) -> bool:
    """Make durable everything written to the file systems holding `fds` (one ``syncfs``
    each): what an fsync of every file and folder written there would. False where
    ``syncfs`` is missing or fails: the caller fsyncs each file instead."""
    syncfs = _syncfs_function()
    if syncfs is None:
        return False
    done: set[int] = set()
    for fd in fds:
        device = os.fstat(fd).st_dev
        if device in done:
            continue
        if syncfs(fd) != 0:
            return False
        done.add(device)
    return True


def dir_key(fd: int) -> tuple[int, int]:
    """(device, inode) of the directory open as `fd`: the same folder whatever fd or path
    reached it."""
    st = os.fstat(fd)
    return (st.st_dev, st.st_ino)


class DirSyncs:
    """Directories whose fsync is owed (renames and new folders in them since the last
    flush), each held open until :meth:`flush` fsyncs it once."""

    def __init__(self) -> None:
        self._fds: dict[tuple[int, int], int] = {}

    def __len__(self) -> int:
        return len(self._fds)

    def owe(self, dfd: int) -> None:
        key = dir_key(dfd)
        if key not in self._fds:
            self._fds[key] = os.dup(dfd)

    def flush(self) -> None:
        """Fsync every owed directory; the renames and folders made so far are durable."""
        fds, self._fds = list(self._fds.values()), {}
        try:
            if len(fds) >= SYNCFS_MIN_FILES and sync_file_systems(fds):
                return
            for fd in fds:
                _fsync(fd)
        finally:
            for fd in fds:
                os.close(fd)


def _sync_dir(dfd: int, dirs: DirSyncs | None) -> None:
    if dirs is None:
        _fsync(dfd)
    else:
        dirs.owe(dfd)


def _split_rel(rel: str | os.PathLike[str]) -> list[str]:
    text = os.fspath(rel).replace(os.sep, "/")
    parts = text.split("/")
    if not text or text.startswith("/") or any(x in ("", ".", "..") for x in parts) or "\0" in text:
        raise UnsafePathError(errno.EINVAL, f"unsafe relative path {text!r}")
    return parts


@contextlib.contextmanager
def _open_parent(
    root: Path, parts: list[str], *, create: bool, dirs: DirSyncs | None = None
) -> Iterator[int]:
    """Yield an fd of the directory holding ``parts[-1]``, walked without following links."""
    fd = os.open(root, _DIR_FLAGS)
    try:
        for name in parts[:-1]:
            try:
                nfd = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o777, dir_fd=fd)
                    _sync_dir(fd, dirs)
                nfd = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafePathError(
                        errno.ELOOP, f"refusing to write through a link or file: {name!r}"
                    ) from None
                raise
            os.close(fd)
            fd = nfd
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def _parent_folder(
    root: Path, parts: list[str], *, create: bool, dirs: DirSyncs | None, batch: WriteBatch | None
) -> Iterator[int]:
    """`_open_parent`; with a batch, each folder is walked once per batch and its fd kept
    (a batch writes many files into few folders)."""
    if batch is None:
        with _open_parent(root, parts, create=create, dirs=dirs) as dfd:
            yield dfd
        return
    folder = tuple(parts[:-1])
    dfd = batch.folder_fd(folder)
    if dfd is None:
        with _open_parent(root, parts, create=create, dirs=dirs) as opened:
            dfd = batch.keep_folder(folder, opened)
    yield dfd


def _check_without_dir_fd(root: Path, parts: list[str]) -> Path:
    """Fallback for platforms without ``dir_fd`` (Windows): lstat every component."""
    cur = root
    for name in parts:
        cur = cur / name
        if cur.is_symlink():
            raise UnsafePathError(errno.ELOOP, f"refusing to write through a link: {cur}")
    return cur


def _hash_fd(fd: int) -> str:
    h = hashlib.sha256()
    while chunk := os.read(fd, 1 << 20):
        h.update(chunk)
    return h.hexdigest()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def atomic_write(
    root: str | os.PathLike[str],
    rel: str | os.PathLike[str],
    data: bytes | str,
    *,
    mode: int | None = None,
    if_hash: str | None = None,
    make_parents: bool = True,
    dirs: DirSyncs | None = None,
    batch: WriteBatch | None = None,
) -> WriteResult:
    """Atomically replace ``root/rel`` with ``data``; return what is now on disk.

    ``root`` must exist (a missing root means the folder is gone: the engine stops rather than
    recreating it); folders below it are created when ``make_parents``.

    The mode of an existing file is kept (else ``mode``, else 0666 minus the umask).
    ``if_hash`` re-verifies the current content right before the swap: a sha256 hex digest
    the existing file must have, or :data:`MISSING` when it must not exist; otherwise
    :class:`ChangedOnDiskError` is raised and nothing is written. With ``dirs``, the
    directory fsyncs are owed to it (see :class:`DirSyncs`). With ``batch``, the write
    stops at a complete temp file that the batch makes durable and renames later (see
    :mod:`syncd.local.write_batch`); the result is what the file will be.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    root_p = Path(root)
    parts = _split_rel(rel)
    rel_posix = "/".join(parts)
    name = parts[-1]
    if not _USE_DIR_FD:  # pragma: no cover - Windows
        return _atomic_write_by_path(root_p, parts, payload, mode=mode, if_hash=if_hash)
    if batch is not None:
        dirs = batch.dirs

    with _parent_folder(root_p, parts, create=make_parents, dirs=dirs, batch=batch) as dfd:
        existing_mode = None
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if st is not None:
            if stat.S_ISLNK(st.st_mode):
                raise UnsafePathError(errno.ELOOP, f"refusing to replace a symlink: {rel_posix}")
            if not stat.S_ISREG(st.st_mode):
                raise UnsafePathError(errno.EISDIR, f"not a regular file: {rel_posix}")
            existing_mode = stat.S_IMODE(st.st_mode)
        if if_hash is not None:
            _verify(dfd, name, rel_posix, st is not None, if_hash)

        tmp = f"{TEMP_PREFIX}{name[:100]}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(tmp, flags, 0o600, dir_fd=dfd)
        try:
            try:
                _write_all(fd, payload)
                final_mode = existing_mode if existing_mode is not None else mode
                if final_mode is None:
                    final_mode = 0o666 & ~_umask()
                os.fchmod(fd, final_mode)
                _set_lagged_mtime(fd)
                if batch is None:
                    _fsync(fd)
                fst = os.fstat(fd)
            finally:
                os.close(fd)
            result = WriteResult(
                rel_posix, fst.st_size, fst.st_mtime_ns, sha256_bytes(payload), fst.st_ino
            )
            if batch is not None:
                batch.add(dfd, tmp, name, if_hash, result)
                return result
            if if_hash is not None:  # narrow the window: re-check right before the swap
                _verify(dfd, name, rel_posix, _exists(dfd, name), if_hash)
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=dfd)
            raise
        _sync_dir(dfd, dirs)
    return result


def _set_lagged_mtime(fd: int) -> None:
    """Set the mtime of the file open as ``fd`` to :data:`MTIME_LAG_NS` before now."""
    if os.utime not in os.supports_fd:  # pragma: no cover - no futimens: mtime stays "now"
        return
    now = time.time_ns()
    lagged = now - MTIME_LAG_NS
    os.utime(fd, ns=(now, lagged))


def _exists(dfd: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _verify(dfd: int, name: str, rel: str, exists: bool, if_hash: str) -> None:
    if if_hash == MISSING:
        if exists:
            raise ChangedOnDiskError(errno.EEXIST, f"{rel} appeared on disk meanwhile")
        return
    if not exists:
        raise ChangedOnDiskError(errno.ENOENT, f"{rel} was removed meanwhile")
    fd = os.open(name, os.O_RDONLY | _NOFOLLOW, dir_fd=dfd)
    try:
        current = _hash_fd(fd)
    finally:
        os.close(fd)
    if current != if_hash:
        raise ChangedOnDiskError(errno.EAGAIN, f"{rel} changed on disk meanwhile")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write_by_path(  # pragma: no cover - Windows
    root: Path, parts: list[str], payload: bytes, *, mode: int | None, if_hash: str | None
) -> WriteResult:
    target = _check_without_dir_fd(root, parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    if if_hash is not None:
        exists = target.exists()
        if if_hash == MISSING and exists:
            raise ChangedOnDiskError(errno.EEXIST, f"{target} appeared on disk meanwhile")
        if if_hash != MISSING and (not exists or sha256_bytes(target.read_bytes()) != if_hash):
            raise ChangedOnDiskError(errno.EAGAIN, f"{target} changed on disk meanwhile")
    tmp = target.with_name(f"{TEMP_PREFIX}{target.name[:100]}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
    try:
        with open(tmp, "xb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        if target.exists():
            shutil.copymode(target, tmp)
        elif mode is not None:
            os.chmod(tmp, mode)
        now = time.time_ns()
        os.utime(tmp, ns=(now, now - MTIME_LAG_NS))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    st = target.stat()
    return WriteResult(
        "/".join(parts), st.st_size, st.st_mtime_ns, sha256_bytes(payload), st.st_ino
    )


def resolve_inside(root: str | os.PathLike[str], rel: str | os.PathLike[str]) -> Path:
    """``root/rel`` after checking it is a safe relative path with no symlink on the way."""
    root_p = Path(root)
    parts = _split_rel(rel)
    path = _check_without_dir_fd(root_p, parts)
    return path


def move_inside(
    root: str | os.PathLike[str], src: str | os.PathLike[str], dst: str | os.PathLike[str]
) -> None:
    """Rename ``root/src`` to ``root/dst`` (creating dst's folders), never through a link.

    A symlinked folder on either path (which could point outside the folder, so that the
    move takes a file out of it) raises :class:`UnsafePathError`; ``src`` itself may be
    a link, which is moved as a link.
    """
    root_p = Path(root)
    sparts, dparts = _split_rel(src), _split_rel(dst)
    if not _USE_DIR_FD:  # pragma: no cover - Windows
        s = _check_without_dir_fd(root_p, sparts[:-1]) / sparts[-1]
        d = _check_without_dir_fd(root_p, dparts[:-1]) / dparts[-1]
        d.parent.mkdir(parents=True, exist_ok=True)
        os.rename(s, d)
        return
    with (
        _open_parent(root_p, sparts, create=False) as sfd,
        _open_parent(root_p, dparts, create=True) as dfd,
    ):
        os.rename(sparts[-1], dparts[-1], src_dir_fd=sfd, dst_dir_fd=dfd)
        _fsync(dfd)
        _fsync(sfd)


def rmdir_inside(root: str | os.PathLike[str], rel: str | os.PathLike[str]) -> bool:
    """Remove the folder ``root/rel`` if it is empty and reached without a link; True if removed."""
    parts = _split_rel(rel)
    try:
        if not _USE_DIR_FD:  # pragma: no cover - Windows
            os.rmdir(_check_without_dir_fd(Path(root), parts))
            return True
        with _open_parent(Path(root), parts, create=False) as dfd:
            os.rmdir(parts[-1], dir_fd=dfd)
    except OSError:
        return False
    return True


def read_inside(root: str | os.PathLike[str], rel: str | os.PathLike[str]) -> bytes:
    """The bytes of the regular file ``root/rel``, never read through a link.

    Reading through a symlinked folder or file could reach anything outside the folder (and
    upload it, or push it as a page): :class:`UnsafePathError` instead. A FIFO or device is
    refused too (``IsADirectoryError`` for a folder), so a read never blocks.
    """
    parts = _split_rel(rel)
    flags = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        if _USE_DIR_FD:
            with _open_parent(Path(root), parts, create=False) as dfd:
                fd = os.open(parts[-1], flags, dir_fd=dfd)
        else:  # pragma: no cover - Windows
            fd = os.open(_check_without_dir_fd(Path(root), parts), flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not isinstance(exc, UnsafePathError):
            raise UnsafePathError(errno.ELOOP, f"refusing to read through a link: {rel}") from None
        raise
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder", os.fspath(rel))
        if not stat.S_ISREG(st.st_mode):
            raise UnsafePathError(errno.EINVAL, f"not a regular file: {rel}")
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def remove_stale_temp_files(root: str | os.PathLike[str]) -> list[str]:
    """Delete ``.syncd.*.tmp`` left by a crash (their target was never replaced)."""
    removed: list[str] = []
    root_p = Path(root)
    for dirpath, dirnames, filenames in os.walk(root_p):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for fn in filenames:
            if fn.startswith(TEMP_PREFIX) and fn.endswith(TEMP_SUFFIX):
                p = Path(dirpath) / fn
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                    removed.append(p.relative_to(root_p).as_posix())
    return removed


# --------------------------------------------------------------------------- local trash

TRASH_STAMP = "%Y%m%d-%H%M%S"


@dataclass(frozen=True)
class TrashEntry:
    """A file or folder in the local trash: ``<trash>/<stamp>/<original relative path>``."""

    trash_path: Path
    rel: str
    stamp: str  # YYYYMMDD-HHMMSS-ffffff, sorts chronologically


def _stamp(now: float | None) -> str:
    t = time.time() if now is None else now
    micro = int((t - int(t)) * 1_000_000)
    return time.strftime(TRASH_STAMP, time.gmtime(t)) + f"-{micro:06d}"


def move_to_trash(
    root: str | os.PathLike[str],
    rel: str | os.PathLike[str],
    trash_dir: str | os.PathLike[str],
    *,
    now: float | None = None,
) -> TrashEntry:
    """Move ``root/rel`` (a file or folder) into the trash, keeping its relative path."""
    parts = _split_rel(rel)
    src = _check_without_dir_fd(Path(root), parts)
    if not os.path.lexists(src):
        raise FileNotFoundError(errno.ENOENT, "no such file to trash", str(src))
    stamp = _stamp(now)
    trash_root = Path(trash_dir)
    dest = trash_root / stamp / Path(*parts)
    while os.path.lexists(dest):  # same microsecond twice: keep both
        stamp += "x"
        dest = trash_root / stamp / Path(*parts)
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _move(src, dest)
    return TrashEntry(dest, "/".join(parts), stamp)


def _move(src: Path, dest: Path) -> None:
    """Rename, or copy durably then delete when crossing file systems."""
    try:
        os.rename(src, dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        if src.is_dir() and not src.is_symlink():
            shutil.copytree(src, dest, symlinks=True)
            shutil.rmtree(src)
        else:
            shutil.copy2(src, dest, follow_symlinks=False)
            fd = os.open(dest, os.O_RDONLY)
            try:
                _fsync(fd)
            finally:
                os.close(fd)
            os.unlink(src)
    with contextlib.suppress(OSError):
        fd = os.open(dest.parent, _DIR_FLAGS)
        try:
            _fsync(fd)
        finally:
            os.close(fd)


def list_trash(trash_dir: str | os.PathLike[str]) -> list[TrashEntry]:
    """Every trashed file (folders are listed by their files), newest first."""
    trash_root = Path(trash_dir)
    if not trash_root.is_dir():
        return []
    entries: list[TrashEntry] = []
    for stamp_dir in trash_root.iterdir():
        if not stamp_dir.is_dir():
            continue
        for dirpath, _dirnames, filenames in os.walk(stamp_dir):
            for fn in filenames:
                p = Path(dirpath) / fn
                entries.append(TrashEntry(p, p.relative_to(stamp_dir).as_posix(), stamp_dir.name))
    entries.sort(key=lambda e: (e.stamp, e.rel), reverse=True)
    return entries


def find_in_trash(trash_dir: str | os.PathLike[str], rel: str) -> list[TrashEntry]:
    """Trashed versions of ``rel``, newest first."""
    rel = "/".join(_split_rel(rel))
    return [e for e in list_trash(trash_dir) if e.rel == rel]


def restore_from_trash(
    entry: TrashEntry, root: str | os.PathLike[str], *, overwrite: bool = False
) -> str:
    """Put a trashed file back at its relative path; returns the path it was restored to.

    When something already exists there (and ``overwrite`` is false) the file is restored
    beside it as ``<stem>.restored-<stamp><ext>`` so nothing is clobbered.
    """
    parts = _split_rel(entry.rel)
    target = _check_without_dir_fd(Path(root), parts)
    rel = entry.rel
    if os.path.lexists(target) and not overwrite:
        p = PurePosixPath(entry.rel)
        rel = str(p.with_name(f"{p.stem}.restored-{entry.stamp}{p.suffix}"))
        target = _check_without_dir_fd(Path(root), rel.split("/"))
    data = entry.trash_path.read_bytes()
    atomic_write(root, rel, data, mode=stat.S_IMODE(entry.trash_path.stat().st_mode))
    entry.trash_path.unlink()
    with contextlib.suppress(OSError):  # drop emptied stamp folders
        parent = entry.trash_path.parent
        while parent.name != entry.stamp and parent != parent.parent:
            parent.rmdir()
            parent = parent.parent
        parent.rmdir()
    return rel
