"""Build the reconcile inputs: `LocalEntry` per file and `RemoteEntry` per page.

Local side: `syncd.local.scan.scan` walks the folder and re-hashes only files
whose (size, mtime_ns, inode) changed since the previous scan; this module keeps
that previous scan, and what each file's front matter said, in the state
database (table ``scan_cache``, one row per file, only changed rows rewritten),
so an unchanged file is neither hashed nor parsed again. Files syncd writes
enter the cache as they are written (`written_page_row`,
`written_attachment_row`), so the run after a first sync reads none of them.
A targeted run (`local_entries_for_paths`) reads only the named files and
stands in the records for every other page.

Remote side: one listing of the space tree (light records, no bodies). A page
the state knows but the listing lacks is confirmed one by one with
`get_page(include_trashed=True)`: absence from a listing is not proof of
deletion.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from syncd.confluence import ConfluenceClient, ConfluenceError, NotFound, stops_every_request
from syncd.confluence.models import CONTAINER_KINDS, Page, PageRef
from syncd.local import frontmatter
from syncd.local.atomic import MTIME_LAG_NS, UnsafePathError, WriteResult, read_inside
from syncd.local.ignore import is_page_path
from syncd.local.layout import PageRecord as LayoutRecord
from syncd.local.names import strip_suffix_id, title_from_stem
from syncd.local.scan import FileEntry, Snapshot, scan
from syncd.sync.containers import RemoteContainer, stand_in_title
from syncd.sync.merge import has_conflict_markers
from syncd.sync.model import LocalEntry, RemoteEntry, body_hash
from syncd.sync.records import ContainerRecord, PageRecord
from syncd.sync.state import StateDB

BLOG_FOLDER = "blog"
#: `scan_cache.area` values.
PAGE_AREA = "page"
ATTACHMENT_AREA = "attachment"


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """What the front matter and body of one file say (cached by whole-file hash)."""

    sha256: str
    page_id: str | None
    title: str
    body_hash: str
    labels: tuple[str, ...] | None
    markers: bool
    error: str | None = None
    #: The title came from the front matter (not from the file name).
    titled: bool = True
    #: Why a file without a page id cannot stand for the page recorded at its path
    #: (see `lost_id_problem`); None when it can, or when it has an id.
    lost_id: str | None = None

    def to_list(self) -> list:
        return [
            self.sha256,
            self.page_id,
            self.title,
            self.body_hash,
            list(self.labels) if self.labels is not None else None,
            self.markers,
            self.error,
            self.titled,
            self.lost_id,
        ]

    @classmethod
    def from_list(cls, data: list, sha256: str | None = None) -> ParsedFile:
        """`sha256`: the same hash held elsewhere (shared rather than a second copy)."""
        labels = tuple(data[4]) if data[4] is not None else None
        sha = sha256 if sha256 is not None and sha256 == data[0] else data[0]
        return cls(sha, data[1], data[2], data[3], labels, bool(data[5]), data[6], data[7], data[8])


@dataclass
class LocalScan:
    entries: list[LocalEntry]
    snapshot: Snapshot
    errors: list[str] = field(default_factory=list)
    #: Files whose front matter is broken: held, never pushed (path -> message).
    broken: dict[str, str] = field(default_factory=dict)
    #: Files read this run (hashed, or parsed because the cache lacked their front matter).
    files_read: int = 0


def kind_of(path: str, blog_posts: bool) -> str:
    return "blogpost" if blog_posts and path.startswith(BLOG_FOLDER + "/") else "page"


#: `lost_id_problem` values.
LOST_ID_EMPTY = "empty"
LOST_ID_NOT_A_MAPPING = "not-a-mapping"
_FRONT_MATTER_BLOCK = re.compile(r"\A\ufeff?---[ \t]*\r?\n(?:.*\n)*?(?:---|\.\.\.)[ \t]*\r?$", re.M)


def lost_id_problem(text: str, doc: frontmatter.Document) -> str | None:
    """Why a file without a page id cannot be the page recorded at its path.

    A tracked file that lost its id (an editor stripped the front matter) is still
    that page: its body is an edit. Two shapes are held instead: an empty file (a
    truncation is far more often an accident than "empty this page") and a leading
    `---` block that is not `key: value` lines (broken front matter, not prose).
    """
    if doc.meta.page_id:
        return None
    if not text.strip():
        return LOST_ID_EMPTY
    if not doc.has_front_matter and _FRONT_MATTER_BLOCK.match(text):
        return LOST_ID_NOT_A_MAPPING
    return None


_SURROGATE = re.compile("[\udc80-\udcff]")


def utf8_problem(text: str) -> str | None:
    """Where a file's text (decoded with surrogateescape) is not valid UTF-8, if it is not."""
    bad = _SURROGATE.search(text)
    if bad is None:
        return None
    line = text.count("\n", 0, bad.start()) + 1
    byte = ord(bad.group()) - 0xDC00
    return f"{NOT_UTF8} (byte 0x{byte:02x} on line {line}); save it as UTF-8 to sync it"


