"""Build the reconcile inputs: `LocalEntry` per file and `RemoteEntry` per page.

Local side: `syncd.local.scan.scan` walks the folder and re-hashes only files
whose (size, mtime_ns, inode) changed since the previous scan; this module keeps
that previous scan, and what each file's front matter said, in the state
database (meta key ``scan_cache``), so an unchanged file is neither hashed nor
parsed again. A targeted run (`local_entries_for_paths`) reads only the named
files and stands in the records for every other page.

Remote side: one listing of the space tree (light records, no bodies). A page
the state knows but the listing lacks is confirmed one by one with
`get_page(include_trashed=True)`: absence from a listing is not proof of
deletion.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from syncd.confluence import ConfluenceClient, ConfluenceError, NotFound
from syncd.confluence.models import Page, PageRef
from syncd.local import frontmatter
from syncd.local.ignore import is_page_path
from syncd.local.layout import PageRecord as LayoutRecord
from syncd.local.names import strip_suffix_id
from syncd.local.scan import FileEntry, Snapshot, scan
from syncd.sync.merge import has_conflict_markers
from syncd.sync.model import LocalEntry, RemoteEntry, body_hash
from syncd.sync.records import PageRecord
from syncd.sync.state import StateDB

SCAN_CACHE_KEY = "scan_cache"
BLOG_FOLDER = "blog"


@dataclass(frozen=True)
class ParsedFile:
    """What the front matter and body of one file say (cached by whole-file hash)."""

    sha256: str
    page_id: str | None
    title: str
    body_hash: str
    labels: tuple[str, ...] | None
    markers: bool
    error: str | None = None

    def to_list(self) -> list:
        return [
            self.sha256,
            self.page_id,
            self.title,
            self.body_hash,
            list(self.labels) if self.labels is not None else None,
            self.markers,
            self.error,
        ]

    @classmethod
    def from_list(cls, data: list) -> ParsedFile:
        labels = tuple(data[4]) if data[4] is not None else None
        return cls(data[0], data[1], data[2], data[3], labels, bool(data[5]), data[6])


@dataclass
class LocalScan:
    entries: list[LocalEntry]
    snapshot: Snapshot
    errors: list[str] = field(default_factory=list)
    #: Files whose front matter is broken: held, never pushed (path -> message).
    broken: dict[str, str] = field(default_factory=dict)


def kind_of(path: str, blog_posts: bool) -> str:
    return "blogpost" if blog_posts and path.startswith(BLOG_FOLDER + "/") else "page"


def parse_file(text: str, path: str, sha256: str) -> ParsedFile:
    """Read the page id, title, labels and body hash of a file's text."""
    stem = PurePosixPath(path).stem
    try:
        doc = frontmatter.parse(text)
    except frontmatter.FrontMatterError as exc:
        return ParsedFile(sha256, None, stem, "", None, False, str(exc))
    meta = doc.meta
    title = meta.title if meta.title not in (None, "") else strip_suffix_id(stem, meta.page_id)
    labels = meta.labels if doc.has_front_matter else None
    return ParsedFile(
        sha256,
        meta.page_id or None,
        str(title),
        body_hash(doc.body),
        labels,
        has_conflict_markers(doc.body),
    )


def read_text(root: Path, rel: str) -> str:
    with open(root / rel, encoding="utf-8", errors="surrogateescape", newline="") as f:
        return f.read()


def _entry(path: str, parsed: ParsedFile, blog_posts: bool) -> LocalEntry:
    return LocalEntry(
        path=path,
        page_id=parsed.page_id,
        title=parsed.title,
        body_hash=parsed.body_hash,
        kind=kind_of(path, blog_posts),  # type: ignore[arg-type]
        labels=parsed.labels,
        has_conflict_markers=parsed.markers,
    )


