"""The user's wording of a page, kept wherever Confluence's copy means the same.

The Markdown a page is pulled as is one way to write it; the user's file may say the same
in other words (wrapped differently, ``*`` bullets, ``_emphasis_``) and Confluence may
normalise what it stores.  :func:`keep_wording` is what a file should read after a sync: the
user's text, block by block, except where the page now means something else.
:func:`in_pulled_wording` is its inverse for a push: the blocks the user left as they were
synced are put back in the pulled page's words, so they line up with the pulled body and
go back byte for byte.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from .chunks import Chunk, normalise, split_chunks
from .meaning import same_meaning


def keep_wording(user: str, pulled: str) -> str:
    """``pulled`` (a page read back) in the user's words where they mean the same.

    Blocks are compared in order; a block of ``user`` that reads the same as its
    counterpart in ``pulled`` is kept as the user wrote it (with the user's spacing around
    it), any other block is taken from ``pulled``.  The result always means what
    ``pulled`` means; when that cannot be had block by block, it is ``pulled`` itself.
    """
    user, pulled = normalise(user), normalise(pulled)
    if user == pulled or not user:
        return pulled
    u, p = split_chunks(user), split_chunks(pulled)
    keep: dict[int, int] = {}  # pulled chunk -> user chunk standing for it
    slot: dict[int, int] = {}  # pulled chunk -> user chunk whose place it takes
    matcher = SequenceMatcher(None, [c.text for c in u], [c.text for c in p], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            keep.update((j1 + k, i1 + k) for k in range(j2 - j1))
            continue
        if i2 - i1 == j2 - j1:
            slot.update((j1 + k, i1 + k) for k in range(j2 - j1))
        # Changed region: pair blocks in order with the first later one that means the same.
        i = i1
        for j in range(j1, j2):
            for k in range(i, i2):
                if same_meaning(u[k].text, p[j].text):
                    keep[j] = k
                    i = k + 1
                    break
    if not keep:
        return pulled
    lines = user.split("\n")
    out: list[str] = []
    prev: int | None = None  # place (user chunk) of the chunk written last
    for j, chunk in enumerate(p):
        i = keep.get(j)
        place = i if i is not None else slot.get(j)
        if out:
            if place is not None and prev is not None and place == prev + 1:
                # The user's own spacing between two blocks in their places.
                out.append(_between(lines, u[prev], u[place]))
            else:
                out.append("\n\n")
        out.append(u[i].text if i is not None else chunk.text)
        prev = place
    result = normalise("".join(out))
    if result == pulled:
        return pulled
    # Block for block, the result must stand for the pulled page (in_pulled_wording
    # relies on it), and mean what it means as a whole.
    again = split_chunks(result)
    if len(again) != len(p) or not all(
        same_meaning(a.text, b.text) for a, b in zip(again, p, strict=True)
    ):
        return pulled
    if not same_meaning(result, pulled):
        return pulled
    return result


def in_pulled_wording(md: str, worded: str, pulled: str) -> str:
    """``md`` with each block equal to one of ``worded`` (the file as last synced) written
    as ``pulled`` (the page's projection) writes that block.

    ``worded`` comes from :func:`keep_wording` of ``pulled``, so their blocks correspond
    one to one; when they do not, ``md`` is returned as it is.
    """
    if worded == pulled:
        return md
    w, p = split_chunks(worded), split_chunks(pulled)
    if len(w) != len(p):
        return md
    u = split_chunks(md)
    lines = md.split("\n")
    swaps: list[tuple[Chunk, str]] = []
    matcher = SequenceMatcher(None, [c.text for c in u], [c.text for c in w], autojunk=False)
    for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
        if tag != "equal":
            continue
        for k in range(i2 - i1):
            if w[j1 + k].text != p[j1 + k].text:
                swaps.append((u[i1 + k], p[j1 + k].text))
    for chunk, text in reversed(swaps):
        lines[chunk.first : chunk.last] = text.split("\n")
    return "\n".join(lines)


def _between(lines: list[str], a: Chunk, b: Chunk) -> str:
    """The user's own text between two chunks (blank lines), as a separator."""
    gap = lines[a.last : b.first]
    return "\n" + "".join(line + "\n" for line in gap)
