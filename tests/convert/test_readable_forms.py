"""Readable Markdown forms of Confluence constructs (issue 14), each pushed back exactly."""

from __future__ import annotations

import re
from typing import ClassVar

from syncd.convert import markdown_to_storage, storage_to_markdown
from syncd.convert.model import DefaultResolver


class Names(DefaultResolver):
    """A resolver that knows two users and the ASF Jira server."""

    users: ClassVar[dict[tuple[str, str], str]] = {
        ("account-id", "712020:9f8e"): "Ada Lovelace",
        ("userkey", "8a7f"): "Grace Hopper",
    }

    def user_name(self, kind, value):
        return self.users.get((kind, value))

    def jira_url(self, server_name, server_id):
        return "https://issues.apache.org/jira" if server_name == "ASF JIRA" else None


def pull(storage: str, resolver=None):
    return storage_to_markdown(storage, resolver=resolver or Names())


def push(result, markdown: str, resolver=None) -> str | None:
    return markdown_to_storage(
        markdown, sidecar=result.sidecar, resolver=resolver or Names()
    ).storage


MENTIONS = (
    '<p>By <ac:link><ri:user ri:account-id="712020:9f8e" /></ac:link>, '
    '<ac:link><ri:user ri:userkey="8a7f" /></ac:link> and '
    '<ac:link><ri:user ri:account-id="557058:aa11-bb22" /></ac:link> and '
    '<ac:link><ri:user ri:account-id="557058:cc33-dd44" /></ac:link> today</p>'
)


def test_mentions_read_as_display_names_and_go_back_exactly():
    result = pull(MENTIONS)
    assert result.markdown == (
        "By [@Ada Lovelace](confluence-user:712020:9f8e), "
        "[@Grace Hopper](confluence-user:userkey=8a7f) and "
        "[@user-aa11bb](confluence-user:557058:aa11-bb22) and "
        "[@user-cc33dd](confluence-user:557058:cc33-dd44) today\n"
    )
    # An edit elsewhere in the paragraph (a rebuild, not an in-place patch) keeps them.
    out = push(result, result.markdown.replace("today", "**today**"))
    assert out == MENTIONS.replace("today", "<strong>today</strong>")


def test_a_user_renamed_between_pull_and_push_is_not_an_edit():
    result = pull(MENTIONS)

    class Renamed(Names):
        users: ClassVar[dict[tuple[str, str], str]] = {("account-id", "712020:9f8e"): "Ada King"}

    out = push(result, result.markdown.replace("today", "**today**"), Renamed())
    assert out == MENTIONS.replace("today", "<strong>today</strong>")


def test_a_new_mention_written_with_the_shown_name_has_no_link_body():
    out = markdown_to_storage(
        "Ask [@Ada Lovelace](confluence-user:712020:9f8e)\n", sidecar=None, resolver=Names()
    ).storage
    assert out == '<p>Ask <ac:link><ri:user ri:account-id="712020:9f8e" /></ac:link></p>'


JIRA_KEY = (
    '<ac:structured-macro ac:name="jira" ac:schema-version="1" ac:macro-id="m1">'
    '<ac:parameter ac:name="server">ASF JIRA</ac:parameter>'
    '<ac:parameter ac:name="serverId">5aa69414-a9e9-3523-82ec-879b028fb15b</ac:parameter>'
    '<ac:parameter ac:name="key">KAFKA-4617</ac:parameter></ac:structured-macro>'
)
JQL = (
    '<ac:structured-macro ac:name="jira" ac:schema-version="1">'
    '<ac:parameter ac:name="server">ASF JIRA</ac:parameter>'
    '<ac:parameter ac:name="columns">key,summary,status,updated</ac:parameter>'
    '<ac:parameter ac:name="jqlQuery">project = KAFKA AND status = Open</ac:parameter>'
    "</ac:structured-macro>"
)


def test_jira_issue_is_a_link_to_it_and_a_query_a_marker_showing_the_jql():
    storage = f"<p>Fixed in {JIRA_KEY} last week.</p><p>{JQL}</p>"
    result = pull(storage)
    lines = result.markdown.split("\n")
    assert lines[0] == (
        "Fixed in [KAFKA-4617](https://issues.apache.org/jira/browse/KAFKA-4617) last week."
    )
    assert re.fullmatch(
        r"<!--cf:[0-9a-f]{8} Jira issues: project = KAFKA AND status = Open-->", lines[2]
    )
    out = push(result, result.markdown.replace("last week", "*last* week"))
    assert out == storage.replace("last week", "<em>last</em> week")
    # Without the server's URL the key alone is shown.
    plain = storage_to_markdown(storage).markdown
    assert re.match(r'Fixed in <span data-cf="[0-9a-f]{8}">KAFKA-4617</span> last week', plain)


