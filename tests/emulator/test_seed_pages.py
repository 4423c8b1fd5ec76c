"""The built-in seed pages stay well-formed, indexed, and cover every construct syncd must carry."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

SEED_DIR = Path(__file__).resolve().parents[2] / "syncd" / "emulator" / "seed"
PLACEHOLDER = re.compile(r"\{\{(page_title|attachment):([^{}]+)\}\}")
WRAP = (
    '<!DOCTYPE r [<!ENTITY nbsp "&#160;">]>'
    '<r xmlns:ac="http://atlassian.com/content" xmlns:ri="http://atlassian.com/resource/identifier">'
    "{}</r>"
)

# Every construct the issue names, as a regex over the raw storage text.
CONSTRUCTS = {
    "h1": r"<h1>",
    "h2": r"<h2>",
    "h3": r"<h3>",
    "h4": r"<h4>",
    "strong": r"<strong>",
    "em": r"<em>",
    "inline code": r"<code>",
    "strike": r"<s>",
    "underline": r"<u>",
    "sub": r"<sub>",
    "sup": r"<sup>",
    "coloured span": r'<span style="color: ',
    "line break": r"<br />",
    "nested list": r"<li><p>[^<]*</p><ul>|<li><p>.{0,200}?</p><ul>",
    "ordered list with start": r'<ol start="\d+">',
    "block quote": r"<blockquote>",
    "horizontal rule": r"<hr />",
    "rowspan": r'rowspan="\d+"',
    "colspan": r'colspan="\d+"',
    "list in a cell": r"<td><ul>",
    "code macro in a cell": r'<td><ac:structured-macro ac:name="code"',
    "colgroup": r"<colgroup>",
    "code macro language": r'<ac:parameter ac:name="language">',
    "code macro title": r'ac:name="code".{0,300}?<ac:parameter ac:name="title">',
    "code macro linenumbers": r'<ac:parameter ac:name="linenumbers">true',
    "CDATA code body": r"<ac:plain-text-body><!\[CDATA\[",
    "noformat": r'ac:name="noformat"',
    "info panel": r'ac:name="info"',
    "tip panel": r'ac:name="tip"',
    "note panel": r'ac:name="note"',
    "warning panel": r'ac:name="warning"',
    "panel with bgColor": r'ac:name="panel".{0,200}?ac:name="bgColor"',
    "expand": r'ac:name="expand"',
    "task list": r"<ac:task-list>",
    "done task": r"<ac:task-status>complete</ac:task-status>",
    "open task": r"<ac:task-status>incomplete</ac:task-status>",
    "task id": r"<ac:task-id>\d+</ac:task-id>",
    "task body": r"<ac:task-body>",
    "status lozenge": r'ac:name="status"',
    "time": r'<time datetime="\d{4}-\d\d-\d\d" />',
    "emoticon": r"<ac:emoticon ",
    "page link": r'<ri:page ri:content-title="\{\{page_title:\d+\}\}" />',
    "attachment link": r'<ac:link><ri:attachment ri:filename="\{\{attachment:',
    "image": r'<ac:image [^>]*><ri:attachment ri:filename="\{\{attachment:[^}]+\.png\}\}"',
    "user mention": r'<ri:user ri:account-id="',
    "anchor macro": r'ac:name="anchor"',
    "anchor link": r'<ac:link ac:anchor="',
    "inline comment": r'<ac:inline-comment-marker ac:ref="',
    "layout": r"<ac:layout><ac:layout-section ac:type=\"[a-z_]+\"[^>]*><ac:layout-cell>",
    "toc": r'ac:name="toc"',
    "children": r'ac:name="children"',
    "jira": r'ac:name="jira"',
    "third-party macro": r'ac:name="(drawio|oncall-roster|tabs-container|roadmap)"',
}


@pytest.fixture(scope="module")
def index() -> dict:
    return json.loads((SEED_DIR / "pages.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bodies(index: dict) -> dict[str, str]:
    return {p["file"]: (SEED_DIR / p["file"]).read_text(encoding="utf-8") for p in index["pages"]}


def test_index_lists_every_file_once(index: dict):
    listed = [p["file"] for p in index["pages"]]
    assert listed == sorted({f.name for f in SEED_DIR.glob("*.xml")})
    assert 12 <= len(listed) <= 16
    titles = [p["title"] for p in index["pages"]]
    assert len(set(titles)) == len(titles)


def test_every_body_is_well_formed_storage(bodies: dict[str, str]):
    for name, body in bodies.items():
        ET.fromstring(WRAP.format(body))  # raises with the line on malformed markup
        assert "xmlns" not in body, f"{name}: storage bodies carry no namespace declarations"


def test_placeholders_resolve_within_the_set(index: dict, bodies: dict[str, str]):
    count = len(index["pages"])
    for page in index["pages"]:
        found = PLACEHOLDER.findall(bodies[page["file"]])
        links = {int(arg) for kind, arg in found if kind == "page_title"}
        files = {arg for kind, arg in found if kind == "attachment"}
        assert all(1 <= k <= count for k in links), page["file"]
        assert files == {a["name"] for a in page["attachments"]}, page["file"]
        for placeholder in re.findall(r"\{\{[^}]*\}\}", bodies[page["file"]]):
            assert PLACEHOLDER.fullmatch(placeholder), f"{page['file']}: odd {placeholder}"


def test_placeholders_sit_only_in_the_attributes_the_seeder_fills(bodies: dict[str, str]):
    for name, body in bodies.items():
        for m in PLACEHOLDER.finditer(body):
            attr = "ri:content-title" if m.group(1) == "page_title" else "ri:filename"
            assert body[: m.start()].endswith(f'{attr}="'), f"{name}: {m.group(0)}"


@pytest.mark.parametrize("construct", sorted(CONSTRUCTS))
def test_set_covers_construct(construct: str, bodies: dict[str, str]):
    pattern = re.compile(CONSTRUCTS[construct], re.S)
    assert any(pattern.search(b) for b in bodies.values()), f"no seed page has {construct}"


def test_panels_appear_with_and_without_titles(bodies: dict[str, str]):
    text = "".join(bodies.values())
    for name in ("info", "tip", "note", "warning"):
        macros = re.findall(
            rf'<ac:structured-macro ac:name="{name}".*?<ac:rich-text-body>', text, re.S
        )
        titled = [m for m in macros if 'ac:name="title"' in m]
        assert titled and len(titled) < len(macros), f"{name}: need titled and untitled panels"


def test_seeder_fills_every_placeholder():
    """The emulator's seeder leaves no placeholder behind and attaches the named files."""
    import syncd.emulator.seed as seed
    import syncd.emulator.store as store_mod

    store = store_mod.Store()
    store.create_space("SEED", "Seed")
    ids = seed.seed_space(store, "SEED", 16, 0)
    assert len(ids) == 16
    titles = {store.get(i).title for i in ids}
    for page_id in ids:
        page = store.get(page_id)
        body = page.body
        assert "{{" not in body
        for title in re.findall(r'ri:content-title="([^"]*)"', body):
            assert title.replace("&amp;", "&") in titles
        wanted = set(re.findall(r'ri:filename="([^"]*)"', body))
        attached = {store.attachments[a].filename for a in page.attachment_ids}
        assert wanted <= attached, f"{page.title}: {wanted - attached} not attached"
