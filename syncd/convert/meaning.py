"""Whether two Markdown texts mean the same page: what a push verifies and what decides
whether a file must be rewritten after Confluence stored it."""

from __future__ import annotations

import re
from functools import lru_cache

from .chunks import md_parser, to_html
from .fresh import parse_info, xhtml


def same_meaning(a: str, b: str) -> bool:
    """Same rendered HTML (presentation aside) and same fence info strings, which carry
    code macro parameters the HTML does not show."""
    return a == b or _rendered(a) == _rendered(b)


@lru_cache(maxsize=1024)
def _rendered(md: str) -> tuple[str, list[list[str]]]:
    return _squash(to_html(md)), _fence_infos(md)


def _squash(html: str) -> str:
    html = xhtml(html)
    html = re.sub(r"\s*<br\s*/?>\s*", "<br />", html)
    # Presentation the storage form does not keep: list tightness, column alignment,
    # markup inside an expand title.
    html = re.sub(r' style="text-align:\s*\w+;?"', "", html)
    html = re.sub(r"<details[^>]*>", "<details>", html)
    # A date reads as its text (the datetime attribute follows it).
    html = re.sub(r'<time datetime="[^"]*">', "<time>", html)
    html = re.sub(
        r"<summary>(.*?)</summary>",
        lambda m: "<summary>" + re.sub(r"<[^>]*>", "", m.group(1)).strip() + "</summary>",
        html,
        flags=re.S,
    )
    html = re.sub(r"<li>\s*<p>", "<li>", html)
    html = re.sub(
        r"</p>\s*(?=</li>|<ul|<ol|<pre|<blockquote|<h[1-6]|<table|<details|<hr)", "", html
    )
    # Whitespace is insignificant except inside code blocks.
    parts = re.split(r"(<pre>.*?</pre>)", html, flags=re.S)
    for i in range(1, len(parts), 2):
        parts[i] = re.sub(r"\n+(</code></pre>)\Z", r"\1", parts[i])
    for i in range(0, len(parts), 2):
        squashed = re.sub(r"\s+", " ", parts[i])
        parts[i] = re.sub(r"\s*(<[^>]+>)\s*", r"\1", squashed)
    return "".join(parts).strip()


def _fence_infos(md: str) -> list[list[str]]:
    return [parse_info(t.info) for t in md_parser().parse(md) if t.type in ("fence", "code_block")]