NOT_UTF8 = "not valid UTF-8"


def parse_file(
    text: str, path: str, sha256: str, *, doc: frontmatter.Document | None = None
) -> ParsedFile:
    """Read the page id, title, labels and body hash of a file's text.

    `doc`: what ``frontmatter.parse(text)`` returns, when the caller knows it without
    parsing (`frontmatter.render_and_parse`); the text is then not parsed again.
    """
    stem = PurePosixPath(path).stem
    encoding = utf8_problem(text)
    if encoding is not None:
        return ParsedFile(sha256, None, stem, "", None, False, encoding)
    if doc is None:
        try:
            doc = frontmatter.parse(text)
        except frontmatter.FrontMatterError as exc:
            return ParsedFile(sha256, None, stem, "", None, False, str(exc))
    meta = doc.meta
    titled = meta.title not in (None, "")
    title = meta.title if titled else title_from_stem(strip_suffix_id(stem, meta.page_id))
    labels = meta.labels if doc.has_front_matter else None
    return ParsedFile(
        sha256,
        meta.page_id or None,
        str(title),
        body_hash(doc.body),
        labels,
        has_conflict_markers(doc.body),
        titled=titled,
        lost_id=lost_id_problem(text, doc),
    )


def read_text(root: Path, rel: str) -> str:
    """A page file's text; never read through a link (UnsafePathError, an OSError)."""
    return read_inside(root, rel).decode("utf-8", errors="surrogateescape")


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
    pages: dict[str, FileEntry] = {}
    atts: dict[str, FileEntry] = {}
    parsed: dict[str, ParsedFile] = {}
    for path, area, size, mtime_ns, inode, sha, certified_ns, data in db.iter_scan_cache():
        entry = FileEntry(path, size, mtime_ns, sha, inode, certified_ns)
        if area == ATTACHMENT_AREA:
            atts[path] = entry
            continue
        try:
            p = ParsedFile.from_list(json.loads(data), sha)
        except (ValueError, KeyError, TypeError, IndexError):
            continue  # unreadable row: the file is hashed and parsed again
        if p.sha256 == sha:
            pages[path] = entry
            parsed[path] = p
    if not pages and not atts:
        return None, {}
    return Snapshot(pages=pages, attachments=atts), parsed


def _page_row(entry: FileEntry, parsed: ParsedFile) -> tuple:
    return (
        entry.path,
        PAGE_AREA,
        entry.size,
        entry.mtime_ns,
        entry.inode,
        entry.sha256,
        entry.certified_ns,
        json.dumps(parsed.to_list(), ensure_ascii=False),
    )


def _attachment_row(entry: FileEntry) -> tuple:
    return (
        entry.path,
        ATTACHMENT_AREA,
        entry.size,
        entry.mtime_ns,
        entry.inode,
        entry.sha256,
        entry.certified_ns,
        None,
    )


