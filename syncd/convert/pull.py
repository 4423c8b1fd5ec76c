"""Storage XHTML -> Markdown projection (see docs/markdown.md for the dialect).

The body is cut into *units*: contiguous byte spans that each become one Markdown block
(containers such as layouts and expand macros are flattened into an opening unit, their
content units and a closing unit).  While rendering, every run of text that appears in the
Markdown exactly as in the source is wrapped in private-use sentinels so that, afterwards,
each such run is known as (Markdown offset, source offset).  A push uses these runs to patch
a word in place without touching a byte around it.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field

from . import labels, xmltree
from .chunks import block_parser
from .htmlview import HtmlView
from .model import DefaultResolver, LinkResolver
from .xmltree import Node

RUN_OPEN = "\ue000"
RUN_CLOSE = "\ue001"
_SENTINEL = re.compile("[\ue000\ue001]")

VOLATILE_ATTRS = re.compile(
    r'\s(?:ac:macro-id|ac:local-id|local-id|ri:version-at-save|data-local-id)="[^"]*"'
)

# Blocks whose raw XHTML Markdown keeps as an HTML block (CommonMark "type 6" names).
HTML_BLOCK_NAMES = frozenset(
    """address article aside blockquote body caption center col colgroup dd details dialog dir
    div dl dt fieldset figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html iframe
    legend li main menu nav ol optgroup option p section summary table tbody td tfoot th
    thead tr ul""".split()
)

BLOCK_NAMES = frozenset(
    """p h1 h2 h3 h4 h5 h6 ul ol table blockquote pre hr div section article aside header footer
    nav figure details dl center address form iframe ac:layout ac:layout-section ac:layout-cell
    ac:task-list ac:structured-macro ac:macro ac:adf-extension ac:placeholder""".split()
)

USER_ATTRS = {"ri:account-id": "", "ri:userkey": "userkey=", "ri:username": "username="}

INLINE_MACROS = frozenset({"status", "anchor", "jira", "mention", "inline-task", "emoticon"})

# Panels shown as GitHub alerts, one-to-one.
PANEL_TO_ALERT = {"info": "NOTE", "tip": "TIP", "note": "WARNING", "warning": "CAUTION"}
ALERT_TO_PANEL = {v: k for k, v in PANEL_TO_ALERT.items()}
ADF_NOTE_ALERT = "IMPORTANT"

VERBATIM_INLINE = frozenset(
    "u sub sup span font small big mark ins kbd abbr cite q var samp tt dfn bdi bdo".split()
)
STRONG = frozenset({"strong", "b"})
EMPH = frozenset({"em", "i"})
STRIKE = frozenset({"s", "del", "strike"})

# A no-break space is a token of its own: it is text, not a gap to normalise.  Words of
# characters that never need escaping, with single spaces between them (group 1), come as
# one token: they read as themselves, so they need no look at each character.
_PLAIN = r"[^\s\u00a0&\\`*\[\]_<~|]+"
_ENTITY_OR_WS = re.compile(
    r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?"
    rf"|({_PLAIN}(?: {_PLAIN})*)|[^\S\u00a0]+|.",
    re.S,
)
NBSP = "\u00a0"
_INVISIBLE = re.compile(r"[\s\u00a0\u200b-\u200f\u2028-\u202f\u2060\ufeff\x00-\x1f\x7f]")
_LINE_START_TRIGGER = re.compile(r"(#{1,6}(?:\s|$)|>|[-+](?:\s|$)|=+\s*$|-+\s*$)")
_ORDERED_TRIGGER = re.compile(r"\d{1,9}([.)])(?:\s|$)")
_BLOCK_START = re.compile(
    r"[-*+] |\d+[.)] |>|```|~~~|#{1,6} |<!--cf:|</?(?:"
    + "|".join(sorted(HTML_BLOCK_NAMES, key=len, reverse=True))
    + r")[\s/>]"
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# A line after a soft break that might start a block (or a table's delimiter row): only
# then is the paragraph parsed to make sure it is still one paragraph.
_RISKY_LINE = re.compile(r"\n[ \t]*(?:[-+*_=#>|:<`~]|\d{1,9}[.)])")


def fragment_key(raw: str) -> str:
    """Short key of a fragment, blind to the ids Confluence adds or renews on save."""
    stable = VOLATILE_ATTRS.sub("", raw)
    return hashlib.sha1(stable.encode("utf-8")).hexdigest()[:8]


@dataclass
class Run:
    """A stretch of Markdown equal to the source at ``src`` (``kind`` says how it may change)."""

    md: int
    length: int
    src: int
    kind: str  # "text": escaped Markdown text; "raw": code / verbatim XHTML text


@dataclass
class Unit:
    start: int
    end: int
    kind: str
    md: str
    runs: list[Run] = field(default_factory=list)
    bullet: str = ""
    node: Node | None = None


class Renderer:
    def __init__(self, src: str, resolver: LinkResolver | None) -> None:
        self.src = src
        self.resolver = resolver or DefaultResolver()
        self.fragments: dict[str, str] = {}
        # Links and images as Markdown shows them -> their storage, so that a rebuilt
        # paragraph keeps an image's size or a link's version attributes.
        self.reuse: dict[tuple, str] = {}
        self._runs: list[tuple[int, str]] = []
        self._sentinel_safe = RUN_OPEN not in src and RUN_CLOSE not in src
        self._index: dict[int, Node] = {}

    def index(self, root: Node) -> None:
        """Elements by start offset, to find the element a unit's span starts with."""
        index: dict[int, Node] = {}
        stack = [root]
        while stack:
            node = stack.pop()
            if node.kind == "el":
                index[node.start] = node
            stack.extend(node.children)
        self._index = index

    # ----------------------------------------------------------------- units
    def units(self, root: Node) -> list[Unit]:
        units: list[Unit] = []
        self._flatten(root.children, units)
        return units

    def _flatten(self, nodes: list[Node], units: list[Unit]) -> None:
        group: list[Node] = []

        def flush() -> None:
            if not group:
                return
            while group and self._is_blank(group[-1]):
                group.pop()
            if group:
                self._unit(
                    group[0].start,
                    group[-1].end,
                    "inline",
                    lambda: self._inline_block(group),
                    units,
                )
            group.clear()

        for node in nodes:
            if not group and self._is_blank(node):
                continue
            if self._is_inline_node(node):
                group.append(node)
                continue
            flush()
            container = self._container_body(node)
            if container is not None:
                body, open_md, close_md, kind = container
                if kind == "expand":
                    md, runs = self._expand_open_md(node)
                    units.append(
                        Unit(node.start, body.open_end, "expand-open", md, runs, node=node)
                    )
                else:
                    units.append(Unit(node.start, body.open_end, "marker", open_md))
                self._flatten(body.children, units)
                if kind == "expand":
                    units.append(Unit(body.close_start, node.end, "expand-close", "</details>"))
                else:
                    units.append(Unit(body.close_start, node.end, "marker", close_md))
                continue
            self._unit(
                node.start, node.end, self._kind(node), lambda n=node: self.block(n), units, node
            )
        flush()

    def _container_body(self, node: Node):
        """Containers flattened into open / content / close units.

        Layouts, ``expand`` (shown as ``<details>``) and any other macro whose content is a
        rich body (custom panels, excerpt, section/column, third-party containers): the
        opening and closing tags, with every parameter, become markers and the body stays
        ordinary, editable Markdown.
        """
        if node.kind != "el":
            return None
        name = node.lname
        if name in ("ac:layout", "ac:layout-section", "ac:layout-cell"):
            return (
                node,
                self._marker(node.start, node.open_end, labels.layout_label(node, self.src)),
                self._marker(node.close_start, node.end, labels.layout_close_label(node)),
                "layout",
            )
        if name not in ("ac:structured-macro", "ac:macro"):
            return None
        body = node.find("ac:rich-text-body")
        if body is None or body.close_start == body.end:
            return None
        others = [
            c
            for c in node.children
            if c is not body
            and not self._is_blank(c)
            and not (c.kind == "el" and c.lname == "ac:parameter")
        ]
        if others or any(c.is_after(body) for c in node.find_all("ac:parameter")):
            return None
        macro = node.attr("ac:name")
        if name == "ac:structured-macro" and macro == "expand":
            return body, "", "", "expand"
        if name == "ac:structured-macro" and macro in PANEL_TO_ALERT:
            return None
        return (
            body,
            self._marker(node.start, body.open_end, self._macro_label(node)),
            self._marker(
                body.close_start, node.end, "/" + labels.MACRO_NAMES.get(macro, macro or "macro")
            ),
            "macro",
        )

    def _expand_open_md(self, node: Node) -> tuple[str, list[Run]]:
        self._runs = []
        text = ""
        for p in node.find_all("ac:parameter"):
            if p.attr("ac:name") == "title":
                text = "".join(self._raw_html_text(c) for c in p.children)
        return self._finish(f"<details><summary>{text}</summary>")

    def _node_at(self, start: int) -> Node | None:
        return self._index.get(start)

    def _marker(self, start: int, end: int, label: str) -> str:
        raw = self.src[start:end]
        key = fragment_key(raw)
        self.fragments.setdefault(key, raw)
        return f"<!--cf:{key} {_comment_safe(label)}-->"

    def _unit(self, start, end, kind, render, units, node=None) -> None:
        self._runs = []
        md = render()
        if not md.strip():
            md = self._raw_or_opaque(start, end, kind)
        md, runs = self._finish(md)
        bullet = _bullet_of(md, kind)
        if bullet:
            prev = units[-1] if units else None
            if (
                prev is not None
                and prev.bullet
                and prev.bullet == bullet
                and prev.kind in _same_family(kind)
            ):
                md, runs, bullet = self._swap_bullet(md, runs, kind)
        units.append(Unit(start, end, kind, md, runs, bullet, node))

    def _swap_bullet(self, md: str, runs: list[Run], kind: str):
        """Re-render with the other bullet so two adjacent lists stay two lists."""
        # Items of the top list level start at column 0; swap their marker characters.
        if kind == "ol":
            new = re.sub(r"^(\d+)\.", r"\1)", md, flags=re.M)
            return new, runs, ")"
        new = re.sub(r"^-( |$)", r"*\1", md, flags=re.M)
        return new, runs, "*"

    def _finish(self, md: str) -> tuple[str, list[Run]]:
        """Strip sentinels, turning them into runs."""
        md = _strip_trailing_ws(md.replace("\r\n", "\n").replace("\r", "\n"))
        if RUN_OPEN not in md or not self._sentinel_safe:
            self._runs = []
            return md, []
        # Runs never nest: the pieces alternate text outside a run, text inside one.
        pieces = _SENTINEL.split(md)
        runs: list[Run] = []
        length = len(pieces[0])
        sources = self._runs
        for index in range(len(pieces) // 2):
            text = pieces[2 * index + 1]
            if text:
                src_start, kind = sources[index]
                runs.append(Run(length, len(text), src_start, kind))
            length += len(text) + len(pieces[2 * index + 2])
        self._runs = []
        return "".join(pieces), runs

    # ------------------------------------------------------------- helpers
    def _is_blank(self, node: Node) -> bool:
        return node.kind == "text" and not self.src[node.start : node.end].strip()

    def _is_inline_node(self, node: Node) -> bool:
        if node.kind in ("text", "cdata"):
            return True
        if node.kind in ("comment", "stray", "other"):
            return False
        name = node.lname
        if name in BLOCK_NAMES:
            if name in ("ac:structured-macro", "ac:macro"):
                return node.attr("ac:name") in INLINE_MACROS
            return False
        return True

    def _kind(self, node: Node) -> str:
        if node.kind != "el":
            return node.kind
        name = node.lname
        if name in ("ac:structured-macro", "ac:macro"):
            return "macro:" + node.attr("ac:name")
        if name == "ac:task-list":
            return "tasks"
        return name

    def _param(self, macro: Node, name: str) -> str:
        for p in macro.find_all("ac:parameter"):
            if p.attr("ac:name") == name:
                return xmltree.text_content(self.src, p)
        return ""

    def _raw_or_opaque(self, start: int, end: int, kind: str) -> str:
        node = self._node_at(start)
        if (
            # Block XHTML Markdown keeps as an HTML block: it must be one element and contain
            # no blank line (that would end the HTML block early).
            node is not None
            and node.kind == "el"
            and node.end == end
            and node.lname in HTML_BLOCK_NAMES
            and self._sentinel_safe
        ):
            self._runs = []
            md = HtmlView(self).render(node)
            # A blank line would end the HTML block early.
            if not _BLANK_LINE.search(_strip_trailing_ws(md.replace("\r", ""))):
                return md
        label = kind
        if (
            node is not None
            and node.kind == "el"
            and node.lname in ("ac:structured-macro", "ac:macro")
        ):
            label = self._macro_label(node)
        elif node is not None and node.kind == "el":
            label = node.lname
        self._runs = []
        return self._marker(start, end, label)

    def _macro_label(self, node: Node) -> str:
        """What the macro is and shows, for a marker a reader understands."""
        return labels.macro_label(self.src, node)

    def _raw_html_text(self, n: Node) -> str:
        if n.kind == "text":
            return self._raw_run(n.start, n.end)
        return self.src[n.start : n.end]

    def _raw_run(self, start: int, end: int) -> str:
        """Source text copied as-is; one run per line (runs never span a newline)."""
        text = self.src[start:end]
        if not self._sentinel_safe:
            return text
        out: list[str] = []
        pos = start
        for line in text.split("\n"):
            body = line.removesuffix("\r")
            if body:
                self._runs.append((pos, "raw"))
                out.append(RUN_OPEN + body + RUN_CLOSE)
            pos += len(line) + 1
            out.append("\n")
        return "".join(out)[:-1]

    # --------------------------------------------------------------- blocks
    def container(self, nodes: list[Node], *, tight: bool = False) -> str:
        """Render the children of a rich body as Markdown blocks separated by blank lines.

        In a list item (``tight``) a nested list follows its text on the next line.
        """
        parts: list[str] = []
        kinds: list[str] = []
        group: list[Node] = []
        prev_bullet = ""

        def flush() -> None:
            while group and self._is_blank(group[-1]):
                group.pop()
            if group:
                text = self._inline_block(group)
                if text.strip():
                    parts.append(text)
                    kinds.append("inline")
            group.clear()

        for node in nodes:
            if not group and self._is_blank(node):
                continue
            if self._is_inline_node(node):
                group.append(node)
                continue
            flush()
            md = self.block(node)
            if not md.strip():
                md = self._raw_or_opaque_nested(node)
            kind = self._kind(node)
            bullet = _bullet_of(md, kind)
            if bullet and parts and prev_bullet == bullet:
                md, _, bullet = self._swap_bullet(md, [], kind)
            prev_bullet = bullet
            parts.append(md)
            kinds.append(kind)
        flush()
        out = ""
        for i, part in enumerate(parts):
            if i:
                tight_join = (
                    tight
                    and kinds[i - 1] in ("p", "inline")
                    and _interrupts_paragraph(kinds[i], part)
                )
                out += "\n" if tight_join else "\n\n"
            out += part
        return out

    def _raw_or_opaque_nested(self, node: Node) -> str:
        saved = self._runs
        self._runs = []
        md = self._raw_or_opaque(node.start, node.end, self._kind(node))
        saved.extend(self._runs)
        self._runs = saved
        return md

    def block(self, node: Node) -> str:
        if node.kind == "comment":
            raw = self.src[node.start : node.end]
            if _plain_comment(raw):
                return raw
            return self._marker(node.start, node.end, "comment")
        if node.kind != "el":
            return self._marker(node.start, node.end, node.kind)
        name = node.lname
        if name == "p":
            return self._paragraph(node)
        if name in ("h1", "h2", "h3", "h4", "h5", "h6"):
            text = self.inline(node.children, at_start=True)
            if not text.strip():
                return ""
            return "#" * int(name[1]) + " " + text
        if name in ("ul", "ol"):
            return self._list(node)
        if name == "ac:task-list":
            return self._tasks(node)
        if name == "hr":
            return "---"
        if name == "blockquote":
            body = self.container(node.children)
            if not body.strip() or body.startswith("[!"):
                return ""
            return _prefix_lines(body, "> ")
        if name == "table":
            return self._table(node)
        if name == "pre":
            return self._pre(node)
        if name == "ac:structured-macro" or (
            name == "ac:macro" and node.attr("ac:name") in ("code", "noformat")
        ):
            md = self._macro(node)
            if md:
                return md
            return self._nested_container(node)
        if name == "ac:adf-extension":
            return self._adf(node)
        return ""

    def _nested_container(self, node: Node) -> str:
        """A macro with a rich body inside a list item, a paragraph or a panel (excerpt,
        details, expand...): its body stays editable Markdown between two marker lines."""
        container = self._container_body(node)
        if container is None:
            return ""
        body, open_md, close_md, kind = container
        if kind == "expand":
            return ""  # <details> lines need the top level; kept as a marker here
        inner = self.container(body.children)
        return f"{open_md}\n\n{inner}\n\n{close_md}" if inner.strip() else ""

    def _paragraph(self, node: Node) -> str:
        if self._lone_macro(node.children) is not None:
            # A paragraph holding only a toc, a Jira query, an include...: one marker line.
            return self._marker(
                node.start, node.end, self._macro_label(self._lone_macro(node.children))
            )
        if any(not self._is_inline_node(c) for c in node.children):
            # Blocks inside a paragraph (a task list in <p>, which Confluence allows): the
            # paragraph's content as Markdown blocks, every task still a task.
            return self.container(node.children)
        text = self.inline(node.children, at_start=True, breaks=True)
        return text if text.strip() else ""

    def _inline_block(self, nodes: list[Node]) -> str:
        macro = self._lone_macro(nodes)
        if macro is not None and self.src[nodes[0].start : macro.start].strip() == "":
            return self._marker(nodes[0].start, nodes[-1].end, self._macro_label(macro))
        return self.inline(nodes, at_start=True, breaks=True)

    def _lone_macro(self, nodes: list[Node]) -> Node | None:
        """The one macro among blank text that shows generated content (not a word in a
        sentence: statuses, anchors, emoticons and single Jira issues stay inline)."""
        content = [n for n in nodes if not self._is_blank(n)]
        if len(content) != 1:
            return None
        node = content[0]
        if node.kind != "el" or node.lname not in ("ac:structured-macro", "ac:macro"):
            return None
        name = node.attr("ac:name")
        if name in ("status", "anchor", "mention", "inline-task", "emoticon"):
            return None
        body = node.find("ac:rich-text-body")
        if body is not None and body.close_start != body.end:
            return None  # its body is content to show, not a marker
        if name in ("jira", "jiraissues"):
            params = labels.macro_params(self.src, node)
            if params.get("key") and not params.get("jqlQuery"):
                return None
        return node

    def _list(self, node: Node) -> str:
        ordered = node.lname == "ol"
        items = []
        for child in node.children:
            if self._is_blank(child):
                continue
            if child.kind != "el" or child.lname != "li":
                return ""
            items.append(child)
        if not items:
            return ""
        start = 1
        if ordered:
            try:
                start = int(node.attr("start") or 1)
            except ValueError:
                return ""
            if start < 0 or start > 999_999_999:
                return ""
        lines = []
        for i, li in enumerate(items):
            marker = f"{start + i}." if ordered else "-"
            body = self.container(li.children, tight=True)
            lines.append(_list_item(marker, body))
        return "\n".join(lines)

    def _tasks(self, node: Node) -> str:
        lines = []
        for child in node.children:
            if self._is_blank(child):
                continue
            if child.kind != "el" or child.lname != "ac:task":
                return ""
            status = child.find("ac:task-status")
            body = child.find("ac:task-body")
            if status is None or body is None:
                return ""
            state = xmltree.text_content(self.src, status).strip()
            box = "[x]" if state == "complete" else "[ ]"
            text = self.container(body.children, tight=True)
            if _BLOCK_START.match(text):
                # A block cannot share the checkbox line: it starts on the next one.
                lines.append(_list_item("-", box + "\n" + text))
            else:
                lines.append(_list_item("-", box + " " + text) if text else "- " + box)
        if not lines:
            return ""
        return "\n".join(lines)

    def _table(self, node: Node) -> str:
        rows: list[Node] = []
        for child in node.children:
            if self._is_blank(child) or (child.kind == "el" and child.lname == "colgroup"):
                continue
            if child.kind != "el":
                return ""
            if child.lname in ("thead", "tbody", "tfoot"):
                for r in child.children:
                    if self._is_blank(r):
                        continue
                    if r.kind != "el" or r.lname != "tr":
                        return ""
                    rows.append(r)
            elif child.lname == "tr":
                rows.append(child)
            else:
                return ""
        if not rows:
            return ""
        grid: list[list[str]] = []
        for r, row in enumerate(rows):
            cells = []
            for cell in row.children:
                if self._is_blank(cell):
                    continue
                if cell.kind != "el" or cell.lname not in ("th", "td"):
                    return ""
                if (cell.lname == "th") != (r == 0):
                    return ""
                if cell.attr("rowspan", "1") != "1" or cell.attr("colspan", "1") != "1":
                    return ""
                content = [c for c in cell.children if not self._is_blank(c)]
                if len(content) == 1 and content[0].kind == "el" and content[0].lname == "p":
                    content = content[0].children
                if any(not self._is_inline_node(c) for c in content):
                    return ""
                saved = len(self._runs)
                text = self.inline(content, in_table=True)
                if "\n" in text:
                    del self._runs[saved:]
                    return ""
                cells.append(text.strip() or " ")
            grid.append(cells)
        width = len(grid[0])
        if width == 0 or any(len(r) != width for r in grid):
            return ""
        lines = ["| " + " | ".join(grid[0]) + " |", "|" + "|".join(["---"] * width) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in grid[1:]]
        return "\n".join(lines)

    def _pre(self, node: Node) -> str:
        """``<pre>`` as a fence; ``<pre><code class="language-x">`` with its language."""
        language = ""
        inner = node
        elements = node.elements()
        if elements:
            content = [c for c in node.children if not self._is_blank(c)]
            code = content[0] if len(content) == 1 else None
            if code is None or code.kind != "el" or code.lname != "code" or code.elements():
                return ""
            m = re.fullmatch(r"(?:language-)?([^\s`{}=\"]+)", code.attr("class"))
            if set(code.attrs) - {"class"} or (code.attr("class") and not m):
                return ""
            language = m.group(1) if m else ""
            inner = code
        text = xmltree.text_content(self.src, inner)
        return _fence(language, text)

    def _macro(self, node: Node) -> str:
        name = node.attr("ac:name")
        if name in ("code", "noformat"):
            body = node.find("ac:plain-text-body")
            if any(
                c.kind == "el" and c.lname != "ac:parameter" and c is not body
                for c in node.children
            ):
                return ""
            params = []
            language = ""
            for p in node.find_all("ac:parameter"):
                pname = p.attr("ac:name")
                if p.elements():
                    return ""
                value = xmltree.text_content(self.src, p)
                if pname == "language" and name == "code":
                    language = value
                elif pname in ("breakoutMode", "breakoutWidth"):
                    continue
                else:
                    params.append(f"{pname}={_quote_param(value)}")
            if name == "code" and not language:
                language = "none" if params or node.find("ac:parameter") else ""
            if name == "noformat":
                language = "noformat"
            if language and (not re.fullmatch(r"[^\s`{}=\"]+", language)):
                return ""
            pieces: list[tuple[str, Node]] = []
            if body is not None:
                for c in body.children:
                    if c.kind == "cdata":
                        pieces.append(("cdata", c))
                    elif c.kind == "text":
                        pieces.append(("text", c))
                    else:
                        return ""
            text = "".join(
                xmltree.cdata_text(self.src, c)
                if k == "cdata"
                else html.unescape(self.src[c.start : c.end])
                for k, c in pieces
            )
            info = " ".join([language or ("none" if params else ""), *params]).strip()
            if name == "code" and not language and not params:
                info = ""
            cdata = [c for k, c in pieces if k == "cdata"]
            if len(pieces) == 1 and cdata and self._sentinel_safe:
                c = cdata[0]
                inner_end = c.end - 3 if self.src.endswith("]]>", c.start, c.end) else c.end
                return _fence(info, self._raw_run(c.start + 9, inner_end), text)
            return _fence(info, text)
        if name in PANEL_TO_ALERT:
            return self._panel(node, PANEL_TO_ALERT[name])
        return ""

    def _panel(self, node: Node, alert: str) -> str:
        body = node.find("ac:rich-text-body")
        if body is None:
            return ""
        title = ""
        for p in node.find_all("ac:parameter"):
            if p.attr("ac:name") == "title":
                if p.elements():
                    return ""
                title = " " + self.inline(p.children, at_start=False).strip()
        if any(
            c.kind == "el" and c.lname not in ("ac:parameter", "ac:rich-text-body")
            for c in node.children
        ):
            return ""
        inner = self.container(body.children)
        head = f"> [!{alert}]{title.rstrip()}"
        if not inner.strip():
            return head
        return head + _alert_gap(inner) + _prefix_lines(inner, "> ")

    def _adf(self, node: Node) -> str:
        adf = node.find("ac:adf-node")
        if adf is None or adf.attr("type") != "panel":
            return ""
        kind = None
        content = None
        for c in adf.children:
            if c.kind == "el" and c.lname == "ac:adf-attribute":
                if c.attr("key") == "panel-type":
                    kind = xmltree.text_content(self.src, c)
                else:
                    return ""
            elif c.kind == "el" and c.lname == "ac:adf-content":
                content = c
            elif not self._is_blank(c):
                return ""
        if kind != "note" or content is None:
            return ""
        inner = self.container(content.children)
        head = f"> [!{ADF_NOTE_ALERT}]"
        return head + (_alert_gap(inner) + _prefix_lines(inner, "> ") if inner.strip() else "")

    # --------------------------------------------------------------- inline
    def inline(
        self,
        nodes: list[Node],
        *,
        at_start: bool = False,
        in_table: bool = False,
        breaks: bool = False,
    ) -> str:
        """Inline Markdown of ``nodes``.

        With ``breaks`` (paragraph text), a line break in the storage text stays a line
        break (a Markdown soft break), so a paragraph the user wrapped reads back as they
        wrote it.  Breaks are kept only in the paragraph's own text, never inside markup,
        and only when the result is still one paragraph; otherwise lines are joined.
        """
        mark = len(self._runs)
        text = self._inline(nodes, at_start, in_table, breaks and not in_table)
        if breaks and "\n" in text and not _one_paragraph(text):
            del self._runs[mark:]
            text = self._inline(nodes, at_start, in_table, False)
        return text

    def _inline(self, nodes: list[Node], at_start: bool, in_table: bool, breaks: bool) -> str:
        out: list[str] = []
        state = {"start": at_start, "breaks": False, "after_el": False, "before_el": False}
        last = len(nodes) - 1
        for i, node in enumerate(nodes):
            text = node.kind == "text"
            state["breaks"] = breaks and text
            # Whether markup is rendered right before / after this text (no line end there).
            state["after_el"] = text and i > 0 and nodes[i - 1].kind == "el"
            state["before_el"] = text and i < last and nodes[i + 1].kind == "el"
            out.append(self._inline_node(node, state, in_table))
        state["after_el"] = state["before_el"] = False
        text = "".join(out)
        return text.strip(" \t\n")

    def _inline_node(self, node: Node, state: dict, in_table: bool) -> str:
        src = self.src
        if node.kind == "text":
            return self._text(node.start, node.end, state, in_table)
        if node.kind == "cdata":
            state["start"] = False
            return self._span_marker(node, xmltree.cdata_text(src, node))
        if node.kind != "el":
            state["start"] = False
            raw = src[node.start : node.end]
            if node.kind == "comment" and _plain_comment(raw):
                return raw
            return self._span_marker(node, "")
        name = node.lname
        if name == "br":
            state["start"] = False
            return src[node.start : node.end]
        if name in STRONG or name in EMPH or name in STRIKE:
            delim = "**" if name in STRONG else ("*" if name in EMPH else "~~")
            if node.attrs:
                return self._verbatim_inline(node, state, in_table)
            inner = "".join(self._inline_node(c, state, in_table) for c in node.children)
            core = inner.strip(" ")
            if not core or core != inner or "\n" in inner:
                return self._verbatim_inline(node, state, in_table, inner)
            return delim + inner + delim
        if name == "code" and not node.attrs and all(c.kind == "text" for c in node.children):
            state["start"] = False
            text = html.unescape("".join(src[c.start : c.end] for c in node.children))
            if not text or "\n" in text or (text.strip() != text and text.strip() == ""):
                return self._span_marker(node, text)
            ticks = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
            pad = (
                " "
                if text.startswith("`")
                or text.endswith("`")
                or (text[0] == " " and text[-1] == " ")
                else ""
            )
            if pad == " " and text.startswith(" ") and text.endswith(" "):
                return self._span_marker(node, text)
            if in_table:
                text = text.replace("|", "\\|")  # GFM splits cells before code spans
            return ticks + pad + text + pad + ticks
        if (name in VERBATIM_INLINE and name != "span") or (
            name == "span" and not node.attr("data-cf")
        ):
            return self._verbatim_inline(node, state, in_table)
        if (
            name == "a"
            and not xmltree.text_content(src, node).strip()
            and not any(c.kind == "el" for c in node.iter() if c is not node)
        ):
            return self._verbatim_inline(node, state, in_table)
        card = name == "a" and set(node.attrs) - {"href", "title"} <= CARD_ATTRS
        if name == "a" and node.attr("href") and (set(node.attrs) <= {"href", "title"} or card):
            label = "".join(self._inline_node(c, state, in_table) for c in node.children)
            if card and not node.attr("title") and not node.elements():
                # A smart link (inline / block card) reads as a plain link; the card
                # goes back from the pulled body.
                text = re.sub(r"\s+", " ", xmltree.text_content(src, node))
                self.reuse.setdefault(("link", text, node.attr("href")), src[node.start : node.end])
            href = node.attr("href")
            if not label.strip() or "\n" in label or "]" in label.replace("\\]", ""):
                return self._span_marker(node, xmltree.text_content(src, node))
            title = node.attr("title")
            dest = _link_dest(href)
            if dest is None:
                return self._span_marker(node, xmltree.text_content(src, node))
            suffix = f' "{_escape_title(title)}"' if title else ""
            return f"[{label}]({dest}{suffix})"
        if name == "ac:link":
            return self._ac_link(node, state, in_table)
        if name in ("ac:structured-macro", "ac:macro"):
            readable = self._readable_macro(node, state)
            if readable is not None:
                return readable
        if name == "time":
            readable = self._time(node, state)
            if readable is not None:
                return readable
        if name == "ac:emoticon":
            state["start"] = False
            return self._span_marker(node, labels.emoticon_label(node))
        if name == "ac:structured-macro" and node.attr("ac:name") == "status":
            status = self._status(node, state, in_table)
            if status is not None:
                return status
        if name == "ac:image":
            return self._ac_image(node, state)
        if ":" not in name and name not in ("a", "code"):
            return self._verbatim_inline(node, state, in_table)
        if name == "ac:inline-comment-marker" and set(node.attrs) == {"ac:ref"}:
            ref = node.attr("ac:ref")
            if re.fullmatch(r"[A-Za-z0-9_.:-]+", ref):
                inner = "".join(self._inline_node(c, state, in_table) for c in node.children)
                return f"<!--cm:{ref}-->{inner}<!--/cm-->"
        state["start"] = False
        return self._span_marker(node, _label(src, node))

    def _verbatim_inline(
        self, node: Node, state: dict, in_table: bool, inner: str | None = None
    ) -> str:
        src = self.src
        open_tag = src[node.start : node.open_end]
        if "\n" in open_tag or (in_table and "|" in open_tag) or not _HTML_OPEN.fullmatch(open_tag):
            state["start"] = False
            return self._span_marker(node, _label(src, node))
        if node.open_end == node.end:
            state["start"] = False
            return open_tag
        close = src[node.close_start : node.end]
        state["start"] = False
        if inner is None:
            inner = "".join(self._inline_node(c, state, in_table) for c in node.children)
        return open_tag + inner + close

    def _readable_macro(self, node: Node, state: dict) -> str | None:
        """Inline macros with a Markdown form: an anchor as ``<a name="x"></a>``, a Jira
        issue as a link to it (or its key).  The macro itself goes back from the body."""
        macro = node.attr("ac:name")
        params = labels.macro_params(self.src, node)
        raw = self.src[node.start : node.end]
        if macro == "anchor" and set(params) <= {""} and _ANCHOR_NAME.fullmatch(params.get("", "")):
            name = params[""]
            state["start"] = False
            self.reuse.setdefault(("anchor", name), raw)
            return f'<a name="{name}"></a>'
        if macro in ("jira", "jiraissues") and params.get("key") and not params.get("jqlQuery"):
            key = params["key"]
            if not re.fullmatch(r"[A-Z][A-Z0-9_]*-\d+", key):
                return None
            state["start"] = False
            base = _ask(
                self.resolver, "jira_url", params.get("server", ""), params.get("serverId", "")
            )
            if base and _link_dest(base) == base:
                url = base.rstrip("/") + "/browse/" + key
                self.reuse.setdefault(("link", key, url), raw)
                return f"[{key}]({url})"
            return self._span_marker(node, key)
        return None

    def _time(self, node: Node, state: dict) -> str | None:
        """A date: ``<time datetime="2026-10-06">2026-10-06</time>`` (the text is the date)."""
        when = node.attr("datetime")
        if set(node.attrs) != {"datetime"} or node.children or not _ISO_DATE.fullmatch(when):
            return None
        state["start"] = False
        self.reuse.setdefault(("time", when), self.src[node.start : node.end])
        return f'<time datetime="{when}">{when}</time>'

    def _status(self, node: Node, state: dict, in_table: bool) -> str | None:
        """Status lozenge as ``<span data-status="Colour">TITLE</span>``."""
        params: dict[str, Node] = {}
        for c in node.children:
            if self._is_blank(c):
                continue
            if c.kind != "el" or c.lname != "ac:parameter" or c.elements():
                return None
            params[c.attr("ac:name")] = c
        if set(params) - {"colour", "title", "subtle"}:
            return None
        colour = xmltree.text_content(self.src, params["colour"]) if "colour" in params else ""
        subtle = xmltree.text_content(self.src, params["subtle"]) if "subtle" in params else ""
        if not re.fullmatch(r"[A-Za-z]*", colour) or subtle not in ("", "true", "false"):
            return None
        if "subtle" in params and not subtle:
            return None
        state["start"] = False
        title = ""
        if "title" in params:
            title = "".join(
                self._text(c.start, c.end, state, in_table) if c.kind == "text" else ""
                for c in params["title"].children
            )
            if "\n" in title:
                return None
        attrs = f' data-status="{colour}"' if "colour" in params else " data-status"
        if subtle:
            attrs += f' data-subtle="{subtle}"'
        return f"<span{attrs}>{title}</span>"

    def _span_marker(self, node: Node, label: str) -> str:
        raw = self.src[node.start : node.end]
        key = fragment_key(raw)
        self.fragments.setdefault(key, raw)
        return f'<span data-cf="{key}">{_escape_label(label)}</span>'

    def _ac_link(self, node: Node, state: dict, in_table: bool) -> str:
        src = self.src
        res = [c for c in node.children if c.kind == "el" and c.lname.startswith("ri:")]
        bodies = [c for c in node.children if c.kind == "el" and not c.lname.startswith("ri:")]
        allowed = {"ac:anchor", "ac:card-appearance", "ac:local-id"}
        if set(node.attrs) - allowed or len(res) > 1 or len(bodies) > 1:
            state["start"] = False
            return self._span_marker(node, _label(src, node))
        anchor = node.attr("ac:anchor")
        target = None
        default_label = anchor
        if not res:
            if not anchor:
                state["start"] = False
                return self._span_marker(node, _label(src, node))
            target = ""
        else:
            ri = res[0]
            if (
                ri.lname == "ri:page"
                and set(ri.attrs) <= {"ri:content-title", "ri:space-key", "ri:version-at-save"}
                and not ri.children
            ):
                title = ri.attr("ri:content-title")
                space = ri.attr("ri:space-key") or None
                path = self.resolver.page_path(title, space)
                target = (
                    path
                    if path
                    else "ac:" + (f"{space or ''}:" if space or ":" in title else "") + title
                )
                default_label = title
            elif (
                ri.lname == "ri:attachment"
                and set(ri.attrs) <= {"ri:filename", "ri:version-at-save"}
                and not ri.children
            ):
                fname = ri.attr("ri:filename")
                path = self.resolver.attachment_path(fname)
                target = path
                default_label = fname
            elif (
                ri.lname == "ri:user"
                and len(set(ri.attrs) & set(USER_ATTRS)) == 1
                and set(ri.attrs) <= {*USER_ATTRS, "ri:local-id"}
                and not ri.children
                and not anchor
            ):
                kind_attr = next(a for a in ri.attrs if a in USER_ATTRS)
                value = ri.attrs[kind_attr]
                prefix = USER_ATTRS[kind_attr]
                if re.fullmatch(r"[^\s<>()\\#]+", value):
                    target = "confluence-user:" + prefix + value
                    default_label = mention_label(self.resolver, kind_attr, value)
                    anchor = ""
        if target is None:
            state["start"] = False
            return self._span_marker(node, _label(src, node))
        dest = _link_dest(
            target
            + (
                "#" + anchor
                if anchor and target is not None and res
                else ("#" + anchor if not res else "")
            )
        )
        if dest is None:
            state["start"] = False
            return self._span_marker(node, _label(src, node))
        if bodies:
            body = bodies[0]
            if body.lname == "ac:plain-text-link-body":
                cd = [c for c in body.children if c.kind == "cdata"]
                if len(cd) != 1 or len(body.children) != 1:
                    state["start"] = False
                    return self._span_marker(node, _label(src, node))
                text = xmltree.cdata_text(src, cd[0])
                label = _escape_inline_text(text)
                kind = "plain"
            elif body.lname == "ac:link-body":
                label = "".join(self._inline_node(c, state, in_table) for c in body.children)
                kind = "rich"
            else:
                state["start"] = False
                return self._span_marker(node, _label(src, node))
        else:
            label = ""
            kind = "none"
        state["start"] = False
        if kind == "none" and default_label:
            label = _escape_inline_text(default_label)
        if not label.strip() or "\n" in label:
            return self._span_marker(node, _label(src, node))
        href = dest[1:-1] if dest.startswith("<") else dest
        if kind != "rich":
            plain_label = default_label if kind == "none" else text
            self.reuse.setdefault(
                ("link", re.sub(r"\s+", " ", plain_label), href), src[node.start : node.end]
            )
        elif not bodies[0].elements():
            # A rich body of plain text (smart links): the Markdown link text is that text.
            plain_label = re.sub(r"\s+", " ", xmltree.text_content(src, bodies[0])).strip()
            shown = label.replace(RUN_OPEN, "").replace(RUN_CLOSE, "")
            if shown == _escape_inline_text(plain_label):
                self.reuse.setdefault(("link", plain_label, href), src[node.start : node.end])
        return f"[{label}]({dest})"

    def _ac_image(self, node: Node, state: dict) -> str:
        """``![alt](path "title")``; a caption shows as the title when there is none."""
        src = self.src
        state["start"] = False
        res, captions = [], []
        for c in node.children:
            if self._is_blank(c):
                continue
            if c.kind == "el" and c.lname.startswith("ri:"):
                res.append(c)
            elif c.kind == "el" and c.lname == "ac:caption":
                captions.append(c)
            elif not (c.kind == "el" and c.lname == "ac:adf-mark"):
                return self._span_marker(node, _label(src, node))
        if len(res) != 1 or len(captions) > 1:
            return self._span_marker(node, _label(src, node))
        ri = res[0]
        if ri.lname == "ri:attachment" and not ri.children:
            path = self.resolver.attachment_path(ri.attr("ri:filename"))
        elif ri.lname == "ri:url" and not ri.children:
            path = ri.attr("ri:value")
        else:
            path = None
        dest = _link_dest(path) if path else None
        if dest is None:
            return self._span_marker(node, _label(src, node))
        alt = node.attr("ac:alt")
        title = node.attr("ac:title")
        if captions:
            caption = re.sub(r"\s+", " ", xmltree.text_content(src, captions[0])).strip()
            if title and caption:
                return self._span_marker(node, _label(src, node))
            title = title or caption
        suffix = f' "{_escape_title(title)}"' if title else ""
        self.reuse.setdefault(
            ("img", re.sub(r"\s+", " ", alt), path, title), src[node.start : node.end]
        )
        # An edited alt or caption keeps the rest of the image (see fresh.restyled_image).
        self.reuse.setdefault(("img-src", path), src[node.start : node.end])
        return f"![{_escape_inline_text(alt)}]({dest}{suffix})"

    def _text(self, start: int, end: int, state: dict, in_table: bool) -> str:
        raw = self.src[start:end]
        decoded = html.unescape(raw)
        forced: set[int] = set()
        if state["start"]:
            stripped = decoded.lstrip()
            if stripped:
                _escape_line_start(stripped, len(decoded) - len(stripped), forced)
                state["start"] = False
        breaks = state.get("breaks", False)
        out: list[str] = []
        run: list[str] = []
        run_start = -1
        pos_decoded = 0
        safe = self._sentinel_safe

        def flush() -> None:
            nonlocal run_start
            if run:
                # A run never ends with a space: trailing spaces may be trimmed later.
                text = "".join(run)
                body = text.rstrip(" ")
                if body:
                    self._runs.append((run_start, "text"))
                    out.append(RUN_OPEN + body + RUN_CLOSE)
                out.append(text[len(body) :])
                run.clear()
            run_start = -1

        for m in _ENTITY_OR_WS.finditer(raw):
            tok = m.group(0)
            if m.lastindex:
                # Plain words: themselves, unless a character must be escaped at a line
                # start (then one character at a time, as below).
                n = len(tok)
                if forced and any(pos_decoded <= f < pos_decoded + n for f in forced):
                    for k, ch in enumerate(tok):
                        if pos_decoded + k in forced:
                            flush()
                            out.append("\\" + ch)
                        elif safe and (run or ch != " "):
                            if not run:
                                run_start = start + m.start() + k
                            run.append(ch)
                        else:
                            flush()
                            out.append(ch)
                    pos_decoded += n
                    continue
                piece, identity = tok, True
                pos_decoded += n
            elif tok[0] == "&" and len(tok) > 1:
                ch = html.unescape(tok)
                if ch == tok:
                    piece, identity = _escape_char(tok[0], decoded, pos_decoded, in_table), False
                    ch = "&"
                    if len(tok) > 1:
                        piece += _escape_text(tok[1:], in_table)
                    ch = tok
                elif _INVISIBLE.fullmatch(ch) or len(ch) != 1:
                    piece = (
                        tok
                        if tok.endswith(";")
                        else f"&#x{ord(ch[0]):x};"
                        if len(ch) == 1
                        else tok + ";"
                    )
                    identity = False
                else:
                    piece, identity = _escape_char(ch, decoded, pos_decoded, in_table), False
                    if pos_decoded in forced and piece == ch:
                        piece = "\\" + ch
                pos_decoded += len(ch)
            elif tok == NBSP:
                # Kept as typed between two words; as &nbsp; where Markdown would drop
                # it (the ends of a line or of a paragraph) or read it as a gap.
                before = decoded[pos_decoded - 1] if pos_decoded else None
                after = decoded[pos_decoded + 1] if pos_decoded + 1 < len(decoded) else None
                if (not before.isspace() if before else state.get("after_el")) and (
                    not after.isspace() if after else state.get("before_el")
                ):
                    piece, identity = tok, True
                else:
                    piece, identity = "&nbsp;", False
                pos_decoded += 1
            elif tok.isspace():
                pos_decoded += len(tok)
                if breaks and ("\n" in tok or "\r" in tok):
                    # A soft break: the next line must not start a block.
                    piece, identity = "\n", False
                    rest = decoded[pos_decoded:]
                    if rest:
                        _escape_line_start(rest.split("\n", 1)[0], pos_decoded, forced)
                    else:
                        state["start"] = True
                else:
                    piece = " "
                    identity = tok == " " and bool(run)
            else:
                piece = _escape_char(tok, decoded, pos_decoded, in_table)
                if pos_decoded in forced and piece == tok:
                    piece = "\\" + tok
                identity = piece == tok
                pos_decoded += len(tok)
            if identity and safe:
                if not run:
                    run_start = start + m.start()
                run.append(piece)
            else:
                flush()
                out.append(piece)
        flush()
        return "".join(out)


CARD_ATTRS = frozenset({"data-card-appearance", "local-id", "data-local-id"})
_ANCHOR_NAME = re.compile(r"[^\s\"'<>&]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


USER_KINDS = {"ri:account-id": "account-id", "ri:userkey": "userkey", "ri:username": "username"}


def mention_label(resolver, attr: str, value: str) -> str:
    """``@Display Name`` from the resolver; else a short form that tells users apart."""
    kind = USER_KINDS.get(attr, attr)
    name = _ask(resolver, "user_name", kind, value)
    if name and name.strip():
        return "@" + re.sub(r"\s+", " ", name).strip()
    return fallback_mention(kind, value)


def fallback_mention(kind: str, value: str) -> str:
    if kind == "username":
        return "@" + value
    tail = value.rsplit(":", 1)[-1]
    return "@user-" + re.sub(r"[^A-Za-z0-9]", "", tail)[:6]


def _ask(resolver, method: str, *args):
    """Optional resolver capabilities (user names, Jira servers): None when not offered."""
    fn = getattr(resolver, method, None)
    return fn(*args) if fn is not None else None


_HTML_OPEN = re.compile(
    r"<[A-Za-z][A-Za-z0-9-]*(?:\s+[A-Za-z_:][A-Za-z0-9_.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*\s*/?>"
)


def _alert_gap(inner: str) -> str:
    """Separator after an alert's first line: a blank quote line when the body would
    otherwise continue that line (a setext underline or a table header)."""
    first = inner.split("\n", 1)[0]
    if re.fullmatch(r"(?:=+|-+|(?:[-*_] *){3,})\s*", first) or first.startswith("|"):
        return "\n>\n"
    return "\n"


def _escape_line_start(line: str, offset: int, forced: set[int]) -> None:
    """Positions (``offset`` + index in ``line``) whose character would start a block at
    the start of a line, and so must be escaped."""
    if _LINE_START_TRIGGER.match(line):
        forced.add(offset)
    m = _ORDERED_TRIGGER.match(line)
    if m:
        forced.add(offset + m.start(1))


def _one_paragraph(text: str) -> bool:
    """Whether inline Markdown with line breaks still reads as one paragraph."""
    plain = text.replace(RUN_OPEN, "").replace(RUN_CLOSE, "")
    if not _RISKY_LINE.search(plain):
        return True
    tokens = block_parser().parse(plain)
    return [t.type for t in tokens] == ["paragraph_open", "inline", "paragraph_close"]


def _interrupts_paragraph(kind: str, md: str) -> bool:
    """Whether this block may follow paragraph text on the next line (a tight list item)."""
    if kind in ("ul", "tasks", "blockquote", "macro:code", "macro:noformat", "pre"):
        return True
    if kind == "ol":
        return bool(re.match(r"1[.)] ", md))
    return bool(re.fullmatch(r"h[1-6]", kind)) or md.startswith(("> [!", "```", "~~~"))


def _bullet_of(md: str, kind: str) -> str:
    """The list marker a rendered list starts with ("" for anything but a list)."""
    if kind in ("ul", "tasks"):
        return md[:1]
    if kind == "ol":
        m = re.match(r"\d+([.)])", md)
        return m.group(1) if m else ""
    return ""


def _plain_comment(raw: str) -> bool:
    """A storage comment shown as itself: complete, one block, not one of our markers."""
    return (
        raw.endswith("-->")
        and not re.match(r"<!--\s*/?(?:cf|cm):", raw)
        and not _BLANK_LINE.search(raw)
        and "--" not in raw[4:-3]
        and RUN_OPEN not in raw
        and RUN_CLOSE not in raw
    )


def _same_family(kind: str) -> tuple[str, ...]:
    return ("ol",) if kind == "ol" else ("ul", "tasks")


def _strip_trailing_ws(md: str) -> str:
    return re.sub(r"[ \t]+(?=\n|$)", "", md)


def _prefix_lines(text: str, prefix: str) -> str:
    bare = prefix.rstrip()
    return "\n".join(prefix + line if line else bare for line in text.split("\n"))


def _list_item(marker: str, body: str) -> str:
    if not body:
        return marker
    indent = " " * (len(marker) + 1)
    lines = body.split("\n")
    first = lines[0]
    rest = [indent + line if line else "" for line in lines[1:]]
    return "\n".join([f"{marker} {first}", *rest])


def _fence(info: str, body_md: str, plain: str | None = None) -> str:
    plain = body_md if plain is None else plain
    longest = max((len(m) for m in re.findall(r"`{3,}", plain)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{body_md}\n{fence}" if plain else f"{fence}{info}\n{fence}"


def _quote_param(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_.:#/+-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _comment_safe(label: str) -> str:
    return labels.shorten(label.replace("--", "- -").replace(">", "&gt;"))


def _escape_label(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return (
        html.escape(text, quote=False)
        .replace("*", "&#42;")
        .replace("_", "&#95;")
        .replace("`", "&#96;")
        .replace("[", "&#91;")
        .replace("]", "&#93;")
        .replace("~", "&#126;")
        .replace("\\", "&#92;")
        .replace("|", "&#124;")
    )


def _label(src: str, node: Node) -> str:
    """The visible text of an inline element kept as a span marker (never empty)."""
    text = ""
    if node.kind == "el":
        name = node.lname
        if name == "ac:emoticon":
            return labels.emoticon_label(node)
        if name in ("ac:structured-macro", "ac:macro"):
            return labels.macro_label(src, node)
        if name == "time":
            return node.attr("datetime") or xmltree.text_content(src, node)
        if name in ("ac:link", "ac:image"):
            text = xmltree.text_content(src, node) if name == "ac:link" else node.attr("ac:alt")
            if text.strip():
                return text
            for c in node.iter():
                if c.kind == "el" and c.lname.startswith("ri:"):
                    if c.lname == "ri:user":
                        return "@" + (c.attr("ri:username") or "user")
                    return (
                        c.attr("ri:content-title")
                        or c.attr("ri:filename")
                        or c.attr("ri:value")
                        or c.attr("ri:space-key")
                        or c.lname[3:]
                    )
            return name[3:]
    text = xmltree.text_content(src, node)
    return text if text.strip() else (node.lname or node.kind)


def _escape_char(ch: str, decoded: str, i: int, in_table: bool) -> str:
    if ch in "\\`*[]":
        return "\\" + ch
    if ch == "_":
        before = decoded[i - 1] if i > 0 else " "
        after = decoded[i + 1] if i + 1 < len(decoded) else " "
        if before.isalnum() and after.isalnum():
            return ch
        return "\\_"
    if ch == "<":
        nxt = decoded[i + 1 : i + 2]
        if nxt and (nxt.isalpha() or nxt in "/!?"):
            return "\\<"
        return ch
    if ch == "~":
        return "\\~"
    if ch == "|" and in_table:
        return "\\|"
    if ch == "&":
        if re.match(r"&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);", decoded[i:]):
            return "\\&"
        return ch
    return ch


def _escape_text(text: str, in_table: bool = False) -> str:
    return "".join(_escape_char(c, text, i, in_table) for i, c in enumerate(text))


def _escape_inline_text(text: str) -> str:
    return _escape_text(re.sub(r"\s+", " ", text))


def _escape_title(title: str) -> str:
    return title.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _link_dest(target: str) -> str | None:
    if "\n" in target or "<" in target or ">" in target:
        return None
    if re.fullmatch(r"[^\s()\\]*", target) and target:
        return target
    if "\\" in target:
        return None
    return f"<{target}>"


def render(
    src: str, resolver: LinkResolver | None = None
) -> tuple[list[Unit], dict[str, str], dict[tuple, str]]:
    """Cut ``src`` into units and render each to Markdown."""
    root = xmltree.parse(src)
    r = Renderer(src, resolver)
    r.index(root)
    units = r.units(root)
    return units, r.fragments, r.reuse


def join_units(units: list[Unit]) -> str:
    md = "\n\n".join(u.md for u in units)
    return md + "\n" if md else ""
