"""Side by side: syncd's first sync and confluence-markdown-exporter on the same emulated space.

One emulator process per flavor (``syncd emulator``, seeded with ``--pages N --seed 1``) serves
both tools on loopback in the same run; runs alternate between the tools so that neither gets
a warmer machine. Each tool is its own child process; per run we take wall time, pages/s,
API requests (the emulator's counters, reset before each run), peak RSS (``os.wait4``) and
CPU time, and count the Markdown files written.

confluence-markdown-exporter (``cme``) is installed from PyPI into its own scratch
virtualenv under ``bench/out/cme-venv`` (never a project dependency). It is configured the
way its documentation says: a JSON config file named by ``CME_CONFIG_PATH`` holding
``auth.confluence`` keyed by the instance URL (Cloud: ``username`` + ``api_token``; Data
Center: ``pat``) and ``export.*`` settings; Jira enrichment is off (there is no Jira). It runs
twice per round: with its default ``export.attachments_export=referenced`` and with
``disabled``, which is the same work as syncd's first sync when syncd pulls no attachments.

Cloud needs one detour. cme derives the instance URL by cutting the space URL before its
``/wiki`` segment, and the Atlassian SDK it uses adds ``/wiki`` back only when the host name
contains ``atlassian.net``; against ``http://127.0.0.1:PORT/wiki/spaces/DEMO`` it calls
``GET /rest/api/space?limit=1`` at the root, which Cloud does not serve (404), and gives up
("credentials ... are missing or invalid"). The script shows that failure first
(``--no-probe`` skips it), then runs cme against ``http://demo.atlassian.net:PORT`` with
``HTTP_PROXY`` pointing at the emulator, so the host name is a Cloud one while every request
still lands on the loopback emulator.

    .venv/bin/python bench/exporter_side_by_side.py --pages 1000 --flavors cloud dc --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (
    OUT,
    Emulator,
    RunResult,
    add_link_options,
    fmt_row,
    fresh_dir,
    link_faults,
    machine,
    median,
    run_measured,
    run_syncd_sync,
)

CME_VERSION = "5.5.0"
CME_VENV = OUT / "cme-venv"
CLOUD_ALIAS_HOST = "demo.atlassian.net"


def ensure_cme(version: str) -> Path:
    """Install confluence-markdown-exporter into bench/out/cme-venv (once) and return `cme`."""
    cme = CME_VENV / "bin" / "cme"
    pip = CME_VENV / "bin" / "pip"
    if cme.exists():
        shown = subprocess.run(
            [str(pip), "show", "confluence-markdown-exporter"],
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        if f"Version: {version}" in shown:
            return cme
    if not CME_VENV.exists():
        subprocess.run([sys.executable, "-m", "venv", str(CME_VENV)], check=True, timeout=300)
    subprocess.run(
        [str(pip), "install", "-q", f"confluence-markdown-exporter=={version}"],
        check=True,
        timeout=900,
    )
    return cme


def cme_instance_url(emu: Emulator) -> str:
    if emu.flavor == "cloud":
        return f"http://{CLOUD_ALIAS_HOST}:{emu.port}"
    return emu.root_url


def cme_space_url(emu: Emulator, instance: str) -> str:
    if emu.flavor == "cloud":
        return f"{instance}/wiki/spaces/{emu.space}"
    return f"{instance}/display/{emu.space}"


def write_cme_config(run_dir: Path, emu: Emulator, instance: str, attachments: str) -> Path:
    auth = (
        {"username": emu.user, "api_token": emu.token}
        if emu.flavor == "cloud"
        else {"pat": emu.token}
    )
    config = {
        "export": {
            "output_path": str(run_dir / "export"),
            "log_level": "INFO",
            "enable_jira_enrichment": False,
            "attachments_export": attachments,
        },
        "auth": {"confluence": {instance: auth}},
    }
    path = run_dir / "cme-config.json"
    path.write_text(json.dumps(config, indent=2))
    path.chmod(0o600)
    return path


def cme_env(emu: Emulator, config: Path, proxied: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "CME_CONFIG_PATH": str(config),
            "CME_NON_INTERACTIVE": "1",
            "NO_COLOR": "1",
            "COLUMNS": "200",
        }
    )
    for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        env.pop(var, None)
    env["NO_PROXY"] = env["no_proxy"] = ""
    if proxied:
        env["HTTP_PROXY"] = env["http_proxy"] = emu.root_url
    return env


def run_cme(
    cme: Path, emu: Emulator, run_dir: Path, *, attachments: str, timeout: float
) -> RunResult:
    fresh_dir(run_dir)
    instance = cme_instance_url(emu)
    config = write_cme_config(run_dir, emu, instance, attachments)
    emu.reset_counters()
    result = run_measured(
        [str(cme), "spaces", cme_space_url(emu, instance)],
        env=cme_env(emu, config, proxied=emu.flavor == "cloud"),
        cwd=run_dir,
        log_path=run_dir / "cme.log",
        timeout=timeout,
    )
    counts = emu.requests()
    result.requests = int(counts["total"])
    result.by_route = counts["by_route"]
    export = run_dir / "export"
    result.extra["md_files"] = sum(1 for _ in export.rglob("*.md")) if export.exists() else 0
    return result


def probe_direct_cloud(cme: Path, emu: Emulator, run_dir: Path) -> str:
    """Run cme against the plain loopback Cloud URL and return what went wrong, verbatim."""
    fresh_dir(run_dir)
    config = write_cme_config(run_dir, emu, emu.root_url, "referenced")
    emu.reset_counters()
    result = run_measured(
        [str(cme), "spaces", f"{emu.base_url}/spaces/{emu.space}"],
        env=cme_env(emu, config, proxied=False),
        cwd=run_dir,
        log_path=run_dir / "cme.log",
        timeout=120,
    )
    log = (run_dir / "cme.log").read_text(errors="replace")
    errors = [
        ln.strip()
        for ln in log.splitlines()
        if ln.lstrip().startswith(("ConnectionError", "Error:"))
    ]
    return (
        f"exit {result.returncode}; requests {json.dumps(emu.requests()['by_route'])}; "
        + " / ".join(errors)
    )


def summarise(label: str, runs: list[RunResult], pages: int) -> dict:
    wall = median([r.wall_s for r in runs])
    reqs = median([r.requests for r in runs])
    return {
        "tool": label,
        "wall_s": wall,
        "pages_per_s": pages / wall if wall else float("nan"),
        "requests": reqs,
        "req_per_page": reqs / pages,
        "peak_rss_mib": median([r.peak_rss_mib for r in runs]),
        "cpu_s": median([r.cpu_s for r in runs]),
        "md_files": median([r.extra.get("md_files", 0) for r in runs]),
        "ok": all(r.returncode == 0 for r in runs),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000, help="seeded pages under the home page")
    ap.add_argument("--flavors", nargs="+", default=["cloud", "dc"], choices=["cloud", "dc"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cme-version", default=CME_VERSION)
    ap.add_argument("--timeout", type=float, default=1800.0, help="per run, seconds")
    ap.add_argument("--no-probe", action="store_true", help="skip the direct Cloud URL probe")
    ap.add_argument("--skip-no-attachments", action="store_true")
    add_link_options(ap)
    args = ap.parse_args()

    cme = ensure_cme(args.cme_version)
    print(f"machine: {machine()}")
    print(f"link: {link_faults(args)}")
    print(f"confluence-markdown-exporter {args.cme_version} in {CME_VENV}")
    tables: list[str] = []
    for flavor in args.flavors:
        base = OUT / "side_by_side" / f"{flavor}-{args.pages}"
        # cme 5.5 asks a Cloud site's /_edge/tenant_info for its cloud id and, when it gets
        # one, sends everything to api.atlassian.com, which cannot be pointed at loopback:
        # the emulator answers 404 there, and cme talks to the site as before.
        with Emulator(flavor=flavor, pages=args.pages, tenant_info=False) as emu:
            emu.set_faults(link_faults(args))
            pages = emu.page_count()
            print(f"\n[{flavor}] emulator {emu.root_url}: {pages} pages")
            if flavor == "cloud" and not args.no_probe:
                print(
                    f"[cloud] cme on the loopback URL: {probe_direct_cloud(cme, emu, base / 'probe')}"
                )
            tools: dict[str, list[RunResult]] = {
                "syncd sync": [],
                "cme": [],
                "cme, no attachments": [],
            }
            if args.skip_no_attachments:
                del tools["cme, no attachments"]
            for i in range(args.runs):
                for tool in tools:
                    run_dir = base / tool.replace(" ", "_").replace(",", "") / f"run{i}"
                    if tool == "syncd sync":
                        fresh_dir(run_dir)
                        r = run_syncd_sync(emu, run_dir, timeout=args.timeout)
                    else:
                        att = "disabled" if "no attachments" in tool else "referenced"
                        r = run_cme(cme, emu, run_dir, attachments=att, timeout=args.timeout)
                    tools[tool].append(r)
                    print(
                        f"[{flavor}] run {i + 1} {tool:22s} rc={r.returncode} wall={r.wall_s:.2f}s "
                        f"requests={r.requests} rss={r.peak_rss_mib:.0f}MiB cpu={r.cpu_s:.1f}s "
                        f"md={r.extra.get('md_files')} routes={json.dumps(r.by_route)}",
                        flush=True,
                    )
            rows = [summarise(t, rs, pages) for t, rs in tools.items()]
        ref = rows[0]
        table = [
            f"\n{flavor}, {pages} pages, median of {args.runs} runs:\n",
            fmt_row(
                [
                    "tool",
                    "wall s",
                    "pages/s",
                    "requests",
                    "req/page",
                    "peak RSS MiB",
                    "CPU s",
                    ".md files",
                    "wall vs syncd",
                ]
            ),
            fmt_row(["---"] * 9),
        ]
        for row in rows:
            table.append(
                fmt_row(
                    [
                        row["tool"] + ("" if row["ok"] else " (FAILED)"),
                        f"{row['wall_s']:.2f}",
                        f"{row['pages_per_s']:.0f}",
                        f"{row['requests']:.0f}",
                        f"{row['req_per_page']:.2f}",
                        f"{row['peak_rss_mib']:.0f}",
                        f"{row['cpu_s']:.1f}",
                        f"{row['md_files']:.0f}",
                        f"{row['wall_s'] / ref['wall_s']:.2f}x",
                    ]
                )
            )
        tables.append("\n".join(table))
        print(tables[-1], flush=True)
    print("\n" + "\n\n".join(tables))
    print(f"\nfinished {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC")
    return 0


if __name__ == "__main__":
    sys.exit(main())