def save_cache(
    db: StateDB,
    previous: Snapshot | None,
    cache: Mapping[str, ParsedFile],
    snapshot: Snapshot,
    parsed: Mapping[str, ParsedFile],
    *,
    attachments: bool,
) -> int:
    """Write the rows of the scan that differ from the cache it started from; returns how many.

    A file the scan reused (same entry, same parse) costs nothing. Rows of files no longer
    there, or no longer readable, are dropped; attachment rows only when attachments were
    scanned.
    """
    prev_pages = previous.pages if previous else {}
    prev_atts = previous.attachments if previous else {}
    rows = [
        _page_row(e, parsed[p])
        for p, e in snapshot.pages.items()
        if p in parsed and not (prev_pages.get(p) is e and cache.get(p) is parsed[p])
    ]
    rows += [
        _attachment_row(e) for p, e in snapshot.attachments.items() if prev_atts.get(p) is not e
    ]
    gone = [p for p in prev_pages if p not in parsed]
    if attachments:
        gone += [p for p in prev_atts if p not in snapshot.attachments]
    if gone or rows:
        with db.transaction():
            db.delete_scan_cache(gone)
            db.put_scan_cache(rows)
    return len(rows)


def written_page_row(
    result: WriteResult, text: str, doc: frontmatter.Document | None = None
) -> tuple:
    """The scan-cache row of a page file syncd just wrote (`text` is what it wrote; `doc`,
    when known, what ``frontmatter.parse(text)`` returns: see `parse_file`).

    Certified at the write: `atomic_write` set the mtime `MTIME_LAG_NS` in the past, so the
    moment of the write is at least `mtime + MTIME_LAG_NS`, and any later edit changes the
    mtime (see `syncd.local.scan`).
    """
    entry = FileEntry(
        result.path,
        result.size,
        result.mtime_ns,
        result.sha256,
        result.inode,
        result.mtime_ns + MTIME_LAG_NS,
    )
    return _page_row(entry, parse_file(text, result.path, result.sha256, doc=doc))


def written_attachment_row(path: str, size: int, mtime_ns: int, sha256: str) -> tuple:
    """The scan-cache row of an attachment file syncd just wrote with `atomic_write`."""
    return _attachment_row(FileEntry(path, size, mtime_ns, sha256, 0, mtime_ns + MTIME_LAG_NS))


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
    parsed_now: dict[str, ParsedFile] = {}
    unread: dict[str, str] = {}
    prev_pages = previous.pages if previous else {}
    files_read = snapshot.hashed
    for path, fe in snapshot.pages.items():
        parsed = cache.get(path)
        if parsed is None or parsed.sha256 != fe.sha256:
            files_read += prev_pages.get(path) is fe  # hashed files are counted already
            try:
                parsed = parse_file(read_text(root, path), path, fe.sha256)
            except OSError as exc:
                unread[path] = _unread_reason(exc)
                continue
        parsed_now[path] = parsed
    # A folder or file the scan could not read (permissions, a symlink) is not a
    # deletion: its pages stand in as they were.
    for path in snapshot.skipped:
        if path not in snapshot.pages:
            unread.setdefault(path, SKIPPED)
    save_cache(db, previous, cache, snapshot, parsed_now, attachments=attachments)
    local = build_entries(parsed_now, unread, (), records, blog_posts=blog_posts)
    local.snapshot = snapshot
    local.files_read = files_read
    return local


A_LINK = "a link (syncd never reads through links)"
SKIPPED = "not readable (or a link)"


def _unread_reason(exc: OSError) -> str:
    if isinstance(exc, UnsafePathError):
        return A_LINK
    return f"cannot read ({exc.strerror or exc})"


