"""The page tree <-> relative paths in the synced folder. Pure functions, no I/O.

Layout, for a page titled "Guide" with a child "Install" and an image attachment::

    README.md                    <- the space home page (or the configured root page)
    README.attachments/logo.png  <- the home page's attachments
    Guide.md                     <- a child of the home page: an entry of the root
    Guide.attachments/shot.png   <- Guide's attachments
    Guide/Install.md             <- Guide's children live in the folder named like it
    DailyNotes/Standup.md        <- a page in a Cloud folder (or under a whiteboard,
                                    database, embed): a directory with no .md of its own

Why these choices:

* **Home page -> ``README.md``.** GitHub, GitLab, Bitbucket and Gitea render a folder's
  README when the folder is browsed, so the space reads like the space; MkDocs also treats
  ``README.md`` as the folder's index. ``index.md`` is only understood by site generators.
  The real title is kept in the front matter. The home page's children are the root's entries.
* **Attachments -> ``<Title>.attachments/`` beside ``<Title>.md``.** A link from the page is
  a plain relative path (``Title.attachments/shot.png``) that every editor preview and code
  host resolves; the folder sorts right next to its page in any file browser; it is not
  hidden (hidden folders are skipped by tools and by syncd's own ignore rules); and it never
  mixes with the children folder, so a page can gain children or attachments independently.
  A per-folder ``_attachments/<Title>/`` would add a level and a name every folder reserves.
* Each page claims three names in its folder, case-insensitively: ``<stem>.md``,
  ``<stem>/`` and ``<stem>.attachments/``; see :func:`syncd.local.names.assign_stems`.

All paths are relative POSIX strings (``"Guide/Install.md"``), the form stored in the
state database, independent of the platform.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from syncd.local.ignore import ATTACHMENTS_SUFFIX, PAGE_SUFFIX
from syncd.local.names import assign_stems, check_relative, fold, id_sort_key

HOME_FILE = "README.md"
HOME_STEM = "README"


@dataclass(frozen=True)
class PageRecord:
    """The light description of a page the layout needs (no body)."""

    id: str
    title: str
    parent_id: str | None = None
    position: int | None = None
    #: "page", or the kind of a container (a Cloud folder, whiteboard, database or
    #: embed): a container is a directory with no ``.md`` of its own.
    kind: str = "page"


@dataclass(frozen=True)
class Layout:
    """The computed mapping of one space (or subtree) onto the folder."""

    root_id: str | None
    paths: Mapping[str, str]  # page id -> relative path of its .md file
    unplaced: tuple[str, ...] = ()  # pages not under the root (or in a parent cycle)
    prefix: str = ""
    #: container id -> its directory (folders, whiteboards, databases, embeds)
    containers: Mapping[str, str] = field(default_factory=dict)
    _by_folded_path: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def path_of(self, page_id: str) -> str | None:
        return self.paths.get(page_id)

    def page_at(self, rel: str) -> str | None:
        """The page id whose file is ``rel`` (compared case-insensitively, NFC)."""
        return self._by_folded_path.get(fold(rel))

    def children_dir(self, page_id: str) -> str | None:
        if page_id in self.containers:
            return self.containers[page_id]
        path = self.paths.get(page_id)
        return (
            None
            if path is None
            else children_dir_of(path, is_root=page_id == self.root_id, prefix=self.prefix)
        )

    def attachments_dir(self, page_id: str) -> str | None:
        path = self.paths.get(page_id)
        return None if path is None else attachments_dir_of(path)

    def parent_for_path(self, rel: str) -> str | None:
        """The page a new file at ``rel`` belongs under: the page owning the file's folder.

        ``None`` when that folder has no page file (the engine then creates an empty parent
        page for the folder first) or when ``rel`` is outside this layout's prefix.
        """
        folder = str(PurePosixPath(rel).parent)
        folder = "" if folder == "." else folder
        if folder == self.prefix:
            return self.root_id
        if self.prefix and not folder.startswith(self.prefix + "/"):
            return None
        return self.page_at(folder + PAGE_SUFFIX)

    def page_for_attachment(self, rel: str) -> str | None:
        """The page owning an attachment file ``<page>.attachments/<name>``."""
        parent = PurePosixPath(rel).parent
        if not parent.name.lower().endswith(ATTACHMENTS_SUFFIX):
            return None
        page_path = str(parent)[: -len(ATTACHMENTS_SUFFIX)] + PAGE_SUFFIX
        return self.page_at(page_path)


def children_dir_of(page_path: str, *, is_root: bool = False, prefix: str = "") -> str:
    """``"A/B.md"`` -> ``"A/B"``; the root page's children are the root (``prefix``)."""
    if is_root:
        return prefix
    return page_path[: -len(PAGE_SUFFIX)]


