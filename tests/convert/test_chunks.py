"""The pull's block boundaries: parsing only the uncertain units gives the whole parse's."""

from __future__ import annotations

import itertools
import random

from syncd.convert.blocks import project
from syncd.convert.chunks import split_chunks, split_parts

# Units after which a line at the first column is not a block of its own (an unclosed
# fence, HTML block or comment swallows it; a list takes the next list item), units that
# end cleanly, units that look certain but are not, and the certain units never parsed.
UNITS = [
    "```\nopen fence",
    "~~~\nopen tilde fence",
    "```python\nx = 1\n```",
    "````\n```\n````",
    "```\n````\na longer fence line closes it early\n```",
    "```a`b\nnot a fence\n```",
    "<!-- open comment",
    "<pre>\nopen pre",
    "<div>\nhtml</div>",
    "- a\n- b",
    "- a\n\n  continued",
    "- ```\n  open fence in an item",
    "> ```\n> open fence in a quote",
    "1. one",
    "1. one\n2. two\n\n   more of two\n10. ten\n    - nested",
    "- a\n  - b\n\n    ```\n    open fence in an item\n- c",
    "- a\n- - -",
    "- a\n1. b",
    "* a\n* b",
    "- a\n continued by one space",
    "- a\n\tcontinued after a tab",
    "- a\nlazy continuation",
    "-  two spaces",
    "1) one",
    "",
    "\n".join("  " * i + "- deeper than the parser nests" for i in range(12)),
    "\n".join("> " * i + "- deep" for i in range(1, 12)),
    "- " * 12 + "deep on one line",
    "    indented code",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "Setext\n===",
    "[ref]: /url",
    "-",
    "> [!NOTE]\n> ```\n> open fence in an alert",
    "> a\n>> b\n> c",
    "<span>x</span> text",
    "<br />",
    "<p/x",
    "Plain words",
    "![image](attachments/a.png)",
    "| one | line |",
    "\\- escaped",
    "&nbsp;",
    "\u00a0no-break space first",
    "한국어 문단",
    "=",
    "# Heading",
    "---",
    "<!--cf:0123abcd a marker-->",
    "</details>",
    "<DIV class='x'>",
    "<table>\n<tr>\n<td>\n- cell\n</td>\n</tr>\n</table>",
    "<div>\n \nspace-only line",
    "x\r\ny",
]


def chunks(found):
    return [(c.first, c.last, c.text, c.kind) for c in found]


def sequences():
    """Every pair of units, and a fixed sample of longer sequences."""
    yield from itertools.product(UNITS, repeat=2)
    # A list is certain only if nothing after it can continue it, even past an empty unit.
    yield ("# Title", "- a", "", "- b")
    yield ("# Title", "1. a", "", "   more of a")
    rng = random.Random(13)
    for _ in range(400):
        yield tuple(rng.choice(UNITS) for _ in range(rng.randint(3, 6)))


def test_split_parts_equals_parsing_the_whole_text():
    for parts in sequences():
        md = "\n\n".join(parts) + "\n"
        assert chunks(split_parts(list(parts), md)) == chunks(split_chunks(md)), parts


def test_pulled_block_map_matches_a_full_parse(corpus_bodies):
    for name, body in corpus_bodies.items():
        proj = project(body)
        assert chunks(proj.chunks) == chunks(split_chunks(proj.markdown)), name
