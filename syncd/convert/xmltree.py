"""A tolerant, position-keeping parser for Confluence storage bodies.

Real page bodies are XHTML *fragments* with undeclared ``ac:``/``ri:`` prefixes, HTML named
entities, CDATA sections, legacy ``<ac:macro>`` elements and sometimes unclosed or stray tags.
A strict XML parser rejects many of them, and no parser keeps the byte spans we need to copy
untouched blocks back verbatim.  This one never raises: unclosed elements end where their
parent ends, stray end tags become :class:`Node` objects of kind ``"stray"``, and every node
records the span of the source it came from, so ``src[node.start:node.end]`` is its exact text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

VOID_ELEMENTS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)

_TAG_NAME = r"[A-Za-z][A-Za-z0-9_.:-]*"
_START_TAG = re.compile(
    r"<("
    + _TAG_NAME
    + r")((?:\s+[^\s/>=]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*(/?)>",
    re.S,
)
_END_TAG = re.compile(r"</(" + _TAG_NAME + r")\s*>")
_ATTR = re.compile(r"([^\s/>=]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?", re.S)


@dataclass(eq=False)
class Node:
    """One node of the source.  ``kind`` is el, text, cdata, comment, stray or other."""

    kind: str
    start: int
    end: int
    name: str = ""
    attrs: dict[str, str] = field(default_factory=dict)
    open_end: int = 0  # end of the start tag (elements)
    close_start: int = 0  # start of the end tag, == end when there is none
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None
    closed: bool = True  # False when the end tag is missing (closed implicitly)

    @property
    def lname(self) -> str:
        return self.name.lower()

    def attr(self, name: str, default: str = "") -> str:
        return self.attrs.get(name, default)

    def elements(self) -> list[Node]:
        return [c for c in self.children if c.kind == "el"]

    def find(self, name: str) -> Node | None:
        for c in self.children:
            if c.kind == "el" and c.lname == name:
                return c
        return None

    def find_all(self, name: str) -> list[Node]:
        return [c for c in self.children if c.kind == "el" and c.lname == name]

    def is_after(self, other: Node) -> bool:
        return self.start >= other.end

    def iter(self):
        """This node and all below it, in document order (no recursion: bodies nest deep)."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


def parse_attrs(text: str) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for m in _ATTR.finditer(text):
        value = m.group(2)
        if value is None:
            value = ""
        elif value[:1] in "\"'":
            value = value[1:-1]
        attrs.setdefault(m.group(1), html.unescape(value))
    return attrs


def parse(src: str, start: int = 0, end: int | None = None) -> Node:
    """Parse ``src[start:end]`` into a tree under a synthetic root of kind ``"root"``."""
    end = len(src) if end is None else end
    root = Node("root", start, end, open_end=start, close_start=end)
    stack = [root]
    pos = start
    find = src.find
    while pos < end:
        lt = find("<", pos, end)
        if lt < 0:
            lt = end
        if lt > pos:
            _append(stack[-1], Node("text", pos, lt))
            pos = lt
            if pos >= end:
                break
        if src.startswith("<!--", pos):
            close = find("-->", pos + 4, end)
            stop = end if close < 0 else close + 3
            _append(stack[-1], Node("comment", pos, stop))
            pos = stop
            continue
        if src.startswith("<![CDATA[", pos):
            close = find("]]>", pos + 9, end)
            stop = end if close < 0 else close + 3
            _append(stack[-1], Node("cdata", pos, stop))
            pos = stop
            continue
        if src.startswith("<!", pos) or src.startswith("<?", pos):
            close = find(">", pos + 2, end)
            stop = end if close < 0 else close + 1
            _append(stack[-1], Node("other", pos, stop))
            pos = stop
            continue
        m = _END_TAG.match(src, pos, end)
        if m:
            name = m.group(1).lower()
            for depth in range(len(stack) - 1, 0, -1):
                if stack[depth].lname == name:
                    while len(stack) > depth:
                        node = stack.pop()
                        node.close_start = m.start() if len(stack) == depth else pos
                        node.end = m.end() if len(stack) == depth else pos
                        node.closed = len(stack) == depth
                    break
            else:
                _append(stack[-1], Node("stray", pos, m.end(), name=m.group(1)))
            pos = m.end()
            continue
        m = _START_TAG.match(src, pos, end)
        if m:
            node = Node(
                "el",
                pos,
                m.end(),
                name=m.group(1),
                attrs=parse_attrs(m.group(2)),
                open_end=m.end(),
                close_start=m.end(),
            )
            _append(stack[-1], node)
            if not m.group(3) and node.lname not in VOID_ELEMENTS:
                stack.append(node)
            pos = m.end()
            continue
        # A lone "<" that starts no markup is text.
        stop = find("<", pos + 1, end)
        stop = end if stop < 0 else stop
        _append(stack[-1], Node("text", pos, stop))
        pos = stop
    while len(stack) > 1:
        node = stack.pop()
        node.close_start = node.end = end
        node.closed = False
    _merge_texts(root)
    return root


def _append(parent: Node, node: Node) -> None:
    node.parent = parent
    parent.children.append(node)
    # Keep ancestors' provisional ends growing so unclosed elements cover their content.
    p: Node | None = parent
    while p is not None and p.kind != "root" and p.end < node.end:
        p.end = p.close_start = node.end
        p = p.parent


def _merge_texts(root: Node) -> None:
    for node in root.iter():
        if len(node.children) < 2:
            continue
        merged: list[Node] = []
        for c in node.children:
            if (
                c.kind == "text"
                and merged
                and merged[-1].kind == "text"
                and merged[-1].end == c.start
            ):
                merged[-1].end = c.end
            else:
                merged.append(c)
        node.children = merged


def defects(root: Node) -> int:
    """How many elements lack an end tag plus how many end tags match no element."""
    return sum(1 for n in root.iter() if n.kind == "stray" or (n.kind == "el" and not n.closed))


def cdata_text(src: str, node: Node) -> str:
    """The character content of a CDATA node (tolerating a missing terminator)."""
    raw = src[node.start : node.end]
    body = raw[9:]
    return body[:-3] if body.endswith("]]>") else body


def text_content(src: str, node: Node) -> str:
    """All character data below ``node`` (entities decoded, CDATA unwrapped)."""
    parts = []
    for n in node.iter():
        if n.kind == "text":
            parts.append(html.unescape(src[n.start : n.end]))
        elif n.kind == "cdata":
            parts.append(cdata_text(src, n))
    return "".join(parts)
