"""Markdown -> storage for blocks that have no original fragment (new blocks, new pages).

The output is the plain storage Confluence itself writes for the same constructs, and it is
the exact inverse of the projection in :mod:`syncd.convert.pull` (a round trip is stable).
Markers of preserved content (``<!--cf:KEY ...-->``, ``<span data-cf="KEY">``) are replaced
by their fragments; an unknown key is refused rather than dropped.
"""

from __future__ import annotations

import html
import re

from markdown_it.tree import SyntaxTreeNode

from . import xmltree
from .chunks import md_parser
from .model import ConversionRefused, DefaultResolver, LinkResolver
from .pull import ADF_NOTE_ALERT, ALERT_TO_PANEL, mention_label

_MARKERS = re.compile(r"\s*(?:<!--cf:([0-9a-f]{8})\b[^>]*?-->\s*)+")
_MARKER = re.compile(r"<!--cf:([0-9a-f]{8})\b.*?-->", re.S)
_DETAILS_OPEN = re.compile(r"\s*<details(?:\s[^>]*)?>\s*<summary>(.*?)</summary>\s*", re.S)
_DETAILS_CLOSE = re.compile(r"\s*</details>\s*")
_SPAN_STATUS = re.compile(r'<span data-status(?:="([A-Za-z]*)")?(?: data-subtle="(true|false)")?>')
_SPAN_CF = re.compile(r'<span data-cf="([0-9a-f]{8})">')
_CM_OPEN = re.compile(r"<!--cm:([A-Za-z0-9_.:-]+)-->")
_CM_CLOSE = "<!--/cm-->"
_HTML_CODE = re.compile(
    r"<!--cf:([0-9a-f]{8})\b[^>]*?--><pre><code>(.*?)</code></pre><!--cf:([0-9a-f]{8})\b[^>]*?-->",
    re.S,
)
# Markers inside an HTML block (see htmlview): span and comment markers, inline comments.
_HTML_MARKER = re.compile(
    r'<span data-cf="([0-9a-f]{8})">[^<]*</span>|<!--cf:([0-9a-f]{8})\b.*?-->'
    r"|<!--cm:([A-Za-z0-9_.:-]+)-->|<!--/cm-->",
    re.S,
)
# A link as an HTML block shows it (see htmlview): only this exact form is read as a link.
_HTML_LINK = re.compile(r'<a href="([^"<>]*)">((?:(?!<a[\s>]|</a>).)*)</a>', re.S)
_A_NAME = re.compile(r'<a name="([^\s"\'<>&]+)">')
_TIME = re.compile(r'<time datetime="([^"]*)">')
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ALERT = re.compile(r"\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\][ \t]*(.*)")
_TASK = re.compile(r"\[([ xX])\](?:[ \t]+|$)")
_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*|)=("(?:[^"\\]|\\.)*"|[^\s"]*)')


def escape_text(text: str) -> str:
    return html.escape(text, quote=False).replace("\u00a0", "&nbsp;")


def escape_attr(text: str) -> str:
    return html.escape(text, quote=True).replace("\u00a0", "&nbsp;")


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _plain_text(node: SyntaxTreeNode) -> str:
    """Text of inline tokens without their markup (an image's alt text)."""
    parts = []
    for c in node.children:
        if c.type in ("text", "code_inline"):
            parts.append(c.content)
        elif c.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif c.children:
            parts.append(_plain_text(c))
    return "".join(parts)


def _status_macro(colour: str | None, subtle: str | None, title: str) -> str:
    params = ""
    if colour is not None:
        params += f'<ac:parameter ac:name="colour">{escape_text(colour)}</ac:parameter>'
    if title:
        params += f'<ac:parameter ac:name="title">{escape_text(title)}</ac:parameter>'
    if subtle:
        params += f'<ac:parameter ac:name="subtle">{subtle}</ac:parameter>'
    return f'<ac:structured-macro ac:name="status" ac:schema-version="1">{params}</ac:structured-macro>'


_TAG = re.compile(
    r"<([A-Za-z][A-Za-z0-9:-]*)((?:\s+[^\s/>=]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*(/?)>"
)
_BARE_AMP = re.compile(r"&(?!#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")


