"""Conflicts: their records in the state, conflict copies and texts saved when overridden."""

from __future__ import annotations

import time
from pathlib import Path

from syncd.sync.executor.base import ExecutorBase
from syncd.sync.open_conflicts import end_conflicts

CONFLICT_STAMP = "%Y%m%d-%H%M%S"


class ConflictRecords(ExecutorBase):
    """Conflict records of pages, and where conflict copies and overridden texts go."""

    def _clear_conflicts(self, page_id: str) -> None:
        """The page synced: its conflicts end, except its keep-both copies (each ends
        when the user deletes it, see `SyncEngine`)."""
        if page_id in self._conflicted:
            end_conflicts(self.db, self.db.page_conflicts(page_id))
            self._conflicted.discard(page_id)

    def _clear_path_conflicts(self, path: str) -> None:
        """A new file whose refusal was recorded before its page existed was created."""
        if path in self._conflicted_paths:
            end_conflicts(self.db, self.db.page_conflicts(path=path))
            self._conflicted_paths.discard(path)

    def _add_conflict(self, page_id: str | None, path: str, kind: str, detail: str) -> None:
        """A conflict that the page's next sync ends (markers, a refused part); it takes
        the place of the one recorded before, if any (that one did not end)."""
        self.db.set_conflict(page_id, path, kind, detail)
        if page_id is None:
            self._conflicted_paths.add(path)
        else:
            self._conflicted.add(page_id)

    def _keep_copy(self, page_id: str, path: str, copy: str) -> None:
        """A keep-both conflict: `copy` holds the local text. Earlier copies of the page
        stay recorded; a conflict the page's sync ends (markers) does end."""
        self._clear_conflicts(page_id)
        self.db.add_conflict_copy(page_id, path, copy)

    def _conflict_copy_path(self, path: str) -> str:
        stamp = time.strftime(CONFLICT_STAMP, time.gmtime())
        base = f"{path[:-3]}.conflict-{stamp}"
        candidate, n = f"{base}.md", 1
        while self._exists(candidate):
            n += 1
            candidate = f"{base}-{n}.md"
        return candidate

    def _save_loser(self, path: str, text: str) -> None:
        """Keep the local text that `on_conflict: remote` overrides in the local trash."""
        if self.s.trash_dir is None:
            return
        dest = Path(self.s.trash_dir) / time.strftime(CONFLICT_STAMP, time.gmtime()) / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text, encoding="utf-8", errors="surrogateescape")
