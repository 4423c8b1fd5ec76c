"""CPU the main process spends per pulled page around its file write, on prepared data.

    .venv/bin/python bench/page_write_cpu.py [--pages 1000] [--runs 7]

A first sync applies its pulls one after another in the main process; this times two of
the steps each pull takes there, for `--pages` pages with the corpus bodies (converted
once, untimed) and the emulator's seeded titles and labels:

- render: the page file's text (`Executor._render`) and its scan-cache row, as
  `Executor._write` makes them (the disk write itself is left out);
- record: `Executor._record` of every page into an empty state database (a first sync),
  in one group commit as runs of pulls share, after the files were written.

Prints the median and best of `--runs` runs, in milliseconds for all pages. To compare
with another checkout, run this file with ``PYTHONPATH=<that checkout>``.
"""

from __future__ import annotations

import argparse
import inspect
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import syncd
from syncd.confluence.models import Page
from syncd.convert import storage_to_markdown
from syncd.local.atomic import WriteResult, atomic_write
from syncd.sync.executor import Executor, ExecutorSettings
from syncd.sync.resolver import PageIndex
from syncd.sync.snapshots import written_page_row
from syncd.sync.state import StateDB

ROOT = Path(__file__).resolve().parents[1]


def prepared(n: int) -> list[tuple]:
    """(page id, title, labels, storage, markdown, sidecar) for `n` pages."""
    bodies = []
    for f in sorted((ROOT / "tests" / "data" / "corpus" / "storage").glob("*.xml")):
        storage = f.read_text(encoding="utf-8")
        converted = storage_to_markdown(storage)
        bodies.append((storage, converted.markdown, converted.sidecar))
    seed = json.loads((ROOT / "syncd" / "emulator" / "seed" / "pages.json").read_text())
    pages = []
    for i in range(n):
        s = seed["pages"][i % len(seed["pages"])]
        cycle = i // len(seed["pages"])
        title = s["title"] if cycle == 0 else f"{s['title']} {cycle + 1}"
        storage, markdown, sidecar = bodies[i % len(bodies)]
        labels = tuple(s.get("labels", []))
        pages.append((str(100000 + i), title, labels, storage, markdown, sidecar))
    return pages


def timed(fn: Callable[[], None], runs: int, setup: Callable[[], None] | None = None):
    out = []
    for _ in range(runs):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return statistics.median(out) * 1000, min(out) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    pages = prepared(args.pages)
    tmp = Path(tempfile.mkdtemp(prefix="page-write-cpu-"))
    root = tmp / "folder"
    root.mkdir()
    settings = ExecutorSettings(space_key="S", root_id="1")
    ex = Executor(root, StateDB.open(tmp / "state-0"), None, PageIndex("S"), settings)  # type: ignore[arg-type]
    knows_rendered = hasattr(ex, "_rendered")  # older checkouts parse the text again
    takes_written = "written" in inspect.signature(ex._record).parameters
    print(f"syncd from {Path(syncd.__file__).parent}, {args.pages} pages")

    results = {}
    for pid, title, labels, _storage, markdown, _sidecar in pages:
        text = ex._render(pid, title, labels, markdown)
        results[pid] = WriteResult(f"{pid}.md", len(text.encode()), 1, "0" * 64, 1)

    def render() -> None:
        for pid, title, labels, _storage, markdown, _sidecar in pages:
            text = ex._render(pid, title, labels, markdown)
            if knows_rendered:
                known = ex._rendered
                doc = known[1] if known is not None and known[0] is text else None
                written_page_row(results[pid], text, doc)
            else:
                written_page_row(results[pid], text)

    med, best = timed(render, args.runs)
    print(f"render text + scan-cache row: median {med:.1f} ms, best {best:.1f} ms")

    items = []
    for pid, title, labels, storage, markdown, sidecar in pages:
        text = ex._render(pid, title, labels, markdown)
        written = atomic_write(root, f"{pid}.md", text.encode())
        page = Page(pid, title, "1", 1, storage, labels=labels)
        items.append((page, f"{pid}.md", markdown, sidecar, labels, written))
    fresh = iter(range(1, 1000))

    def empty_state() -> None:
        ex.db.close()
        ex.db = StateDB.open(tmp / f"state-{next(fresh)}")

    def record() -> None:
        ex.db.begin_group()
        for page, path, markdown, sidecar, labels, written in items:
            if takes_written:
                ex._record(page, path, markdown, sidecar, labels=labels, written=written)
            else:
                ex._record(page, path, markdown, sidecar, labels=labels)
        ex.db.end_group()

    med, best = timed(record, args.runs, setup=empty_state)
    print(f"record (first sync):          median {med:.1f} ms, best {best:.1f} ms")
    ex.db.close()
    shutil.rmtree(tmp)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
