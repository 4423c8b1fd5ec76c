"""Malformed bodies never crash the converter and never lose text."""

from __future__ import annotations

import re

import pytest

from syncd.convert import ConversionRefused, markdown_to_storage, storage_to_markdown
from syncd.convert.blocks import project

MALFORMED = {
    "unclosed paragraph": "<p>first paragraph<p>second <strong>bold",
    "named entities": "<p>caf&eacute; &mdash; &nbsp;&hellip; &rsquo;quoted&rsquo; &copy;</p>",
    "unknown entity": "<p>AT&T &bogus; &#99999999; text</p>",
    "stray end tags": "</div><p>kept text</p></span></p>more text",
    "stray cdata": "<p>before</p><![CDATA[raw <b>cdata</b> text]]><p>after</p>",
    "unterminated cdata": '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[x = 1',
    "legacy macro": (
        '<ac:macro ac:name="code"><ac:default-parameter>java</ac:default-parameter>'
        "<ac:plain-text-body><![CDATA[class Legacy {}]]></ac:plain-text-body></ac:macro>"
        '<ac:macro ac:name="info"><ac:rich-text-body><p>legacy info</p></ac:rich-text-body>'
        "</ac:macro>"
    ),
    "lone angle brackets": "<p>a < b and c > d and <3 love</p>",
    "unclosed comment": "<p>text</p><!-- never closed <p>hidden words</p>",
    "attributes without quotes": "<p class=x data-y=1>unquoted attributes</p>",
    "text at top level": "loose text <em>with emphasis</em> and no paragraph",
    "sentinel characters": "<p>private \ue000use\ue001 characters</p>",
    "control characters": "<p>bell\x07 and \x0b vertical tab</p>",
    "deep nesting": "<ul>" * 40 + "<li>deep item" + "</li></ul>" * 40,
    "empty": "",
    "whitespace only": "  \n\t ",
    "truncated tag": '<p>cut off <a href="x',
    "processing instruction": '<?xml version="1.0"?><p>after declaration</p>',
}


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{3,}", text)


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_body_is_kept(name):
    body = MALFORMED[name]
    pull = storage_to_markdown(body)
    assert pull.sidecar.reassemble() == body
    assert markdown_to_storage(pull.markdown, sidecar=pull.sidecar).storage is None
    proj = project(body)
    shown = pull.markdown + "".join(proj.fragments.values())
    for word in _words(re.sub(r"<!\[CDATA\[|<[^>]*>|&\w+;", " ", body)):
        assert word in shown, word


@pytest.mark.parametrize("name", ["named entities", "stray end tags", "legacy macro"])
def test_malformed_body_can_still_be_edited(name):
    body = MALFORMED[name]
    pull = storage_to_markdown(body)
    edited = pull.markdown + "\nAn added paragraph.\n"
    out = markdown_to_storage(edited, sidecar=pull.sidecar).storage
    assert out is not None
    assert out.startswith(body)
    assert "An added paragraph." in storage_to_markdown(out).markdown


def test_named_entities_read_as_characters_and_stay_entities():
    body = "<p>caf&eacute; &mdash; x&nbsp;y</p>"
    md = storage_to_markdown(body).markdown
    assert "café — x&nbsp;y" in md


def test_edit_after_an_unclosed_element_is_refused_not_swallowed():
    """New text appended after an unclosed <strong> would end up inside it: refuse instead."""
    body = MALFORMED["unclosed paragraph"]
    pull = storage_to_markdown(body)
    with pytest.raises(ConversionRefused):
        markdown_to_storage(pull.markdown + "\nAn added paragraph.\n", sidecar=pull.sidecar)


def test_pathologically_deep_body_is_kept_whole():
    body = "<span>" * 3000 + "deep text"
    pull = storage_to_markdown(body)
    assert pull.markdown.startswith("<!--cf:")
    assert pull.sidecar.reassemble() == body
    assert markdown_to_storage(pull.markdown, sidecar=pull.sidecar).storage is None
    assert "deep text" in project(body).fragments[pull.markdown[7:15]]


def test_quote_after_a_list_marker_in_new_content():
    """Regression: "* > text" once recursed without end."""
    out = markdown_to_storage("* > [!WARNING]\n> Warning\n", sidecar=None).storage
    assert "<blockquote>" in out or 'ac:name="note"' in out
