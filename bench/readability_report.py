"""Readability of pulled Markdown over the corpora: pages with each kind of noise.

    .venv/bin/python bench/readability_report.py
    PYTHONPATH=<checkout of another revision> .venv/bin/python bench/readability_report.py

The second form measures another revision's converter (the scan itself is this checkout's
tests/convert/readability.py), for before/after figures.  Kinds: raw ``<ac:``/``<ri:`` tags,
CDATA, empty span markers, span markers whose text runs macro parameters together, code kept
in markers, lines over 400 characters outside code (HTML and marker lines; prose lines are
counted apart), adjacent markers on one line.
"""

from __future__ import annotations

import collections
import importlib.util
import sys
from pathlib import Path

from syncd.convert import storage_to_markdown
from syncd.convert.blocks import project

ROOT = Path(__file__).resolve().parents[1]
CORPORA = [ROOT / "tests/data/corpus/storage", ROOT / "tests/data/corpus_extra/storage"]


def _scanner():
    path = ROOT / "tests/convert/readability.py"
    spec = importlib.util.spec_from_file_location("readability", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    scan = _scanner()
    for corpus in CORPORA:
        pages: collections.Counter[str] = collections.Counter()
        total: collections.Counter[str] = collections.Counter()
        bodies = sorted(corpus.glob("*.xml"))
        for path in bodies:
            body = path.read_text(encoding="utf-8")
            found = scan.findings(storage_to_markdown(body).markdown, project(body).fragments)
            for kind, n in found.items():
                total[kind] += n
                pages[kind] += bool(n)
        print(f"{corpus.relative_to(ROOT)}: {len(bodies)} pages")
        for kind in sorted(total):
            print(f"  {kind:14} pages={pages[kind]:3}  occurrences={total[kind]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
