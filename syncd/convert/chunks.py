"""Markdown parsing shared by pull checks and push: top-level blocks with their lines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.html_blocks import block_names


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
    chunks: list[Chunk] = []
    _add_chunks(block_parser().parse(md), 0, lines, chunks)
    return chunks


def _add_chunks(tokens, offset: int, lines: list[str], chunks: list[Chunk]) -> None:
    """Append the top-level blocks of ``tokens``, parsed from ``lines[offset:]``."""
    for tok in tokens:
        if tok.level != 0 or tok.map is None or tok.nesting == -1:
            continue
        first, last = tok.map[0] + offset, tok.map[1] + offset
        if chunks and first < chunks[-1].last:
            # Should not happen for top-level tokens; merge defensively.
            prev = chunks[-1]
            last = max(last, prev.last)
            chunks[-1] = Chunk(prev.first, last, "\n".join(lines[prev.first : last]), prev.kind)
            continue
        while last > first and not lines[last - 1].strip():
            last -= 1
        chunks.append(Chunk(first, last, "\n".join(lines[first:last]), tok.type))


# Blocks whose extent and kind are certain without parsing when they start a line after a
# blank line with nothing left open before them, and which leave nothing open after them:
# - one-line paragraphs: the first character starts no other block (not a space, fence,
#   quote, list, rule, heading, HTML or link reference character, nor a digit), and one
#   line is neither a table nor a setext heading;
# - ATX headings and thematic breaks;
# - HTML blocks that end at a blank line (CommonMark's type 6: a block-level tag name
#   first; any lines, none blank), and a comment closed on its one line;
# - block quotes every line of which starts with ">" (each such line continues the quote,
#   a blank line ends it), not nested near the parser's nesting limit (_NESTING);
# - fenced code closed by its last line, with no line between that could close it.
_SURE = {
    "paragraph_open": re.compile(r"[^\s`~>*+\-_#<\[0-9][^\n\r]*"),
    "heading_open": re.compile(r"#{1,6} [^\n\r]*"),
    "hr": re.compile(r"-{3,}|\*{3,}|_{3,}"),
    "html_block": re.compile(
        r"<!--[^\n\r]*-->[^\n\r]*|</?(?:"
        + "|".join(sorted(block_names, key=len, reverse=True))
        + r")(?:[ \t][^\n\r]*|/?>[^\n\r]*)?(?:\n[^\n\r]*[^ \t\n\r][^\n\r]*)*",
        re.I | re.A,
    ),
    "blockquote_open": re.compile(r">[^\n\r]*(?:\n>[^\n\r]*)*"),
}
# The parser stops nesting at 20 levels and then lets the deepest container run to the end
# of the text.  A line opens at most one level per character of its leading run of
# indents, quote and list markers, so quotes and lists with no such run over 16
# characters stay clear of that limit.
_NESTING = re.compile(r"^[ \t>*+\-.)0-9]{17}", re.M)
_FENCE_OPEN = re.compile(r"(`{3,})[^`\n\r]*\n")
_PROBE = "\n\nprobe\n"


def _sure_kind(part: str) -> str | None:
    first = part[:1]
    if first == "#":
        kind = "heading_open"
    elif first == "<":
        kind = "html_block"
    elif first == ">":
        kind = "blockquote_open"
        if _NESTING.search(part):
            return None
    elif first == "`":
        return "fence" if _closed_fence(part) else None
    elif first in "-*_":
        kind = "hr"
    else:
        kind = "paragraph_open"
    return kind if _SURE[kind].fullmatch(part) else None


def _closed_fence(part: str) -> bool:
    m = _FENCE_OPEN.match(part)
    if m is None:
        return False
    fence = m.group(1)
    lines = part[m.end() :].split("\n")
    return lines[-1] == fence and not any(
        line.lstrip(" \t").startswith("```") for line in lines[:-1]
    )


# A list item's first line: a bullet or number, one space, then its content.
_ITEM = re.compile(r"(?:([-*])|\d{1,9}([.)])) (?=\S)")
_RULE_LINE = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*")
_NOT_AFTER_LIST = frozenset(" \t-*+0123456789")


def _sure_list(part: str) -> str | None:
    """The kind of a list every line of which is an item of the same type at the first
    column or is indented at least to its item's content (so no line can end the list),
    with no tab in an indent, a last line that is not blank, and shallow nesting; else
    None."""
    m = _ITEM.match(part)
    if m is None or _NESTING.search(part):
        return None
    marker = m.group(1) or m.group(2)
    lines = part.split("\n")
    if not lines[-1].strip(" "):
        return None
    content = 0
    for line in lines:
        if not line.strip(" "):
            if line:
                return None  # spaces only: blank, but keep the reasoning simple
            continue
        if line[0] == " " or line[0] == "\t":
            indent = len(line) - len(line.lstrip(" "))
            if indent < content or line[indent] == "\t":
                return None
            continue
        m = _ITEM.match(line)
        if m is None or (m.group(1) or m.group(2)) != marker or _RULE_LINE.fullmatch(line):
            return None
        content = m.end()
    return "bullet_list_open" if m.group(1) else "ordered_list_open"


def _kinds(parts: list[str]) -> list[str | None]:
    """The certain kind of each part, or None.  A list is certain only between parts that
    cannot belong to it: after nothing or a certain block other than a list, and before
    nothing or a part that starts with neither a space nor a list marker (nor is empty)."""
    kinds = [_sure_kind(part) for part in parts]
    for i, part in enumerate(parts):
        if kinds[i] is None and part[:1] in _NOT_AFTER_LIST:
            prev = kinds[i - 1] if i else "start"
            nxt = parts[i + 1][:1] if i + 1 < len(parts) else None
            if (
                prev is not None
                and not prev.endswith("list_open")
                and (nxt is None or (nxt and nxt not in _NOT_AFTER_LIST))
            ):
                kinds[i] = _sure_list(part)
    return kinds


def split_parts(parts: list[str], md: str) -> list[Chunk]:
    """``split_chunks(md)`` for ``md == "\n\n".join(parts) + "\n"`` (the pulled Markdown of
    rendered units), parsing only the parts whose block is not certain.

    Each run of other parts is parsed on its own, followed by a blank line and a probe
    paragraph.  The probe reading as a top-level paragraph of its own proves nothing was
    left open (an unclosed fence or HTML block swallows any line after it, a list or quote
    cannot take a line at the first column after a blank one), so the run's blocks are
    those of the whole text and the next part starts afresh.  If a probe is swallowed, or
    the text has carriage returns (line ends to the parser), the whole text is parsed.
    """
    if "\r" in md:
        return split_chunks(md)
    lines = md.split("\n")
    chunks: list[Chunk] = []
    parser = block_parser()
    run: list[str] = []
    run_line = line = 0
    for part, kind in zip(parts, _kinds(parts), strict=True):
        if kind is None:
            if not run:
                run_line = line
            run.append(part)
            line += part.count("\n") + 2
            continue
        if run:
            text = "\n\n".join(run)
            tokens = parser.parse(text + _PROBE)
            probe_line = text.count("\n") + 2
            probe = tokens[-3:]
            if (
                len(probe) != 3
                or probe[0].type != "paragraph_open"
                or probe[0].level != 0
                or probe[0].map != [probe_line, probe_line + 1]
            ):
                return split_chunks(md)
            _add_chunks(tokens[:-3], run_line, lines, chunks)
            run = []
        size = part.count("\n") + 1
        chunks.append(Chunk(line, line + size, part, kind))
        line += size + 1
    if run:
        _add_chunks(parser.parse("\n\n".join(run) + "\n"), run_line, lines, chunks)
    return chunks


def to_html(md: str) -> str:
    """Rendered HTML, used to compare two Markdown texts by meaning."""
    return html_parser().render(md)
