"""Markdown -> storage by patching the pulled body.

1. Unchanged Markdown: no body at all.
2. Chunks of the edited Markdown are aligned with the pulled blocks.  Untouched blocks are
   copied byte for byte, together with the separators between two untouched neighbours.
3. An edited block is patched: first in place (the changed characters fall inside text the
   source holds verbatim, so only those characters change), else rebuilt around its original
   element (attributes, parameters and ids kept), else written fresh.
4. New blocks are written fresh; a block moved unchanged is copied from where it was.
5. The candidate is converted back and must give the user's Markdown, or the push is refused.
"""

from __future__ import annotations

import html
import itertools
import re
from collections import Counter
from difflib import SequenceMatcher

from . import xmltree
from .blocks import Block, Projection, project
from .chunks import md_parser, normalise, split_chunks
from .fresh import _DETAILS_OPEN, _HTML_LINK, Writer, cdata, escape_text, xhtml
from .meaning import same_meaning
from .model import ConversionRefused, LinkResolver, PushResult, ReplayResolver, Sidecar
from .pull import ALERT_TO_PANEL, PANEL_TO_ALERT
from .wording import in_pulled_wording
from .xmltree import Node

_TEXT_FORBIDDEN = re.compile(r"[\\`*_\[\]<>|~&!#\n\ue000\ue001]")
_RAW_FORBIDDEN = re.compile(r"[<&\n\ue000\ue001]|\]\]>")


def push(markdown: str, *, sidecar: Sidecar | None, resolver: LinkResolver | None) -> PushResult:
    md = normalise(markdown)
    if sidecar is None:
        storage = Writer({}, resolver).document(md)
        _verify(md, storage, resolver)
        return PushResult(storage, new_blocks=len(split_chunks(md)))
    base = normalise(sidecar.markdown)
    if md == base:
        return PushResult(None)
    resolver = ReplayResolver(sidecar.links, resolver)
    proj = project(sidecar.body, resolver)
    # The file may word the page its own way (kept after the last sync): blocks it did not
    # edit since are put back in the pulled words, so they match the pulled blocks.
    md = in_pulled_wording(md, base, proj.markdown)
    md = _links_shown_as_links(md, proj)
    if md == proj.markdown:
        return PushResult(None)
    storage, changed, new = _patch_document(md, proj, resolver)
    if storage == sidecar.body:
        return PushResult(None)
    _verify(md, storage, resolver, sidecar.body)
    return PushResult(
        storage,
        changed_blocks=changed,
        new_blocks=new,
        warnings=_orphaned_comments(sidecar.body, storage),
    )


_SPAN_MARKER = re.compile(r'<span data-cf="([0-9a-f]{8})">[^<]*</span>')


def _links_shown_as_links(md: str, proj: Projection) -> str:
    """A file pulled by an older syncd shows the links of its HTML tables as span markers:
    each such marker, edited beside or not, reads as the link the table shows now."""
    if "data-cf" not in md:
        return md

    def now(m: re.Match) -> str:
        if m.group(1) in proj.fragments:  # a marker this projection shows too
            return m.group(0)
        return proj.reuse.get(("html-link-key", m.group(1)), m.group(0))

    return _SPAN_MARKER.sub(now, md)


_COMMENT_REF = re.compile(r'<ac:inline-comment-marker\b[^>]*\bac:ref="([^"]+)"')


def _orphaned_comments(before: str, after: str) -> list[str]:
    """Inline comments whose marked text the edit deleted (Confluence shows them as resolved)."""
    gone = sorted(set(_COMMENT_REF.findall(before)) - set(_COMMENT_REF.findall(after)))
    return [f"inline comment {ref} lost its anchor: the text it marked was deleted" for ref in gone]


# --------------------------------------------------------------------------- document


