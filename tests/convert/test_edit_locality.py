"""Property: on the real pages of the corpus, a one-word edit in any kind of block changes
that block's text and nothing else (issue 14).

Any word a person can see and edit is tried, not only words the source holds verbatim, so
the edits that need a block rebuilt (escaped text, words beside markup, entities, no-break
spaces) are covered.  Bytes outside the edited block stay as they were; inside it, the
storage is canonically the original once the word is put back.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncd.convert import markdown_to_storage, storage_to_markdown, xmltree
from syncd.convert.blocks import Block, Projection

from .helpers import NEW_WORD, block_offset

# What a person does not edit as text: markup, markers, link targets and labels (a label
# edit gives the link a body of its own), code, entities, alert heads, table rules.
_NOT_TEXT = re.compile(
    r"(?m)^ *(`{3,}|~{3,}).*?^ *\1"  # fenced code (its info string carries parameters)
    r"|<span data-cf=[^>]*>.*?</span>|<!--.*?-->|<[^>]*>"
    r"|!?\[[^\]\n]*\]\((?:<[^>\n]*>|[^)\n]*)[^)\n]*\)"
    r"|`[^`\n]*`|&\w+;|\[![A-Z]+\]|\|[-:| ]+\||\\.",
    re.S,
)
_WORD = re.compile(r"(?<![\w\\])[A-Za-z]{4,}(?!\w)")


def _in_layout_cell(body: str, block: Block) -> bool:
    root = xmltree.parse(body)
    return any(
        n.kind == "el" and n.lname == "ac:layout-cell" and n.start < block.start < n.end
        for n in root.iter()
    )


KINDS = {
    "paragraph": lambda body, b: b.kind in ("p", "inline"),
    "list item": lambda body, b: b.kind in ("ul", "ol"),
    "table cell": lambda body, b: b.kind == "table" and b.md.startswith("|"),
    "heading": lambda body, b: bool(re.fullmatch(r"h[1-6]", b.kind)),
    "panel": lambda body, b: b.kind in ("macro:info", "macro:tip", "macro:note", "macro:warning"),
    "expand title": lambda body, b: b.kind == "expand-open",
    "task": lambda body, b: b.kind == "tasks",
    "layout cell": lambda body, b: b.kind in ("p", "inline") and _in_layout_cell(body, b),
}


def _words(block: Block) -> list[tuple[int, str]]:
    """(offset in the block's Markdown, word) of each word shown as plain text."""
    masked = _NOT_TEXT.sub(lambda m: "\0" * len(m.group(0)), block.md)
    return [(m.start(), m.group(0)) for m in _WORD.finditer(masked)]


def _canonical(storage: str) -> list:
    """Elements, attributes and text; whitespace runs count as one space (as HTML reads
    them) and whitespace between tags is ignored."""

    def walk(node) -> list:
        out: list = []
        for c in node.children:
            if c.kind == "el":
                out.append((c.lname, tuple(sorted(c.attrs.items())), tuple(walk(c))))
            elif c.kind in ("text", "cdata"):
                text = re.sub(r"[ \t\r\n]+", " ", xmltree.text_content(storage, c))
                if text.strip(" "):
                    if out and isinstance(out[-1], str):
                        out[-1] = re.sub(r" +", " ", out[-1] + text)
                    else:
                        out.append(text)
        return [t.strip(" ") if isinstance(t, str) else t for t in out]

    return walk(xmltree.parse(storage))


@pytest.fixture(scope="module")
def candidates(corpus_bodies, corpus_projections) -> dict[str, list[tuple[str, Projection, Block]]]:
    found: dict[str, list] = {kind: [] for kind in KINDS}
    for name, body in corpus_bodies.items():
        proj = corpus_projections[name]
        for block in proj.blocks:
            if not _words(block):
                continue
            for kind, pred in KINDS.items():
                if pred(body, block):
                    found[kind].append((name, proj, block))
    return found


def test_every_block_kind_has_corpus_blocks(candidates):
    assert {kind: len(c) >= 2 for kind, c in candidates.items()} == dict.fromkeys(KINDS, True)


@settings(
    max_examples=160,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_an_edit_changes_only_its_block(candidates, corpus_pulls, project_pulled_once, data):
    project_pulled_once(corpus_pulls)
    kind = data.draw(st.sampled_from(sorted(KINDS)), label="kind")
    name, proj, block = data.draw(st.sampled_from(candidates[kind]), label="block")
    at, word = data.draw(st.sampled_from(_words(block)), label="word")
    pull = corpus_pulls[name]
    body = proj.body
    offset = block_offset(proj, block) + at
    assert pull.markdown[offset : offset + len(word)] == word
    edited = pull.markdown[:offset] + NEW_WORD + pull.markdown[offset + len(word) :]

    out = markdown_to_storage(edited, sidecar=pull.sidecar).storage
    assert out is not None and out.count(NEW_WORD) == 1
    # Bytes before and after the block are untouched.
    tail = len(body) - block.end
    assert out[: block.start] == body[: block.start]
    assert out[len(out) - tail :] == body[block.end :]
    # Inside it, only the word changed.
    changed = out[block.start : len(out) - tail]
    original = body[block.start : block.end]
    assert _canonical(changed.replace(NEW_WORD, word)) == _canonical(original), (name, kind)
    # And the page reads back as the edit.
    again = storage_to_markdown(out).markdown
    assert again == edited or (NEW_WORD in again and _same_meaning(again, edited)), (name, kind)


def _same_meaning(a: str, b: str) -> bool:
    from syncd.convert.chunks import to_html

    return to_html(a) == to_html(b)
