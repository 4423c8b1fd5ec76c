"""The Markdown dialect, construct by construct (docs/markdown.md), both directions."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import ClassVar

import pytest

from syncd.convert import (
    ConversionRefused,
    DefaultResolver,
    LinkResolver,
    markdown_to_storage,
    storage_to_markdown,
)


def md_of(storage: str, resolver=None) -> str:
    return storage_to_markdown(storage, resolver=resolver).markdown


def storage_of(md: str, resolver=None) -> str:
    out = markdown_to_storage(md, sidecar=None, resolver=resolver).storage
    assert out is not None
    return out


def well_formed(storage: str) -> None:
    """Parse as XML the way Confluence does (namespaces declared, HTML entities known)."""
    text = storage.replace("&nbsp;", "&#160;")
    ET.fromstring(
        '<root xmlns:ac="http://atlassian.com/content" xmlns:ri="http://atlassian.com/resource">'
        + text
        + "</root>"
    )


@pytest.mark.parametrize(
    ("storage", "markdown"),
    [
        (
            "<h2>Title</h2><p>Some <strong>bold</strong>, <em>em</em>, <code>x()</code> and "
            "<del>gone</del>.</p>",
            "## Title\n\nSome **bold**, *em*, `x()` and ~~gone~~.\n",
        ),
        (
            "<p>H<sub>2</sub>O, x<sup>2</sup>, <u>under</u>, "
            '<span style="color: rgb(255,0,0);">red</span></p>',
            'H<sub>2</sub>O, x<sup>2</sup>, <u>under</u>, <span style="color: rgb(255,0,0);">red</span>\n',
        ),
        ("<p>line one<br />line two</p>", "line one<br />line two\n"),
        ("<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>", "- a\n  - b\n- c\n"),
        ('<ol start="3"><li><p>three</p></li><li><p>four</p></li></ol>', "3. three\n4. four\n"),
        ("<blockquote><p>quoted</p></blockquote><hr />", "> quoted\n\n---\n"),
        ("<p>a * b _c_ [d] &lt;e&gt;</p>", "a \\* b \\_c\\_ \\[d\\] \\<e>\n"),
        ("<p>1. not a list</p>", "1\\. not a list\n"),
    ],
)
def test_readable_constructs(storage, markdown):
    assert md_of(storage) == markdown
    # New content in this form converts back to storage that reads the same.
    assert md_of(storage_of(markdown)) == markdown


def test_simple_table_is_gfm_and_merged_cells_stay_html():
    simple = "<table><tbody><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>x | y</td></tr></tbody></table>"
    assert md_of(simple) == "| A | B |\n|---|---|\n| 1 | x \\| y |\n"
    merged = '<table><tbody><tr><th colspan="2">AB</th></tr><tr><td>1</td><td>2</td></tr></tbody></table>'
    # One row per line, one cell per line: a one-cell edit is a one-line diff.
    assert md_of(merged) == (
        '<table>\n<tbody>\n<tr>\n<th colspan="2">AB</th>\n</tr>\n<tr>\n<td>1</td>\n'
        "<td>2</td>\n</tr>\n</tbody>\n</table>\n"
    )
    assert md_of(storage_of(md_of(merged))) == md_of(merged)
    well_formed(storage_of("| A | B |\n|---|---|\n| 1 | 2 |\n"))
    # A pipe inside inline code in a cell is escaped too (GFM splits cells first).
    code = "<table><tbody><tr><th>A</th></tr><tr><td><code>x | y</code></td></tr></tbody></table>"
    assert md_of(code) == "| A |\n|---|\n| `x \\| y` |\n"
    assert "<code>x | y</code>" in storage_of(md_of(code))


def test_code_macro_is_a_fence_with_language_and_parameters():
    storage = (
        '<ac:structured-macro ac:name="code" ac:schema-version="1" ac:macro-id="m1">'
        '<ac:parameter ac:name="language">py</ac:parameter>'
        '<ac:parameter ac:name="title">Example run</ac:parameter>'
        '<ac:parameter ac:name="linenumbers">true</ac:parameter>'
        "<ac:plain-text-body><![CDATA[print(']]]]><![CDATA[>')\n```]]></ac:plain-text-body>"
        "</ac:structured-macro>"
    )
    md = md_of(storage)
    assert md == "````py title=\"Example run\" linenumbers=true\nprint(']]>')\n```\n````\n"
    fresh = storage_of(md)
    well_formed(fresh)
    assert '<ac:parameter ac:name="title">Example run</ac:parameter>' in fresh
    assert md_of(fresh) == md


def test_noformat_macro():
    storage = (
        '<ac:structured-macro ac:name="noformat"><ac:plain-text-body><![CDATA[plain *text*]]>'
        "</ac:plain-text-body></ac:structured-macro>"
    )
    assert md_of(storage) == "```noformat\nplain *text*\n```\n"
    assert 'ac:name="noformat"' in storage_of(md_of(storage))


@pytest.mark.parametrize(
    ("macro", "alert"),
    [("info", "NOTE"), ("tip", "TIP"), ("note", "WARNING"), ("warning", "CAUTION")],
)
def test_panels_are_alerts_one_to_one(macro, alert):
    storage = (
        f'<ac:structured-macro ac:name="{macro}"><ac:rich-text-body><p>Body text</p>'
        "</ac:rich-text-body></ac:structured-macro>"
    )
    md = md_of(storage)
    assert md == f"> [!{alert}]\n> Body text\n"
    fresh = storage_of(md)
    assert f'ac:name="{macro}"' in fresh
    assert md_of(fresh) == md


def test_adf_note_panel_is_important():
    storage = (
        '<ac:adf-extension><ac:adf-node type="panel"><ac:adf-attribute key="panel-type">note'
        "</ac:adf-attribute><ac:adf-content><p>Purple</p></ac:adf-content></ac:adf-node>"
        "</ac:adf-extension>"
    )
    assert md_of(storage) == "> [!IMPORTANT]\n> Purple\n"
    assert md_of(storage_of("> [!IMPORTANT]\n> Purple\n")) == "> [!IMPORTANT]\n> Purple\n"


def test_panel_title_and_parameters_survive_a_body_edit():
    storage = (
        '<ac:structured-macro ac:name="info" ac:macro-id="abc"><ac:parameter ac:name="icon">false'
        '</ac:parameter><ac:parameter ac:name="title">Heads up</ac:parameter><ac:rich-text-body>'
        "<p>first</p><p>second</p></ac:rich-text-body></ac:structured-macro>"
    )
    pull = storage_to_markdown(storage)
    assert pull.markdown == "> [!NOTE] Heads up\n> first\n>\n> second\n"
    edited = pull.markdown.replace("> second", "> second, **now bold**")
    out = markdown_to_storage(edited, sidecar=pull.sidecar).storage
    assert out.startswith(
        '<ac:structured-macro ac:name="info" ac:macro-id="abc"><ac:parameter ac:name="icon">false'
    )
    assert "<p>first</p>" in out and "<strong>now bold</strong>" in out


def test_expand_is_details():
    storage = (
        '<ac:structured-macro ac:name="expand"><ac:parameter ac:name="title">More</ac:parameter>'
        "<ac:rich-text-body><p>Hidden</p></ac:rich-text-body></ac:structured-macro>"
    )
    md = md_of(storage)
    assert md == "<details><summary>More</summary>\n\nHidden\n\n</details>\n"
    fresh = storage_of(md)
    assert 'ac:name="expand"' in fresh and md_of(fresh) == md


def test_tasks_keep_their_ids_when_ticked():
    storage = (
        "<ac:task-list><ac:task><ac:task-id>17</ac:task-id><ac:task-status>incomplete"
        "</ac:task-status><ac:task-body>write docs</ac:task-body></ac:task><ac:task>"
        "<ac:task-id>18</ac:task-id><ac:task-status>complete</ac:task-status>"
        "<ac:task-body>ship</ac:task-body></ac:task></ac:task-list>"
    )
    pull = storage_to_markdown(storage)
    assert pull.markdown == "- [ ] write docs\n- [x] ship\n"
    out = markdown_to_storage("- [x] write docs\n- [x] ship\n", sidecar=pull.sidecar).storage
    assert "<ac:task-id>17</ac:task-id><ac:task-status>complete</ac:task-status>" in out
    assert "<ac:task-id>18</ac:task-id>" in out
    # A new task gets a fresh id; the others keep theirs.
    out = markdown_to_storage(pull.markdown + "- [ ] new one\n", sidecar=pull.sidecar).storage
    ids = [int(i) for i in re.findall(r"<ac:task-id>(\d+)</ac:task-id>", out)]
    assert ids[:2] == [17, 18] and ids[2] > 18


def test_inline_comment_markers_are_kept_through_an_edit():
    storage = (
        '<h2>Setup <ac:inline-comment-marker ac:ref="c-1">the server</ac:inline-comment-marker>'
        " now</h2>"
    )
    pull = storage_to_markdown(storage)
    assert pull.markdown == "## Setup <!--cm:c-1-->the server<!--/cm--> now\n"
    out = markdown_to_storage(pull.markdown.replace("now", "today"), sidecar=pull.sidecar).storage
    assert out == storage.replace("now", "today")
    # Restructuring the heading still keeps the marker.
    out = markdown_to_storage(
        pull.markdown.replace("Setup", "**Setup**"), sidecar=pull.sidecar
    ).storage
    assert '<ac:inline-comment-marker ac:ref="c-1">the server</ac:inline-comment-marker>' in out


def test_preserved_inline_elements_survive_a_rebuilt_paragraph():
    status = (
        '<ac:structured-macro ac:name="status" ac:macro-id="s1"><ac:parameter ac:name="colour">'
        'Green</ac:parameter><ac:parameter ac:name="title">DONE</ac:parameter></ac:structured-macro>'
    )
    emoticon = '<ac:emoticon ac:name="tick" ac:emoji-fallback="✅" />'
    storage = f"<p>State {status} {emoticon} ok</p>"
    pull = storage_to_markdown(storage)
    assert re.fullmatch(
        r'State <span data-status="Green">DONE</span> <span data-cf="[0-9a-f]{8}">✅</span> ok\n',
        pull.markdown,
    )
    out = markdown_to_storage(pull.markdown.replace("ok", "*fine*"), sidecar=pull.sidecar).storage
    assert emoticon in out and "<em>fine</em>" in out
    assert '<ac:parameter ac:name="title">DONE</ac:parameter>' in out


def test_status_and_mentions_are_readable_and_writable():
    storage = (
        '<p><ac:structured-macro ac:name="status"><ac:parameter ac:name="colour">Red</ac:parameter>'
        '<ac:parameter ac:name="title">BLOCKED</ac:parameter><ac:parameter ac:name="subtle">true'
        '</ac:parameter></ac:structured-macro> by <ac:link><ri:user ri:account-id="557058:aa-bb" />'
        '</ac:link> and <ac:link><ri:user ri:userkey="8a7f" /></ac:link></p>'
    )
    md = md_of(storage)
    assert md == (
        '<span data-status="Red" data-subtle="true">BLOCKED</span> by '
        "[@user-aabb](confluence-user:557058:aa-bb) and [@user-8a7f](confluence-user:userkey=8a7f)\n"
    )
    fresh = storage_of(md)
    assert fresh == storage.replace('ac:name="status">', 'ac:name="status" ac:schema-version="1">')
    # A new mention and status written by hand.
    out = storage_of('Ask [@Jane](confluence-user:abc123) <span data-status="Blue">NEW</span>\n')
    assert '<ri:user ri:account-id="abc123" />' in out and "CDATA[@Jane]" in out
    assert '<ac:parameter ac:name="colour">Blue</ac:parameter>' in out


def test_opaque_macro_marker_moves_and_is_never_lost():
    toc = '<ac:structured-macro ac:name="toc" ac:macro-id="t"><ac:parameter ac:name="maxLevel">2</ac:parameter></ac:structured-macro>'
    storage = f"<p>intro</p>{toc}<p>end</p>"
    pull = storage_to_markdown(storage)
    marker = re.search(r"<!--cf:[0-9a-f]{8} table of contents-->", pull.markdown).group(0)
    moved = f"intro\n\nend\n\n{marker}\n"
    out = markdown_to_storage(moved, sidecar=pull.sidecar).storage
    assert out == f"<p>intro</p><p>end</p>{toc}"
    with pytest.raises(ConversionRefused) as err:
        markdown_to_storage(moved, sidecar=None)
    assert err.value.construct == "marker" and err.value.line == 5


class TitleResolver(DefaultResolver):
    pages: ClassVar[dict] = {
        ("Other Page", None): "../other-page.md",
        ("Home", "DOC"): "../../doc/home.md",
    }

    def page_path(self, title, space_key=None, page_id=None):
        return self.pages.get((title, space_key))

    def page_for_path(self, path):
        for key, value in self.pages.items():
            if value == path:
                return key
        return None


def test_page_links_go_through_the_resolver():
    resolver = TitleResolver()
    assert isinstance(resolver, LinkResolver)
    storage = (
        '<p><ac:link><ri:page ri:content-title="Other Page" /><ac:plain-text-link-body>'
        '<![CDATA[see this]]></ac:plain-text-link-body></ac:link> and <ac:link ac:anchor="top">'
        '<ri:page ri:space-key="DOC" ri:content-title="Home" /></ac:link> and '
        '<ac:link><ri:page ri:content-title="Unknown: Page" /></ac:link></p>'
    )
    md = md_of(storage, resolver)
    assert "[see this](../other-page.md)" in md
    assert "../../doc/home.md#top" in md
    assert "ac::Unknown: Page" in md
    fresh = storage_of("[see this](../other-page.md) and [x](../../doc/home.md#top)\n", resolver)
    assert '<ri:page ri:content-title="Other Page" />' in fresh
    assert 'ac:anchor="top"' in fresh and 'ri:space-key="DOC"' in fresh
    # Pages the resolver does not know keep the ac: form, which round-trips on its own.
    fresh = storage_of("[x](ac:OPS:Runbook#step-2)\n")
    assert '<ri:page ri:space-key="OPS" ri:content-title="Runbook" />' in fresh
    assert md_of(fresh) == "[x](ac:OPS:Runbook#step-2)\n"


def test_attachments_and_images_are_relative_paths():
    storage = (
        '<p><ac:image ac:alt="diagram"><ri:attachment ri:filename="arch v2.png" /></ac:image> '
        '<ac:link><ri:attachment ri:filename="spec.pdf" /><ac:plain-text-link-body><![CDATA[spec]]>'
        "</ac:plain-text-link-body></ac:link></p>"
    )
    md = md_of(storage)
    assert md == "![diagram](<attachments/arch v2.png>) [spec](attachments/spec.pdf)\n"
    fresh = storage_of(md)
    assert '<ri:attachment ri:filename="arch v2.png" />' in fresh
    assert '<ri:attachment ri:filename="spec.pdf" />' in fresh
    assert md_of(fresh) == md


def test_layout_is_flattened_with_markers_and_cells_stay_editable():
    storage = (
        '<ac:layout><ac:layout-section ac:type="two_equal"><ac:layout-cell><p>left</p>'
        "</ac:layout-cell><ac:layout-cell><p>right</p></ac:layout-cell></ac:layout-section>"
        "</ac:layout>"
    )
    pull = storage_to_markdown(storage)
    # One marker per line, blank lines around, named for what a reader sees.
    lines = pull.markdown.split("\n")
    assert [re.sub(r"<!--cf:[0-9a-f]{8} (.*)-->", r"\1", line) for line in lines[::2]] == [
        "page layout",
        "layout: two columns",
        "column 1 of 2",
        "left",
        "/column",
        "column 2 of 2",
        "right",
        "/column",
        "/layout",
        "/page layout",
    ]
    assert not any(lines[1::2])
    assert "\n\nleft\n\n" in pull.markdown and "\n\nright\n\n" in pull.markdown
    out = markdown_to_storage(pull.markdown.replace("right", "right side"), sidecar=pull.sidecar)
    assert out.storage == storage.replace("right", "right side")


def test_new_page_from_scratch_is_clean_storage():
    md = (
        "# Title\n\nText with **bold** & <u>under</u>.\n\n- one\n- two\n\n1. first\n\n"
        "```js\nif (a < b && c) {}\n```\n\n> [!WARNING]\n> Careful\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "- [ ] todo\n\n<details><summary>More</summary>\n\nInside\n\n</details>\n\n---\n"
    )
    out = storage_of(md)
    well_formed(out)
    assert "ac:macro-id" not in out and "local-id" not in out
    assert md_of(out) == md


def test_html_typed_in_markdown_becomes_well_formed_xhtml():
    md = "<img src=logo.png width=24>\n\nA<br>B &amp; C\n\n<div class=note>AT&T</div>\n"
    out = storage_of(md)
    well_formed(out)
    assert '<img src="logo.png" width="24" />' in out and "AT&amp;T" in out


def test_unbalanced_html_in_new_content_is_refused():
    with pytest.raises(ConversionRefused) as err:
        storage_of("fine\n\n<div>unclosed\n")
    assert err.value.construct == "html"


def test_unchanged_markdown_ignores_line_endings_and_trailing_newlines():
    pull = storage_to_markdown("<p>a</p><p>b</p>")
    assert markdown_to_storage("a\r\n\r\nb", sidecar=pull.sidecar).storage is None
    assert markdown_to_storage("a\n\nb\n\n\n", sidecar=pull.sidecar).storage is None


def test_sidecar_round_trips_through_json():
    from syncd.convert import Sidecar

    pull = storage_to_markdown("<p>x&nbsp;é</p>")
    again = Sidecar.from_json(pull.sidecar.to_json())
    assert again == pull.sidecar


def test_list_edits_keep_untouched_items_byte_for_byte():
    storage = (
        '<ul local-id="l"><li local-id="a"><p>one</p></li><li local-id="b"><p>two</p></li>'
        '<li local-id="c"><p>three</p></li></ul>'
    )
    pull = storage_to_markdown(storage)
    assert pull.markdown == "- one\n- two\n- three\n"
    out = markdown_to_storage("- one\n- two *and a half*\n- new\n- three\n", sidecar=pull.sidecar)
    assert out.storage == (
        '<ul local-id="l"><li local-id="a"><p>one</p></li><li local-id="b"><p>two <em>and a half'
        '</em></p></li><li><p>new</p></li><li local-id="c"><p>three</p></li></ul>'
    )


def test_task_edits_keep_other_tasks_byte_for_byte():
    task = (
        "<ac:task><ac:task-id>{id}</ac:task-id><ac:task-uuid>u-{id}</ac:task-uuid><ac:task-status>"
        'incomplete</ac:task-status><ac:task-body><span class="placeholder-inline-tasks">{text}'
        "</span></ac:task-body></ac:task>"
    )
    storage = (
        "<ac:task-list>\n"
        + task.format(id=1, text="a")
        + "\n"
        + task.format(id=2, text="b")
        + "\n</ac:task-list>"
    )
    pull = storage_to_markdown(storage)
    edited = pull.markdown.replace("- [ ]", "- [x]", 1) + "- [ ] c\n"
    out = markdown_to_storage(edited, sidecar=pull.sidecar).storage
    assert task.format(id=2, text="b") in out
    assert "<ac:task-id>1</ac:task-id>" in out and "complete" in out
    new = re.search(
        r"<ac:task-id>(\d+)</ac:task-id><ac:task-status>incomplete</ac:task-status>"
        r"<ac:task-body>c</ac:task-body>",
        out,
    )
    assert new and int(new.group(1)) > 2
    # The ticked task keeps its id, uuid and body bytes; only the state changed.
    assert task.format(id=1, text="a").replace(">incomplete<", ">complete<") in out


def test_table_row_edits_keep_table_markup_and_other_rows():
    storage = (
        '<table data-layout="wide"><colgroup><col style="width: 10px" /><col /></colgroup>'
        "<thead><tr><th><p>A</p></th><th><p>B</p></th></tr></thead><tbody>"
        '<tr local-id="r1"><td><p>1</p></td><td><p>2</p></td></tr>'
        '<tr local-id="r2"><td><p>3</p></td><td data-highlight-colour="red"><p>4</p></td></tr>'
        "</tbody></table>"
    )
    pull = storage_to_markdown(storage)
    assert pull.markdown == "| A | B |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n"
    edited = pull.markdown.replace("| 3 | 4 |", "| 3 | **four** |\n| 5 | 6 |")
    out = markdown_to_storage(edited, sidecar=pull.sidecar).storage
    assert out == storage.replace("<p>4</p>", "<p><strong>four</strong></p>").replace(
        "</tr></tbody>", "</tr><tr><td><p>5</p></td><td><p>6</p></td></tr></tbody>"
    )
    out = markdown_to_storage(pull.markdown.replace("| 1 | 2 |\n", ""), sidecar=pull.sidecar)
    assert '<tr local-id="r1">' not in out.storage and '<tr local-id="r2">' in out.storage
    assert out.storage.startswith('<table data-layout="wide"><colgroup>')


def test_rebuilt_paragraph_keeps_image_and_link_attributes():
    image = (
        '<ac:image ac:height="250" ac:align="center"><ri:attachment ri:filename="a.png" '
        'ri:version-at-save="3" /></ac:image>'
    )
    link = (
        '<ac:link><ri:page ri:content-title="Other" ri:version-at-save="2" />'
        "<ac:plain-text-link-body><![CDATA[other page]]></ac:plain-text-link-body></ac:link>"
    )
    storage = f"<p>See {image} and {link} now</p>"
    pull = storage_to_markdown(storage)
    assert pull.markdown == "See ![](attachments/a.png) and [other page](ac:Other) now\n"
    out = markdown_to_storage(pull.markdown.replace("now", "**now**"), sidecar=pull.sidecar)
    assert out.storage == f"<p>See {image} and {link} <strong>now</strong></p>"


def test_captioned_image_is_a_markdown_image_and_keeps_its_caption():
    image = (
        '<ac:image ac:align="center" ac:width="760"><ri:attachment ri:filename="shot.png" />'
        '<ac:caption><p>Login page</p></ac:caption><ac:adf-mark key="border" size="1" /></ac:image>'
    )
    storage = f"<p>Before</p>{image}<p>After</p>"
    pull = storage_to_markdown(storage)
    assert pull.markdown == 'Before\n\n![](attachments/shot.png "Login page")\n\nAfter\n'
    # Moving the image and editing text around it keeps the image's storage intact.
    edited = 'After all\n\n![](attachments/shot.png "Login page")\n\nBefore\n'
    out = markdown_to_storage(edited, sidecar=pull.sidecar).storage
    assert image in out


def test_editing_an_image_caption_or_alt_keeps_size_alignment_and_marks():
    image = (
        '<ac:image ac:align="center" ac:width="760"><ri:attachment ri:filename="shot.png" />'
        '<ac:caption><p>Login <em>page</em></p></ac:caption><ac:adf-mark key="border" size="1" />'
        "</ac:image>"
    )
    pull = storage_to_markdown(f"<p>Before</p>{image}<p>After</p>")
    assert '"Login page"' in pull.markdown
    recaptioned = markdown_to_storage(
        pull.markdown.replace("Login page", "Sign-in page"), sidecar=pull.sidecar
    ).storage
    assert (
        '<ac:image ac:align="center" ac:width="760"><ri:attachment ri:filename="shot.png" />'
        '<ac:caption><p>Sign-in page</p></ac:caption><ac:adf-mark key="border" size="1" />'
        "</ac:image>"
    ) in recaptioned
    # A new alt text leaves the caption's own markup alone.
    alt = markdown_to_storage(
        pull.markdown.replace("![]", "![The login form]"), sidecar=pull.sidecar
    ).storage
    assert (
        '<ac:image ac:alt="The login form" ac:align="center" ac:width="760">'
        '<ri:attachment ri:filename="shot.png" /><ac:caption><p>Login <em>page</em></p>'
        '</ac:caption><ac:adf-mark key="border" size="1" /></ac:image>'
    ) in alt
    # Removing the title removes the caption, nothing else.
    bare = markdown_to_storage(
        pull.markdown.replace(' "Login page"', ""), sidecar=pull.sidecar
    ).storage
    assert (
        '<ac:image ac:align="center" ac:width="760"><ri:attachment ri:filename="shot.png" />'
        '<ac:adf-mark key="border" size="1" /></ac:image>'
    ) in bare


def test_editing_an_image_title_keeps_its_border():
    pull = storage_to_markdown(
        '<p>A <ac:image ac:border="true" ac:title="T"><ri:url ri:value="https://x/y.png" />'
        "</ac:image> b.</p>"
    )
    out = markdown_to_storage(pull.markdown.replace('"T"', '"T2"'), sidecar=pull.sidecar)
    assert out.storage == (
        '<p>A <ac:image ac:title="T2" ac:border="true"><ri:url ri:value="https://x/y.png" />'
        "</ac:image> b.</p>"
    )


def test_deleting_commented_text_is_reported():
    storage = '<p>keep</p><p>see <ac:inline-comment-marker ac:ref="c-9">this</ac:inline-comment-marker></p>'
    pull = storage_to_markdown(storage)
    result = markdown_to_storage("keep\n", sidecar=pull.sidecar)
    assert result.storage == "<p>keep</p>"
    assert result.warnings == ["inline comment c-9 lost its anchor: the text it marked was deleted"]
    kept = markdown_to_storage(pull.markdown.replace("see", "look at"), sidecar=pull.sidecar)
    assert kept.warnings == []


@pytest.mark.parametrize(
    ("info", "params"),
    [
        (
            'py title="Run it" linenumbers=true',
            {"language": "py", "title": "Run it", "linenumbers": "true"},
        ),
        ("bash collapse title A b c", {"language": "bash", "collapse": "true", "title": "A b c"}),
        ("sql unknown words", {"language": "sql", "": "unknown words"}),
    ],
)
def test_fence_info_parameters_are_never_dropped(info, params):
    out = storage_of(f"```{info}\nselect 1\n```\n")
    found = dict(re.findall(r'<ac:parameter ac:name="([^"]*)">([^<]*)</ac:parameter>', out))
    assert found == params
    again = md_of(out)
    assert md_of(storage_of(again)) == again


def test_task_whose_body_starts_with_a_list_keeps_the_list():
    """Regression: such a task once rendered as an empty checkbox, dropping the list."""
    storage = (
        "<ac:task-list><ac:task><ac:task-id>1</ac:task-id><ac:task-status>complete"
        "</ac:task-status><ac:task-body><ul><li>alpha</li></ul></ac:task-body></ac:task>"
        "</ac:task-list>"
    )
    assert md_of(storage) == "- [x]\n  - alpha\n"
    assert md_of(storage_of(md_of(storage))) == "- [x]\n  - alpha\n"


def test_push_resolves_links_as_the_pull_did():
    """The page was renamed (or its file moved) since the pull: an edit next to the link
    must not turn the page link into a plain link to a Markdown file."""
    storage = (
        '<p>See <ac:link><ri:page ri:content-title="Other Page" /><ac:plain-text-link-body>'
        "<![CDATA[the other page]]></ac:plain-text-link-body></ac:link> now</p>"
    )
    pull = storage_to_markdown(storage, resolver=TitleResolver())
    assert pull.markdown == "See [the other page](../other-page.md) now\n"
    from syncd.convert import Sidecar

    sidecar = Sidecar.from_json(pull.sidecar.to_json())
    out = markdown_to_storage(
        pull.markdown.replace("now", "**now**"), sidecar=sidecar, resolver=DefaultResolver()
    )
    assert '<ri:page ri:content-title="Other Page" />' in out.storage
    assert "<strong>now</strong>" in out.storage


@pytest.mark.parametrize(
    "body", ["<hr />", "<table><tbody><tr><th>a</th></tr><tr><td>1</td></tr></tbody></table>"]
)
def test_alert_body_that_would_join_the_alert_line_is_set_apart(body):
    """Regression: a rule right under "> [!NOTE]" read back as a setext heading."""
    storage = f'<ac:structured-macro ac:name="info"><ac:rich-text-body>{body}</ac:rich-text-body></ac:structured-macro>'
    md = md_of(storage)
    assert md.startswith("> [!NOTE]\n>\n> ")
    assert md_of(storage_of(md)) == md
