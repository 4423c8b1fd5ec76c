"""Line breaks in paragraph text survive both ways (issue 14): a paragraph the user wrapped,
or a line appended under a paragraph, reads back exactly as typed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.convert import markdown_to_storage, storage_to_markdown
from syncd.convert.chunks import md_parser

WRAPPED = """# Notes

A paragraph hard-wrapped
at eighty columns, as an editor
with textwidth=80 writes it.

- an item
  with a second line
- [link](https://example.com/a) then
  **bold** on the next line

> [!NOTE]
> a panel line
> and another

- [ ] a task
  that wraps
"""


def test_wrapped_markdown_pushes_and_reads_back_as_typed():
    storage = markdown_to_storage(WRAPPED, sidecar=None).storage
    assert "<p>A paragraph hard-wrapped\nat eighty columns" in storage
    assert storage_to_markdown(storage).markdown == WRAPPED


@pytest.mark.parametrize(
    ("storage", "markdown"),
    [
        ("<p>one\ntwo</p>", "one\ntwo\n"),
        # Indentation of pretty-printed storage is not part of the line.
        ("<p>\n    one\n    two\n</p>", "one\ntwo\n"),
        ("<ul><li><p>one\ntwo</p></li></ul>", "- one\n  two\n"),
        ("<p>one\r\ntwo</p>", "one\ntwo\n"),
        # Breaks stay only in the paragraph's own text: not in headings, cells or markup.
        ("<h2>one\ntwo</h2>", "## one two\n"),
        ("<table><tbody><tr><th>a\nb</th></tr></tbody></table>", "| a b |\n|---|\n"),
        ("<p><strong>one\ntwo</strong></p>", "**one two**\n"),
    ],
)
def test_storage_line_breaks_are_markdown_soft_breaks(storage, markdown):
    assert storage_to_markdown(storage).markdown == markdown


@pytest.mark.parametrize(
    ("storage", "markdown"),
    [
        # A line that would start a block is escaped, so the paragraph stays one.
        (
            "<p>total\n- not a list\n# not a heading\n&gt; not a quote</p>",
            "total\n\\- not a list\n\\# not a heading\n\\> not a quote\n",
        ),
        ("<p>one\n1. two\n===</p>", "one\n1\\. two\n\\===\n"),
        # Where escaping cannot help (a table's delimiter row, a thematic break), the
        # lines are joined as before.
        ("<p>a|b\n--|--</p>", "a|b --|--\n"),
        ("<p>x\n-- -</p>", "x -- -\n"),
        (
            '<p>x\n<ac:inline-comment-marker ac:ref="r1">y</ac:inline-comment-marker></p>',
            "x <!--cm:r1-->y<!--/cm-->\n",
        ),
    ],
)
def test_a_break_never_starts_a_block(storage, markdown):
    md = storage_to_markdown(storage).markdown
    assert md == markdown
    assert [t.type for t in md_parser().parse(md)] == [
        "paragraph_open",
        "inline",
        "paragraph_close",
    ]


def test_appending_a_line_under_a_paragraph_patches_only_that_paragraph():
    body = '<h1>T</h1>\n<p class="x">first line</p>\n<p>other &amp; untouched</p>'
    pull = storage_to_markdown(body)
    edited = pull.markdown.replace("first line\n", "first line\nsecond line\n")
    out = markdown_to_storage(edited, sidecar=pull.sidecar).storage
    assert out == body.replace("first line", "first line\nsecond line")
    assert storage_to_markdown(out).markdown == edited


def test_a_word_edit_in_a_wrapped_paragraph_is_a_patch():
    body = "<p>alpha beta\n  gamma &amp; delta\n  epsilon</p>"
    pull = storage_to_markdown(body)
    assert pull.markdown == "alpha beta\ngamma & delta\nepsilon\n"
    out = markdown_to_storage(pull.markdown.replace("gamma", "GAMMA"), sidecar=pull.sidecar)
    assert out.storage == body.replace("gamma", "GAMMA")


def test_no_break_spaces_are_kept_where_markdown_would_drop_them():
    body = "<p>\u00a0a\u00a0b <em>c\u00a0</em>\u00a0d\u00a0</p>"
    md = storage_to_markdown(body).markdown
    # Between two words: as typed; at an end or before a closing delimiter: &nbsp;.
    assert md == "&nbsp;a\u00a0b *c&nbsp;*\u00a0d&nbsp;\n"
    # Written back (as &nbsp;, how new text is written), every one of them is still there.
    again = storage_to_markdown(markdown_to_storage(md, sidecar=None).storage).markdown
    assert again == "&nbsp;a&nbsp;b *c&nbsp;*&nbsp;d&nbsp;\n"


LINE_STARTS = [
    "- ",
    "+ ",
    "* ",
    "# ",
    "> ",
    "1. ",
    "2) ",
    "=",
    "---",
    "| a |",
    ":--",
    "```",
    "~~~",
    "<div>",
    "<!-- c -->",
    "    ",
    "word",
    "&amp;",
    "\u00a0",
    "_x_",
    "|",
]


@settings(max_examples=120, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(LINE_STARTS), st.sampled_from(["", "text", " x"])),
        min_size=2,
        max_size=5,
    )
)
def test_paragraph_lines_read_back_stable(lines):
    """Whatever a line of storage text starts with, the page reads back as one paragraph
    and pushing the pulled Markdown gives storage that pulls to the same Markdown."""
    from html import escape

    text = "\n".join(escape(a + b, quote=False) for a, b in lines)
    storage = f"<p>lead {text}</p>"
    md = storage_to_markdown(storage).markdown
    assert [t.type for t in md_parser().parse(md)] == [
        "paragraph_open",
        "inline",
        "paragraph_close",
    ]
    again = markdown_to_storage(md, sidecar=None).storage
    assert storage_to_markdown(again).markdown == md
