"""The demo space reads cleanly in a Markdown preview (issue 14).

Every seed page of the emulator (the pages `syncd demo` serves) is pulled to Markdown and
rendered as VS Code's preview does: markdown-it, CommonMark with GFM tables,
strikethrough and task lists, raw HTML allowed.  The visible text (what a reader sees:
text outside tags and comments) must show no marker noise and every word of the page.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.tasklists import tasklists_plugin

from syncd.convert import storage_to_markdown, xmltree
from syncd.convert.model import DefaultResolver
from syncd.emulator.seed import TEAM

SEED = Path(__file__).resolve().parents[2] / "syncd" / "emulator" / "seed"
PLACEHOLDER = re.compile(r"\{\{(page_title|attachment):([^}]*)\}\}")
# Text that is metadata, not words of the page: task ids and states (the checkbox shows
# them), macro parameters other than titles, the text a status lozenge or code shows
# through its own form is checked as shown.
METADATA = {"ac:task-id", "ac:task-status", "ac:task-uuid", "ac:adf-attribute"}


class Team(DefaultResolver):
    def user_name(self, kind, value):
        return TEAM.get(value) if kind == "account-id" else None


def preview() -> MarkdownIt:
    return (
        MarkdownIt("commonmark", {"html": True})
        .enable(["table", "strikethrough"])
        .use(tasklists_plugin)
    )


class Visible(HTMLParser):
    """Text a browser shows: outside tags, comments and <script>/<style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs) -> None:
        # An image shows its caption (title) and, while loading or missing, its alt text.
        if tag == "img":
            self.parts.extend(v for k, v in attrs if k in ("alt", "title") and v)


def visible_text(rendered: str) -> str:
    parser = Visible()
    parser.feed(rendered)
    return " ".join(parser.parts)


def page_words(body: str) -> tuple[set[str], set[str]]:
    """(words of the page's text, words of macro titles)."""
    root = xmltree.parse(body)
    text: set[str] = set()
    titles: set[str] = set()
    for node in root.iter():
        if node.kind not in ("text", "cdata"):
            continue
        parent = node.parent
        into = text
        if parent is not None and parent.kind == "el":
            if parent.lname in METADATA:
                continue
            if parent.lname == "ac:parameter":
                if parent.attr("ac:name") != "title":
                    continue
                into = titles
        into.update(re.findall(r"\w+", xmltree.text_content(body, node)))
    return text, titles


PAGES = sorted(SEED.glob("*.xml"))


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_seed_page_previews_cleanly_and_shows_every_word(path):
    body = PLACEHOLDER.sub(lambda m: m.group(2) or "Page", path.read_text(encoding="utf-8"))
    markdown = storage_to_markdown(body, resolver=Team()).markdown
    rendered = preview().render(markdown)
    shown = html.unescape(visible_text(rendered))
    # No marker noise: no storage names, marker keys or Markdown left unrendered.
    for noise in ("cf:", "data-cf", "ac:", "ri:", "CDATA", "confluence-user", "@user-"):
        assert noise not in shown, (path.name, noise, shown[shown.find(noise) - 80 :][:160])
    text, titles = page_words(body)
    missing = sorted(w for w in text if w not in shown)
    assert not missing, (path.name, missing[:20])
    # Macro titles (code block titles, panel titles, a roadmap's name) are read and edited
    # in the file (fence info, marker labels); a preview shows those of expands and alerts.
    unread = sorted(w for w in titles if w not in markdown)
    assert not unread, (path.name, unread[:20])


def test_there_are_seed_pages():
    assert len(PAGES) >= 15
