"""What makes pulled Markdown unreadable: the findings a scan of a page reports.

Used by the corpus readability test and by bench/readability_report.py (before/after figures).
"""

from __future__ import annotations

import itertools
import re

from syncd.convert import xmltree
from syncd.convert.chunks import md_parser

MAX_LINE = 400

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_SPAN = re.compile(r'<span data-cf="([0-9a-f]{8})">(.*?)</span>', re.S)
# A storage element, not a link destination such as ``(<ac:Page title>)``.
_RAW_TAG = re.compile(r"</?(?:ac|ri):(?:[a-z]+-)*[a-z]+(?:\s+[a-z:-]+=|\s*/?>)")
_MARKER = re.compile(r"<!--cf:([0-9a-f]{8})\b(.*?)-->", re.S)


def outside_code(markdown: str) -> list[str]:
    """Lines of the Markdown that are not inside a fenced code block."""
    out: list[str] = []
    fence = None
    for line in markdown.split("\n"):
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
            continue
        if fence is not None:
            if line.strip().startswith(fence[0] * len(fence)) and not line.strip().strip(fence[0]):
                fence = None
            continue
        out.append(line)
    return out


_WALL = re.compile(r"-->[ \t]*<!--cf:")


def _html_and_prose_lines(markdown: str) -> tuple[list[str], list[str]]:
    """Lines of HTML blocks, and lines of other blocks except code."""
    lines = markdown.split("\n")
    html: list[str] = []
    prose: list[str] = []
    for tok in md_parser().parse(markdown):
        if tok.map is None or tok.nesting == -1 or tok.level != 0:
            continue
        if tok.type in ("fence", "code_block"):
            continue
        (html if tok.type == "html_block" else prose).extend(lines[tok.map[0] : tok.map[1]])
    return html, prose


def _params(fragment: str) -> list[str]:
    root = xmltree.parse(fragment)
    return [
        xmltree.text_content(fragment, p).strip()
        for p in root.iter()
        if p.kind == "el"
        and p.lname == "ac:parameter"
        and xmltree.text_content(fragment, p).strip()
    ]


def findings(markdown: str, fragments: dict[str, str]) -> dict[str, int]:
    """Counts of each kind of noise in one page's Markdown (zero everywhere = readable)."""
    text = "\n".join(outside_code(markdown))
    html, prose = _html_and_prose_lines(markdown)
    found = {
        "raw_ac_xml": len(_RAW_TAG.findall(text)),
        "cdata": text.count("<![CDATA["),
        # Lines of HTML blocks (tables, wrappers, markers); a long paragraph is the author's
        # text as stored (one line per paragraph), counted apart.
        "long_lines": sum(1 for line in html if len(line) > MAX_LINE),
        "long_prose": sum(1 for line in prose if len(line) > MAX_LINE),
        "empty_spans": 0,
        "param_spans": 0,
        "hidden_code": 0,
        # Markers run together: two with nothing but space between them.
        "marker_walls": len(_WALL.findall(text)),
    }
    for key, label in _SPAN.findall(text):
        if not label.strip():
            found["empty_spans"] += 1
            continue
        params = _params(fragments.get(key, ""))
        if len(params) >= 2 and any(
            a + b in re.sub(r"\s+", "", label) for a, b in itertools.pairwise(params) if a and b
        ):
            found["param_spans"] += 1
    for key, _label in _MARKER.findall(text) + _SPAN.findall(text):
        frag = fragments.get(key, "")
        if re.match(r'<pre[\s>]|<ac:(?:structured-)?macro [^>]*ac:name="(?:code|noformat)"', frag):
            found["hidden_code"] += 1
    return found