def build_entries(
    parsed: Mapping[str, ParsedFile],
    unread: Mapping[str, str],
    untouched: Iterable[PageRecord],
    records: Mapping[str, PageRecord],
    *,
    blog_posts: bool,
) -> LocalScan:
    """The reconcile's local entries from what was read; one rule for every scan.

    `parsed`: the files read this run. `unread`: paths (files or folders, "." for
    the root) that could not be read, with why. `untouched`: records a targeted
    run did not look at. A page is counted as deleted locally only when its file
    was looked for and is not there: an unreadable file, a link, broken front
    matter or an empty file stands in as it was last synced (never pushed, never
    trashed). A file at a page's recorded path that lost its page id is that page.
    """
    by_path = {r.local_path: r for r in records.values() if r.tombstone is None}
    entries: dict[str, LocalEntry] = {}
    errors: list[str] = []
    broken: dict[str, str] = {}
    for record in untouched:
        entries[record.local_path] = _stand_in(record)
    for path, reason in unread.items():
        if path in by_path:
            entries[path] = _stand_in(by_path[path])
            errors.append(f"{path}: {reason}; skipped this run, the page is left as it was")
            continue
        if is_page_path(path):
            if reason not in (A_LINK, SKIPPED):  # an untracked link is simply not synced
                errors.append(f"{path}: {reason}; skipped this run")
            continue
        for rpath, record in by_path.items():
            if rpath not in entries and (path == "." or rpath.startswith(path + "/")):
                entries[rpath] = _stand_in(record)
                errors.append(f"{rpath}: in {path}, {reason}; the page is left as it was")
    for path, p in parsed.items():
        if p.error is not None:
            if p.error.startswith(NOT_UTF8):
                errors.append(f"{path}: {p.error}; the page is held as it was")
            else:
                broken[path] = p.error
            if path in by_path:
                entries[path] = _stand_in(by_path[path])  # held as it was, never trashed
            continue
        entries[path] = _entry(path, p, blog_posts)
    claimed = {e.page_id for e in entries.values() if e.page_id}
    for path, p in parsed.items():
        record = by_path.get(path)
        if p.error is not None or p.page_id or record is None or record.page_id in claimed:
            continue
        # The file at this page's recorded path lost its id (an editor stripped the
        # front matter): it is still that page, not "deleted + a new file".
        if p.lost_id == LOST_ID_EMPTY:
            entries[path] = _stand_in(record)
            errors.append(
                f"{path}: the file is empty (truncated?); page {record.title!r} is held "
                "unchanged in Confluence. Put its text back, or delete the file to move "
                "the page to the Confluence trash"
            )
        elif p.lost_id == LOST_ID_NOT_A_MAPPING:
            entries[path] = _stand_in(record)
            broken[path] = (
                f"front matter, line 2: not `key: value` lines, so the id of page "
                f"{record.title!r} is lost"
            )
        else:
            labels = p.labels or None  # no labels written: leave the page's labels alone
            entries[path] = replace(
                _entry(path, p, blog_posts),
                page_id=record.page_id,
                title=p.title if p.titled else record.title,
                labels=labels,
            )
    return LocalScan(list(entries.values()), Snapshot(), errors, broken)


def local_entries_for_paths(
    root: Path,
    paths: Iterable[str],
    records: Mapping[str, PageRecord],
    *,
    blog_posts: bool,
) -> LocalScan:
    """A targeted scan: read the named files, stand in the records for the rest."""
    wanted = {p for p in paths if is_page_path(p)}
    untouched = [r for r in records.values() if r.tombstone is None and r.local_path not in wanted]
    parsed: dict[str, ParsedFile] = {}
    unread: dict[str, str] = {}
    for path in sorted(wanted):
        try:
            text = read_text(root, path)
        except (FileNotFoundError, IsADirectoryError):
            continue  # gone: a deletion (or a move, whose other end is named too)
        except OSError as exc:
            unread[path] = _unread_reason(exc)  # unreadable (or a link) is not deleted
            continue
        parsed[path] = parse_file(text, path, "")
    local = build_entries(parsed, unread, untouched, records, blog_posts=blog_posts)
    local.files_read = len(parsed)
    return local


# --------------------------------------------------------------------------- remote


@dataclass
class RemoteListing:
    root_id: str | None
    remotes: dict[str, RemoteEntry]
    tree: list[LayoutRecord]
    #: Containers (Cloud folders, whiteboards, ...) the pages hang under, and recorded ones.
    containers: dict[str, RemoteContainer] = field(default_factory=dict)


def remote_entry(ref: PageRef | Page, root_id: str | None) -> RemoteEntry:
    parent = ref.parent_id if ref.kind == "page" else None
    if ref.id == root_id:
        parent = None
    status = "current" if ref.status in ("current", "archived") else "trashed"
    return RemoteEntry(
        ref.id,
        ref.title,
        parent,
        ref.version,
        status,  # type: ignore[arg-type]
        ref.kind,
        labels=ref.labels,
        parent_type=ref.parent_type if ref.kind == "page" and parent is not None else None,
    )