def _patch_document(md: str, proj: Projection, resolver) -> tuple[str, int, int]:
    body = proj.body
    blocks = proj.blocks
    if not blocks:
        return (
            Writer(proj.fragments, resolver, reuse=proj.reuse).document(md),
            0,
            len(split_chunks(md)),
        )
    user_chunks = split_chunks(md)
    lines = md.split("\n")
    base_texts = [c.text for c in proj.chunks]
    user_texts = [c.text for c in user_chunks]
    matched = _align(base_texts, user_texts)
    untouched: dict[int, int] = {}  # block index -> first user chunk
    for b, blk in enumerate(blocks):
        cs = range(blk.chunk_lo, blk.chunk_hi)
        if len(cs) and all(c in matched for c in cs):
            us = [matched[c] for c in cs]
            if us == list(range(us[0], us[0] + len(us))):
                untouched[b] = us[0]
    anchor_at = {u: b for b, u in untouched.items()}

    # Regions of user chunks between anchors, each with the dirty blocks it replaces.
    plan: list[tuple[str, int | None, object]] = []
    ui = 0
    prev_block = -1
    regions: list[tuple[list[int], list[int], int]] = []  # (user chunks, dirty blocks, plan pos)
    while ui <= len(user_chunks):
        if ui < len(user_chunks) and ui in anchor_at:
            b = anchor_at[ui]
            dirty = [d for d in range(prev_block + 1, b) if d not in untouched]
            if dirty:
                regions.append(([], dirty, len(plan)))
                plan.append(("region", None, None))
            plan.append(("copy", b, None))
            ui += blocks[b].chunk_hi - blocks[b].chunk_lo
            prev_block = b
            continue
        start = ui
        while ui < len(user_chunks) and ui not in anchor_at:
            ui += 1
        next_block = anchor_at[ui] if ui < len(user_chunks) else len(blocks)
        dirty = [b for b in range(prev_block + 1, next_block) if b not in untouched]
        if start < ui or dirty:
            regions.append((list(range(start, ui)), dirty, len(plan)))
            plan.append(("region", None, None))
        if ui >= len(user_chunks):
            break

    # Blocks moved unchanged: an inserted chunk equal to a dirty block's Markdown.
    free = {b for _, dirty, _ in regions for b in dirty}
    by_text: dict[str, list[int]] = {}
    for b in sorted(free):
        by_text.setdefault(blocks[b].md, []).append(b)
    expanded: list[tuple[str, int | None, object]] = []
    changed = new = 0
    region_iter = iter(regions)
    next_task = _max_task_id(body) + 1
    for item in plan:
        if item[0] != "region":
            expanded.append(item)
            continue
        users, dirty, _ = next(region_iter)
        pieces, c, n, next_task = _fill_region(
            users, dirty, user_chunks, lines, blocks, proj, by_text, free, resolver, next_task
        )
        expanded.extend(pieces)
        changed += c
        new += n
    return _assemble(expanded, proj), changed, new


def _align(base: list[str], user: list[str]) -> dict[int, int]:
    """Base chunk -> user chunk for chunks kept as they were.

    A common head and tail are matched first so that an edited block is paired with its own
    original even when an identical block exists elsewhere on the page.
    """
    head = 0
    while head < min(len(base), len(user)) and base[head] == user[head]:
        head += 1
    tail = 0
    while (
        tail < min(len(base), len(user)) - head
        and base[len(base) - 1 - tail] == user[len(user) - 1 - tail]
    ):
        tail += 1
    matched = {i: i for i in range(head)}
    for k in range(tail):
        matched[len(base) - 1 - k] = len(user) - 1 - k
    mid_base = base[head : len(base) - tail]
    mid_user = user[head : len(user) - tail]
    matcher = SequenceMatcher(None, mid_base, mid_user, autojunk=False)
    for tag, i1, i2, j1, _j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                matched[head + i1 + k] = head + j1 + k
    return matched