def test_anchor_in_a_heading_is_invisible_and_kept():
    anchor = (
        '<ac:structured-macro ac:name="anchor" ac:schema-version="1">'
        '<ac:parameter ac:name="">post-batch</ac:parameter></ac:structured-macro>'
    )
    storage = f"<h2>{anchor}POST /batches</h2>"
    result = pull(storage)
    assert result.markdown == '## <a name="post-batch"></a>POST /batches\n'
    out = push(result, '## <a name="post-batch"></a>POST /batches (v2)\n')
    assert out == storage.replace("</h2>", " (v2)</h2>")
    new = markdown_to_storage('Go <a name="here"></a>on\n', sidecar=None).storage
    assert '<ac:parameter ac:name="">here</ac:parameter>' in new


def test_toc_children_include_are_one_marker_line_each():
    storage = (
        '<p><ac:structured-macro ac:name="toc"><ac:parameter ac:name="maxLevel">3'
        "</ac:parameter></ac:structured-macro></p>"
        '<ac:structured-macro ac:name="children" />'
        '<ac:structured-macro ac:name="include"><ac:parameter ac:name="">'
        '<ac:link><ri:page ri:content-title="Shared intro" /></ac:link></ac:parameter>'
        "</ac:structured-macro><p>end</p>"
    )
    result = pull(storage)
    labels = re.findall(r"<!--cf:[0-9a-f]{8} (.*?)-->", result.markdown)
    assert labels == ["table of contents", "child pages", "include: Shared intro"]
    assert push(result, result.markdown.replace("end", "the end")) == storage.replace(
        "end</p>", "the end</p>"
    )


def test_date_shows_its_text_and_editing_the_text_moves_the_date():
    storage = '<p>Due <time datetime="2026-10-06" /> for all</p>'
    result = pull(storage)
    assert result.markdown == 'Due <time datetime="2026-10-06">2026-10-06</time> for all\n'
    out = push(result, result.markdown.replace(">2026-10-06<", ">2026-11-07<"))
    assert out == '<p>Due <time datetime="2026-11-07" /> for all</p>'
    out = push(result, result.markdown.replace("for all", "for **all**"))
    assert out == '<p>Due <time datetime="2026-10-06" /> for <strong>all</strong></p>'


def test_smart_links_read_as_links_and_keep_their_card():
    card = '<a href="https://example.com/x" data-card-appearance="inline">https://example.com/x</a>'
    page = (
        '<ac:link ac:card-appearance="inline"><ri:page ri:content-title="Guide" />'
        "<ac:link-body>Guide</ac:link-body></ac:link>"
    )
    storage = f"<p>See {card} and {page} now</p>"
    result = pull(storage)
    assert (
        result.markdown
        == "See [https://example.com/x](https://example.com/x) and [Guide](ac:Guide) now\n"
    )
    out = push(result, result.markdown.replace("now", "*now*"))
    assert out == storage.replace("now", "<em>now</em>")


def test_emoticons_read_as_their_emoji():
    storage = '<p>ok <ac:emoticon ac:name="tick" /> and <ac:emoticon ac:name="smile" /></p>'
    md = pull(storage).markdown
    assert re.fullmatch(
        r'ok <span data-cf="\w{8}">✅</span> and <span data-cf="\w{8}">🙂</span>\n', md
    )


MERGED = (
    '<table><tbody><tr><th colspan="2">Owners</th></tr>'
    '<tr><td><p>Ingest</p></td><td><p>By <ac:link><ri:user ri:account-id="712020:9f8e" />'
    "</ac:link></p><ul><li>pager</li></ul></td></tr>"
    '<tr><td><p>Query</p></td><td><ac:structured-macro ac:name="status">'
    '<ac:parameter ac:name="title">LIVE</ac:parameter></ac:structured-macro></td></tr>'
    "</tbody></table>"
)


def test_tables_markdown_cannot_hold_are_one_row_and_one_cell_per_line():
    result = pull(MERGED)
    lines = result.markdown.rstrip("\n").split("\n")
    assert lines[:4] == ["<table>", "<tbody>", "<tr>", '<th colspan="2">Owners</th>']
    assert "<td><p>Ingest</p></td>" in lines
    assert not re.search(r"<(ac|ri):", result.markdown)
    assert re.search(r'<span data-cf="\w{8}">@Ada Lovelace</span>', result.markdown)
    assert re.search(r'<span data-cf="\w{8}">LIVE</span>', result.markdown)
    # A one-cell edit is a one-line diff, and only that text changes in storage.
    edited = result.markdown.replace("<td><p>Ingest</p></td>", "<td><p>Ingestion</p></td>")
    assert (
        sum(a != b for a, b in zip(result.markdown.split("\n"), edited.split("\n"), strict=True))
        == 1
    )
    assert push(result, edited) == MERGED.replace("Ingest<", "Ingestion<")
    # A new row written by hand keeps every marker's storage.
    row = "<tr>\n<td><p>Store</p></td>\n<td><p>none</p></td>\n</tr>\n</tbody>"
    out = push(result, result.markdown.replace("</tbody>", row))
    assert '<ri:user ri:account-id="712020:9f8e" />' in out and "<p>Store</p>" in out
    assert storage_to_markdown(out, resolver=Names()).markdown.count("<tr>") == 4


