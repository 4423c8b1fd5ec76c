"""Where pages go in the folder: paths after this run's moves, free names, parents."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import PurePosixPath

from syncd.confluence.models import Page
from syncd.local.layout import HOME_FILE
from syncd.local.names import claimed_names, fold, safe_stem, with_suffix_id
from syncd.sync.executor.base import ExecutorBase
from syncd.sync.executor.results import Held
from syncd.sync.snapshots import BLOG_FOLDER


class PathAllocation(ExecutorBase):
    """Planning paths after this run's moves; free paths for new or moved pages; parent ids."""

    def cur(self, path: str | None) -> str | None:
        """A planning-time path after the moves made earlier in this run."""
        for old, new in self.moves:
            if path is None:
                return None
            if path == old:
                path = new
            else:
                old_dir = old[:-3] + "/"
                if path.startswith(old_dir):
                    path = new[:-3] + "/" + path[len(old_dir) :]
        return path

    def _exists(self, rel: str | None) -> bool:
        if not rel:
            return False
        return (self._batch is not None and rel in self._batch) or os.path.lexists(self.root / rel)

    def _file_of(self, page_id: str, planned: str | None) -> str | None:
        """The file carrying `page_id`: its record's path, else the planned path."""
        record = self.db.get_page(page_id)
        if record is not None and record.tombstone is None and self._exists(record.local_path):
            return record.local_path
        path = self.cur(planned)
        return path if self._exists(path) else None

    def _children_folder(self, parent_id: str | None, kind: str) -> str:
        if kind == "blogpost":
            return BLOG_FOLDER
        if parent_id is None or parent_id == self.s.root_id:
            return ""
        container = self.db.get_container(parent_id)
        if container is not None and container.deleted is None:
            return container.local_path  # a folder's (whiteboard's, ...) directory
        record = self.db.get_page(parent_id)
        path = record.local_path if record and record.tombstone is None else None
        path = path or self.index.path_of(parent_id)
        if not path or path == HOME_FILE:
            return ""
        return path[:-3]

    def _folder_of_parent_path(self, parent_path: str | None) -> str:
        path = self.cur(parent_path)
        if not path or path == HOME_FILE:
            return ""
        return path[:-3]

    def _taken(self, folder: str, own: str | None) -> set[str]:
        """Folded names already used in `folder` (on disk), minus those of `own`."""
        try:
            names = {fold(n) for n in os.listdir(self.root / folder if folder else self.root)}
        except FileNotFoundError:
            names = set()
        if self._batch is not None:  # files of this group not yet in place
            names |= {fold(n) for n in self._batch.names_in(folder)}
        if own is not None:
            names -= set(claimed_names(PurePosixPath(own).stem))
        if folder == "":
            names |= {fold(HOME_FILE), fold("README.attachments")}
            if self.s.blog_posts:
                names |= {fold(BLOG_FOLDER), fold(BLOG_FOLDER + ".md")}
        return names

    def _free_path(
        self, folder: str, title: str, page_id: str | None, own: str | None = None
    ) -> str:
        """Where a page titled `title` goes in `folder` (collision suffix by page id)."""
        taken = self._taken(folder, own)
        stem = safe_stem(title)
        n = 0
        while True:
            candidate = stem if n == 0 else with_suffix_id(stem, page_id or "new", n)
            # A page's own name (a rename in place) is free for it.
            if own is not None and fold(
                f"{folder}/{candidate}.md" if folder else candidate + ".md"
            ) == fold(own):
                break
            if taken.isdisjoint(claimed_names(candidate)):
                break
            n += 1
        return f"{folder}/{candidate}.md" if folder else f"{candidate}.md"

    def _new_page_path(self, page_id: str, title: str, parent_id: str | None, kind: str) -> str:
        if page_id == self.s.root_id:
            return HOME_FILE
        folder = self._children_folder(parent_id, kind)
        planned = self.layout_paths.get(page_id)
        if (
            planned
            and PurePosixPath(planned).parent.as_posix() in (folder, "." if not folder else folder)
            and not self._exists(planned)
            and (not self._exists(planned[:-3]) or self._holds_own_containers(page_id, planned))
        ):
            return planned
        return self._free_path(folder, title, page_id)

    def _parent_of(self, page: Page) -> str | None:
        if page.kind != "page" or page.id == self.s.root_id:
            return None
        return page.parent_id or self.s.root_id

    def _remote_parent(self, parent_id: str | None, parent_path: str | None) -> str | None:
        """A parent reference of an action -> the page id to use in Confluence."""
        if parent_id is not None:
            return parent_id
        if parent_path is not None:
            path = self.cur(parent_path) or parent_path
            record = self.db.find_page_by_path(path)
            if record is None:
                container = self.db.find_container_by_path(path[:-3])
                if container is not None:
                    return container.container_id
            if record is None:
                raise Held(
                    f"{parent_path}: its page could not be created earlier in this run; "
                    "the pages below it wait for the next run"
                )
            return record.page_id
        return self.s.root_id

    def _holds_own_containers(self, page_id: str, planned: str) -> bool:
        """The children directory of `planned` exists only because this page's folders
        (recorded before the pages) were put there: it is the page's own."""
        directory = planned[:-3]
        if self.db.find_page_by_path(planned) is not None:
            return False
        return any(
            c.parent_id == page_id and c.local_path.startswith(directory + "/")
            for c in self.db.containers().values()
        )

    def _is_container(self, content_id: str | None) -> bool:
        return content_id is not None and self.db.get_container(content_id) is not None

    def _rebase_containers(self, old_dir: str, new_dir: str) -> None:
        """A page's children directory moved: the containers recorded below it follow."""
        prefix = old_dir + "/"
        for c in self.db.containers().values():
            if c.local_path.startswith(prefix):
                self.db.put_container(replace(c, local_path=new_dir + c.local_path[len(old_dir) :]))

    def _norm_parent(self, page: Page) -> str | None:
        parent = self._parent_of(page)
        return None if parent == self.s.root_id else parent