def _stand_in(record: PageRecord) -> LocalEntry:
    """The file as it was when last synced (for pages a targeted run does not look at)."""
    return LocalEntry(
        path=record.local_path,
        page_id=record.page_id,
        title=record.title,
        body_hash=record.local_hash,
        kind=record.kind,
        labels=tuple(record.labels),
    )


def _load_cache(db: StateDB) -> tuple[Snapshot | None, dict[str, ParsedFile]]:
    raw = db.get_meta(SCAN_CACHE_KEY)
    if not raw:
        return None, {}
    try:
        data = json.loads(raw)
        pages = {p: FileEntry(p, *v[:4]) for p, v in data["files"].items()}
        parsed = {p: ParsedFile.from_list(v[4]) for p, v in data["files"].items()}
        atts = {p: FileEntry(p, *v[:4]) for p, v in data.get("attachments", {}).items()}
        return Snapshot(pages=pages, attachments=atts, started_ns=int(data["started_ns"])), parsed
    except (ValueError, KeyError, TypeError, IndexError):
        return None, {}


def save_cache(db: StateDB, snapshot: Snapshot, parsed: Mapping[str, ParsedFile]) -> None:
    files = {
        p: [e.size, e.mtime_ns, e.sha256, e.inode, parsed[p].to_list()]
        for p, e in snapshot.pages.items()
        if p in parsed
    }
    atts = {p: [e.size, e.mtime_ns, e.sha256, e.inode] for p, e in snapshot.attachments.items()}
    db.set_meta(
        SCAN_CACHE_KEY,
        json.dumps(
            {"started_ns": snapshot.started_ns, "files": files, "attachments": atts},
            ensure_ascii=False,
        ),
    )


def scan_local(
    root: Path,
    db: StateDB,
    *,
    blog_posts: bool,
    records: Mapping[str, PageRecord],
    attachments: bool = False,
) -> LocalScan:
    """Every page file of the folder, hashing and parsing only what changed."""
    previous, cache = _load_cache(db)
    snapshot = scan(root, previous, attachments=attachments)
    by_path = {r.local_path: r for r in records.values() if r.tombstone is None}
    entries: list[LocalEntry] = []
    parsed_now: dict[str, ParsedFile] = {}
    errors: list[str] = []
    broken: dict[str, str] = {}
    for path, fe in snapshot.pages.items():
        parsed = cache.get(path)
        if parsed is None or parsed.sha256 != fe.sha256:
            try:
                parsed = parse_file(read_text(root, path), path, fe.sha256)
            except OSError as exc:
                errors.append(f"{path}: cannot read ({exc.strerror}); skipped this run")
                record = by_path.get(path)
                if record is not None:
                    entries.append(_stand_in(record))
                continue
        parsed_now[path] = parsed
        if parsed.error is not None:
            broken[path] = parsed.error
            record = by_path.get(path)
            if record is not None:
                entries.append(_stand_in(record))  # held as it was: never pushed, never trashed
            continue
        entries.append(_entry(path, parsed, blog_posts))
    # A folder or file the scan could not read (permissions, a symlink) is not a
    # deletion: its pages stand in as they were.
    unread = [p for p in snapshot.skipped if p not in snapshot.pages]
    if unread:
        seen = {e.path for e in entries}
        for path, record in by_path.items():
            if path not in seen and any(
                path == p or p == "." or path.startswith(p + "/") for p in unread
            ):
                entries.append(_stand_in(record))
                errors.append(f"{path}: not readable (or a link); left as it was")
    save_cache(db, snapshot, parsed_now)
    return LocalScan(entries, snapshot, errors, broken)