def test_task_lists_inside_a_paragraph_and_a_cell_stay_editable():
    tasks = (
        "<ac:task-list><ac:task><ac:task-id>7</ac:task-id><ac:task-status>incomplete"
        "</ac:task-status><ac:task-body>Write notes</ac:task-body></ac:task></ac:task-list>"
    )
    storage = f"<p>Todo{tasks}</p><table><tbody><tr><td>{tasks}</td><td>x</td></tr></tbody></table>"
    result = pull(storage)
    assert result.markdown.startswith("Todo\n\n- [ ] Write notes\n")
    assert re.search(r"<!--cf:\w{8} \[ \]-->Write notes<!--cf:\w{8} /task-->", result.markdown)
    ticked = result.markdown.replace("- [ ] Write notes", "- [x] Write notes")
    assert push(result, ticked) == storage.replace("incomplete", "complete", 1)
    renamed = result.markdown.replace("-->Write notes<", "-->Write the notes<")
    out = push(result, renamed)
    assert out == storage[::-1].replace("Write notes"[::-1], "Write the notes"[::-1], 1)[::-1]


def test_pre_code_is_a_fence_with_its_language():
    storage = '<pre><code class="language-python">if a &lt; b:\n    pass</code></pre>'
    result = pull(storage)
    assert result.markdown == "```python\nif a < b:\n    pass\n```\n"
    out = push(result, result.markdown.replace("pass", "return"))
    assert out == storage.replace("pass", "return")


def test_a_rich_body_macro_inside_a_paragraph_or_list_keeps_its_body_editable():
    excerpt = (
        '<p><ac:structured-macro ac:name="excerpt"><ac:parameter ac:name="hidden">true'
        "</ac:parameter><ac:rich-text-body><p>Summary text here</p></ac:rich-text-body>"
        "</ac:structured-macro></p><p>after</p>"
    )
    result = pull(excerpt)
    assert re.fullmatch(
        r"<!--cf:\w{8} excerpt-->\n\nSummary text here\n\n<!--cf:\w{8} /excerpt-->\n\nafter\n",
        result.markdown,
    )
    out = push(result, result.markdown.replace("Summary", "Short summary"))
    assert out == excerpt.replace("Summary", "Short summary")
    details = (
        '<ul><li>item<ac:structured-macro ac:name="details"><ac:rich-text-body>'
        "<p>Owner: Ada</p></ac:rich-text-body></ac:structured-macro></li></ul>"
    )
    md = pull(details).markdown
    assert "page properties-->" in md and "  Owner: Ada\n" in md


class Pages(Names):
    """Names, and one synced page with its file."""

    def page_path(self, title, space_key=None, page_id=None):
        return "../Guides/Setup Guide.md" if (title, space_key) == ("Setup Guide", None) else None

    def page_for_path(self, path):
        return ("Setup Guide", None) if path == "../Guides/Setup Guide.md" else None


SETUP = (
    '<ac:link><ri:page ri:content-title="Setup Guide" ri:version-at-save="3" />'
    "<ac:plain-text-link-body><![CDATA[the setup & more]]></ac:plain-text-link-body></ac:link>"
)
LINKED = (
    '<table><tbody><tr><th colspan="2">Links</th></tr>'
    f"<tr><td>See {SETUP} first</td>"
    '<td><ac:link><ri:attachment ri:filename="report.pdf" /></ac:link></td></tr>'
    '<tr><td><ac:link ac:anchor="Limits"><ri:page ri:content-title="Quotas" />'
    "<ac:link-body><strong>limits</strong></ac:link-body></ac:link></td>"
    '<td><a href="https://example.com/?a=1&amp;b=2">Example</a> and '
    '<ac:link><ri:url ri:value="https://ext.example.org/" /><ac:plain-text-link-body>'
    "<![CDATA[ext]]></ac:plain-text-link-body></ac:link></td></tr>"
    f"<tr><td>Again: {SETUP}</td><td>"
    '<ac:link><ri:user ri:account-id="712020:9f8e" /></ac:link></td></tr>'
    "</tbody></table>"
)
SETUP_A = '<a href="../Guides/Setup Guide.md">the setup &amp; more</a>'


