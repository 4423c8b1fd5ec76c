"""syncd's first sync of a seeded space: pages/s, API requests per page, peak RSS.

For each size, one ``syncd emulator`` process (``--pages N --seed 1``; the space has N seeded
pages plus its home page) serves the space on loopback. Each run is the real command a user
types, ``syncd sync --config config.yaml``, as a child process into an empty folder and an
empty state directory (webhook disabled, token from the environment). Per run: wall time,
the emulator's request counters (reset before the run), peak RSS of the syncd process
(``os.wait4``), CPU time, and the number of Markdown files written.

    .venv/bin/python bench/first_sync.py --pages 1000 10000 --flavors cloud dc --runs 3
    .venv/bin/python bench/first_sync.py --pages 10000 --latency-ms 100 --runs 3
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    OUT,
    Emulator,
    fmt_row,
    fresh_dir,
    link_faults,
    machine,
    median,
    run_syncd_sync,
    sync_bench_parser,
)


def main() -> int:
    ap = sync_bench_parser(__doc__)
    ap.add_argument("--pages", type=int, nargs="+", default=[1000, 10000])
    args = ap.parse_args()

    print(f"machine: {machine()}")
    print(f"link: {link_faults(args)}")
    rows = [
        fmt_row(
            [
                "flavor",
                "pages",
                "wall s",
                "pages/s",
                "requests",
                "req/page",
                "peak RSS MiB",
                "CPU s",
                ".md files",
            ]
        ),
        fmt_row(["---"] * 9),
    ]
    for flavor in args.flavors:
        for n in args.pages:
            with Emulator(flavor=flavor, pages=n) as emu:
                emu.set_faults(link_faults(args))
                pages = emu.page_count()
                runs = []
                for i in range(args.runs):
                    run_dir = fresh_dir(OUT / "first_sync" / f"{flavor}-{n}" / f"run{i}")
                    r = run_syncd_sync(emu, run_dir, timeout=args.timeout)
                    runs.append(r)
                    print(
                        f"[{flavor} {pages}] run {i + 1}: rc={r.returncode} wall={r.wall_s:.2f}s "
                        f"requests={r.requests} rss={r.peak_rss_mib:.0f}MiB "
                        f"workers_rss={r.extra.get('helpers_peak_rss_mib', 0):.0f}MiB "
                        f"cpu={r.cpu_s:.1f}s (workers {r.extra.get('helpers_cpu_s', 0):.1f}s) "
                        f"md={r.extra['md_files']} routes={json.dumps(r.by_route)}",
                        flush=True,
                    )
            wall = median([r.wall_s for r in runs])
            reqs = median([r.requests for r in runs])
            failed = "" if all(r.returncode == 0 for r in runs) else " (FAILED)"
            rows.append(
                fmt_row(
                    [
                        flavor + failed,
                        pages,
                        f"{wall:.2f}",
                        f"{pages / wall:.0f}",
                        f"{reqs:.0f}",
                        f"{reqs / pages:.3f}",
                        f"{median([r.peak_rss_mib for r in runs]):.0f}",
                        f"{median([r.cpu_s for r in runs]):.1f}",
                        f"{median([r.extra['md_files'] for r in runs]):.0f}",
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
