"""A `syncd sync` with nothing changed on either side: API requests made and wall time.

One ``syncd emulator`` process (``--pages N --seed 1``) serves the space on loopback. A first
``syncd sync --config config.yaml`` fills an empty folder and state directory (its figures are
printed, not the point); then the same command runs again ``--runs`` times with nothing
changed, each a child process whose API requests (the emulator's counters, reset before the
run, broken down by route), wall time, peak RSS, CPU time and local files read (``syncd sync
-v`` prints that count) are taken. Each no-change run must report "in sync" and write
nothing: the script checks that no file in the folder changed. The first no-change run,
right after the first sync, is also shown on its own: it is the one that used to read every
file again.

    .venv/bin/python bench/nochange_sync.py --pages 10000 --flavors cloud dc --runs 3

``--folders`` (Cloud) adds the emulator's tree of folders, a whiteboard, a database and an
embed: a no-change run then also reads each container once (``GET /folders/{id}``...).
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


def folder_fingerprint(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file() and ".syncd" not in p.parts
    }


def _na(value: object) -> str:
    return "n/a" if value is None else str(value)


def _median_or_na(values: list[int | None]) -> str:
    known = [v for v in values if v is not None]
    return f"{median(known):.0f}" if len(known) == len(values) and known else "n/a"


def main() -> int:
    ap = sync_bench_parser(__doc__)
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--folders", action="store_true", help="Cloud: add the seeded tree of folders")
    args = ap.parse_args()

    print(f"machine: {machine()}")
    rows = [
        fmt_row(
            [
                "flavor",
                "pages",
                "wall s",
                "requests",
                "requests by route",
                "peak RSS MiB",
                "CPU s",
                "files touched",
                "files read",
                "1st run: wall s / RSS MiB / files read",
            ]
        ),
        fmt_row(["---"] * 10),
    ]
    for flavor in args.flavors:
        folders = args.folders and flavor == "cloud"
        with Emulator(flavor=flavor, pages=args.pages, folders=folders) as emu:
            emu.set_faults(link_faults(args))
            pages = emu.page_count()
            run_dir = fresh_dir(OUT / "nochange_sync" / f"{flavor}-{args.pages}")
            first = run_syncd_sync(emu, run_dir, timeout=args.timeout)
            print(
                f"[{flavor} {pages}] first sync: rc={first.returncode} wall={first.wall_s:.2f}s "
                f"requests={first.requests} md={first.extra['md_files']}",
                flush=True,
            )
            if first.returncode != 0:
                print(f"first sync failed, see {run_dir}", file=sys.stderr)
                return 1
            before = folder_fingerprint(run_dir / "folder")
            runs = []
            for i in range(args.runs):
                r = run_syncd_sync(emu, run_dir, timeout=args.timeout, args=("-v",))
                after = folder_fingerprint(run_dir / "folder")
                r.extra["touched"] = sum(
                    1 for k in before.keys() | after.keys() if before.get(k) != after.get(k)
                )
                runs.append(r)
                print(
                    f"[{flavor} {pages}] no-change run {i + 1}: rc={r.returncode} "
                    f"wall={r.wall_s:.2f}s requests={r.requests} rss={r.peak_rss_mib:.0f}MiB "
                    f"cpu={r.cpu_s:.1f}s touched={r.extra['touched']} "
                    f"files_read={r.extra['files_read']} "
                    f"routes={json.dumps(r.by_route)}",
                    flush=True,
                )
        failed = "" if all(r.returncode == 0 for r in runs) else " (FAILED)"
        routes = ", ".join(f"{k}: {v}" for k, v in sorted(runs[-1].by_route.items()))
        rows.append(
            fmt_row(
                [
                    flavor + failed,
                    pages,
                    f"{median([r.wall_s for r in runs]):.2f}",
                    f"{median([r.requests for r in runs]):.0f}",
                    routes,
                    f"{median([r.peak_rss_mib for r in runs]):.0f}",
                    f"{median([r.cpu_s for r in runs]):.1f}",
                    max(r.extra["touched"] for r in runs),
                    _median_or_na([r.extra["files_read"] for r in runs]),
                    f"{runs[0].wall_s:.2f} / {runs[0].peak_rss_mib:.0f} / "
                    f"{_na(runs[0].extra['files_read'])}",
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
