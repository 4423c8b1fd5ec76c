"""Helpers shared by the converter tests."""

from __future__ import annotations

import re
from pathlib import Path

from syncd.convert.blocks import Block, Projection, project

WORD = re.compile(r"[A-Za-z]{4,}")
NEW_WORD = "Zqxjv"


def corpus_bodies(corpus_dir: Path) -> list[Path]:
    return sorted(corpus_dir.glob("*.xml"))


def block_offset(proj: Projection, block: Block) -> int:
    lines = proj.markdown.split("\n")
    return sum(len(line) + 1 for line in lines[: block.first_line])


def editable_word(proj: Projection, block: Block) -> tuple[int, str] | None:
    """(offset in the whole Markdown, word) of a word the source holds verbatim."""
    base = block_offset(proj, block)
    for run in block.runs:
        text = block.md[run.md : run.md + run.length]
        for m in WORD.finditer(text):
            word = m.group(0)
            # The word must stand alone in the source so that replacing it back is exact.
            if proj.body.count(word) >= 1 and NEW_WORD not in proj.body:
                return base + run.md + m.start(), word
    return None


def replace_word(markdown: str, offset: int, word: str, new: str = NEW_WORD) -> str:
    assert markdown[offset : offset + len(word)] == word
    return markdown[:offset] + new + markdown[offset + len(word) :]


def blocks_of(storage: str, kinds) -> list[tuple[Projection, Block]]:
    proj = project(storage)
    return [(proj, b) for b in proj.blocks if kinds(b)]


def canonical(storage: str) -> list:
    """Canonical form for comparison: element names, attributes as a set, decoded text
    (CDATA and entities unwrapped), self-closing == empty, whitespace between tags ignored."""
    from syncd.convert import xmltree

    def walk(node) -> list:
        out: list = []
        for c in node.children:
            if c.kind == "el":
                out.append((c.lname, tuple(sorted(c.attrs.items())), tuple(walk(c))))
            elif c.kind in ("text", "cdata"):
                text = xmltree.text_content(storage, c)
                if text.strip():
                    if out and isinstance(out[-1], str):
                        out[-1] += text
                    else:
                        out.append(text)
        return out

    return walk(xmltree.parse(storage))