async def list_remote(
    client: ConfluenceClient,
    space_key: str,
    *,
    root_page: str | None,
    blog_posts: bool,
    records: Mapping[str, PageRecord],
    concurrency: int = 8,
    container_records: Mapping[str, ContainerRecord] | None = None,
) -> RemoteListing:
    """The remote snapshot of the whole space (or the configured subtree).

    Containers are found from the pages' ``parentType`` (the v2 page listing has pages
    only; ../shared/realapi/SOURCES.md) and read one request each, with the recorded ones.
    """
    space = await client.get_space(space_key)
    root_id = root_page or space.homepage_id
    remotes: dict[str, RemoteEntry] = {}
    tree: list[LayoutRecord] = []
    parents: dict[str, str] = {}  # container id -> kind, from the pages' parentType
    async for ref in client.iter_page_tree(
        space_key,
        root_page=root_page,
        include_blogposts=blog_posts,
        with_labels=True,
        expected_pages=sum(1 for r in records.values() if r.kind == "page") or None,
    ):
        remotes[ref.id] = remote_entry(ref, root_id)
        if ref.kind == "page":
            tree.append(LayoutRecord(ref.id, ref.title, ref.parent_id, ref.position))
            if ref.parent_id and ref.parent_type in CONTAINER_KINDS:
                parents[ref.parent_id] = ref.parent_type
    missing = [pid for pid in records if pid not in remotes]
    found = await confirm_pages(
        client, missing, records, root_id, concurrency=concurrency, within=root_page
    )
    remotes.update(found)
    await confirm_labels(client, remotes, records, concurrency=concurrency)
    containers: dict[str, RemoteContainer] = {}
    if client.supports_containers:
        known = container_records or {}
        for cid, record in known.items():
            parents.setdefault(cid, record.kind)
        containers = await read_containers(client, parents, known, concurrency=concurrency)
        if root_page is not None:
            containers = outside_root(containers, remotes, root_page)
        for c in containers.values():
            if c.status in ("current", "unknown"):
                tree.append(LayoutRecord(c.container_id, c.title, c.parent_id, None, c.kind))
    return RemoteListing(root_id, remotes, tree, containers)


def outside_root(
    containers: Mapping[str, RemoteContainer],
    remotes: Mapping[str, RemoteEntry],
    root_id: str,
) -> dict[str, RemoteContainer]:
    """Mark ``outside`` the current containers no longer below the ``root_page``: their
    chain of parents (containers, then a page) does not reach the root through current
    pages of the subtree. One that could not be read counts as inside (nothing is decided
    from it)."""
    out = dict(containers)

    def inside(cid: str, seen: set[str]) -> bool:
        c = containers[cid]
        if c.status == "unknown":
            return True
        parent = c.parent_id
        if parent is None or cid in seen:
            return False
        if parent == root_id:
            return True
        if parent in containers:
            return inside(parent, seen | {cid})
        entry = remotes.get(parent)
        return entry is not None and entry.status == "current"

    for cid, c in containers.items():
        if c.status == "current" and not inside(cid, set()):
            out[cid] = replace(c, status="outside")
    return out


