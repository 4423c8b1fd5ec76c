"""Converter throughput over the storage corpus: pages/s each direction and peak memory.

    .venv/bin/python bench/convert_throughput.py [--rounds 5] [--corpus tests/data/corpus/storage]

Pull = storage_to_markdown on every body.  Push = markdown_to_storage of the pulled Markdown
with one word changed per page (the common case: a patch, verified by reading it back).
Peak memory is tracemalloc's peak over one pull+push pass of the whole corpus.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

from syncd.convert import markdown_to_storage, storage_to_markdown

ROOT = Path(__file__).resolve().parents[1]


def edit(markdown: str) -> str:
    """Change one plain word, as a user would."""
    m = re.search(r"(?m)^[A-Za-z][^\n<`|>]*?\b([a-z]{4,})\b", markdown)
    if not m:
        return markdown + "\nOne more line.\n"
    return markdown[: m.start(1)] + m.group(1).upper() + markdown[m.end(1) :]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--corpus", type=Path, default=ROOT / "tests" / "data" / "corpus" / "storage"
    )
    args = parser.parse_args()
    bodies = [p.read_text(encoding="utf-8") for p in sorted(args.corpus.glob("*.xml"))]
    if not bodies:
        print(f"no corpus at {args.corpus}", file=sys.stderr)
        return 1
    size = sum(len(b.encode()) for b in bodies)

    pull_rates, push_rates = [], []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        pulls = [storage_to_markdown(b) for b in bodies]
        t1 = time.perf_counter()
        edits = [edit(p.markdown) for p in pulls]
        t2 = time.perf_counter()
        for md, p in zip(edits, pulls, strict=True):
            markdown_to_storage(md, sidecar=p.sidecar)
        t3 = time.perf_counter()
        pull_rates.append(len(bodies) / (t1 - t0))
        push_rates.append(len(bodies) / (t3 - t2))

    tracemalloc.start()
    for b in bodies:
        p = storage_to_markdown(b)
        markdown_to_storage(edit(p.markdown), sidecar=p.sidecar)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"corpus: {len(bodies)} pages, {size / 1024:.0f} KiB storage")
    print(
        f"pull (storage -> Markdown): {statistics.median(pull_rates):.0f} pages/s (median of {args.rounds})"
    )
    print(
        f"push (edited Markdown -> storage, verified): {statistics.median(push_rates):.0f} pages/s (median of {args.rounds})"
    )
    print(f"peak traced memory, one pull+push pass: {peak / 1024 / 1024:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
