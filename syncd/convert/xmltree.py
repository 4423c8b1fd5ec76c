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
from functools import lru_cache

VOID_ELEMENTS = frozenset(
    "area base br col embed hr img input link meta param source track wbr".split()
)

_TAG_NAME = r"[A-Za-z][A-Za-z0-9_.:-]*"
_START_TAG = re.compile(
    r"<(?P<start_name>"
    + _TAG_NAME
    + r")(?P<attrs>(?:\s+[^\s/>=]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*"
    r"(?P<self_closing>/?)>",
    re.S,
)
_END_TAG = re.compile(r"</(?P<end_name>" + _TAG_NAME + r")\s*>")
_ATTR = re.compile(r"([^\s/>=]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?", re.S)


class Node:
    """One node of the source.  ``kind`` is el, text, cdata, comment, stray or other.

    A plain class with slots rather than a dataclass: a page body makes thousands of them.
    """

    __slots__ = (
        "attrs",
        "children",
        "close_start",
        "closed",
        "end",
        "kind",
        "lname",
        "name",
        "open_end",
        "parent",
        "start",
    )

    def __init__(
        self,
        kind: str,
        start: int,
        end: int,
        name: str = "",
        attrs: dict[str, str] | None = None,
        open_end: int = 0,  # end of the start tag (elements)
        close_start: int = 0,  # start of the end tag, == end when there is none
        children: list[Node] | None = None,
        parent: Node | None = None,
        closed: bool = True,  # False when the end tag is missing (closed implicitly)
    ) -> None:
        self.kind = kind
        self.start = start
        self.end = end
        self.name = name
        self.lname = name.lower()  # the name compared case-blind; set once, names never change
        self.attrs = {} if attrs is None else attrs
        self.open_end = open_end
        self.close_start = close_start
        self.children = [] if children is None else children
        self.parent = parent
        self.closed = closed

    def __repr__(self) -> str:
        return f"Node({self.kind!r}, {self.start}, {self.end}, name={self.name!r})"

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
    """The attributes of a start tag (first of a repeated name wins; entities decoded)."""
    if not text or text.isspace():
        return {}
    return dict(_parse_attrs(text))


@lru_cache(maxsize=4096)
def _parse_attrs(text: str) -> tuple[tuple[str, str], ...]:
    # Pure and repeated across a body (the same macro names, classes, ids...): cached, and
    # handed out as a fresh dict by parse_attrs.
    attrs: dict[str, str] = {}
    for m in _ATTR.finditer(text):
        value = m.group(2)
        if value is None:
            value = ""
        elif value[:1] in "\"'":
            value = value[1:-1]
        if "&" in value:
            value = html.unescape(value)
        attrs.setdefault(m.group(1), value)
    return tuple(attrs.items())


# Every piece of the source, tried in this order where it starts: character data, a comment,
# a CDATA section, another "<!" or "<?" declaration, an end tag, a start tag, and a lone "<"
# that starts no markup (character data up to the next "<").  An unterminated comment,
# CDATA section or declaration runs to the end.
_PIECE = re.compile(
    r"(?P<text>[^<]+)"
    r"|(?P<comment><!--(?:.*?-->|.*))"
    r"|(?P<cdata><!\[CDATA\[(?:.*?\]\]>|.*))"
    r"|(?P<other><[!?](?:[^>]*>|.*))"
    r"|(?P<end>" + _END_TAG.pattern + r")"
    r"|(?P<start>" + _START_TAG.pattern + r")"
    r"|(?P<lone><[^<]*)",
    re.S,
)


def parse(src: str, start: int = 0, end: int | None = None) -> Node:
    """Parse ``src[start:end]`` into a tree under a synthetic root of kind ``"root"``.

    One pass of one regular expression; adjacent character data becomes one text node.
    Elements still open when an ancestor's end tag (or the end) comes are closed there,
    with ``closed`` False.
    """
    end = len(src) if end is None else end
    root = Node("root", start, end, open_end=start, close_start=end)
    stack = [root]
    parent = root
    siblings = root.children
    for m in _PIECE.finditer(src, start, end):
        kind = m.lastgroup
        pos, stop = m.span()
        if kind == "text" or kind == "lone":
            if siblings:
                last = siblings[-1]
                if last.kind == "text" and last.end == pos:
                    last.end = stop
                    continue
            siblings.append(Node("text", pos, stop, parent=parent))
        elif kind == "start":
            name, attrs, self_closing = m.group("start_name", "attrs", "self_closing")
            node = Node(
                "el",
                pos,
                stop,
                name=name,
                attrs=parse_attrs(attrs),
                open_end=stop,
                close_start=stop,
                parent=parent,
            )
            siblings.append(node)
            if not self_closing and node.lname not in VOID_ELEMENTS:
                stack.append(node)
                parent = node
                siblings = node.children
        elif kind == "end":
            name = m.group("end_name").lower()
            for depth in range(len(stack) - 1, 0, -1):
                if stack[depth].lname == name:
                    while len(stack) > depth + 1:
                        node = stack.pop()  # left open: ends where its ancestor closes
                        node.close_start = node.end = pos
                        node.closed = False
                    node = stack.pop()
                    node.close_start = pos
                    node.end = stop
                    parent = stack[-1]
                    siblings = parent.children
                    break
            else:
                siblings.append(Node("stray", pos, stop, name=m.group("end_name"), parent=parent))
        else:
            siblings.append(Node(kind, pos, stop, parent=parent))
    while len(stack) > 1:
        node = stack.pop()
        node.close_start = node.end = end
        node.closed = False
    return root


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
