"""What makes pulled Markdown unreadable: the findings a scan of a page reports.

Used by the corpus readability test and by bench/readability_report.py (before/after figures).
"""

from __future__ import annotations

import itertools
import re

from syncd.convert import xmltree

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
    found = {
        "raw_ac_xml": len(_RAW_TAG.findall(text)),
        "cdata": text.count("<![CDATA["),
        "long_lines": sum(1 for line in text.split("\n") if len(line) > MAX_LINE),
        "empty_spans": 0,
        "param_spans": 0,
        "hidden_code": 0,
        "marker_walls": sum(1 for line in text.split("\n") if len(_MARKER.findall(line)) > 1),
    }
    for key, label in _SPAN.findall(text):
        if not label.strip():
            found["empty_spans"] += 1
            continue
        params = _params(fragments.get(key, ""))
        if len(params) >= 2 and any(
            a + b in re.sub(r"\s+", "", label)
            for a, b in itertools.pairwise(params)
            if a and b
        ):
            found["param_spans"] += 1
    for key, _label in _MARKER.findall(text) + _SPAN.findall(text):
        frag = fragments.get(key, "")
        if re.search(r'ac:name="(?:code|noformat)"|<pre[\s>]|<ac:plain-text-body', frag):
            found["hidden_code"] += 1
    return found
