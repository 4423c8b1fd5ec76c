"""Markdown parsing shared by pull checks and push: top-level blocks with their lines."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt


def _new_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    # Keep link destinations as written (no percent-encoding): they name pages and files.
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    md.normalizeLinkText = lambda url: url  # type: ignore[method-assign]
    return md


@lru_cache(maxsize=1)
def md_parser() -> MarkdownIt:
    return _new_parser()


@lru_cache(maxsize=1)
def block_parser() -> MarkdownIt:
    """``md_parser`` stopped after the block pass: the same block tokens (types, levels, line
    maps) without parsing the text inside them, which block boundaries never depend on."""
    return _new_parser().disable(["inline", "text_join"])


@lru_cache(maxsize=1)
def html_parser() -> MarkdownIt:
    return _new_parser()


@dataclass
class Chunk:
    """One top-level Markdown block: lines ``[first, last)`` (0-based) and their text."""

    first: int
    last: int
    text: str
    kind: str


def normalise(md: str) -> str:
    """Line endings to LF, no trailing whitespace at the end, one final newline."""
    md = md.replace("\r\n", "\n").replace("\r", "\n")
    md = md.rstrip("\n \t")
    return md + "\n" if md else ""


def split_chunks(md: str) -> list[Chunk]:
    lines = md.split("\n")
    tokens = block_parser().parse(md)
    chunks: list[Chunk] = []
    for tok in tokens:
        if tok.level != 0 or tok.map is None or tok.nesting == -1:
            continue
        first, last = tok.map
        if chunks and first < chunks[-1].last:
            # Should not happen for top-level tokens; merge defensively.
            prev = chunks[-1]
            last = max(last, prev.last)
            chunks[-1] = Chunk(prev.first, last, "\n".join(lines[prev.first : last]), prev.kind)
            continue
        while last > first and not lines[last - 1].strip():
            last -= 1
        chunks.append(Chunk(first, last, "\n".join(lines[first:last]), tok.type))
    return chunks


def to_html(md: str) -> str:
    """Rendered HTML, used to compare two Markdown texts by meaning."""
    return html_parser().render(md)
