"""Page titles -> file names that are safe on Linux, macOS and Windows.

The rules (:func:`safe_stem`), applied in this order:

1. Unicode NFC (macOS and Linux disagree on decomposed names; NFC is what Confluence stores).
2. Path separators and the other characters Windows forbids (``< > : " / \\ | ? *``)
   become their full-width look-alikes (``＜ ＞ ： ＂ ／ ＼ ｜ ？ ＊``, U+FF1C and so on):
   ``Onboarding: Your First Week`` is ``Onboarding： Your First Week.md``, which reads like
   the title, is legal on every system, and maps back (:func:`title_from_stem`). Control
   characters (C0, DEL, C1) become ``_``. Runs of whitespace become one space.
3. Leading and trailing spaces and dots are removed (Windows drops trailing ones silently;
   a leading dot would make a hidden file, which syncd ignores). ``..`` cannot survive.
4. Windows reserved device names (CON, PRN, AUX, NUL, COM0-9, LPT0-9, CONIN$, CONOUT$,
   CLOCK$, with or without an extension, any case) get ``_`` appended to their base name.
5. The result is capped at :data:`MAX_STEM_BYTES` UTF-8 bytes (never splitting a character
   or leaving a dangling combining mark), which leaves room under the 255-byte limit for a
   collision suffix, ``.attachments``, a conflict-copy suffix, ``.md`` and syncd's temp name.
6. An empty result becomes ``Untitled``.
7. A name the scanner would ignore or misread gets a ``_``: a leading ``~$`` (Office owner
   files), a trailing ``.attachments`` (the children folder would pass for an attachments
   folder) or a conflict-copy suffix (``.conflict-YYYYMMDD-HHMMSS``).

Collisions: two siblings whose names are equal after the rules above, or equal ignoring case
(macOS and Windows file systems are case-insensitive), are told apart by the page id. The
page with the lowest id (the oldest page) keeps the plain name; each other page becomes
``<name> (<page id>)``. A page created later therefore never renames an existing file, and
the outcome depends only on the set of colliding pages, never on listing order.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from syncd.local.ignore import ATTACHMENTS_SUFFIX, PAGE_SUFFIX, is_conflict_copy, is_ignored_name

MAX_STEM_BYTES = 150
UNTITLED = "Untitled"

#: Characters no file name may hold on Windows (and ``/`` nowhere) -> full-width look-alikes.
LOOK_ALIKES: dict[str, str] = {c: chr(ord(c) + 0xFEE0) for c in '<>:"/\\|?*'}
_BACK = {v: k for k, v in LOOK_ALIKES.items()}
_FORBIDDEN = re.compile("[" + re.escape("".join(LOOK_ALIKES)) + "]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_WHITESPACE = re.compile(r"\s+")
_RESERVED = re.compile(
    r"^(?:CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³]|CONIN\$|CONOUT\$|CLOCK\$)$", re.IGNORECASE
)
# Characters that must not end a truncated name: combining marks are handled separately.
_JOINERS = {"\u200d", "\ufe0e", "\ufe0f"}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(name: str) -> str:
    """Comparison key for names on case-insensitive, normalising file systems."""
    return nfc(nfc(name).casefold())


def truncate_utf8(text: str, max_bytes: int) -> str:
    """Longest prefix of ``text`` within ``max_bytes`` UTF-8 bytes, ending on a whole glyph."""
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    out: list[str] = []
    size = 0
    for ch in text:
        n = len(ch.encode("utf-8"))
        if size + n > max_bytes:
            break
        out.append(ch)
        size += n
    # Drop a trailing base character whose combining marks or joiners were cut off, and any
    # dangling marks themselves, so no glyph is left half-drawn.
    cut_inside_glyph = len(out) < len(text) and (
        unicodedata.combining(text[len(out)]) or text[len(out)] in _JOINERS
    )
    while out and (unicodedata.combining(out[-1]) or out[-1] in _JOINERS):
        out.pop()
        cut_inside_glyph = True
    if cut_inside_glyph and out:
        out.pop()
    return "".join(out)


def _strip_ends(text: str) -> str:
    return text.strip(" .").lstrip(".")


def safe_stem(title: str, *, max_bytes: int = MAX_STEM_BYTES) -> str:
    """The file name (without ``.md``) for a page title. Deterministic; never a path."""
    text = nfc(title or "")
    text = _FORBIDDEN.sub(lambda m: LOOK_ALIKES[m.group()], text)
    text = _CONTROL.sub("_", text)
    text = _WHITESPACE.sub(" ", text)
    text = _strip_ends(text)
    base, dot, ext = text.partition(".")
    if _RESERVED.match(base.rstrip(" ")):
        text = base.rstrip(" ") + "_" + dot + ext
    text = _strip_ends(truncate_utf8(text, max_bytes))
    if not text:
        text = UNTITLED
    # Never produce a name the scanner and watcher ignore (e.g. Office's "~$..." owner files).
    if is_ignored_name(text + ".md") or is_ignored_name(text, is_dir=True):
        text = "_" + text
    # Nor one they would take for something else: a children folder named like an
    # attachments folder, or a page file named like a conflict copy.
    if text.lower().endswith(ATTACHMENTS_SUFFIX) or is_conflict_copy(text + PAGE_SUFFIX):
        text += "_"
    return text


def title_from_stem(stem: str) -> str:
    """The title a new file's name stands for: look-alikes back to the characters they
    replace (``Q： A`` -> ``Q: A``), so a title survives the trip through a file name.

    Left as they are in a name written in a script that uses full-width punctuation itself
    (Chinese, Japanese, Korean: ``会议：纪要``), where the full-width colon is the text.
    A ``title:`` in the front matter always wins over the name.
    """
    if not any(c in _BACK for c in stem):
        return stem
    if any(c not in _BACK and unicodedata.east_asian_width(c) in ("W", "F") for c in stem):
        return stem
    return "".join(_BACK.get(c, c) for c in stem)


def with_suffix_id(stem: str, page_id: str, n: int = 1) -> str:
    """``"Title (1234)"``, or ``"Title (1234-2)"`` when even that name is taken."""
    tag = f" ({page_id})" if n == 1 else f" ({page_id}-{n})"
    return truncate_utf8(stem, MAX_STEM_BYTES).rstrip(" .") + tag


def id_sort_key(page_id: str) -> tuple[int, int, str]:
    """Numeric ids in numeric order (the oldest page first); anything else after, by text."""
    return (0, int(page_id), "") if page_id.isdigit() else (1, 0, page_id)


def claimed_names(stem: str) -> tuple[str, ...]:
    """Folded names a page with ``stem`` occupies in its folder: file, children, attachments.

    A page claims its children folder even while it has no children, so gaining a first
    child never forces a rename.
    """
    return (fold(stem + ".md"), fold(stem), fold(stem + ".attachments"))


def assign_stems(
    entries: Iterable[tuple[str, str]], *, reserved: Iterable[str] = ()
) -> dict[str, str]:
    """Unique stems for siblings: ``[(page_id, title)]`` -> ``{page_id: stem}``.

    ``reserved`` holds folded names already taken in that folder (e.g. the home page's
    ``readme.md`` at the root, or ``blog``).
    """
    taken: set[str] = {fold(r) for r in reserved}
    ordered = sorted(entries, key=lambda e: id_sort_key(e[0]))
    plain = {pid: safe_stem(title) for pid, title in ordered}
    result: dict[str, str] = {}
    losers: list[str] = []
    for pid, _ in ordered:
        names = claimed_names(plain[pid])
        if taken.isdisjoint(names):
            taken.update(names)
            result[pid] = plain[pid]
        else:
            losers.append(pid)
    for pid in losers:
        n = 1
        while True:
            stem = with_suffix_id(plain[pid], pid, n)
            names = claimed_names(stem)
            if taken.isdisjoint(names):
                taken.update(names)
                result[pid] = stem
                break
            n += 1
    return {pid: result[pid] for pid, _ in ordered}


def strip_suffix_id(stem: str, page_id: str | None) -> str:
    """Inverse of :func:`with_suffix_id` for that page id (used to read a title from a name)."""
    if page_id:
        m = re.fullmatch(rf"(.*) \({re.escape(page_id)}(?:-\d+)?\)", stem)
        if m:
            return m.group(1)
    return stem


def is_within(root: str | os.PathLike[str], candidate: str | os.PathLike[str]) -> bool:
    """True when ``candidate`` resolves (symlinks followed) to ``root`` or below it."""
    root_r = Path(root).resolve()
    cand = Path(candidate)
    if not cand.is_absolute():
        cand = root_r / cand
    try:
        cand.resolve().relative_to(root_r)
    except ValueError:
        return False
    return True


def check_relative(rel: str) -> str:
    """Validate a relative POSIX path produced by the layout; raises ValueError if unsafe."""
    if not rel or rel.startswith("/") or "\\" in rel or "\x00" in rel:
        raise ValueError(f"unsafe relative path {rel!r}")
    parts = rel.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"unsafe relative path {rel!r}")
    return rel
