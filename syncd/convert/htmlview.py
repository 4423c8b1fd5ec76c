"""Block XHTML that Markdown cannot hold (merged cells, block content in cells, wrappers),
shown as readable HTML: one table row per line, one cell per line, no storage XML.

Confluence elements inside become what a reader can follow: a link to a page, an attachment,
an anchor or a URL a clickable ``<a href>`` (the target its Markdown link would have), any
other leaf element (mention, image, status, emoticon, macro without body) a span marker with
its visible text; an element with editable content (task list, task, macro with a rich body) a pair of comment markers
around that content, which stays editable text.  Inline comments keep the ``<!--cm:REF-->``
form.  Text nodes are raw runs, so an edit of a cell's words is patched in place.
:func:`syncd.convert.fresh.html_with_markers` turns the markers back into storage.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from . import labels, xmltree
from .xmltree import Node

if TYPE_CHECKING:
    from .pull import Renderer

# Elements laid out one per line (their children on the following lines).
LINE_ELEMENTS = frozenset({"table", "thead", "tbody", "tfoot", "tr"})
# Block elements: whitespace next to them carries no meaning.
BLOCKISH = frozenset(
    """p div ul ol li table thead tbody tfoot tr td th colgroup col h1 h2 h3 h4 h5 h6 pre
    blockquote hr ac:task-list ac:task ac:structured-macro ac:macro ac:rich-text-body
    ac:layout ac:layout-section ac:layout-cell""".split()
)
LONG_LINE = 160
_SILENT = frozenset({"ac:adf-fragment-mark", "ac:placeholder", "ac:adf-mark"})
_VOLATILE = re.compile(
    r'\s(?:ac:macro-id|ac:local-id|local-id|ri:version-at-save|data-local-id)="[^"]*"'
)


class HtmlView:
    def __init__(self, renderer: Renderer) -> None:
        self.r = renderer
        self.src = renderer.src

    def render(self, node: Node) -> str:
        if node.kind == "el" and self._laid_out(node):
            return self._lines(node)
        return self.inline(node)

    def _lines(self, node: Node) -> str:
        """The element's tags on their own lines, its block children on the lines between
        (runs of inline children stay together on one line)."""
        src = self.src
        container = self._container(node) if ":" in node.lname else None
        if container is not None:
            inner, open_label, close_label = container
            head = self.r._marker(node.start, inner.open_end, open_label)
            tail = self.r._marker(inner.close_start, node.end, close_label)
            kids = inner.children
        else:
            head = _open_tag(src, node)
            if node.open_end == node.end:
                return head
            tail = src[node.close_start : node.end]
            kids = node.children
        parts = [head]
        group: list[Node] = []

        def flush() -> None:
            while group and self.r._is_blank(group[-1]):
                group.pop()
            if group:
                parts.append(self._run_of(group))
            group.clear()

        for c in kids:
            if _blockish(c):
                flush()
                parts.append(self.render(c))
            elif group or not self.r._is_blank(c):
                group.append(c)
        flush()
        if tail:
            parts.append(tail)
        return "\n".join(parts)

    def _run_of(self, nodes: list[Node]) -> str:
        return "".join(" " if self.r._is_blank(c) else self.inline(c) for c in nodes)

    def _block_or_line(self, node: Node) -> str:
        """An element with block children on one line, or laid out when that line is long."""
        # Judged on the source length, so that nothing is rendered twice.
        size = node.end - node.start
        if size > LONG_LINE:
            size = len(_VOLATILE.sub("", self.src[node.start : node.end]))  # blind to ids
        if size <= LONG_LINE or not any(_blockish(c) for c in node.children):
            return self._inline_el(node)
        return self._lines(node)

    def _laid_out(self, node: Node) -> bool:
        if node.lname in LINE_ELEMENTS:
            return True
        # A wrapper around a table (Confluence's "content-wrapper" divs).
        return node.lname == "div" and any(
            c.kind == "el" and c.lname == "table" for c in node.children
        )

    def inline(self, node: Node) -> str:
        src = self.src
        r = self.r
        if node.kind == "text":
            return r._raw_run(node.start, node.end)
        if node.kind == "comment":
            raw = src[node.start : node.end]
            from .pull import _plain_comment

            return raw if _plain_comment(raw) else r._span_marker(node, "comment")
        if node.kind != "el":
            return r._span_marker(node, xmltree.text_content(src, node) or node.kind)
        name = node.lname
        if name == "ac:inline-comment-marker" and set(node.attrs) == {"ac:ref"}:
            ref = node.attr("ac:ref")
            if re.fullmatch(r"[A-Za-z0-9_.:-]+", ref):
                return f"<!--cm:{ref}-->" + self._children(node) + "<!--/cm-->"
        if ":" not in name:
            if self._laid_out(node):
                return self.render(node)
            return self._block_or_line(node)
        code = self._code(node)
        if code is not None:
            return code
        if self._container(node) is not None:
            if name == "ac:task-list":
                return self._task_lines(node)
            return self._block_or_line(node)
        from .pull import _label

        if name == "ac:link":
            link = self._link(node)
            if link is not None:
                return link
        user = node.find("ri:user") if name == "ac:link" else None
        if user is not None and len(node.elements()) == 1:
            from .pull import USER_KINDS, mention_label

            kind = next((a for a in user.attrs if a in USER_KINDS), None)
            if kind is not None:
                return r._span_marker(node, mention_label(r.resolver, kind, user.attrs[kind]))
        if not xmltree.text_content(src, node).strip() and name in _SILENT:
            # Nothing a reader sees (ADF fragment marks, placeholders): a comment marker.
            return r._marker(node.start, node.end, name.split(":", 1)[-1])
        return r._span_marker(node, _label(src, node))

    def _link(self, node: Node) -> str | None:
        """A link to a page, an attachment, an anchor or a URL as ``<a href="target">text</a>``,
        the target as its Markdown link has it (a path relative to this file, or
        ``ac:Title`` for a page not synced).  Its storage is kept for the push under the
        key a Markdown link uses, so an unedited link goes back as it was; None leaves the
        link to a span marker (mentions, links with other attributes or resources)."""
        src = self.src
        if set(node.attrs) - {"ac:anchor", "ac:local-id"}:
            return None
        res = [c for c in node.elements() if c.lname.startswith("ri:")]
        bodies = [c for c in node.elements() if not c.lname.startswith("ri:")]
        if len(res) > 1 or len(bodies) > 1:
            return None
        anchor = node.attr("ac:anchor")
        if not res:
            if not anchor:
                return None
            target, label = "", anchor
        else:
            ri = res[0]
            if ri.children:
                return None
            if ri.lname == "ri:page" and set(ri.attrs) <= _PAGE_ATTRS:
                title = ri.attr("ri:content-title")
                space = ri.attr("ri:space-key") or None
                if not title:
                    return None
                path = self.r.resolver.page_path(title, space)
                prefix = f"{space or ''}:" if space or ":" in title else ""
                target, label = path or f"ac:{prefix}{title}", title
            elif ri.lname == "ri:attachment" and set(ri.attrs) <= _ATTACHMENT_ATTRS:
                label = ri.attr("ri:filename")
                path = self.r.resolver.attachment_path(label) if label else None
                if path is None:
                    return None
                target = path
            elif ri.lname == "ri:url" and set(ri.attrs) == {"ri:value"} and not anchor:
                target = label = ri.attr("ri:value")
                if not re.match(r"(?:https?|mailto|ftp):[^\s]+\Z", target):
                    return None
            else:
                return None
        href = target + ("#" + anchor if anchor else "")
        if not href or "\n" in href:
            return None
        raw = src[node.start : node.end]
        if bodies:
            body = bodies[0]
            if body.lname == "ac:plain-text-link-body":
                if len(body.children) != 1 or body.children[0].kind != "cdata":
                    return None
                label = xmltree.cdata_text(src, body.children[0])
            elif body.lname == "ac:link-body" and body.close_start != body.end:
                mark = len(self.r._runs)
                inner = self._children(body)
                if "\n" in inner or "<a " in inner or not inner.strip():
                    del self.r._runs[mark:]  # the span marker stands for it all
                    return None
                if not body.elements():
                    plain = " ".join(xmltree.text_content(src, body).split())
                    self.r.reuse.setdefault(("link", plain, href), raw)
                return self._kept(f'<a href="{_attr(href)}">{inner}</a>', raw)
            else:
                return None
        if not label.strip() or "\n" in label:
            return None
        self.r.reuse.setdefault(("link", " ".join(label.split()), href), raw)
        return self._kept(f'<a href="{_attr(href)}">{html.escape(label, quote=False)}</a>', raw)

    def _kept(self, anchor: str, raw: str) -> str:
        """`anchor`, with the storage it stands for kept under its exact text: a push that
        changes only links of the block replaces just those (see push._html_link_patch)."""
        from .pull import RUN_CLOSE, RUN_OPEN, fragment_key

        shown = anchor.replace(RUN_OPEN, "").replace(RUN_CLOSE, "")
        self.r.reuse.setdefault(("html-link", shown), raw)
        # What the span marker an older syncd showed for the link stands for now.
        self.r.reuse.setdefault(("html-link-key", fragment_key(raw)), shown)
        return anchor

    def _code(self, node: Node) -> str | None:
        """A code macro in a cell: ``<pre><code>`` with its text between two markers (the
        macro up to its CDATA, and after), so the code is read and edited in place."""
        if node.lname not in ("ac:structured-macro", "ac:macro"):
            return None
        if node.attr("ac:name") not in ("code", "noformat"):
            return None
        body = node.find("ac:plain-text-body")
        if body is None or len(body.children) != 1 or body.children[0].kind != "cdata":
            return None
        cdata = body.children[0]
        if not self.src.endswith("]]>", cdata.start, cdata.end):
            return None
        text_start, text_end = cdata.start + 9, cdata.end - 3
        if "]]>" in self.src[text_start:text_end] or "</code>" in self.src[text_start:text_end]:
            return None
        params = labels.macro_params(self.src, node)
        label = "code " + params.get("language", "") if params.get("language") else "code"
        return (
            self.r._marker(node.start, text_start, label)
            + "<pre><code>"
            + self.r._raw_run(text_start, text_end)
            + "</code></pre>"
            + self.r._marker(text_end, node.end, "/code")
        )

    def _inline_el(self, node: Node) -> str:
        src = self.src
        if ":" not in node.lname:
            if node.open_end == node.end:
                return _open_tag(src, node)
            return _open_tag(src, node) + self._children(node) + src[node.close_start : node.end]
        inner, open_label, close_label = self._container(node)
        return (
            self.r._marker(node.start, inner.open_end, open_label)
            + self._children(inner)
            + self.r._marker(inner.close_start, node.end, close_label)
        )

    def _task_lines(self, node: Node) -> str:
        """A task list: its markers on their own lines, one task per line."""
        r = self.r
        tasks = [c for c in node.children if not r._is_blank(c)]
        if not tasks:
            return self._inline_el(node)
        lines = [r._marker(node.start, tasks[0].start, "task list")]
        for i, task in enumerate(tasks):
            lines.append(self.inline(task))
            if i + 1 < len(tasks) and self.src[task.end : tasks[i + 1].start].strip():
                return self._inline_el(node)
        lines.append(r._marker(tasks[-1].end, node.end, "/task list"))
        return "\n".join(lines)

    def _children(self, node: Node) -> str:
        out: list[str] = []
        kids = node.children
        for i, c in enumerate(kids):
            if r_blank := self.r._is_blank(c):
                before = kids[i - 1] if i else None
                after = kids[i + 1] if i + 1 < len(kids) else None
                if _blockish(before) or _blockish(after) or before is None or after is None:
                    continue
            out.append(" " if r_blank else self.inline(c))
        return "".join(out)

    def _container(self, node: Node) -> tuple[Node, str, str] | None:
        """(element holding the editable content, open label, close label)."""
        name = node.lname
        if name == "ac:task-list" and node.close_start != node.end:
            return node, "task list", "/task list"
        if name == "ac:task":
            body = node.find("ac:task-body")
            status = node.find("ac:task-status")
            if body is None or body.close_start == body.end:
                return None
            if any(c.is_after(body) for c in node.elements() if c is not body):
                return None
            done = (
                status is not None and "complete" == xmltree.text_content(self.src, status).strip()
            )
            return body, "[x]" if done else "[ ]", "/task"
        if name in ("ac:structured-macro", "ac:macro"):
            body = node.find("ac:rich-text-body")
            if body is None or body.close_start == body.end:
                return None
            others = [c for c in node.elements() if c is not body and c.lname != "ac:parameter"]
            if others or any(c.is_after(body) for c in node.find_all("ac:parameter")):
                return None
            macro = node.attr("ac:name") or "macro"
            return (
                body,
                labels.macro_label(self.src, node),
                "/" + labels.MACRO_NAMES.get(macro, macro),
            )
        return None


_PAGE_ATTRS = frozenset({"ri:content-title", "ri:space-key", "ri:version-at-save"})
_ATTACHMENT_ATTRS = frozenset({"ri:filename", "ri:version-at-save"})


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


def _blockish(node: Node | None) -> bool:
    return node is not None and node.kind == "el" and node.lname in BLOCKISH


def _open_tag(src: str, node: Node) -> str:
    return _VOLATILE.sub("", src[node.start : node.open_end])
