"""A snapshot of the synced folder: every page and attachment with size, mtime and hash.

Cost grows with what changed: a file whose (size, mtime_ns, inode) equal the previous
snapshot's keeps its previous hash without being read, unless its mtime was too close to
when that hash was known to be the file's ("racy" files, as git calls them: an edit in the
same clock tick could have left size and mtime unchanged), in which case it is hashed again.
That moment is the entry's ``certified_ns``: the start of the scan that hashed it, or, for a
file syncd wrote itself, the write (whose mtime `syncd.local.atomic` sets far enough in the
past that the entry is never racy).

Not scanned: hidden files and folders, temp and editor files (:mod:`syncd.local.ignore`),
symbolic links (a link could point outside the folder; never followed, reported in
``skipped``). Conflict copies are listed separately so ``status`` can show them.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from syncd.local.ignore import (
    ATTACHMENTS_SUFFIX,
    PAGE_SUFFIX,
    is_conflict_copy,
    is_ignored_name,
)

# A file modified less than this before the previous scan started is re-hashed.
RACY_WINDOW_NS = 2_000_000_000


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # relative POSIX path
    size: int
    mtime_ns: int
    sha256: str
    inode: int = 0
    #: When `sha256` was known to be the content (0: the snapshot's `started_ns`).
    certified_ns: int = 0


@dataclass(frozen=True)
class Snapshot:
    pages: Mapping[str, FileEntry] = field(default_factory=dict)
    attachments: Mapping[str, FileEntry] = field(default_factory=dict)
    conflicts: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()  # symlinks and unreadable entries
    started_ns: int = 0  # wall clock (time.time_ns) when the scan began
    hashed: int = 0  # files read this time (the rest reused the previous hash)

    def get(self, rel: str) -> FileEntry | None:
        return self.pages.get(rel) or self.attachments.get(rel)


def hash_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _reusable(prev: FileEntry | None, st: os.stat_result, prev_started_ns: int) -> bool:
    return (
        prev is not None
        and prev.size == st.st_size
        and prev.mtime_ns == st.st_mtime_ns
        and (prev.inode in (0, st.st_ino))
        and st.st_mtime_ns + RACY_WINDOW_NS <= (prev.certified_ns or prev_started_ns)
    )


def scan(
    root: str | os.PathLike[str],
    previous: Snapshot | None = None,
    *,
    attachments: bool = True,
) -> Snapshot:
    """Walk ``root`` and return its :class:`Snapshot`, reusing ``previous`` hashes."""
    root_p = Path(root)
    started = time.time_ns()
    prev_started = previous.started_ns if previous else 0
    prev_pages = previous.pages if previous else {}
    prev_att = previous.attachments if previous else {}
    pages: dict[str, FileEntry] = {}
    atts: dict[str, FileEntry] = {}
    conflicts: list[str] = []
    skipped: list[str] = []
    hashed = 0

    def entry(full: str, rel: str, st: os.stat_result, prev: FileEntry | None) -> FileEntry | None:
        nonlocal hashed
        if _reusable(prev, st, prev_started):
            assert prev is not None
            return prev
        try:
            digest = hash_file(full)
        except OSError:
            skipped.append(rel)
            return None
        hashed += 1
        return FileEntry(rel, st.st_size, st.st_mtime_ns, digest, st.st_ino, started)

    # (absolute dir, relative dir, inside an attachments folder?)
    stack: list[tuple[str, str, bool]] = [(str(root_p), "", False)]
    while stack:
        abs_dir, rel_dir, in_att = stack.pop()
        try:
            it = os.scandir(abs_dir)
        except OSError:
            skipped.append(rel_dir or ".")
            continue
        with it:
            for de in it:
                rel = f"{rel_dir}/{de.name}" if rel_dir else de.name
                try:
                    st = de.stat(follow_symlinks=False)
                except OSError:
                    skipped.append(rel)
                    continue
                if stat.S_ISLNK(st.st_mode):
                    if not de.name.startswith("."):
                        skipped.append(rel)
                    continue
                if stat.S_ISDIR(st.st_mode):
                    if is_ignored_name(de.name, is_dir=True):
                        continue
                    is_att_dir = not in_att and de.name.lower().endswith(ATTACHMENTS_SUFFIX)
                    if is_att_dir and not attachments:
                        continue
                    stack.append((de.path, rel, in_att or is_att_dir))
                    continue
                if not stat.S_ISREG(st.st_mode) or is_ignored_name(de.name):
                    continue
                # Keyed by the entry's own path string: a reused entry keeps the cached
                # one, so the walk's `rel` is not held twice per file.
                if in_att:
                    e = entry(de.path, rel, st, prev_att.get(rel))
                    if e:
                        atts[e.path] = e
                elif de.name.lower().endswith(PAGE_SUFFIX):
                    if is_conflict_copy(de.name):
                        conflicts.append(rel)
                        continue
                    e = entry(de.path, rel, st, prev_pages.get(rel))
                    if e:
                        pages[e.path] = e
    return Snapshot(
        pages=dict(sorted(pages.items())),
        attachments=dict(sorted(atts.items())),
        conflicts=tuple(sorted(conflicts)),
        skipped=tuple(sorted(skipped)),
        started_ns=started,
        hashed=hashed,
    )
