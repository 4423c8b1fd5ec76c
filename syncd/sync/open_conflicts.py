"""The conflicts waiting for the user, as `syncd status` and `syncd sync` list them.

Each is listed by the path of the file the user acts on, with one line saying what ends
it, in the words of its mode:

* keep-both: one entry per conflict copy still on disk, listed by the copy's path (two
  conflicts of one page are two copies, two entries); it ends when the copy is deleted.
* markers (merge mode): the page file, until the markers are resolved and the file saved.
* others (a part of the file that cannot be converted, a held page): the page file, with
  the reason.

A conflict ends in one place, `end_conflicts`, which also writes the INFO line saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from syncd.sync.records import KEEP_BOTH, MARKERS, REFUSED, ConflictRecord
from syncd.sync.state import StateDB

log = logging.getLogger("syncd.sync.conflicts")


@dataclass(frozen=True)
class OpenConflict:
    #: The path listed (`conflicts` of `syncd status --json`): the copy, or the page file.
    listed: str
    #: One line for the user: the page, and what to do to end the conflict.
    todo: str


def copy_todo(page_path: str, copy: str) -> str:
    return f"{page_path}: your text is in {copy}; copy what you need, then delete it"


def markers_todo(page_path: str) -> str:
    return f"{page_path}: resolve the conflict markers, then save"


def open_conflict(record: ConflictRecord) -> OpenConflict:
    if record.kind == KEEP_BOTH and record.detail:
        return OpenConflict(record.detail, copy_todo(record.path, record.detail))
    if record.kind == MARKERS:
        return OpenConflict(record.path, markers_todo(record.path))
    if record.kind == REFUSED and record.detail:
        todo = f"{record.path}: {record.detail}; edit that part of the file to sync it"
        return OpenConflict(record.path, todo)
    detail = f": {record.detail}" if record.detail else ""
    return OpenConflict(record.path, f"{record.path} ({record.kind}){detail}")


def open_conflicts(
    records: Iterable[ConflictRecord], on_disk: Callable[[str], bool] | None = None
) -> dict[str, str]:
    """Listed path -> what to do, sorted by path. `on_disk(rel)`: whether a conflict copy
    is still there (a copy the user deleted is no longer listed, even before the next
    run forgets its record); None lists every record."""
    out: dict[str, str] = {}
    for record in records:
        if (
            record.kind == KEEP_BOTH
            and record.detail
            and on_disk is not None
            and not on_disk(record.detail)
        ):
            continue
        conflict = open_conflict(record)
        out.setdefault(conflict.listed, conflict.todo)
    return dict(sorted(out.items()))


def recorded_conflicts(db: StateDB) -> list[ConflictRecord]:
    """The conflict records, each naming its page's file as it is now (a page renamed or
    moved since its conflict is named where the user finds it)."""
    records = db.conflicts()
    where: dict[str, str] = {}
    for record in records:
        if record.page_id is not None and record.page_id not in where:
            page = db.get_page(record.page_id)
            if page is not None and page.tombstone is None:
                where[record.page_id] = page.local_path
    return [replace(r, path=where.get(r.page_id or "", r.path)) for r in records]


def page_of_copy(copy: str) -> str:
    """The page file a conflict copy was made from: `A/B.conflict-20261205-004756-2.md` ->
    `A/B.md`."""
    head, sep, _ = copy.rpartition(".conflict-")
    return head + ".md" if sep else copy


def page_name(db: StateDB, record: ConflictRecord) -> str:
    """How a log line or a dry run names the page of a conflict: `page 101 'Setup'`."""
    page = db.get_page(record.page_id) if record.page_id is not None else None
    if page is None:  # a copy found without a record, a refused new file created since
        page = db.find_page_by_path(record.path)
    if page is None or page.tombstone is not None:
        return f"page {record.page_id}" if record.page_id else "new page"
    return f"page {page.page_id} {page.title!r}"


def ended_line(record: ConflictRecord, page: str) -> str:
    """The log line of a conflict that ended: the page, its file, and what ended it."""
    if record.kind == KEEP_BOTH:
        how = f"the conflict copy {record.detail} was deleted"
    elif record.kind == MARKERS:
        how = "the conflict markers were resolved and the page synced"
    elif record.kind == REFUSED:
        how = "the part that could not be converted was edited and the page synced"
    else:
        how = f"the page synced ({record.kind})"
    return f"conflict resolved ({page}): {record.path}: {how}"


def end_conflicts(db: StateDB, records: Iterable[ConflictRecord]) -> int:
    """End conflicts the user resolved: the one place a conflict record goes, each with one
    INFO line naming the page and its file. Returns how many ended (a record already gone
    is not logged twice)."""
    ended = 0
    for record in records:
        if record.id is None or not db.end_conflict(record.id):
            continue
        ended += 1
        log.info(ended_line(record, page_name(db, record)))
    return ended


def left_open(
    records: Iterable[ConflictRecord],
    found: Iterable[str] | None,
    on_disk: Callable[[str], bool],
    synced: Callable[[ConflictRecord], bool],
) -> list[ConflictRecord]:
    """The conflicts a dry run lists as open: each conflict copy on disk, recorded or
    found by the scan without a record (a real run records it); a conflict a sync of its
    page ends (markers, a refusal) unless the plan syncs that page (`synced`): the
    plan's own line says what happens to it."""
    out: list[ConflictRecord] = []
    recorded: set[str] = set()
    for record in records:
        if record.kind == KEEP_BOTH and record.detail:
            recorded.add(record.detail)
            if on_disk(record.detail):
                out.append(record)
        elif not synced(record):
            out.append(record)
    for copy in found or ():
        if copy not in recorded and on_disk(copy):
            out.append(ConflictRecord(None, page_of_copy(copy), KEEP_BOTH, 0.0, copy))
    return out


def track_conflict_copies(db: StateDB, root: Path, found: Iterable[str] | None = None) -> None:
    """Keep the keep-both records in step with the copies on disk.

    A copy the user deleted ends its conflict (its own record only: other copies of the
    page stay). `found`, the copies a full scan of the folder saw (None when the run did
    not scan it all), gives a record to each copy without one: a crash between writing
    the copy and recording it, or a state database lost, or one where an older syncd
    dropped the record, must not hide the user's text.
    """
    recorded = set()
    gone = []
    for record in db.conflicts():
        if record.kind != KEEP_BOTH or not record.detail:
            continue
        if (root / record.detail).exists():
            recorded.add(record.detail)
        else:
            gone.append(record)
    end_conflicts(db, gone)
    for copy in found or ():
        if copy in recorded or not (root / copy).exists():
            continue
        page_path = page_of_copy(copy)
        page = db.find_page_by_path(page_path)
        page_id = page.page_id if page is not None and page.tombstone is None else None
        db.add_conflict_copy(page_id, page_path, copy)