def _fill_region(
    users, dirty, user_chunks, lines, blocks, proj, by_text, free, resolver, next_task
):
    pieces: list[tuple[str, int | None, object]] = []
    changed = new = 0
    # First pass: exact moves.
    moved: dict[int, int] = {}
    for u in users:
        cands = [b for b in by_text.get(user_chunks[u].text, []) if b in free]
        if cands:
            b = cands[0]
            free.discard(b)
            moved[u] = b
    remaining_dirty = [b for b in dirty if b in free]
    rest = [u for u in users if u not in moved]
    pairs: dict[int, int] = {}
    if remaining_dirty and rest:
        only = blocks[remaining_dirty[0]]
        if len(remaining_dirty) == 1 and only.chunk_hi - only.chunk_lo > 1:
            # One block made of several chunks was edited: the region's chunks are all its.
            first, last = user_chunks[rest[0]], user_chunks[rest[-1]]
            text = "\n".join(lines[first.first : last.last])
            frag, next_task = _patch_block(only, text, first.first + 1, proj, resolver, next_task)
            if frag is not None:
                free.discard(remaining_dirty[0])
                pieces = [("copy", moved[u], None) for u in users if u in moved]
                return [*pieces, ("patched", remaining_dirty[0], frag)], 1, 0, next_task
        if len(remaining_dirty) == len(rest):
            pairs = dict(zip(rest, remaining_dirty, strict=True))
        else:
            last = -1
            for u in rest:
                best, best_ratio = None, 0.5
                for b in remaining_dirty:
                    if b <= last or b in pairs.values():
                        continue
                    ratio = SequenceMatcher(None, blocks[b].md, user_chunks[u].text).quick_ratio()
                    if ratio > best_ratio:
                        best, best_ratio = b, ratio
                if best is not None:
                    pairs[u] = best
                    last = best
    for u in users:
        text = user_chunks[u].text
        line = user_chunks[u].first + 1
        if u in moved:
            pieces.append(("copy", moved[u], None))
            continue
        if u in pairs:
            b = pairs[u]
            free.discard(b)
            frag, next_task = _patch_block(blocks[b], text, line, proj, resolver, next_task)
            if frag is not None:
                pieces.append(("patched", b, frag))
                changed += 1
                continue
        writer = Writer(
            proj.fragments,
            resolver,
            line_offset=user_chunks[u].first,
            next_task_id=next_task,
            reuse=proj.reuse,
        )
        frag = writer.document(text)
        next_task = writer.next_task_id
        pieces.append(("fresh", None, frag))
        new += 1
    return pieces, changed, new, next_task


def _assemble(pieces, proj: Projection) -> str:
    body = proj.body
    blocks = proj.blocks
    seps = [body[blocks[i].end : blocks[i + 1].start] for i in range(len(blocks) - 1)]
    common = Counter(s for s in seps if not s.strip()).most_common(1)
    default_sep = common[0][0] if common else ""
    out = [body[: blocks[0].start]]
    prev: int | None = None
    first = True
    for kind, b, frag in pieces:
        if not first:
            if prev is not None and b is not None and b == prev + 1:
                out.append(seps[prev])
            elif b is not None and b > 0 and not seps[b - 1].strip():
                out.append(seps[b - 1])
            elif prev is not None and prev < len(seps) and not seps[prev].strip():
                out.append(seps[prev])
            else:
                out.append(default_sep)
        first = False
        if kind == "copy":
            out.append(body[blocks[b].start : blocks[b].end])
        else:
            out.append(frag)
        prev = b
    out.append(body[blocks[-1].end :])
    return "".join(out)


def _max_task_id(body: str) -> int:
    ids = [int(m) for m in re.findall(r"<ac:task-id>\s*(\d+)\s*</ac:task-id>", body)]
    return max(ids, default=0)


# ----------------------------------------------------------------------------- blocks


def _patch_block(block: Block, text: str, line: int, proj: Projection, resolver, next_task):
    if block.kind == "expand-open":
        # The opening of an expand alone is not a whole element: patched on its own terms.
        return _patch_expand_open(block, text, proj, resolver), next_task
    for attempt in (_text_patch, _html_link_patch, _rebuild):
        try:
            frag = attempt(block, text, proj, resolver)
        except ConversionRefused:
            frag = None
        if frag is not None and _renders_as(frag, text, resolver):
            return frag, next_task
    return None, next_task


def _renders_as(fragment: str, text: str, resolver) -> bool:
    got = project(fragment, resolver).markdown
    want = normalise(text)
    if got == want:
        return True
    return same_meaning(got, want)


def _text_patch(block: Block, new: str, proj: Projection, resolver) -> str | None:
    old = block.md
    if not block.runs:
        return None
    ops = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    edits: list[tuple[int, int, str]] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        repl = new[j1:j2]
        run = _run_for(block, i1, i2)
        if run is None:
            return None
        forbidden = _TEXT_FORBIDDEN if run.kind == "text" else _RAW_FORBIDDEN
        if forbidden.search(repl):
            return None
        if run.kind == "text" and "  " in repl:
            return None
        s = run.src + (i1 - run.md)
        e = run.src + (i2 - run.md)
        edits.append((s, e, repl))
    if not edits:
        return None
    body = proj.body
    out = []
    pos = block.start
    for s, e, repl in sorted(edits):
        if s < pos:
            return None
        out.append(body[pos:s])
        out.append(repl)
        pos = e
    out.append(body[pos : block.end])
    return "".join(out)