def xhtml(content: str) -> str:
    """HTML typed in Markdown made well-formed: quoted attributes, closed void elements,
    escaped bare ampersands.  Comments and CDATA pass through."""
    out = []
    pos = 0
    for m in re.finditer(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<[^<>]*>", content, re.S):
        out.append(_BARE_AMP.sub("&amp;", content[pos : m.start()]))
        tag = m.group(0)
        t = _TAG.fullmatch(tag)
        if t:
            name, attrs, slash = t.groups()
            parsed = xmltree.parse_attrs(attrs)
            rebuilt = "".join(f' {k}="{escape_attr(v)}"' for k, v in parsed.items())
            void = name.lower() in xmltree.VOID_ELEMENTS
            tag = f"<{name}{rebuilt}{' /' if slash or void else ''}>"
        out.append(tag)
        pos = m.end()
    out.append(_BARE_AMP.sub("&amp;", content[pos:]))
    return "".join(out)


_INFO_TOKEN = re.compile(r'\s*(?:([A-Za-z_][A-Za-z0-9_-]*|)=("(?:[^"\\]|\\.)*"|[^\s"]*)|(\S+))')
_FLAGS = {"collapse", "linenumbers"}


def parse_info(info: str) -> tuple[str, list[tuple[str, str]]]:
    """Fence info string -> (language, code macro parameters).

    ``py title="Run it" linenumbers=true`` is the form syncd writes; mark's form
    ``bash collapse title A b c`` (bare flags, ``title`` taking the words after it) is read too.
    """
    language, _, rest = info.strip().partition(" ")
    params: list[tuple[str, str]] = []
    words: list[str] = []
    pos = 0
    while pos < len(rest):
        m = _INFO_TOKEN.match(rest, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        if m.group(3) is not None:
            words.append(m.group(3))
            continue
        value = m.group(2)
        if value.startswith('"'):
            value = re.sub(
                r"\\(.)", lambda g: "\n" if g.group(1) == "n" else g.group(1), value[1:-1]
            )
        params.append((m.group(1), value))
    other: list[str] = []
    while words:
        word = words.pop(0)
        if word == "title" and words:
            params.append(("title", " ".join(words)))
            words = []
        elif word in _FLAGS:
            params.append((word, "true"))
        else:
            other.append(word)
    if other:
        # Words with no meaning to us are kept, as the macro's unnamed parameter.
        params.append(("", " ".join(other)))
    return language, params


class Writer:
    def __init__(
        self,
        fragments: dict[str, str],
        resolver: LinkResolver | None,
        *,
        line_offset: int = 0,
        li_paragraphs: bool = False,
        next_task_id: int = 1,
        reuse: dict[tuple, str] | None = None,
    ) -> None:
        self.fragments = fragments
        self.reuse = reuse or {}
        self.resolver = resolver or DefaultResolver()
        self.line_offset = line_offset
        self.li_paragraphs = li_paragraphs
        self.next_task_id = next_task_id
        self.depth = 0

    # ---------------------------------------------------------------- blocks
    def document(self, md: str) -> str:
        tokens = md_parser().parse(md)
        tree = SyntaxTreeNode(tokens)
        lines = md.split("\n")
        return "".join(self.block(node, lines) for node in tree.children)

    def _line(self, node: SyntaxTreeNode) -> int:
        return (node.map[0] if node.map else 0) + 1 + self.line_offset

    def _sub(self, md: str, line: int) -> str:
        self.depth += 1
        saved = self.line_offset
        self.line_offset = line - 1
        try:
            if self.depth > 40:
                raise ConversionRefused("blockquote", line, "nested too deeply")
            return self.document(md)
        finally:
            self.line_offset = saved
            self.depth -= 1

    def block(self, node: SyntaxTreeNode, lines: list[str]) -> str:
        t = node.type
        if t == "paragraph":
            return "<p>" + self.inline(node.children[0]) + "</p>"
        if t == "heading":
            tag = node.tag
            return f"<{tag}>" + self.inline(node.children[0]) + f"</{tag}>"
        if t in ("bullet_list", "ordered_list"):
            return self.list(node, lines)
        if t in ("fence", "code_block"):
            return self.code(node)
        if t == "blockquote":
            return self.quote(node, lines)
        if t == "hr":
            return "<hr />"
        if t == "table":
            return self.table(node)
        if t == "html_block":
            return self.html_block(node.content, self._line(node))
        return ""

    def html_block(self, content: str, line: int) -> str:
        content = content.rstrip("\n")
        if _MARKERS.fullmatch(content):
            return "".join(self.fragment(k, line) for k in _MARKER.findall(content))
        m = _DETAILS_OPEN.fullmatch(content)
        if m:
            title = html.unescape(re.sub(r"<[^>]*>", "", m.group(1))).strip()
            param = (
                f'<ac:parameter ac:name="title">{escape_text(title)}</ac:parameter>'
                if title
                else ""
            )
            return (
                '<ac:structured-macro ac:name="expand" ac:schema-version="1">'
                + param
                + "<ac:rich-text-body>"
            )
        if _DETAILS_CLOSE.fullmatch(content):
            return "</ac:rich-text-body></ac:structured-macro>"
        # Anything else is taken as storage XHTML written by hand.
        return self._raw_html(content, line)

    def _raw_html(self, content: str, line: int) -> str:
        """Hand-written or pulled HTML: markers become their fragments, the rest XHTML."""
        out: list[str] = []
        pos = 0
        for code in _HTML_CODE.finditer(content):
            # A code macro in a cell: its text goes back into its CDATA as written.
            head = self.fragments.get(code.group(1), "")
            if not head.endswith("<![CDATA["):
                continue
            out.append(self._raw_html(content[pos : code.start()], line))
            out.append(head + code.group(2).replace("]]>", "]]]]><![CDATA[>"))
            out.append(self.fragment(code.group(3), line + content[: code.start()].count("\n")))
            pos = code.end()
        if out:
            out.append(self._raw_html(content[pos:], line))
            return "".join(out)
        for link in _HTML_LINK.finditer(content):
            at = line + content[: link.start()].count("\n")
            storage = self.html_link(html.unescape(link.group(1)), link.group(2), at)
            if storage is None:
                continue
            out.append(self._raw_html(content[pos : link.start()], line))
            out.append(storage)
            pos = link.end()
        if out:
            out.append(self._raw_html(content[pos:], line + content[:pos].count("\n")))
            return "".join(out)
        for m in _HTML_MARKER.finditer(content):
            out.append(xhtml(content[pos : m.start()]))
            key = m.group(1) or m.group(2)
            if key:
                at = line + content[: m.start()].count("\n")
                out.append(self.fragment(key, at))
            elif m.group(3):
                out.append(f'<ac:inline-comment-marker ac:ref="{escape_attr(m.group(3))}">')
            else:
                out.append("</ac:inline-comment-marker>")
            pos = m.end()
        out.append(xhtml(content[pos:]))
        return "".join(out)

    def html_link(self, href: str, inner: str, line: int) -> str | None:
        """``<a href>`` in an HTML block: a link to a page, an attachment or an anchor (as
        the block shows an ``ac:link``) goes back as that link, as a Markdown link would;
        its storage unchanged when its text and target are. None leaves any other link
        (a URL) as the HTML it is."""
        plain = "<" not in inner
        text = html.unescape(inner) if plain else ""
        if plain:
            known = self.reuse.get(("link", " ".join(text.split()), href))
            if known is not None:
                return known
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", href) and not href.startswith("ac:"):
            return None
        storage = self._link_to(href, None, self._raw_html(inner, line), text, plain)
        return None if storage.startswith("<a ") else storage

    def fragment(self, key: str, line: int) -> str:
        raw = self.fragments.get(key)
        if raw is None:
            raise ConversionRefused(
                "marker", line, f"unknown preserved-content marker cf:{key} (edited or copied?)"
            )
        return raw

    def list(self, node: SyntaxTreeNode, lines: list[str]) -> str:
        items = node.children
        tasks = [self._task_prefix(item) for item in items]
        if node.type == "bullet_list" and items and all(t is not None for t in tasks):
            out = ["<ac:task-list>"]
            for item, state in zip(items, tasks, strict=True):
                out.append(self.task(item, state, lines))
            out.append("</ac:task-list>")
            return "".join(out)
        tag = "ul" if node.type == "bullet_list" else "ol"
        attrs = ""
        if tag == "ol":
            start = node.attrs.get("start")
            if start is not None and int(start) != 1:
                attrs = f' start="{int(start)}"'
        out = [f"<{tag}{attrs}>"]
        for item in items:
            out.append("<li>" + self.item_body(item, lines) + "</li>")
        out.append(f"</{tag}>")
        return "".join(out)

    def item_body(self, item: SyntaxTreeNode, lines: list[str], strip_task: bool = False) -> str:
        parts = []
        for child in item.children:
            if child.type == "paragraph":
                inline = child.children[0]
                was_task = strip_task
                text = self.inline(inline, strip_task=strip_task)
                strip_task = False
                if was_task or (child.hidden and not self.li_paragraphs):
                    parts.append(text)
                else:
                    parts.append("<p>" + text + "</p>")
            else:
                parts.append(self.block(child, lines))
        return "".join(parts)

    def _task_prefix(self, item: SyntaxTreeNode) -> str | None:
        if not item.children or item.children[0].type != "paragraph":
            return None
        inline = item.children[0].children[0]
        m = _TASK.match(inline.content)
        if not m:
            return None
        return "complete" if m.group(1) in "xX" else "incomplete"

    def task(self, item: SyntaxTreeNode, state: str, lines: list[str]) -> str:
        task_id = self.next_task_id
        self.next_task_id += 1
        saved = self.li_paragraphs
        self.li_paragraphs = False
        body = self.item_body(item, lines, strip_task=True)
        self.li_paragraphs = saved
        return (
            f"<ac:task><ac:task-id>{task_id}</ac:task-id>"
            f"<ac:task-status>{state}</ac:task-status>"
            f"<ac:task-body>{body}</ac:task-body></ac:task>"
        )

    def code(self, node: SyntaxTreeNode) -> str:
        info = (node.info or "").strip() if node.type == "fence" else ""
        text = node.content
        if text.endswith("\n"):
            text = text[:-1]
        language, params = parse_info(info)
        if language == "noformat":
            name = "noformat"
            ps = params
        else:
            name = "code"
            ps = ([("language", language)] if language else []) + params
        body = "".join(
            f'<ac:parameter ac:name="{escape_attr(k)}">{escape_text(v)}</ac:parameter>'
            for k, v in ps
        )
        return (
            f'<ac:structured-macro ac:name="{name}" ac:schema-version="1">{body}'
            f"<ac:plain-text-body>{cdata(text)}</ac:plain-text-body></ac:structured-macro>"
        )

    def quote(self, node: SyntaxTreeNode, lines: list[str]) -> str:
        first, last = node.map or (0, 0)
        inner_lines = [
            line[m.end() :] if (m := re.match(r"[ \t]*> ?", line)) else line.lstrip()
            for line in lines[first:last]
        ]
        if inner_lines and not re.match(r"[ \t]*>", lines[first]):
            # The quote starts after a list marker on its first line ("- > text").
            head = lines[first]
            cut = head.find(">")
            inner_lines[0] = head[cut + 1 :].removeprefix(" ") if cut >= 0 else head
        # An alert marker only opens an alert when it starts a paragraph: "[!NOTE]" over a
        # "-" line is a setext heading in a plain quote, and must stay one.
        starts_paragraph = bool(node.children) and node.children[0].type == "paragraph"
        m = _ALERT.fullmatch(inner_lines[0]) if inner_lines and starts_paragraph else None
        line = first + 1 + self.line_offset
        if m:
            kind, title = m.group(1), m.group(2).strip()
            body = self._sub("\n".join(inner_lines[1:]), line + 1)
            if kind == ADF_NOTE_ALERT and not title:
                return (
                    '<ac:adf-extension><ac:adf-node type="panel">'
                    '<ac:adf-attribute key="panel-type">note</ac:adf-attribute>'
                    f"<ac:adf-content>{body}</ac:adf-content></ac:adf-node></ac:adf-extension>"
                )
            if kind in ALERT_TO_PANEL:
                param = (
                    f'<ac:parameter ac:name="title">{self.inline_md(title)}</ac:parameter>'
                    if title
                    else ""
                )
                return (
                    f'<ac:structured-macro ac:name="{ALERT_TO_PANEL[kind]}" ac:schema-version="1">'
                    f"{param}<ac:rich-text-body>{body}</ac:rich-text-body></ac:structured-macro>"
                )
        return "<blockquote>" + self._sub("\n".join(inner_lines), line) + "</blockquote>"

    def table(self, node: SyntaxTreeNode) -> str:
        out = ["<table><tbody>"]
        for section in node.children:
            for row in section.children:
                out.append("<tr>")
                for cell in row.children:
                    tag = "th" if cell.type == "th" else "td"
                    inline = cell.children[0] if cell.children else None
                    out.append(f"<{tag}>" + (self.inline(inline) if inline else "") + f"</{tag}>")
                out.append("</tr>")
        out.append("</tbody></table>")
        return "".join(out)

    # ---------------------------------------------------------------- inline
    def inline_md(self, text: str) -> str:
        tokens = md_parser().parseInline(text)
        tree = SyntaxTreeNode(tokens)
        return "".join(self.inline(c) for c in tree.children)

    def inline(self, node: SyntaxTreeNode, strip_task: bool = False) -> str:
        out: list[str] = []
        skip_depth = 0
        children = list(node.children)
        if strip_task and children and children[0].type == "text":
            m = _TASK.match(children[0].content)
            text = children[0].content[m.end() :] if m else children[0].content
            out.append(escape_text(text))
            children = children[1:]
        line = self._line(node) if node.map else self.line_offset + 1
        skip_until = -1
        for index, child in enumerate(children):
            t = child.type
            if index <= skip_until:
                continue
            if skip_depth:
                if t == "html_inline" and child.content.startswith("<span"):
                    skip_depth += 1
                elif t == "html_inline" and child.content == "</span>":
                    skip_depth -= 1
                continue
            if t == "text":
                out.append(escape_text(child.content))
            elif t == "softbreak":
                out.append("\n")
            elif t == "hardbreak":
                out.append("<br />")
            elif t == "code_inline":
                out.append("<code>" + escape_text(child.content) + "</code>")
            elif t == "em":
                out.append("<em>" + self.inline(child) + "</em>")
            elif t == "strong":
                out.append("<strong>" + self.inline(child) + "</strong>")
            elif t == "s":
                out.append("<del>" + self.inline(child) + "</del>")
            elif t == "link":
                out.append(self.link(child))
            elif t == "image":
                out.append(self.image(child))
            elif t == "html_inline":
                content = child.content
                m = _SPAN_STATUS.fullmatch(content)
                if m:
                    title, consumed = self._span_text(children, index + 1)
                    skip_until = consumed
                    out.append(_status_macro(m.group(1), m.group(2), title))
                    continue
                m = _SPAN_CF.fullmatch(content)
                if m:
                    out.append(self.fragment(m.group(1), line))
                    skip_depth = 1
                    continue
                m = _A_NAME.fullmatch(content)
                if m and index + 1 < len(children) and children[index + 1].content == "</a>":
                    skip_until = index + 1
                    out.append(self.reuse.get(("anchor", m.group(1))) or _anchor_macro(m.group(1)))
                    continue
                m = _TIME.fullmatch(content)
                if m:
                    text, consumed = self._span_text(children, index + 1, "</time>")
                    skip_until = consumed
                    when = text.strip() if _ISO_DATE.fullmatch(text.strip()) else m.group(1)
                    out.append(
                        self.reuse.get(("time", when)) or f'<time datetime="{escape_attr(when)}" />'
                    )
                    continue
                m = _CM_OPEN.fullmatch(content)
                if m:
                    out.append(f'<ac:inline-comment-marker ac:ref="{escape_attr(m.group(1))}">')
                    continue
                if content == _CM_CLOSE:
                    out.append("</ac:inline-comment-marker>")
                    continue
                m = _MARKER.fullmatch(content)
                if m:
                    out.append(self.fragment(m.group(1), line))
                    continue
                out.append(xhtml(content))
            else:
                out.append(escape_text(child.content or ""))
        return "".join(out)

    def _span_text(self, children, start: int, close: str = "</span>") -> tuple[str, int]:
        """Plain text of inline tokens up to the closing tag; index of that token."""
        parts = []
        for i in range(start, len(children)):
            c = children[i]
            if c.type == "html_inline" and c.content == close:
                return "".join(parts), i
            parts.append(c.content if c.type in ("text", "code_inline") else "")
        return "".join(parts), len(children)

    def link(self, node: SyntaxTreeNode) -> str:
        href = node.attrs.get("href", "")
        title = node.attrs.get("title")
        inner = self.inline(node)
        plain = all(c.type == "text" for c in node.children)
        text = "".join(c.content for c in node.children) if plain else ""
        return self._link_to(href, title, inner, text, plain)

    def _link_to(self, href: str, title: str | None, inner: str, text: str, plain: bool) -> str:
        """Storage of a link to `href` showing `inner` (XHTML; `text` when `plain`)."""
        if plain and not title and ("link", text, href) in self.reuse:
            return self.reuse[("link", text, href)]
        target, _, anchor = href.partition("#")
        ri = None
        if href.startswith("confluence-user:") and not title:
            who = href[len("confluence-user:") :]
            attr = "ri:account-id"
            for prefix, name in (("userkey=", "ri:userkey"), ("username=", "ri:username")):
                if who.startswith(prefix):
                    attr, who = name, who[len(prefix) :]
            # The name Confluence shows needs no body; other text is kept as the link body.
            shown = {mention_label(self.resolver, attr, who)}
            body = (
                f"<ac:plain-text-link-body>{cdata(text)}</ac:plain-text-link-body>"
                if plain and text and text not in shown
                else ""
            )
            return f'<ac:link><ri:user {attr}="{escape_attr(who)}" />{body}</ac:link>'
        if href.startswith("ac:") and not title:
            rest = href[3:]
            rest, _, anchor = rest.partition("#") if "#" in rest else (rest, "", "")
            if ":" in rest:
                space, _, page = rest.partition(":")
            else:
                space, page = "", rest
            ri = "<ri:page" + (f' ri:space-key="{escape_attr(space)}"' if space else "")
            ri += f' ri:content-title="{escape_attr(page)}" />'
        elif href.startswith("#") and not title:
            ri = ""
        elif target and not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", target) and not title:
            page = self.resolver.page_for_path(target)
            if page is not None:
                ptitle, space = page
                ri = "<ri:page" + (f' ri:space-key="{escape_attr(space)}"' if space else "")
                ri += f' ri:content-title="{escape_attr(ptitle)}" />'
            else:
                name = self.resolver.attachment_for_path(target)
                if name is not None:
                    ri = f'<ri:attachment ri:filename="{escape_attr(name)}" />'
        if ri is None:
            t = f' title="{escape_attr(title)}"' if title else ""
            return f'<a href="{escape_attr(href)}"{t}>{inner}</a>'
        a = f' ac:anchor="{escape_attr(anchor)}"' if anchor else ""
        if plain and text:
            body = f"<ac:plain-text-link-body>{cdata(text)}</ac:plain-text-link-body>"
        elif inner:
            body = f"<ac:link-body>{inner}</ac:link-body>"
        else:
            body = ""
        return f"<ac:link{a}>{ri}{body}</ac:link>"

    def image(self, node: SyntaxTreeNode) -> str:
        src = node.attrs.get("src", "")
        alt = _plain_text(node)
        title = node.attrs.get("title")
        known = self.reuse.get(("img", alt, src, title or ""))
        if known is not None:
            return known
        original = self.reuse.get(("img-src", src))
        if original is not None:
            restyled = restyled_image(original, alt, title)
            if restyled is not None:
                return restyled
        attrs = f' ac:alt="{escape_attr(alt)}"' if alt else ""
        if title:
            attrs += f' ac:title="{escape_attr(title)}"'
        name = None
        if not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", src):
            name = self.resolver.attachment_for_path(src)
        if name is not None:
            ri = f'<ri:attachment ri:filename="{escape_attr(name)}" />'
        else:
            ri = f'<ri:url ri:value="{escape_attr(src)}" />'
        return f"<ac:image{attrs}>{ri}</ac:image>"


def _anchor_macro(name: str) -> str:
    return (
        '<ac:structured-macro ac:name="anchor" ac:schema-version="1">'
        f'<ac:parameter ac:name="">{escape_text(name)}</ac:parameter></ac:structured-macro>'
    )


def restyled_image(original: str, alt: str, title: str | None) -> str | None:
    """An edited image whose source the page already shows, rebuilt from that image.

    Markdown has no place for an image's size, alignment, border or caption markup, so
    editing the alt text or the title (the caption) keeps them: only `ac:alt` and the
    caption (or `ac:title` when there was no caption) change; an unchanged caption
    goes back byte for byte. None when `original` is not a single `ac:image`.
    """
    root = xmltree.parse(original)
    image = root.find("ac:image")
    if image is None:
        return None
    resources = [c for c in image.elements() if c.lname.startswith("ri:")]
    captions = image.find_all("ac:caption")
    if len(resources) != 1 or len(captions) > 1:
        return None
    attrs = {k: v for k, v in image.attrs.items() if k not in ("ac:alt", "ac:title")}
    head = f' ac:alt="{escape_attr(alt)}"' if alt else ""
    if title and not captions:
        head += f' ac:title="{escape_attr(title)}"'
    inner = []
    for child in image.children:  # the resource, the caption, marks such as the border
        raw = original[child.start : child.end]
        if child.kind == "el" and child.lname == "ac:caption":
            old = re.sub(r"\s+", " ", xmltree.text_content(original, child)).strip()
            if title != old:
                raw = f"<ac:caption><p>{escape_text(title)}</p></ac:caption>" if title else ""
        inner.append(raw)
    rest = "".join(f' {k}="{escape_attr(v)}"' for k, v in attrs.items())
    return f"<ac:image{head}{rest}>{''.join(inner)}</ac:image>"
