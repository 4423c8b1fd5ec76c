"""The conflicts waiting for the user, as `syncd status` and `syncd sync` list them.

Each is listed by the path of the file the user acts on, with one line saying what ends
it, in the words of its mode:

* keep-both: one entry per conflict copy still on disk, listed by the copy's path (two
  conflicts of one page are two copies, two entries); it ends when the copy is deleted.
* markers (merge mode): the page file, until the markers are resolved and the file saved.
* others (a part of the file that cannot be converted, a held page): the page file, with
  the reason.

`syncd status` and `syncd sync` show each with its page (`conflict_rows`, one builder for
the daemon, the status read straight from the state database and the sync report; one
wording, `conflict_line`). A conflict ends in one place,
`end_conflicts`, which also writes the INFO line saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from syncd.sync.records import KEEP_BOTH, MARKERS, REFUSED, ConflictRecord, PageRecord
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


@dataclass(frozen=True)
class ConflictRow:
    """One open conflict as `syncd status` shows it: which page, which file, what to do."""

    #: The path listed (`conflicts`): the copy, or the page file.
    listed: str
    #: One line: the page file, and what to do to end the conflict (`conflict_help`).
    todo: str
    #: The page's file as it is now.
    file: str
    page_id: str | None
    #: The page's title from its record; None when there is no page record (a new file
    #: refused, a copy of a page deleted since).
    title: str | None

    def line(self) -> str:
        """The line `syncd status` and `syncd sync` show (`conflict_line`)."""
        return conflict_line(self.page_id, self.title, self.todo)

    def as_json(self) -> dict[str, str | None]:
        """An entry of `conflict_details`: `page` is what a reader knows the page by, its
        title, or its file's path when there is no title."""
        return {
            "path": self.listed,
            "page_id": self.page_id,
            "title": self.title,
            "page": self.title or self.file,
            "file": self.file,
            "help": self.todo,
        }


#: A conflict record with its page's title (None: no live page record).
TitledConflict = tuple[ConflictRecord, str | None]


def conflict_rows(
    records: Iterable[TitledConflict], on_disk: Callable[[str], bool] | None = None
) -> list[ConflictRow]:
    """The open conflicts, sorted by listed path, one per listed path. `on_disk(rel)`:
    whether a conflict copy is still there (a copy the user deleted is no longer listed,
    even before the next run forgets its record); None lists every record."""
    out: dict[str, ConflictRow] = {}
    for record, title in records:
        if (
            record.kind == KEEP_BOTH
            and record.detail
            and on_disk is not None
            and not on_disk(record.detail)
        ):
            continue
        conflict = open_conflict(record)
        if conflict.listed not in out:
            out[conflict.listed] = ConflictRow(
                conflict.listed, conflict.todo, record.path, record.page_id, title
            )
    return [out[listed] for listed in sorted(out)]


def status_conflicts(rows: Iterable[ConflictRow]) -> dict[str, list]:
    """The conflict keys of the status document: `conflicts` (listed paths),
    `conflict_help` (one line each) and `conflict_details` (one object each, see
    `ConflictRow.as_json`), all in the same order."""
    rows = list(rows)
    return {
        "conflicts": [row.listed for row in rows],
        "conflict_help": [row.todo for row in rows],
        "conflict_details": [row.as_json() for row in rows],
    }


def open_conflicts(
    records: Iterable[ConflictRecord], on_disk: Callable[[str], bool] | None = None
) -> dict[str, str]:
    """Listed path -> what to do, sorted by path (see `conflict_rows`)."""
    rows = conflict_rows(((record, None) for record in records), on_disk)
    return {row.listed: row.todo for row in rows}


def titled_conflicts(db: StateDB) -> list[TitledConflict]:
    """The conflict records with their page's title, each naming its page's file as it is
    now (a page renamed or moved since its conflict is named where the user finds it)."""
    records = db.conflicts()
    pages: dict[str, tuple[str, str] | None] = {}
    for record in records:
        if record.page_id is not None and record.page_id not in pages:
            page = db.get_page(record.page_id)
            live = page is not None and page.tombstone is None
            pages[record.page_id] = (page.local_path, page.title) if live else None
    out: list[TitledConflict] = []
    for record in records:
        page = pages.get(record.page_id or "")
        if page is None:
            out.append((record, None))
        else:
            out.append((replace(record, path=page[0]), page[1]))
    return out


def recorded_conflicts(db: StateDB) -> list[ConflictRecord]:
    """The conflict records, each naming its page's file as it is now."""
    return [record for record, _ in titled_conflicts(db)]


def page_of_copy(copy: str) -> str:
    """The page file a conflict copy was made from: `A/B.conflict-20261205-004756-2.md` ->
    `A/B.md`."""
    head, sep, _ = copy.rpartition(".conflict-")
    return head + ".md" if sep else copy


def live_page(db: StateDB, record: ConflictRecord) -> PageRecord | None:
    """The page a conflict is about, if it has a live record."""
    page = db.get_page(record.page_id) if record.page_id is not None else None
    if page is None:  # a copy found without a record, a refused new file created since
        page = db.find_page_by_path(record.path)
    return page if page is not None and page.tombstone is None else None


def page_name(db: StateDB, record: ConflictRecord) -> str:
    """How a log line or a dry run names the page of a conflict: `page 101 'Setup'`."""
    return name_of_page(record, live_page(db, record))


def name_of_page(record: ConflictRecord, page: PageRecord | None) -> str:
    """`page_name`, for the page `live_page` found already."""
    if page is None:
        return f"page {record.page_id}" if record.page_id else "new page"
    return page_label(page.page_id, page.title)


def page_label(page_id: str, title: str) -> str:
    """`page 101 'Setup'`: the title quoted as Python does, so a hostile title's control
    characters (a terminal escape sequence) show as escapes, never act."""
    return f"page {page_id} {title!r}"


def conflict_line(page_id: str | None, title: str | None, todo: str) -> str:
    """`page 101 'Setup': Guides/Setup.md: what to do`: the one wording of a conflict's
    line. A conflict without a page record (a new file refused) is named by its file's
    path, which starts its help line, so the line is the help line."""
    if not title or page_id is None:
        return todo
    return f"{page_label(page_id, title)}: {todo}"


def printable(text: str) -> str:
    """`text` fit for a terminal: every character that is not printable (control
    characters such as the ESC starting an escape sequence, bidirectional overrides) is
    shown as its Python escape, as a title quoted in a log line is."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


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