def _html_link_patch(block: Block, new: str, proj: Projection, resolver) -> str | None:
    """An HTML block in which only links changed (their text or target): each changed
    link's storage is replaced, every other byte of the block stays."""
    old = block.md
    olds, news = list(_HTML_LINK.finditer(old)), list(_HTML_LINK.finditer(new))
    if not olds or len(olds) != len(news):
        return None
    if _HTML_LINK.sub("\0", old) != _HTML_LINK.sub("\0", new):
        return None
    src = proj.body[block.start : block.end]
    writer = Writer(proj.fragments, resolver, reuse=proj.reuse)
    edits: list[tuple[int, int, str]] = []
    for o, n in zip(olds, news, strict=True):
        if o.group(0) == n.group(0):
            continue
        raw = proj.reuse.get(("html-link", o.group(0)))
        if raw is None:
            return None
        # Identical links: the k-th of them in the Markdown is the k-th in the storage.
        places = [m.start() for m in re.finditer(re.escape(raw), src)]
        same = [m.start() for m in olds if m.group(0) == o.group(0)]
        if len(places) != len(same):
            return None
        at = places[same.index(o.start())]
        line = new[: n.start()].count("\n") + 1
        href = html.unescape(n.group(1))
        storage = writer.html_link(href, n.group(2), line) or xhtml(n.group(0))
        edits.append((at, at + len(raw), storage))
    if not edits:
        return None
    out, pos = [], 0
    for s, e, storage in sorted(edits):
        if s < pos:
            return None
        out += [src[pos:s], storage]
        pos = e
    out.append(src[pos:])
    return "".join(out)


def _run_for(block: Block, i1: int, i2: int):
    for run in block.runs:
        lo, hi = run.md, run.md + run.length
        if lo <= i1 and i2 <= hi and (i1 < hi or i1 == i2):
            if i1 == i2 and (i1 == lo or i1 == hi):
                # An insertion at a run edge: allowed, it extends the same text node.
                return run
            return run
    return None


def _rebuild(block: Block, new: str, proj: Projection, resolver) -> str | None:
    """Rebuild the block around its original element, keeping its attributes."""
    if len(block.units) != 1 or block.units[0].node is None:
        return None
    node = block.units[0].node
    body = proj.body
    writer = Writer(proj.fragments, resolver, reuse=proj.reuse)
    name = node.lname
    if name == "p" or re.fullmatch(r"h[1-6]", name):
        level = int(name[1]) if name != "p" else 0
        if level:
            m = re.match(r"(#{1,6}) (.*)\Z", new, re.S)
            if not m or len(m.group(1)) != level:
                return None
            content = m.group(2)
        else:
            content = new
        if node.close_start == node.end:
            return None
        if level == 0 and any(c.kind == "el" and _is_block(c) for c in node.children):
            # A paragraph holding blocks: its content is patched as a page of its own.
            inner_src = body[node.open_end : node.close_start]
            sub = Sidecar(inner_src, project(inner_src, resolver).markdown)
            result = push(new, sidecar=sub, resolver=resolver)
            inner = inner_src if result.storage is None else result.storage
            return body[node.start : node.open_end] + inner + body[node.close_start : node.end]
        return (
            body[node.start : node.open_end]
            + writer.inline_md(content)
            + body[node.close_start : node.end]
        )
    if name == "pre":
        return _rebuild_pre(node, block, new, body)
    if name in ("ac:structured-macro", "ac:macro"):
        macro = node.attr("ac:name")
        if macro in ("code", "noformat"):
            return _rebuild_code(node, block, new, body)
        if macro in PANEL_TO_ALERT:
            return _rebuild_panel(node, new, body, proj, resolver)
    if name == "table" and block.md.startswith("|"):
        return _rebuild_table_rows(node, block, new, proj, resolver)
    if name in ("ul", "ol", "ac:task-list"):
        li_p = bool(re.search(r"<li[^>]*>\s*<p[\s>]", body[node.start : node.end]))
        frag = _rebuild_list_items(node, block, new, proj, resolver, li_p)
        if frag is not None and _renders_as(frag, new, resolver):
            return frag
        writer = Writer(
            proj.fragments,
            resolver,
            li_paragraphs=li_p,
            next_task_id=_max_task_id(body) + 1,
            reuse=proj.reuse,
        )
        frag = writer.document(new)
        if name == "ac:task-list":
            frag = _keep_task_ids(frag, body[node.start : node.end])
        opener = body[node.start : node.open_end]
        tag = "<" + node.name
        if frag.startswith(tag) and frag.count(tag) >= 1:
            # Keep the list element's own attributes.
            close = frag.index(">") + 1
            frag = opener + frag[close:] if opener.startswith(tag) else frag
        return frag
    return None


