"""Which names in the synced folder are never content: hidden, temporary and editor files.

One rule set, shared by the scanner, the watcher and the title sanitiser (which makes sure a
page title never produces a name matched here). Patterns come from how editors save
(see docs: vim, JetBrains, gedit/GIO, emacs, Office/LibreOffice, other sync tools).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

PAGE_SUFFIX = ".md"
ATTACHMENTS_SUFFIX = ".attachments"
# `keep-both` conflict copies: `<stem>.conflict-YYYYMMDD-HHMMSS.md`; never pushed.
CONFLICT_RE = re.compile(r"\.conflict-\d{8}-\d{6}(?:-\d+)?\.md$", re.IGNORECASE)

_IGNORED_NAME_RES = [
    re.compile(p)
    for p in (
        r"^\.",  # hidden: .git, .syncd, .DS_Store, .#emacs-lock, .goutputstream-*, vim .x.swp
        r"~$",  # vim / emacs / TextEdit backups: name~
        r"^#.*#$",  # emacs auto-save
        r"\.sw[a-p]$",  # vim swap files (.swp, .swo, .swn, .swx ...)
        r"^\d+$",  # vim's 4913 probe (and its successors 5036, 5159, ...)
        r"___jb_(?:tmp|old|bak)___$",  # JetBrains safe write
        r"^~\$",  # MS Office owner files
        r"^~.*\.tmp$",  # MS Office temp files
        r"\.(?:tmp|temp|part|partial|crdownload|bak|orig|rej)$",  # generic temp / leftovers
        r"^\.?syncd\..*\.tmp$",  # our own temp files (also hidden)
        r"^Thumbs\.db$",
        r"^desktop\.ini$",
        r"^Icon\r$",
    )
]


def is_ignored_name(name: str, *, is_dir: bool = False) -> bool:
    """True for a name that is never synced content.

    Folders are ignored only when hidden: a page titled "2024" has a children folder `2024/`,
    which must not be mistaken for vim's `4913` probe file.
    """
    if is_dir:
        return name.startswith(".")
    return any(r.search(name) for r in _IGNORED_NAME_RES)


def is_ignored_path(rel: str) -> bool:
    """True when the file name is ignored or any parent folder is hidden."""
    parts = PurePosixPath(rel).parts
    if not parts:
        return True
    return any(p.startswith(".") for p in parts[:-1]) or is_ignored_name(parts[-1])


def is_conflict_copy(rel: str) -> bool:
    return CONFLICT_RE.search(rel) is not None


def is_attachment_path(rel: str) -> bool:
    """A file inside a page's attachments folder (`<Title>.attachments/<file>`)."""
    parts = PurePosixPath(rel).parts
    return len(parts) >= 2 and parts[-2].lower().endswith(ATTACHMENTS_SUFFIX)


def is_page_path(rel: str) -> bool:
    """A Markdown page candidate: `*.md`, not ignored, not a conflict copy, not an attachment."""
    return (
        rel.lower().endswith(PAGE_SUFFIX)
        and not is_ignored_path(rel)
        and not is_conflict_copy(rel)
        and not is_attachment_path(rel)
    )


def is_content_path(rel: str) -> bool:
    """A path syncd cares about: a page file or an attachment file."""
    if is_ignored_path(rel):
        return False
    return is_page_path(rel) or is_attachment_path(rel)