async def read_containers(
    client: ConfluenceClient,
    wanted: Mapping[str, str],
    records: Mapping[str, ContainerRecord],
    *,
    concurrency: int = 8,
) -> dict[str, RemoteContainer]:
    """Read each container once (id -> kind), then the containers they sit in, by their
    own ``parentId``/``parentType``: never a walk of the whole tree.

    NotFound is ``absent`` (deleted, or trashed where the server hides trashed folders);
    any other failure is ``unknown``: the record (or a stand-in named after the id) is
    used and nothing is decided from it.
    """
    gate = asyncio.Semaphore(concurrency)
    out: dict[str, RemoteContainer] = {}
    todo = dict(wanted)

    async def one(cid: str, kind: str) -> tuple[str, str] | None:
        async with gate:
            try:
                c = await client.get_container(kind, cid)
            except NotFound:
                record = records.get(cid)
                title = record.title if record else stand_in_title(kind, cid)
                parent = record.parent_id if record else None
                out[cid] = RemoteContainer(cid, kind, title, parent, 0, "absent")
                return None
            except (ConfluenceError, ValueError) as exc:
                if stops_every_request(exc):
                    raise
                record = records.get(cid)
                if record is not None:
                    out[cid] = RemoteContainer(
                        cid, record.kind, record.title, record.parent_id, record.version, "unknown"
                    )
                else:
                    out[cid] = RemoteContainer(
                        cid, kind, stand_in_title(kind, cid), None, 0, "unknown"
                    )
                return None
        status = "current" if c.status in ("current", "archived") else "trashed"
        out[cid] = RemoteContainer(cid, c.kind, c.title, c.parent_id, c.version, status)  # type: ignore[arg-type]
        if c.parent_id and c.parent_type in CONTAINER_KINDS:
            return c.parent_id, c.parent_type  # type: ignore[return-value]
        return None

    while todo:
        results = await asyncio.gather(*(one(cid, kind) for cid, kind in todo.items()))
        todo = {r[0]: r[1] for r in results if r is not None and r[0] not in out}
    return out


async def confirm_labels(
    client: ConfluenceClient,
    remotes: dict[str, RemoteEntry],
    records: Mapping[str, PageRecord],
    *,
    concurrency: int = 8,
) -> None:
    """Re-read the labels of pages whose listed labels differ from the record, in place.

    A listing's labels are a hint, not proof: Cloud's space-wide label sweep rests on
    an endpoint whose documented default prefix leaves out global labels, and a DC
    expansion can be cut short. A label edit only counts when the page's own label
    list confirms it, so a listing that misses labels costs a request per labelled
    page instead of reading as "labels removed" (which would also undo local
    deletions). A page at a new version needs nothing: its pull reads the labels.
    """
    suspects = [
        (pid, entry)
        for pid, entry in remotes.items()
        if entry.labels is not None
        and entry.status == "current"
        and (record := records.get(pid)) is not None
        and record.tombstone is None
        and entry.version == record.remote_version
        and entry.labels != tuple(sorted(record.labels))
    ]
    gate = asyncio.Semaphore(concurrency)

    async def one(pid: str, entry: RemoteEntry) -> None:
        async with gate:
            try:
                names = await client.get_labels(pid, kind=entry.kind)
            except ConfluenceError:
                remotes[pid] = replace(entry, labels=None)  # unknown: no label decision
                return
        remotes[pid] = replace(entry, labels=tuple(sorted(set(names))))

    await asyncio.gather(*(one(pid, entry) for pid, entry in suspects))


async def confirm_pages(
    client: ConfluenceClient,
    page_ids: Iterable[str],
    records: Mapping[str, PageRecord],
    root_id: str | None,
    *,
    concurrency: int = 8,
    blog_posts: bool = False,
    fetched: dict[str, Page] | None = None,
    within: str | None = None,
    inside: Set[str] | None = None,
) -> dict[str, RemoteEntry]:
    """Look pages up by id (trash included); absent ones are left out (= purged).

    `fetched`, when given, receives every page read (with its body), so the executor
    can apply it instead of fetching the same version again. `within` (the configured
    ``root_page``): a current page whose ancestors do not include it was moved out of
    the synced subtree; its entry says ``outside``. That costs a request for the
    ancestors, saved where the parent is in `inside` (known to be below the root).
    """
    gate = asyncio.Semaphore(concurrency)
    out: dict[str, RemoteEntry] = {}

    async def left_root(pid: str, page: Page) -> bool:
        if within is None or pid == within or page.kind != "page" or page.status != "current":
            return False
        if inside is not None and (page.parent_id == within or page.parent_id in inside):
            return False
        try:
            chain = await client.get_ancestors(pid)
        except ConfluenceError as exc:
            if stops_every_request(exc):
                raise
            return False  # unknown: nothing is decided from it
        return within not in chain

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
                entry = remote_entry(page, root_id)
                if await left_root(pid, page):
                    entry = replace(entry, status="outside")
                out[pid] = entry
                if fetched is not None:
                    fetched[pid] = page
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