_ITEM_MARKER = re.compile(r"\A(?:\d{1,9}[.)]|[-*+])[ \t]*")
_CHECKBOX = re.compile(r"\A\[[ xX]\][ \t]*")


def _md_items(md: str) -> list[str] | None:
    """The top-level items of a Markdown text that is exactly one list."""
    tokens = md_parser().parse(md)
    top = [t for t in tokens if t.level == 0 and t.nesting == 1]
    if len(top) != 1 or top[0].type not in ("bullet_list_open", "ordered_list_open"):
        return None
    lines = md.split("\n")
    items = [t for t in tokens if t.level == 1 and t.type == "list_item_open" and t.map]
    return ["\n".join(lines[t.map[0] : t.map[1]]).rstrip("\n") for t in items]


def _item_key(text: str) -> str:
    """An item's text without its marker or numbering (renumbering is not an edit)."""
    return _ITEM_MARKER.sub("", text, count=1)


def _pair_items(old: list[str], new: list[str]) -> dict[int, int]:
    """Pair edited items with the originals they most resemble, keeping their order."""
    if len(old) == len(new):
        return {k: k for k in range(len(new))}
    pairs: dict[int, int] = {}
    last = -1
    for k, text in enumerate(new):
        best, best_ratio = None, 0.5
        for o in range(last + 1, len(old)):
            a, b = _item_key(old[o]), _item_key(text)
            kept = sum(m.size for m in SequenceMatcher(None, a, b).get_matching_blocks())
            ratio = max(kept / max(len(a), 1), kept / max(len(b), 1)) if kept else 0.0
            if ratio > best_ratio:
                best, best_ratio = o, ratio
        if best is not None:
            pairs[k] = best
            last = best
    return pairs


def _patch_task(body: str, old: Node, fresh: str, old_md: str, new_md: str) -> str:
    """The original task with the new state and, if its text changed, the new body."""
    status = old.find("ac:task-status")
    task_body = old.find("ac:task-body")
    m = re.search(
        r"<ac:task-status>(\w+)</ac:task-status><ac:task-body>(.*)</ac:task-body></ac:task>\Z",
        fresh,
        re.S,
    )
    if status is None or task_body is None or m is None or not task_body.closed:
        return fresh
    same_text = _CHECKBOX.sub("", _item_key(old_md)) == _CHECKBOX.sub("", _item_key(new_md))
    inner = body[task_body.open_end : task_body.close_start] if same_text else m.group(2)
    return (
        body[old.start : status.open_end]
        + m.group(1)
        + body[status.close_start : task_body.open_end]
        + inner
        + body[task_body.close_start : old.end]
    )


