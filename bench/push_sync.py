"""A `syncd sync` that pushes many local edits: wall time, requests and PUTs in flight at once.

One ``syncd emulator`` process (``--pages N --seed 1``) serves the space on loopback, with
``--latency-ms`` of injected latency per request (a server that is not on loopback). A first
``syncd sync --config config.yaml`` fills an empty folder; then, ``--runs`` times, ``--edits``
page files get a new line at the end of their body and ``syncd sync`` runs as a child process:
its wall time, the API requests by route (the emulator's counters, reset before the run) and
the most PUTs the emulator served at the same time (``peak_in_flight``; one-at-a-time pushes
give 1, "n/a" with an emulator that does not count it). Each run must push exactly the edited
pages.

    .venv/bin/python bench/push_sync.py --pages 1000 --edits 100 --latency-ms 50 --runs 3
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    OUT,
    Emulator,
    fmt_row,
    fresh_dir,
    machine,
    median,
    run_syncd_sync,
    sync_bench_parser,
)


def set_latency(emu: Emulator, ms: int) -> None:
    req = urllib.request.Request(
        f"{emu.root_url}/_emulator/faults",
        data=json.dumps({"latency_ms": ms}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=30) as resp:
        resp.read()


def edit_files(folder: Path, count: int, tag: str) -> int:
    """Append a line to the first `count` page files (sorted); returns how many."""
    files = sorted(p for p in folder.rglob("*.md") if not p.name.startswith(".") and p.stem)
    files = [p for p in files if p.name != "README.md"][:count]
    for p in files:
        text = p.read_text(encoding="utf-8")
        p.write_text(text.rstrip("\n") + f"\n\nEdited in bench run {tag}.\n", encoding="utf-8")
    return len(files)


def main() -> int:
    ap = sync_bench_parser(__doc__)
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--edits", type=int, default=100)
    ap.add_argument("--latency-ms", type=int, default=50)
    args = ap.parse_args()

    print(f"machine: {machine()}")
    rows = [
        fmt_row(
            [
                "flavor",
                "edits",
                "latency ms",
                "wall s",
                "PUT",
                "GET page",
                "requests",
                "peak PUTs in flight",
            ]
        ),
        fmt_row(["---"] * 8),
    ]
    for flavor in args.flavors:
        with Emulator(flavor=flavor, pages=args.pages) as emu:
            run_dir = fresh_dir(OUT / "push_sync" / f"{flavor}-{args.pages}")
            first = run_syncd_sync(emu, run_dir, timeout=args.timeout)
            if first.returncode != 0:
                print(f"first sync failed, see {run_dir}", file=sys.stderr)
                return 1
            runs = []
            for i in range(args.runs):
                edited = edit_files(run_dir / "folder", args.edits, f"{i + 1}")
                set_latency(emu, args.latency_ms)
                try:
                    r = run_syncd_sync(emu, run_dir, timeout=args.timeout)
                finally:
                    set_latency(emu, 0)
                puts = sum(v for k, v in r.by_route.items() if k.startswith("PUT "))
                gets = sum(
                    v
                    for k, v in r.by_route.items()
                    if k.startswith("GET ") and k.endswith(("/pages/{id}", "/content/{id}"))
                )
                peaks = r.extra.get("peak_in_flight") or {}
                peak = max((v for k, v in peaks.items() if k.startswith("PUT ")), default=None)
                r.extra.update(puts=puts, gets=gets, peak=peak)
                runs.append(r)
                ok = r.returncode == 0 and puts == edited
                print(
                    f"[{flavor}] run {i + 1}: rc={r.returncode} edited={edited} "
                    f"wall={r.wall_s:.2f}s PUT={puts} GET page={gets} requests={r.requests} "
                    f"peak PUT in flight={peak}{'' if ok else ' (UNEXPECTED)'}",
                    flush=True,
                )
        peaks = [r.extra["peak"] for r in runs]
        rows.append(
            fmt_row(
                [
                    flavor,
                    args.edits,
                    args.latency_ms,
                    f"{median([r.wall_s for r in runs]):.2f}",
                    f"{median([r.extra['puts'] for r in runs]):.0f}",
                    f"{median([r.extra['gets'] for r in runs]):.0f}",
                    f"{median([r.requests for r in runs]):.0f}",
                    "n/a" if None in peaks else f"{median(peaks):.0f}",
                ]
            )
        )
        print(rows[-1], flush=True)
    print(f"\nmedian of {args.runs} runs:\n")
    print("\n".join(rows))
    print(f"\nfinished {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
