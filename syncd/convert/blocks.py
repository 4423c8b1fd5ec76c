"""The block map: units grouped so that every block is a whole number of Markdown chunks."""

from __future__ import annotations

from dataclasses import dataclass, field

from .chunks import Chunk, split_chunks, split_parts
from .model import LinkResolver
from .pull import Run, Unit, fragment_key, join_units, render


@dataclass
class Block:
    start: int
    end: int
    kind: str
    md: str
    runs: list[Run]
    first_line: int
    chunk_lo: int = 0
    chunk_hi: int = 0
    units: list[Unit] = field(default_factory=list)


@dataclass
class Projection:
    body: str
    markdown: str
    blocks: list[Block]
    chunks: list[Chunk]
    fragments: dict[str, str]
    reuse: dict[tuple, str] = field(default_factory=dict)


def project(storage: str, resolver: LinkResolver | None = None) -> Projection:
    try:
        return _project(storage, resolver)
    except RecursionError:
        # Pathologically deep nesting: keep the whole body as one preserved fragment.
        return _opaque(storage)


def _opaque(storage: str) -> Projection:
    if not storage.strip():
        return Projection(storage, "", [], [], {})
    key = fragment_key(storage)
    md = f"<!--cf:{key} page (too deeply nested to show)-->"
    unit = Unit(0, len(storage), "opaque", md)
    block = Block(0, len(storage), "opaque", md, [], 0, 0, 1, [unit])
    return Projection(storage, md + "\n", [block], split_chunks(md + "\n"), {key: storage})


def _project(storage: str, resolver: LinkResolver | None) -> Projection:
    units, fragments, reuse = render(storage, resolver)
    markdown = join_units(units)
    chunks = split_parts([u.md for u in units], markdown)
    # Line range of each unit.
    ranges = []
    line = 0
    for u in units:
        n = u.md.count("\n") + 1
        ranges.append((line, line + n))
        line += n + 1
    # owner[i] = group id of unit i; units sharing a chunk share a group.  Both lists are in
    # line order, so one forward walk finds each chunk's units.
    group_of = list(range(len(units)))
    chunk_units: set[int] = set()
    ui = 0
    for ch in chunks:
        while ui < len(units) and ranges[ui][1] <= ch.first:
            ui += 1
        j = ui
        while j < len(units) and ranges[j][0] < ch.last:
            if j > ui:
                _union(group_of, ui, j)
            chunk_units.add(j)
            j += 1
    # Units without any chunk join the previous unit's group.
    for j in range(len(units)):
        if j not in chunk_units and j > 0:
            _union(group_of, j - 1, j)
        elif j not in chunk_units and len(units) > 1:
            _union(group_of, j, j + 1)
    blocks: list[Block] = []
    prev_root = None
    for j, u in enumerate(units):
        root = _find(group_of, j)
        if root == prev_root:
            blk = blocks[-1]
            offset = len(blk.md) + 2
            blk.md += "\n\n" + u.md
            blk.runs.extend(Run(r.md + offset, r.length, r.src, r.kind) for r in u.runs)
            blk.end = u.end
            blk.kind = "group"
            blk.units.append(u)
        else:
            blocks.append(
                Block(u.start, u.end, u.kind, u.md, list(u.runs), ranges[j][0], units=[u])
            )
        prev_root = root
    # Chunk span of each block.
    ci = 0
    for blk in blocks:
        last_line = blk.first_line + blk.md.count("\n") + 1
        blk.chunk_lo = ci
        while ci < len(chunks) and chunks[ci].first < last_line:
            ci += 1
        blk.chunk_hi = ci
    return Projection(storage, markdown, blocks, chunks, fragments, reuse)


def _find(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def _union(parent: list[int], a: int, b: int) -> None:
    ra, rb = _find(parent, a), _find(parent, b)
    if ra != rb:
        lo, hi = min(ra, rb), max(ra, rb)
        parent[hi] = lo