def _rebuild_list_items(node, block: Block, new: str, proj: Projection, resolver, li_p: bool):
    """Rebuild a list item by item: unchanged items keep their bytes, edited ones their tag."""
    body = proj.body
    task_list = node.lname == "ac:task-list"
    item_tag = "ac:task" if task_list else "li"
    items = []
    for c in node.children:
        if c.kind == "el" and c.lname == item_tag and c.closed:
            items.append(c)
        elif not (c.kind == "text" and not body[c.start : c.end].strip()):
            return None
    old_items = _md_items(block.md)
    new_items = _md_items(new)
    if not items or old_items is None or new_items is None or len(old_items) != len(items):
        return None
    writer = Writer(
        proj.fragments,
        resolver,
        li_paragraphs=li_p,
        next_task_id=_max_task_id(body) + 1,
        reuse=proj.reuse,
    )
    matcher = SequenceMatcher(
        None, [_item_key(t) for t in old_items], [_item_key(t) for t in new_items], autojunk=False
    )
    pieces: list[tuple[int | None, str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.extend(
                (i1 + k, body[items[i1 + k].start : items[i1 + k].end]) for k in range(i2 - i1)
            )
            continue
        partner = _pair_items(old_items[i1:i2], new_items[j1:j2])
        for k, text in enumerate(new_items[j1:j2]):
            paired = k in partner
            ok = i1 + partner[k] if paired else None
            fresh = writer.document(
                text if not text[:1].isdigit() else "1" + text.lstrip("0123456789")
            )
            if task_list:
                m = re.fullmatch(
                    r"<ac:task-list>(<ac:task>.*</ac:task>)</ac:task-list>", fresh, re.S
                )
                if not m:
                    return None
                item = m.group(1)
                if paired:
                    item = _patch_task(body, items[ok], item, old_items[ok], text)
                pieces.append((ok, item))
            else:
                m = re.fullmatch(r"<(ul|ol)[^>]*><li>(.*)</li></\1>", fresh, re.S)
                if not m:
                    return None
                if paired:
                    old = items[ok]
                    item = (
                        body[old.start : old.open_end]
                        + m.group(2)
                        + body[old.close_start : old.end]
                    )
                else:
                    item = "<li>" + m.group(2) + "</li>"
                pieces.append((ok, item))
    gaps = [body[a.end : b.start] for a, b in itertools.pairwise(items)]
    default_gap = gaps[0] if gaps else ""
    out = [body[node.start : items[0].start]]
    prev: int | None = None
    for n, (origin, text) in enumerate(pieces):
        if n:
            out.append(gaps[prev] if prev is not None and origin == prev + 1 else default_gap)
        out.append(text)
        prev = origin
    out.append(body[items[-1].end : node.end])
    return "".join(out)


def _table_rows(node: Node) -> list[Node] | None:
    rows: list[Node] = []
    for c in node.children:
        if c.kind == "el" and c.lname in ("thead", "tbody", "tfoot"):
            rows.extend(r for r in c.children if r.kind == "el" and r.lname == "tr")
        elif c.kind == "el" and c.lname == "tr":
            rows.append(c)
    return rows if all(r.closed for r in rows) else None


def _cells(node: Node) -> list[Node]:
    return [c for c in node.children if c.kind == "el" and c.lname in ("td", "th")]


def _split_row(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner)]


def _rebuild_table_rows(node, block: Block, new: str, proj: Projection, resolver) -> str | None:
    """Rebuild a GFM-projected table row by row, keeping the table's own markup."""
    body = proj.body
    rows = _table_rows(node)
    old_lines = block.md.split("\n")
    new_lines = new.split("\n")
    if not rows or len(old_lines) != len(rows) + 1 or len(new_lines) < 2:
        return None
    if not re.fullmatch(r"\|(?:\s*:?-+:?\s*\|)+", new_lines[1].replace(" ", "")):
        return None
    width = len(_cells(rows[0]))
    old_rows = [old_lines[0], *old_lines[2:]]
    new_rows = [new_lines[0], *new_lines[2:]]
    if any(len(_split_row(r)) != width for r in new_rows):
        return None
    writer = Writer(proj.fragments, resolver, reuse=proj.reuse)
    wrap_p = bool(re.search(r"<t[dh][^>]*>\s*<p[\s>]", body[node.start : node.end]))

    def cell_storage(text: str) -> str:
        inner = writer.inline_md(text)
        return f"<p>{inner}</p>" if wrap_p else inner

    def patched_row(old: Node, old_md: str, new_md: str) -> str:
        out = [body[old.start : old.open_end]]
        cells = _cells(old)
        old_cells, new_cells = _split_row(old_md), _split_row(new_md)
        pos = old.open_end
        for cell, before, after in zip(cells, old_cells, new_cells, strict=True):
            out.append(body[pos : cell.start])
            if before == after:
                out.append(body[cell.start : cell.end])
            else:
                out.append(
                    body[cell.start : cell.open_end]
                    + cell_storage(after)
                    + body[cell.close_start : cell.end]
                )
            pos = cell.end
        out.append(body[pos : old.end])
        return "".join(out)

    pieces: list[tuple[int | None, str]] = []
    head_same = old_rows[0] == new_rows[0]
    pieces.append(
        (
            0,
            body[rows[0].start : rows[0].end]
            if head_same
            else patched_row(rows[0], old_rows[0], new_rows[0]),
        )
    )
    matcher = SequenceMatcher(None, old_rows[1:], new_rows[1:], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pieces.extend(
                (1 + i1 + k, body[rows[1 + i1 + k].start : rows[1 + i1 + k].end])
                for k in range(i2 - i1)
            )
            continue
        partner = _pair_items(old_rows[1 + i1 : 1 + i2], new_rows[1 + j1 : 1 + j2])
        for k in range(j2 - j1):
            text = new_rows[1 + j1 + k]
            if k in partner:
                o = 1 + i1 + partner[k]
                pieces.append((o, patched_row(rows[o], old_rows[o], text)))
            else:
                cells = "".join(f"<td>{cell_storage(c)}</td>" for c in _split_row(text))
                pieces.append((None, f"<tr>{cells}</tr>"))
    gaps = [body[a.end : b.start] for a, b in itertools.pairwise(rows)]
    plain = [g for g in gaps[1:] if not g.strip()] or [""]
    out = [body[node.start : rows[0].start], pieces[0][1]]
    prev = 0
    for n, (origin, text) in enumerate(pieces[1:]):
        if n == 0:
            out.append(gaps[0] if gaps else "")
        else:
            out.append(gaps[prev] if prev is not None and origin == prev + 1 else plain[0])
        out.append(text)
        prev = origin
    if len(pieces) == 1 and gaps and gaps[0].strip():
        return None  # every body row deleted: the section structure would change
    out.append(body[rows[-1].end : node.end])
    return "".join(out)


def _patch_expand_open(block: Block, new: str, proj: Projection, resolver) -> str | None:
    """An edited expand title: only the text of the title parameter changes.

    The macro's own tag (ids, schema version), its other parameters and the whitespace
    between its children stay as they were.  The opening is checked together with the rest
    of the macro, since alone it is not a whole element.
    """
    node = block.units[0].node if len(block.units) == 1 else None
    m = _DETAILS_OPEN.fullmatch(new)
    if node is None or m is None:
        return None
    body = proj.body
    rest = body[block.end : node.end]
    frag = _text_patch(block, new, proj, resolver)
    if frag is None:
        title = m.group(1)
        if "<" in title or "&" in title:
            title = escape_text(html.unescape(re.sub(r"<[^>]*>", "", title)).strip())
        param = next(
            (p for p in node.find_all("ac:parameter") if p.attr("ac:name") == "title"), None
        )
        if param is not None and param.close_start != param.end:
            span = (param.open_end, param.close_start) if title else (param.start, param.end)
            frag = body[block.start : span[0]] + title + body[span[1] : block.end]
        elif title:
            # No title before: the parameter goes first, as Confluence writes it.
            tag = f'<ac:parameter ac:name="title">{title}</ac:parameter>'
            if param is not None:  # <ac:parameter ac:name="title" />
                frag = body[block.start : param.start] + tag + body[param.end : block.end]
            else:
                frag = body[block.start : node.open_end] + tag + body[node.open_end : block.end]
        else:
            return None
    whole = frag + rest
    if xmltree.defects(xmltree.parse(whole)):
        return None
    got = project(whole, resolver).blocks
    if not got or got[0].kind != "expand-open" or not same_meaning(got[0].md, new):
        return None
    return frag


def _rebuild_code(node, block: Block, new: str, body: str) -> str | None:
    old_first = block.md.split("\n", 1)[0]
    lines = new.split("\n")
    if len(lines) < 2 or lines[0] != old_first:
        return None
    fence = re.match(r"`{3,}", old_first)
    if not fence or lines[-1] != fence.group(0):
        return None
    code = "\n".join(lines[1:-1])
    plain = node.find("ac:plain-text-body")
    if plain is None or plain.close_start == plain.end:
        return None
    return body[node.start : plain.open_end] + cdata(code) + body[plain.close_start : node.end]


def _is_block(node) -> bool:
    from .pull import BLOCK_NAMES, INLINE_MACROS

    if node.lname in ("ac:structured-macro", "ac:macro"):
        return node.attr("ac:name") not in INLINE_MACROS
    return node.lname in BLOCK_NAMES


def _rebuild_pre(node, block: Block, new: str, body: str) -> str | None:
    """An edited ``<pre>`` (or ``<pre><code class>``) keeps its tags; only the code changes."""
    lines = new.split("\n")
    old_first = block.md.split("\n", 1)[0]
    fence = re.match(r"`{3,}", old_first)
    if len(lines) < 2 or lines[0] != old_first or not fence or lines[-1] != fence.group(0):
        return None
    inner = node.find("code") or node
    if inner.close_start == inner.end:
        return None
    code = escape_text("\n".join(lines[1:-1]))
    return body[node.start : inner.open_end] + code + body[inner.close_start : node.end]


def _rebuild_panel(node, new: str, body: str, proj: Projection, resolver) -> str | None:
    rich = node.find("ac:rich-text-body")
    if rich is None or rich.close_start == rich.end:
        return None
    lines = new.split("\n")
    m = re.fullmatch(r"> \[!(\w+)\](.*)", lines[0])
    alert = PANEL_TO_ALERT[node.attr("ac:name")]
    if not m or m.group(1) != alert or ALERT_TO_PANEL.get(alert) is None:
        return None
    old_head = proj_head(proj, node)
    if old_head is not None and lines[0] != old_head:
        return None
    inner = "\n".join(re.sub(r"^> ?", "", line) for line in lines[1:])
    inner_src = body[rich.open_end : rich.close_start]
    sub = Sidecar(inner_src, project(inner_src, resolver).markdown)
    result = push(inner, sidecar=sub, resolver=resolver)
    new_inner = inner_src if result.storage is None else result.storage
    return body[node.start : rich.open_end] + new_inner + body[rich.close_start : node.end]


def proj_head(proj: Projection, node) -> str | None:
    for blk in proj.blocks:
        if blk.units and blk.units[0].node is node:
            return blk.md.split("\n", 1)[0]
    return None


def _keep_task_ids(fresh: str, original: str) -> str:
    """Give rebuilt tasks the ids of the original tasks with the same text."""
    root = xmltree.parse(original)
    by_body: dict[str, list[str]] = {}
    for n in root.iter():
        if n.kind == "el" and n.lname == "ac:task":
            tid = n.find("ac:task-id")
            tb = n.find("ac:task-body")
            if tid is not None and tb is not None:
                key = xmltree.text_content(original, tb).strip()
                by_body.setdefault(key, []).append(xmltree.text_content(original, tid).strip())

    def repl(m: re.Match) -> str:
        key = xmltree.text_content(m.group(3), xmltree.parse(m.group(3))).strip()
        ids = by_body.get(key)
        tid = ids.pop(0) if ids else m.group(1)
        return f"<ac:task><ac:task-id>{tid}</ac:task-id>{m.group(2)}<ac:task-body>{m.group(3)}</ac:task-body>"

    return re.sub(
        r"<ac:task><ac:task-id>(\d+)</ac:task-id>(<ac:task-status>\w+</ac:task-status>)<ac:task-body>(.*?)</ac:task-body>",
        repl,
        fresh,
    )


# ------------------------------------------------------------------------- verification


def _first_html_line(md: str) -> int:
    for i, line in enumerate(md.split("\n")):
        if re.search(r"</?[A-Za-z][A-Za-z0-9-]*[\s/>]|<!--cf:", line):
            return i + 1
    return 0


def _verify(md: str, storage: str, resolver, base: str | None = None) -> None:
    if xmltree.defects(xmltree.parse(storage)) > (
        xmltree.defects(xmltree.parse(base)) if base else 0
    ):
        raise ConversionRefused(
            "html",
            _first_html_line(md),
            "unbalanced tags (an HTML tag or a container marker <!--cf:…--> without its pair): "
            "Confluence would reject the page",
        )
    back = project(storage, resolver).markdown
    if back == md or same_meaning(back, md):
        return
    want = split_chunks(md)
    got = split_chunks(back)
    for i, chunk in enumerate(want):
        other = got[i].text if i < len(got) else ""
        if other != chunk.text and not same_meaning(other, chunk.text):
            raise ConversionRefused(
                chunk.kind.replace("_open", ""),
                chunk.first + 1,
                "this block would not survive the conversion; it would read back as "
                + repr(other[:120]),
            )
    raise ConversionRefused("document", 0, "the converted page would not read back the same")