def test_links_in_a_table_markdown_cannot_hold_are_clickable_anchors():
    """Regression: links in HTML tables were span markers, not links."""
    result = pull(LINKED, Pages())
    lines = result.markdown.split("\n")
    assert f"<td>See {SETUP_A} first</td>" in lines
    assert '<td><a href="attachments/report.pdf">report.pdf</a></td>' in lines
    assert '<td><a href="ac:Quotas#Limits"><strong>limits</strong></a></td>' in lines
    assert (
        '<td><a href="https://example.com/?a=1&amp;b=2">Example</a> and '
        '<a href="https://ext.example.org/">ext</a></td>'
    ) in lines
    assert re.search(r'<td><span data-cf="\w{8}">@Ada Lovelace</span></td>', result.markdown)
    # Unchanged: nothing to push; a word edited beside the links: only that word changes.
    assert push(result, result.markdown, Pages()) is None
    edited = result.markdown.replace(" first</td>", " first of all</td>")
    assert push(result, edited, Pages()) == LINKED.replace(" first</td>", " first of all</td>")
    # A link whose text spans lines stays a marker, and the words after it stay editable.
    lines_link = (
        '<ac:link><ri:page ri:content-title="P" /><ac:link-body>two\nlines</ac:link-body></ac:link>'
    )
    storage = f'<table><tbody><tr><th colspan="2">H</th></tr><tr><td>{lines_link} after</td>'
    storage += "<td>text</td></tr></tbody></table>"
    result = pull(storage)
    assert re.search(r'<td><span data-cf="\w{8}">two lines</span> after</td>', result.markdown)
    edited = result.markdown.replace(" after<", " later<").replace(">text<", ">texts<")
    assert push(result, edited) == storage.replace(" after<", " later<").replace(
        ">text<", ">texts<"
    )


def test_an_edited_link_in_an_html_table_changes_that_link_only():
    result = pull(LINKED, Pages())
    # The text of the second of two identical links.
    renamed = result.markdown.replace(
        f"Again: {SETUP_A}", 'Again: <a href="../Guides/Setup Guide.md">setup</a>'
    )
    again = '<ac:link><ri:page ri:content-title="Setup Guide" /><ac:plain-text-link-body>'
    again += "<![CDATA[setup]]></ac:plain-text-link-body></ac:link>"
    out = push(result, renamed, Pages())
    assert out == LINKED[::-1].replace(SETUP[::-1], again[::-1], 1)[::-1]
    assert pull(out, Pages()).markdown == renamed
    # Targets: an attachment link to another page (not synced), a link to an anchor of
    # another page to one of this page.
    retargeted = result.markdown.replace('href="attachments/report.pdf"', 'href="ac:Budget"')
    retargeted = retargeted.replace('href="ac:Quotas#Limits"', 'href="#Limits"')
    out = push(result, retargeted, Pages())
    assert out == LINKED.replace(
        '<ri:attachment ri:filename="report.pdf" />',
        '<ri:page ri:content-title="Budget" /><ac:plain-text-link-body><![CDATA[report.pdf]]>'
        "</ac:plain-text-link-body>",
    ).replace('<ri:page ri:content-title="Quotas" />', "")
    assert pull(out, Pages()).markdown == retargeted
    # A new row written by hand: the links already there keep their storage.
    row = f'<tr>\n<td><a href="ac:Budget">budget</a></td>\n<td>{SETUP_A}</td>\n</tr>\n</tbody>'
    out = push(result, result.markdown.replace("</tbody>", row), Pages())
    assert (
        out.count(SETUP) == 3 and out.count('<ri:url ri:value="https://ext.example.org/" />') == 1
    )
    assert '<ac:link><ri:page ri:content-title="Budget" /><ac:plain-text-link-body>' in out


def test_a_table_pulled_when_its_links_were_span_markers_still_pushes():
    """A file pulled by an older syncd (links in HTML tables as span markers), edited
    beside a link: the markers read as the links the table shows now."""
    from syncd.convert.model import Sidecar
    from syncd.convert.pull import fragment_key

    result = pull(LINKED, Pages())
    old = result.markdown.replace(SETUP_A, f'<span data-cf="{fragment_key(SETUP)}">x</span>')
    sidecar = Sidecar(LINKED, old, result.sidecar.blocks, result.sidecar.links)
    edited = old.replace(" first</td>", " first of all</td>")
    out = markdown_to_storage(edited, sidecar=sidecar, resolver=Pages()).storage
    assert out == LINKED.replace(" first</td>", " first of all</td>")
