"""Typed rows of the state database (`syncd.sync.state`).

Kept apart from the database code so the pure reconcile step can import them
without touching sqlite.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from syncd.sync.model import PageKind


@dataclass(frozen=True)
class Tombstone:
    """The page is gone on both sides as far as syncd knows, but may come back.

    `side` is the side whose deletion syncd propagated: "local" (the file was
    deleted, syncd trashed the page) or "remote" (the page was trashed, syncd
    moved the file to `trash_path` in the local trash).
    """

    side: Literal["local", "remote"]
    deleted_at: float
    trash_path: str | None = None


@dataclass(frozen=True)
class PageRecord:
    """What a page looked like on both sides when last in sync (the merge base).

    `base_markdown` is the body the engine last wrote or pushed (the file
    without front matter); `local_hash` is `model.body_hash(base_markdown)`.
    `base_sidecar` is the converter's sidecar JSON, opaque here.
    `local_mtime_ns`/`local_size` are of the whole file, so a scan can skip
    re-reading files whose stat did not change.
    """

    page_id: str
    local_path: str
    title: str
    parent_id: str | None
    remote_version: int
    base_markdown: str
    local_hash: str
    kind: PageKind = "page"
    base_sidecar: str | None = None
    labels: tuple[str, ...] = ()
    local_mtime_ns: int | None = None
    local_size: int | None = None
    synced_at: float = 0.0
    tombstone: Tombstone | None = None


@dataclass(frozen=True)
class ContainerRecord:
    """A Cloud folder, whiteboard, database or embed that pages hang under: a directory.

    `local_path` is the directory (no `.md` of its own) its child pages live in;
    `title`, `parent_id` and `version` are Confluence's when last in sync. `deleted`
    names the side whose deletion syncd carried over ("local": the directory was
    removed and the folder trashed; "remote": the folder was trashed and the directory
    moved to the local trash), None while it exists on both sides.
    """

    container_id: str
    kind: str
    title: str
    parent_id: str | None
    local_path: str
    version: int = 0
    synced_at: float = 0.0
    deleted: Literal["local", "remote"] | None = None


@dataclass(frozen=True)
class AttachmentRecord:
    page_id: str
    attachment_id: str
    file_name: str
    version: int
    local_path: str
    hash: str
    size: int | None = None
    mtime_ns: int | None = None


#: Conflict kinds. A keep-both conflict has one record per conflict copy (`detail` is the
#: copy's path) and lasts until the user deletes that copy; the others last until the page
#: syncs (markers resolved and saved, the refused part edited).
KEEP_BOTH = "keep-both"
MARKERS = "markers"
REFUSED = "refused"


@dataclass(frozen=True)
class ConflictRecord:
    """A page syncd could not sync cleanly; listed by `syncd status`.

    `kind`: e.g. "markers" (conflict markers in the file, page held),
    "keep-both" (a conflict copy was written; `detail` is its path), "refused" (a part
    of the file cannot be converted), "title" (title collision).
    """

    page_id: str | None
    path: str
    kind: str
    created_at: float
    detail: str = ""
    id: int | None = None


@dataclass(frozen=True)
class WebhookRecord:
    webhook_id: str
    url: str
    secret_ref: str
    created_at: float


@dataclass(frozen=True)
class PendingCreate:
    """Intent journal for a page creation, written before the POST.

    After a crash the executor searches the remote for `client_key` (stored on
    the page as a content property or label) before creating again.
    """

    client_key: str
    local_path: str
    title: str
    parent_id: str | None
    kind: PageKind
    created_at: float