def local_entries_for_paths(
    root: Path,
    paths: Iterable[str],
    records: Mapping[str, PageRecord],
    *,
    blog_posts: bool,
) -> LocalScan:
    """A targeted scan: read the named files, stand in the records for the rest."""
    wanted = {p for p in paths if is_page_path(p)}
    entries: dict[str, LocalEntry] = {}
    errors: list[str] = []
    broken: dict[str, str] = {}
    for record in records.values():
        if record.tombstone is None and record.local_path not in wanted:
            entries[record.local_path] = _stand_in(record)
    by_path = {r.local_path: r for r in records.values() if r.tombstone is None}
    for path in sorted(wanted):
        full = root / path
        if full.is_symlink():
            continue
        try:
            text = read_text(root, path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            continue  # gone: a deletion (or a move, whose other end is named too)
        except OSError as exc:
            errors.append(f"{path}: cannot read ({exc.strerror}); skipped this run")
            if path in by_path:
                entries[path] = _stand_in(by_path[path])  # unreadable is not deleted
            continue
        parsed = parse_file(text, path, "")
        if parsed.error is not None:
            broken[path] = parsed.error
            if path in by_path:
                entries[path] = _stand_in(by_path[path])  # held as it was, never trashed
            continue
        entries[path] = _entry(path, parsed, blog_posts)
    return LocalScan(list(entries.values()), Snapshot(), errors, broken)


# --------------------------------------------------------------------------- remote


@dataclass
class RemoteListing:
    root_id: str | None
    remotes: dict[str, RemoteEntry]
    tree: list[LayoutRecord]


def remote_entry(ref: PageRef | Page, root_id: str | None) -> RemoteEntry:
    parent = ref.parent_id if ref.kind == "page" else None
    if ref.id == root_id:
        parent = None
    status = "current" if ref.status in ("current", "archived") else "trashed"
    return RemoteEntry(ref.id, ref.title, parent, ref.version, status, ref.kind)  # type: ignore[arg-type]


async def list_remote(
    client: ConfluenceClient,
    space_key: str,
    *,
    root_page: str | None,
    blog_posts: bool,
    records: Mapping[str, PageRecord],
    concurrency: int = 8,
) -> RemoteListing:
    """The remote snapshot of the whole space (or the configured subtree)."""
    space = await client.get_space(space_key)
    root_id = root_page or space.homepage_id
    remotes: dict[str, RemoteEntry] = {}
    tree: list[LayoutRecord] = []
    async for ref in client.iter_page_tree(
        space_key, root_page=root_page, include_blogposts=blog_posts
    ):
        remotes[ref.id] = remote_entry(ref, root_id)
        if ref.kind == "page":
            tree.append(LayoutRecord(ref.id, ref.title, ref.parent_id, ref.position))
    missing = [pid for pid in records if pid not in remotes]
    found = await confirm_pages(client, missing, records, root_id, concurrency=concurrency)
    remotes.update(found)
    return RemoteListing(root_id, remotes, tree)


async def confirm_pages(
    client: ConfluenceClient,
    page_ids: Iterable[str],
    records: Mapping[str, PageRecord],
    root_id: str | None,
    *,
    concurrency: int = 8,
    blog_posts: bool = False,
) -> dict[str, RemoteEntry]:
    """Look pages up by id (trash included); absent ones are left out (= purged)."""
    gate = asyncio.Semaphore(concurrency)
    out: dict[str, RemoteEntry] = {}

    async def one(pid: str) -> None:
        record = records.get(pid)
        kinds = [record.kind] if record else ["page", "blogpost"] if blog_posts else ["page"]
        async with gate:
            for kind in kinds:
                try:
                    page = await client.get_page(
                        pid, kind=kind, ancestors=False, include_trashed=True
                    )
                except NotFound:
                    continue
                out[pid] = remote_entry(page, root_id)
                return

    await asyncio.gather(*(one(pid) for pid in page_ids))
    return out


def file_stat(root: Path, rel: str) -> os.stat_result | None:
    try:
        return os.stat(root / rel, follow_symlinks=False)
    except OSError:
        return None


__all__ = [
    "ConfluenceError",
    "LocalScan",
    "ParsedFile",
    "RemoteListing",
    "confirm_pages",
    "list_remote",
    "local_entries_for_paths",
    "parse_file",
    "scan_local",
]
