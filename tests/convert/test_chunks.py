"""The pull's block boundaries: parsing only the uncertain units gives the whole parse's."""

from __future__ import annotations

import itertools

import pytest

from syncd.convert.blocks import project
from syncd.convert.chunks import split_chunks, split_parts

# Units after which a line at the first column is not a block of its own (an unclosed
# fence, HTML block or comment swallows it; a list takes the next list item), units that
# end cleanly, and the one-line units that are never parsed.
UNITS = [
    "```\nopen fence",
    "~~~\nopen tilde fence",
    "```python\nx = 1\n```",
    "<!-- open comment",
    "<pre>\nopen pre",
    "<div>\nhtml</div>",
    "- a\n- b",
    "- a\n\n  continued",
    "- ```\n  open fence in an item",
    "> ```\n> open fence in a quote",
    "1. one",
    "    indented code",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "Setext\n===",
    "[ref]: /url",
    "-",
    "Plain words",
    "# Heading",
    "<!--cf:0123abcd a marker-->",
    "x\r\ny",
]


def chunks(found):
    return [(c.first, c.last, c.text, c.kind) for c in found]


@pytest.mark.parametrize("size", [1, 2, 3])
def test_split_parts_equals_parsing_the_whole_text(size):
    for parts in itertools.product(UNITS, repeat=size):
        md = "\n\n".join(parts) + "\n"
        assert chunks(split_parts(list(parts), md)) == chunks(split_chunks(md)), parts


def test_pulled_block_map_matches_a_full_parse(corpus_bodies):
    for name, body in corpus_bodies.items():
        proj = project(body)
        assert chunks(proj.chunks) == chunks(split_chunks(proj.markdown)), name
