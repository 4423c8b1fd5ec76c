"""Three-way merge of Markdown text (base, local, remote) with merge3.

Text only: the front matter is merged by the engine separately. Line endings
are normalised to LF on the way in, so a CRLF editor does not turn every line
into a conflict. Conflicts are written git-style:

    <<<<<<< local
    (local lines)
    =======
    (remote lines)
    >>>>>>> remote

A page whose file still holds these markers is never pushed
(`has_conflict_markers`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import merge3

START_MARKER = "<<<<<<< local"
MID_MARKER = "======="
END_MARKER = ">>>>>>> remote"

# Only the labelled start/end lines count: a bare "=======" is a setext heading
# underline, and a document about git may quote "<<<<<<< HEAD".
_MARKER_LINE = re.compile(r"^(?:<<<<<<< local|>>>>>>> remote)[ \t]*\r?$", re.MULTILINE)


@dataclass(frozen=True)
class MergeResult:
    """`text` is the merged text; with `clean` False it carries conflict markers."""

    clean: bool
    text: str
    conflicts: int = 0


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def merge_markdown(base: str | None, local: str, remote: str) -> MergeResult:
    """Merge the local and remote edits of `base`.

    `base` None (or "") means there is no common ancestor: the texts merge only
    if they are equal, otherwise the differing regions become conflicts.
    Trivial cases (equal sides, one side unchanged) never call merge3.
    """
    base_n = normalize_newlines(base or "")
    local_n = normalize_newlines(local)
    remote_n = normalize_newlines(remote)
    if local_n == remote_n or remote_n == base_n:
        return MergeResult(True, local_n)
    if local_n == base_n:
        return MergeResult(True, remote_n)

    m3 = merge3.Merge3(
        base_n.splitlines(keepends=True),
        local_n.splitlines(keepends=True),
        remote_n.splitlines(keepends=True),
    )
    out: list[str] = []
    conflicts = 0
    for region in m3.reprocess_merge_regions(m3.merge_regions()):
        kind = region[0]
        if kind == "unchanged":
            out.extend(m3.base[region[1] : region[2]])
        elif kind in ("a", "same"):
            out.extend(m3.a[region[1] : region[2]])
        elif kind == "b":
            out.extend(m3.b[region[1] : region[2]])
        elif kind == "conflict":
            ia, amatch, ib, bmatch = region[3], region[4], region[5], region[6]
            conflicts += 1
            _ensure_newline(out)
            out.append(START_MARKER + "\n")
            out.extend(m3.a[ia:amatch])
            _ensure_newline(out)
            out.append(MID_MARKER + "\n")
            out.extend(m3.b[ib:bmatch])
            _ensure_newline(out)
            out.append(END_MARKER + "\n")
        else:  # pragma: no cover - merge3 yields only the kinds above
            raise ValueError(f"unexpected merge region {kind!r}")
    return MergeResult(conflicts == 0, "".join(out), conflicts)


def _ensure_newline(out: list[str]) -> None:
    if out and not out[-1].endswith("\n"):
        out[-1] += "\n"


def has_conflict_markers(text: str) -> bool:
    """True while the text still holds a `<<<<<<< local` or `>>>>>>> remote` line."""
    return _MARKER_LINE.search(text) is not None


def count_conflict_markers(text: str) -> int:
    """Number of unresolved `<<<<<<< local` blocks (for status output)."""
    return sum(1 for m in _MARKER_LINE.finditer(text) if m.group(0).startswith(START_MARKER))
