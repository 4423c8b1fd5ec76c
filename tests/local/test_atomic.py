"""Atomic writes keep the old file whole on failure; symlinks are never written through."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pytest

from syncd.local import atomic
from syncd.local.atomic import (
    MISSING,
    ChangedOnDiskError,
    UnsafePathError,
    atomic_write,
    find_in_trash,
    list_trash,
    move_to_trash,
    remove_stale_temp_files,
    restore_from_trash,
)

OLD = b"old content\n" * 100


def leftovers(root: Path) -> list[str]:
    return [p.name for p in root.rglob("*") if p.name.startswith(".syncd.")]


def test_missing_root_is_not_recreated(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        atomic_write(tmp_path / "gone", "Page.md", b"x")
    assert not (tmp_path / "gone").exists()


def test_write_creates_parents_and_reports_stat(tmp_path: Path) -> None:
    res = atomic_write(tmp_path, "a/b/Page.md", "héllo")
    p = tmp_path / "a" / "b" / "Page.md"
    assert p.read_bytes() == "héllo".encode()
    assert res.sha256 == hashlib.sha256("héllo".encode()).hexdigest()
    assert (res.size, res.mtime_ns) == (p.stat().st_size, p.stat().st_mtime_ns)
    assert res.path == "a/b/Page.md"
    assert leftovers(tmp_path) == []


def test_replace_is_a_new_inode_never_in_place(tmp_path: Path) -> None:
    p = tmp_path / "Page.md"
    p.write_bytes(OLD)
    with p.open("rb") as reader:  # an editor holding the old file open
        atomic_write(tmp_path, "Page.md", b"new")
        assert reader.read() == OLD  # the open file was not truncated
    assert p.read_bytes() == b"new"


@pytest.mark.parametrize("fail_in", ["write", "fsync", "replace"])
def test_failure_midway_keeps_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_in: str
) -> None:
    p = tmp_path / "Page.md"
    p.write_bytes(OLD)
    real_write = os.write
    calls = {"n": 0}

    def disk_full_write(fd: int, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 1:
            return real_write(fd, bytes(data[:10]))  # a short write, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    def failing(*a: object, **k: object) -> None:
        raise OSError(errno.EIO, "I/O error")

    if fail_in == "write":
        monkeypatch.setattr(atomic.os, "write", disk_full_write)
    elif fail_in == "fsync":
        monkeypatch.setattr(atomic, "_fsync", failing)
    else:
        monkeypatch.setattr(atomic.os, "replace", failing)
    with pytest.raises(OSError):
        atomic_write(tmp_path, "Page.md", b"N" * 5000)
    assert p.read_bytes() == OLD
    assert leftovers(tmp_path) == []


def test_mode_of_existing_file_is_kept(tmp_path: Path) -> None:
    p = tmp_path / "Page.md"
    p.write_bytes(OLD)
    p.chmod(0o640)
    atomic_write(tmp_path, "Page.md", b"new")
    assert p.stat().st_mode & 0o777 == 0o640
    atomic_write(tmp_path, "New.md", b"x", mode=0o600)
    assert (tmp_path / "New.md").stat().st_mode & 0o777 == 0o600


def test_symlinked_folder_pointing_outside_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "escape").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UnsafePathError):
        atomic_write(root, "escape/Page.md", b"x")
    assert list(outside.iterdir()) == []


def test_symlinked_file_is_not_written_through(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"keep")
    (root / "Page.md").symlink_to(secret)
    with pytest.raises(UnsafePathError):
        atomic_write(root, "Page.md", b"x")
    assert secret.read_bytes() == b"keep"


@pytest.mark.parametrize("rel", ["../x.md", "/etc/x.md", "a/../../x.md", "", "a//b.md"])
def test_unsafe_relative_paths_are_refused(tmp_path: Path, rel: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    with pytest.raises(UnsafePathError):
        atomic_write(root, rel, b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["root"]


def test_if_hash_refuses_to_clobber_an_edit(tmp_path: Path) -> None:
    p = tmp_path / "Page.md"
    p.write_bytes(b"base")
    base = hashlib.sha256(b"base").hexdigest()
    atomic_write(tmp_path, "Page.md", b"v2", if_hash=base)
    assert p.read_bytes() == b"v2"
    with pytest.raises(ChangedOnDiskError):
        atomic_write(tmp_path, "Page.md", b"v3", if_hash=base)  # the user edited it meanwhile
    assert p.read_bytes() == b"v2"
    with pytest.raises(ChangedOnDiskError):
        atomic_write(tmp_path, "Page.md", b"v3", if_hash=MISSING)
    atomic_write(tmp_path, "Other.md", b"n", if_hash=MISSING)
    assert leftovers(tmp_path) == []


def test_stale_temp_files_are_swept(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / ".syncd.Page.md.abcd.tmp").write_bytes(b"partial")
    (tmp_path / "d" / "Page.md").write_bytes(b"keep")
    assert remove_stale_temp_files(tmp_path) == ["d/.syncd.Page.md.abcd.tmp"]
    assert (tmp_path / "d" / "Page.md").read_bytes() == b"keep"


def test_trash_keeps_relative_path_and_restores(tmp_path: Path) -> None:
    root, trash = tmp_path / "root", tmp_path / "state" / "trash"
    root.mkdir()
    atomic_write(root, "Guide/Install.md", b"v1")
    entry = move_to_trash(root, "Guide/Install.md", trash, now=1_700_000_000.25)
    assert not (root / "Guide" / "Install.md").exists()
    assert entry.rel == "Guide/Install.md"
    assert entry.stamp == "20231114-221320-250000"
    assert entry.trash_path == trash / entry.stamp / "Guide" / "Install.md"
    assert entry.trash_path.read_bytes() == b"v1"

    atomic_write(root, "Guide/Install.md", b"v2")
    move_to_trash(root, "Guide/Install.md", trash, now=1_700_000_100.0)
    versions = find_in_trash(trash, "Guide/Install.md")
    assert [v.trash_path.read_bytes() for v in versions] == [b"v2", b"v1"]  # newest first

    assert restore_from_trash(versions[0], root) == "Guide/Install.md"
    assert (root / "Guide" / "Install.md").read_bytes() == b"v2"
    # restoring over an existing file never clobbers it
    rel = restore_from_trash(versions[1], root)
    assert rel == f"Guide/Install.restored-{versions[1].stamp}.md"
    assert (root / rel).read_bytes() == b"v1"
    assert (root / "Guide" / "Install.md").read_bytes() == b"v2"
    assert list_trash(trash) == []


def test_trash_across_file_systems(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, trash = tmp_path / "root", tmp_path / "trash"
    root.mkdir()
    atomic_write(root, "A.md", b"data")

    def no_cross_device_rename(src: object, dst: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(atomic.os, "rename", no_cross_device_rename)
    entry = move_to_trash(root, "A.md", trash)
    assert not (root / "A.md").exists()
    assert entry.trash_path.read_bytes() == b"data"


def test_trash_refuses_paths_outside(tmp_path: Path) -> None:
    with pytest.raises(UnsafePathError):
        move_to_trash(tmp_path, "../x.md", tmp_path / "trash")


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to tell fds apart")
def test_durability_order_file_fsync_replace_dir_fsync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "Page.md").write_bytes(OLD)
    calls: list[str] = []
    real_fsync, real_replace = atomic._fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync-dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync-file")
        real_fsync(fd)

    def replace(*a: object, **k: object) -> None:
        calls.append("replace")
        real_replace(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(atomic, "_fsync", fsync)
    monkeypatch.setattr(atomic.os, "replace", replace)
    atomic_write(tmp_path, "Page.md", b"new")
    assert calls == ["fsync-file", "replace", "fsync-dir"]


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to tell fds apart")
def test_writes_sharing_dir_syncs_fsync_each_folder_once_at_the_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit: each file's data is fsynced before its rename as always, but the
    folders' fsyncs (the renames, the new folder) are owed and paid once at the flush."""
    calls: list[str] = []
    real_fsync = atomic._fsync

    def fsync(fd: int) -> None:
        target = os.readlink(f"/proc/self/fd/{fd}")
        kind = "dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "file"
        calls.append(f"{kind}:{os.path.relpath(target, tmp_path)}")
        real_fsync(fd)

    monkeypatch.setattr(atomic, "_fsync", fsync)
    dirs = atomic.DirSyncs()
    for name in ("a.md", "b.md", "Sub/c.md", "Sub/d.md"):
        atomic_write(tmp_path, name, b"x", dirs=dirs)
    assert [c for c in calls if c.startswith("dir:")] == []
    assert len([c for c in calls if c.startswith("file:")]) == 4
    assert len(dirs) == 2  # the root (renames, new Sub) and Sub (renames)
    calls.clear()
    dirs.flush()
    assert sorted(calls) == ["dir:.", "dir:Sub"]
    assert len(dirs) == 0
    assert (tmp_path / "Sub" / "d.md").read_bytes() == b"x"
