"""The local snapshot: what it sees, what it ignores, and that it skips re-hashing."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from syncd.local import scan as scan_mod
from syncd.local.scan import scan

PAST_NS = 1_600_000_000_000_000_000  # 2020: well outside the racy window


def put(root: Path, rel: str, data: bytes = b"x", *, old: bool = True) -> Path:
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    if old:
        os.utime(p, ns=(PAST_NS, PAST_NS))
    return p


def test_pages_attachments_and_ignored_files(tmp_path: Path) -> None:
    put(tmp_path, "README.md", b"home")
    put(tmp_path, "Guide.md")
    put(tmp_path, "Guide/Install.md")
    put(tmp_path, "Guide.attachments/shot.png", b"\x89PNG")
    put(tmp_path, "Guide.attachments/notes.md", b"an attachment, not a page")
    put(tmp_path, "Guide.conflict-20260101-120000.md")
    for ignored in [
        ".hidden.md",
        ".git/config.md",
        "Guide/.Install.md.swp",
        "4913",
        "Guide.md~",
        "x.md___jb_tmp___",
        "x.md___jb_old___",
        ".goutputstream-ABC123",
        "#Guide.md#",
        ".#Guide.md",
        "~$doc.md",
        ".syncd.Guide.md.1234.tmp",
        "notes.txt",
        "image.png",
    ]:
        put(tmp_path, ignored)
    snap = scan(tmp_path)
    assert list(snap.pages) == ["Guide.md", "Guide/Install.md", "README.md"]
    assert list(snap.attachments) == ["Guide.attachments/notes.md", "Guide.attachments/shot.png"]
    assert snap.conflicts == ("Guide.conflict-20260101-120000.md",)
    e = snap.pages["README.md"]
    assert e.sha256 == hashlib.sha256(b"home").hexdigest()
    assert (e.size, e.mtime_ns) == (4, PAST_NS)
    assert snap.get("Guide.attachments/shot.png") is not None
    assert scan(tmp_path, attachments=False).attachments == {}


def test_folder_named_like_a_probe_file_is_scanned(tmp_path: Path) -> None:
    put(tmp_path, "2024.md")
    put(tmp_path, "2024/January.md")
    assert set(scan(tmp_path).pages) == {"2024.md", "2024/January.md"}


def test_unchanged_files_are_not_rehashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(20):
        put(tmp_path, f"p{i}.md", f"page {i}".encode())
    first = scan(tmp_path)
    assert first.hashed == 20
    calls: list[str] = []
    real = scan_mod.hash_file

    def counting(path: str) -> str:
        calls.append(os.path.basename(path))
        return real(path)

    monkeypatch.setattr(scan_mod, "hash_file", counting)
    second = scan(tmp_path, first)
    assert calls == [] and second.hashed == 0
    assert second.pages == first.pages

    p = tmp_path / "p3.md"
    p.write_bytes(b"page 3, edited")
    os.utime(p, ns=(PAST_NS + 10**9, PAST_NS + 10**9))
    third = scan(tmp_path, second)
    assert calls == ["p3.md"]
    assert third.pages["p3.md"].sha256 == hashlib.sha256(b"page 3, edited").hexdigest()


def test_same_size_and_mtime_but_new_content_right_after_a_scan_is_rehashed(
    tmp_path: Path,
) -> None:
    p = put(tmp_path, "racy.md", b"AAAA", old=False)
    first = scan(tmp_path)
    st = p.stat()
    p.write_bytes(b"BBBB")  # same size, and the mtime is put back as it was
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = scan(tmp_path, first)
    assert second.pages["racy.md"].sha256 == hashlib.sha256(b"BBBB").hexdigest()


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    put(outside, "secret.md", b"secret")
    put(root, "Page.md")
    (root / "linked-dir").symlink_to(outside, target_is_directory=True)
    (root / "linked.md").symlink_to(outside / "secret.md")
    snap = scan(root)
    assert list(snap.pages) == ["Page.md"]
    assert set(snap.skipped) == {"linked-dir", "linked.md"}