def attachments_dir_of(page_path: str) -> str:
    """``"A/B.md"`` -> ``"A/B.attachments"``."""
    return page_path[: -len(PAGE_SUFFIX)] + ATTACHMENTS_SUFFIX


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def compute_layout(
    records: Iterable[PageRecord],
    root_id: str | None,
    *,
    top_level_at_root: bool = True,
    prefix: str = "",
    reserved_root_names: Iterable[str] = (),
) -> Layout:
    """Map every page under ``root_id`` to its relative path, deterministically.

    ``root_id`` is the space home page (or the configured root page); it maps to
    ``<prefix>/README.md``. With ``top_level_at_root`` (the whole-space case), pages with no
    parent other than the root (Confluence allows several top-level pages) become root
    entries too. Pages whose parent is unknown, or that sit in a parent cycle, are returned
    in ``unplaced`` rather than guessed at. Containers (records whose ``kind`` is not
    ``page``) become directories (``Layout.containers``) holding their children; they
    claim names like pages do, so a container never shares a name with a sibling page. ``prefix`` places the tree in a subfolder (blog
    posts use ``blog``); ``reserved_root_names`` are extra names taken at the root.
    """
    if prefix:
        check_relative(prefix)
    by_id: dict[str, PageRecord] = {r.id: r for r in records}
    children: dict[str | None, list[PageRecord]] = defaultdict(list)
    for r in by_id.values():
        if r.id == root_id:
            continue
        parent = r.parent_id
        if parent is None or parent not in by_id:
            if top_level_at_root and parent is None:
                parent = root_id
            else:
                parent = "\0unknown"
        children[parent].append(r)

    paths: dict[str, str] = {}
    containers: dict[str, str] = {}
    if root_id is not None and root_id in by_id:
        paths[root_id] = _join(prefix, HOME_FILE)
    elif root_id is None and top_level_at_root:
        pass  # no home page known: top-level pages still form the root's entries

    root_reserved = [HOME_FILE, HOME_STEM + ATTACHMENTS_SUFFIX, *reserved_root_names]
    # Breadth-first from the root; a page is placed only once, which also breaks cycles.
    queue: list[tuple[str | None, str]] = [(root_id, prefix)]
    while queue:
        parent_id, folder = queue.pop(0)
        kids = [k for k in children.get(parent_id, []) if k.id not in paths]
        if not kids:
            continue
        reserved = root_reserved if parent_id == root_id else ()
        stems = assign_stems(((k.id, k.title) for k in kids), reserved=reserved)
        for kid in sorted(
            kids, key=lambda k: (k.position is None, k.position or 0, id_sort_key(k.id))
        ):
            if kid.kind != "page":
                directory = check_relative(_join(folder, stems[kid.id]))
                containers[kid.id] = directory
                queue.append((kid.id, directory))
                continue
            rel = _join(folder, stems[kid.id] + PAGE_SUFFIX)
            paths[kid.id] = check_relative(rel)
            queue.append((kid.id, rel[: -len(PAGE_SUFFIX)]))

    unplaced = tuple(
        sorted(
            (pid for pid, r in by_id.items() if pid not in paths and pid not in containers),
            key=id_sort_key,
        )
    )
    folded = {fold(p): pid for pid, p in paths.items()}
    return Layout(
        root_id=root_id,
        paths=paths,
        unplaced=unplaced,
        prefix=prefix,
        containers=containers,
        _by_folded_path=folded,
    )
