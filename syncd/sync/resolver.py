"""Links between pages and to attachments, as relative paths in the synced folder.

The converter asks a :class:`syncd.convert.LinkResolver` how to write an
``<ri:page ri:content-title=...>`` link as a Markdown path and back. The answer
depends on where both files are, so a resolver is bound to the file being
converted (:meth:`PageIndex.for_page`).

:class:`PageIndex` is the engine's one view of "which page is at which path":
the state's recorded paths first (they are where the files really are), then
the folder layout computed from the remote tree for pages not pulled yet (so a
link to a page later in the same first sync already gets its final path).
Titles come from the remote listing and the records. Paths a page had before a
move are kept as aliases, so a link the user has not touched still resolves
after its target moved.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from syncd.local.layout import attachments_dir_of
from syncd.local.names import fold
from syncd.sync.users import UserNames


def _norm_rel(path: str) -> str | None:
    """Clean a relative POSIX path; None when it climbs out of the folder."""
    if not path or path.startswith("/") or "://" in path:
        return None
    clean = posixpath.normpath(path)
    if clean == "." or clean.startswith("../") or clean == "..":
        return None
    return clean


class PageIndex:
    """page id <-> path and title <-> page id for one space (mutable, updated as files move)."""

    def __init__(self, space_key: str, *, jira_url: str | None = None) -> None:
        self.space_key = space_key
        #: Base URL of the Jira that issue macros point at (config ``confluence.jira_url``).
        self.jira_url = jira_url
        self._path: dict[str, str] = {}
        self._by_path: dict[str, str] = {}  # folded path -> page id
        self._aliases: dict[str, str] = {}  # folded old path -> page id
        self._title: dict[str, str] = {}  # page id -> title
        self._by_title: dict[str, str] = {}  # title -> page id
        #: Display names of mentioned users (set by the executor; None: names unknown).
        self.users: UserNames | None = None

    # ------------------------------------------------------------------ updates

    def set_page(self, page_id: str, title: str | None = None, path: str | None = None) -> None:
        if title is not None:
            old_title = self._title.get(page_id)
            if old_title is not None and self._by_title.get(old_title) == page_id:
                del self._by_title[old_title]
            self._title[page_id] = title
            self._by_title.setdefault(title, page_id)
        if path is not None:
            old = self._path.get(page_id)
            if old is not None and old != path:
                if self._by_path.get(fold(old)) == page_id:
                    del self._by_path[fold(old)]
                self._aliases[fold(old)] = page_id
            self._path[page_id] = path
            self._by_path[fold(path)] = page_id

    def set_pages(self, items: Iterable[tuple[str, str | None, str | None]]) -> None:
        for page_id, title, path in items:
            self.set_page(page_id, title, path)

    def forget(self, page_id: str) -> None:
        path = self._path.pop(page_id, None)
        if path is not None and self._by_path.get(fold(path)) == page_id:
            del self._by_path[fold(path)]
        title = self._title.pop(page_id, None)
        if title is not None and self._by_title.get(title) == page_id:
            del self._by_title[title]

    def __getstate__(self) -> dict:
        """Pickled for a conversion worker (`convert_ahead`): without the user names, whose
        cache holds the state database."""
        state = dict(self.__dict__)
        state["users"] = None
        return state

    def aliases(self) -> dict[str, str]:
        """Old paths of moved pages (folded path -> page id), to persist between runs."""
        return dict(self._aliases)

    def add_aliases(self, aliases: dict[str, str]) -> None:
        for key, page_id in aliases.items():
            self._aliases.setdefault(key, page_id)

    # ------------------------------------------------------------------ queries

    def path_of(self, page_id: str) -> str | None:
        return self._path.get(page_id)

    def page_at(self, path: str) -> str | None:
        key = fold(path)
        return self._by_path.get(key) or self._aliases.get(key)

    def title_of(self, page_id: str) -> str | None:
        return self._title.get(page_id)

    def id_for_title(self, title: str) -> str | None:
        return self._by_title.get(title)

    def for_page(self, path: str) -> PathResolver:
        """The resolver for converting the page whose file is (or will be) ``path``."""
        return PathResolver(self, path)


class PathResolver:
    """`syncd.convert.LinkResolver` for one file: every path is relative to its folder."""

    def __init__(self, index: PageIndex, path: str) -> None:
        self.index = index
        self.path = path
        self.folder = posixpath.dirname(path)

    def _relative(self, target: str) -> str:
        return posixpath.relpath(target, self.folder or ".")

    def _absolute(self, rel: str) -> str | None:
        rel = rel.split("#", 1)[0]
        return _norm_rel(posixpath.join(self.folder, rel) if self.folder else rel)

    def page_path(
        self, title: str | None, space_key: str | None = None, page_id: str | None = None
    ) -> str | None:
        if space_key and space_key != self.index.space_key:
            return None
        pid = page_id or (self.index.id_for_title(title) if title else None)
        target = self.index.path_of(pid) if pid else None
        return self._relative(target) if target else None

    def page_for_path(self, path: str) -> tuple[str, str | None] | None:
        if not path.lower().split("#", 1)[0].endswith(".md"):
            return None
        target = self._absolute(path)
        pid = self.index.page_at(target) if target else None
        title = self.index.title_of(pid) if pid else None
        return (title, None) if title is not None else None

    def attachment_path(self, filename: str, page_title: str | None = None) -> str | None:
        if "/" in filename or filename in ("", ".", ".."):
            return None
        if page_title is not None:
            pid = self.index.id_for_title(page_title)
            owner = self.index.path_of(pid) if pid else None
            if owner is None:
                return None
        else:
            owner = self.path
        return self._relative(f"{attachments_dir_of(owner)}/{filename}")

    def jira_url(self, server_name: str, server_id: str) -> str | None:
        return self.index.jira_url

    def user_name(self, kind: str, value: str) -> str | None:
        users = self.index.users
        return users.name(kind, value) if users is not None else None

    def attachment_for_path(self, path: str) -> str | None:
        target = self._absolute(path)
        if target is None:
            return None
        head, name = posixpath.split(target)
        if name and fold(head) == fold(attachments_dir_of(self.path)):
            return name
        return None
