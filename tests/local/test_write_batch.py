"""`WriteBatch`: many atomic writes made durable together, then renamed into place.

The guarantee of `atomic_write` must hold for each file of a batch: its name never points
at bytes that are not durable, a target that changed meanwhile is never replaced, and a
failure leaves no temp file and no half-written name.
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest

from syncd.local import atomic, write_batch
from syncd.local.atomic import (
    MISSING,
    MTIME_LAG_NS,
    TEMP_PREFIX,
    ChangedOnDiskError,
    DirSyncs,
    atomic_write,
    sha256_bytes,
)
from syncd.local.write_batch import SYNCFS_MIN_FILES, WriteBatch


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(TEMP_PREFIX)]


@pytest.fixture
def syncs(monkeypatch):
    """Every data sync of the batch, in order: ("syncfs", fd) or ("fsync", fd)."""
    calls: list[tuple[str, int]] = []
    real_fsync = write_batch._fsync

    def fsync(fd: int) -> None:
        calls.append(("fsync", fd))
        real_fsync(fd)

    monkeypatch.setattr(write_batch, "_fsync", fsync)
    real_sync = write_batch.sync_file_systems

    def sync_file_systems(fds) -> bool:
        fds = list(fds)
        calls.extend(("syncfs", fd) for fd in fds)
        return real_sync(fds)

    monkeypatch.setattr(write_batch, "sync_file_systems", sync_file_systems)
    return calls


def test_files_appear_only_at_publish_with_their_bytes_and_lagged_mtime(tmp_path, syncs):
    batch = WriteBatch(DirSyncs())
    before = time.time_ns()
    results = {
        rel: atomic_write(tmp_path, rel, f"text of {rel}\n", batch=batch)
        for rel in ("a.md", "sub/b.md", "sub/deeper/c.md")
    }
    # Not at their names yet; the batch answers for them.
    assert not (tmp_path / "a.md").exists() and not (tmp_path / "sub" / "b.md").exists()
    assert "sub/b.md" in batch and len(batch) == 3
    assert batch.read("sub/b.md") == b"text of sub/b.md\n"
    assert sorted(batch.names_in("sub")) == ["b.md"] and batch.names_in("") == ["a.md"]
    assert batch.result("a.md") == results["a.md"]

    assert batch.publish() == []
    for rel, result in results.items():
        st = (tmp_path / rel).stat()
        assert (tmp_path / rel).read_text() == f"text of {rel}\n"
        assert (st.st_size, st.st_mtime_ns, st.st_ino) == (
            result.size,
            result.mtime_ns,
            result.inode,
        )
        assert result.sha256 == sha256_bytes(f"text of {rel}\n".encode())
        assert result.mtime_ns <= before - MTIME_LAG_NS + 10**9
    assert temp_files(tmp_path) == []
    assert len(batch) == 0 and batch.dirs  # the renames owe their folders an fsync
    assert [kind for kind, _ in syncs] == ["fsync"] * 3  # few files: one fsync each


def test_every_file_is_durable_before_the_first_rename(tmp_path, syncs, monkeypatch):
    real_replace = os.replace

    def replace(src, dst, **kw):
        syncs.append(("rename", dst))
        real_replace(src, dst, **kw)

    n = SYNCFS_MIN_FILES + 2
    batch = WriteBatch(DirSyncs())
    for i in range(n):
        atomic_write(tmp_path, f"f{i}.md", f"{i}\n", batch=batch)
    monkeypatch.setattr(write_batch.os, "replace", replace)
    assert syncs == []  # nothing synced while writing
    batch.publish()
    kinds = [kind for kind, _ in syncs]
    if atomic._syncfs_function() is not None:  # many files: one syncfs, then the renames
        assert kinds == ["syncfs"] + ["rename"] * n
    else:
        assert kinds == ["fsync"] * n + ["rename"] * n
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"f{i}.md" for i in range(n))


def test_a_failing_syncfs_falls_back_to_an_fsync_per_file(tmp_path, monkeypatch):
    fsyncs: list[int] = []
    monkeypatch.setattr(atomic, "_SYNCFS", lambda fd: -1)  # syncfs exists but fails
    monkeypatch.setattr(write_batch, "_fsync", lambda fd: fsyncs.append(fd))
    batch = WriteBatch(DirSyncs())
    for i in range(SYNCFS_MIN_FILES):
        atomic_write(tmp_path, f"f{i}.md", "x", batch=batch)
    assert batch.publish() == []
    assert len(fsyncs) == SYNCFS_MIN_FILES
    assert len(list(tmp_path.glob("f*.md"))) == SYNCFS_MIN_FILES


def test_a_target_that_changed_meanwhile_is_left_alone_and_reported(tmp_path, syncs):
    (tmp_path / "edited.md").write_text("old\n")
    old_sha = sha256_bytes(b"old\n")
    batch = WriteBatch(DirSyncs())
    atomic_write(tmp_path, "edited.md", "new\n", if_hash=old_sha, batch=batch)
    atomic_write(tmp_path, "fresh.md", "fresh\n", if_hash=MISSING, batch=batch)
    atomic_write(tmp_path, "other.md", "other\n", batch=batch)
    # Meanwhile a user saves one file and creates another.
    (tmp_path / "edited.md").write_text("user's save\n")
    (tmp_path / "fresh.md").write_text("user's own file\n")

    failed = batch.publish()

    assert sorted(rel for rel, _ in failed) == ["edited.md", "fresh.md"]
    assert all(isinstance(exc, ChangedOnDiskError) for _, exc in failed)
    assert (tmp_path / "edited.md").read_text() == "user's save\n"
    assert (tmp_path / "fresh.md").read_text() == "user's own file\n"
    assert (tmp_path / "other.md").read_text() == "other\n"
    assert temp_files(tmp_path) == []


def test_a_file_written_twice_keeps_the_last_bytes_and_the_first_check(tmp_path, syncs):
    (tmp_path / "p.md").write_text("on disk\n")
    batch = WriteBatch(DirSyncs())
    atomic_write(tmp_path, "p.md", "first\n", if_hash=sha256_bytes(b"on disk\n"), batch=batch)
    # The second writer read the first write's bytes (through the batch) and checks those.
    atomic_write(tmp_path, "p.md", "second\n", batch=batch)
    assert len(batch) == 1 and len(temp_files(tmp_path)) == 1
    (tmp_path / "p.md").write_text("user\n")  # the check against disk is the first one's
    assert [rel for rel, _ in batch.publish()] == ["p.md"]
    assert (tmp_path / "p.md").read_text() == "user\n"
    assert temp_files(tmp_path) == []


def test_discard_removes_every_temp_file_and_renames_nothing(tmp_path):
    batch = WriteBatch(DirSyncs())
    atomic_write(tmp_path, "a.md", "a", batch=batch)
    atomic_write(tmp_path, "d/b.md", "b", batch=batch)
    batch.discard()
    assert temp_files(tmp_path) == []
    assert not (tmp_path / "a.md").exists() and not (tmp_path / "d" / "b.md").exists()
    assert len(batch) == 0


def test_data_that_cannot_be_made_durable_is_never_renamed(tmp_path, monkeypatch):
    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(atomic, "_SYNCFS", False)  # no syncfs on this system
    monkeypatch.setattr(write_batch, "_fsync", broken)
    (tmp_path / "kept.md").write_text("old\n")
    batch = WriteBatch(DirSyncs())
    atomic_write(tmp_path, "kept.md", "new\n", batch=batch)
    atomic_write(tmp_path, "new.md", "new\n", batch=batch)
    with pytest.raises(OSError) as caught:
        batch.publish()
    assert caught.value.errno == errno.EIO
    assert (tmp_path / "kept.md").read_text() == "old\n"
    assert not (tmp_path / "new.md").exists()
    assert temp_files(tmp_path) == []


def test_many_folders_owed_an_fsync_are_flushed_with_one_syncfs(tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(atomic, "_fsync", lambda fd: calls.append("fsync"))
    monkeypatch.setattr(atomic, "_SYNCFS", lambda fd: calls.append("syncfs") or 0)
    few, many = DirSyncs(), DirSyncs()
    for i in range(SYNCFS_MIN_FILES + 3):
        (tmp_path / f"d{i}").mkdir()
        fd = os.open(tmp_path / f"d{i}", os.O_RDONLY)
        (many if i >= 3 else few).owe(fd)
        os.close(fd)
    few.flush()
    assert calls == ["fsync"] * 3
    calls.clear()
    many.flush()
    assert calls == ["syncfs"]  # one file system: one call
    assert len(many) == 0


def test_a_batch_walks_each_folder_once_and_never_through_a_link_put_there_later(
    tmp_path, monkeypatch
):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    walks: list[tuple[str, ...]] = []
    real_open_parent = atomic._open_parent

    def open_parent(base, parts, **kw):
        walks.append(tuple(parts[:-1]))
        return real_open_parent(base, parts, **kw)

    monkeypatch.setattr(atomic, "_open_parent", open_parent)
    batch = WriteBatch(DirSyncs())
    for i in range(4):
        atomic_write(root, f"sub/f{i}.md", "x", batch=batch)
    atomic_write(root, "top.md", "x", batch=batch)
    assert walks == [("sub",), ()]
    # The folder is swapped for a link out of the root: the batch keeps writing into the
    # folder it walked (now renamed), never through the link.
    (root / "sub").rename(root / "moved")
    (root / "sub").symlink_to(outside)
    atomic_write(root, "sub/late.md", "late", batch=batch)
    assert batch.publish() == []
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in (root / "moved").iterdir()) == [
        "f0.md",
        "f1.md",
        "f2.md",
        "f3.md",
        "late.md",
    ]
