"""Shared plumbing for the end-to-end benchmarks (first sync, no-change sync, side by side).

Every measured tool runs as its own child process, so the peak RSS reported is that
process's own (``os.wait4`` gives the rusage of exactly one child, unlike
``RUSAGE_CHILDREN``, which keeps the maximum over every child ever waited for). On Linux
the bench is a child subreaper: what the tool leaves behind (syncd's fork server, and
through it its conversion workers) is reaped after it, its CPU time added to the tool's and
its peak RSS reported apart (``helpers_peak_rss_mib``). The
emulator runs as a separate ``syncd emulator`` process on loopback; its request counters
(``GET /_emulator/requests``, reset with ``POST /_emulator/reset``) count the API calls of
each run. Every wait is bounded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
SYNCD = ROOT / ".venv" / "bin" / "syncd"
TOKEN_ENV = "SYNCD_BENCH_TOKEN"


def sync_bench_parser(doc: str) -> argparse.ArgumentParser:
    """The options every `syncd sync` bench shares: flavors, runs, a per-run timeout."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument(
        "--flavors",
        nargs="+",
        default=["cloud"],
        choices=["cloud", "dc", "gateway"],
        help="gateway: Cloud through the API gateway path with a scoped token",
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=1800.0, help="per run, seconds")
    add_link_options(ap)
    return ap


def add_link_options(ap: argparse.ArgumentParser) -> None:
    """--latency-ms / --bandwidth-kib-s: the emulator's per-request link faults."""
    ap.add_argument(
        "--latency-ms", type=int, default=0, help="added to every request (emulator fault)"
    )
    ap.add_argument(
        "--bandwidth-kib-s",
        type=int,
        default=0,
        help="each response body sent at this rate (emulator fault; 0: loopback speed)",
    )


def link_faults(args: argparse.Namespace) -> dict:
    return {"latency_ms": args.latency_ms, "bandwidth_kib_s": args.bandwidth_kib_s}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url: str, method: str = "GET", timeout: float = 30.0) -> dict:
    data = b"{}" if method == "POST" else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    # Never route control calls through a proxy a caller may have set for a measured tool.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=timeout) as resp:
        return json.loads(resp.read() or b"{}")


@dataclass
class Emulator:
    """A ``syncd emulator`` subprocess serving one seeded space on loopback."""

    flavor: str
    pages: int
    seed: int = 1
    space: str = "DEMO"
    user: str = "demo@example.com"
    token: str = "demo-token"
    port: int = 0
    #: Cloud: also seed the content tree with folders (``syncd emulator --folders``).
    folders: bool = False
    #: Cloud: answer /_edge/tenant_info (``--no-tenant-info`` when False).
    tenant_info: bool = True
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def cloud(self) -> bool:
        return self.flavor in ("cloud", "gateway")

    @property
    def base_url(self) -> str:
        return self.root_url + ("/wiki" if self.cloud else "")

    def gateway_url(self) -> str:
        cloud_id = http_json(f"{self.root_url}/_edge/tenant_info")["cloudId"]
        return f"{self.root_url}/ex/confluence/{cloud_id}"

    def _grant_scoped_token(self) -> None:
        """The gateway flavor: the same token string, accepted as a scoped token with every
        scope syncd asks for (README, Service account)."""
        from syncd.confluence.scopes import scopes_for_features

        scopes = sorted({s for r in scopes_for_features(attachments=True) for s in r.scopes})
        body = json.dumps({"token": self.token, "scopes": scopes}).encode()
        req = urllib.request.Request(
            f"{self.root_url}/_emulator/tokens",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()

    def start(self, startup_timeout: float = 600.0) -> Emulator:
        self.port = free_port()
        OUT.mkdir(parents=True, exist_ok=True)
        self.log_path = OUT / f"emulator-{self.flavor}-{self.pages}.log"
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                str(SYNCD),
                "emulator",
                "--flavor",
                "cloud" if self.cloud else self.flavor,
                "--port",
                str(self.port),
                "--pages",
                str(self.pages),
                "--seed",
                str(self.seed),
                "--space",
                self.space,
                "--user",
                self.user,
                "--token",
                self.token,
                *(["--folders"] if self.folders else []),
                *([] if self.tenant_info else ["--no-tenant-info"]),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _KEEP.add(self.proc.pid)
        deadline = time.monotonic() + startup_timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited early, see {self.log_path}")
            try:
                health = http_json(f"{self.root_url}/_emulator/health", timeout=5)
                if health.get("ok"):
                    if self.flavor == "gateway":
                        self._grant_scoped_token()
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"emulator not healthy after {startup_timeout}s")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_faults(self, faults: dict) -> None:
        """Apply emulator faults (``POST /_emulator/faults``), e.g. the link's latency."""
        data = json.dumps(faults).encode()
        req = urllib.request.Request(f"{self.root_url}/_emulator/faults", data=data, method="POST")
        req.add_header("Content-Type", "application/json")
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=30) as resp:
            resp.read()

    def reset_counters(self) -> None:
        http_json(f"{self.root_url}/_emulator/reset", method="POST")

    def requests(self) -> dict:
        return http_json(f"{self.root_url}/_emulator/requests")

    def page_count(self) -> int:
        return int(http_json(f"{self.root_url}/_emulator/health").get("pages", 0))


@dataclass
class RunResult:
    wall_s: float
    peak_rss_mib: float
    cpu_s: float
    returncode: int
    requests: int = 0
    by_route: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def run_measured(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log_path: Path,
    timeout: float,
) -> RunResult:
    """Run ``cmd`` as a child, wait with a deadline, return wall time, peak RSS and CPU."""
    with open(log_path, "wb") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                wall = time.perf_counter() - start
                break
            if time.monotonic() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                wall = time.perf_counter() - start
                break
            time.sleep(0.005)
    proc.returncode = os.waitstatus_to_exitcode(status)
    rss = usage.ru_maxrss / (1024 * 1024) if sys.platform == "darwin" else usage.ru_maxrss / 1024
    helpers_cpu, helpers_rss = _reap_orphans()
    return RunResult(
        wall_s=wall,
        peak_rss_mib=rss,
        cpu_s=usage.ru_utime + usage.ru_stime + helpers_cpu,
        returncode=proc.returncode,
        extra={"helpers_cpu_s": helpers_cpu, "helpers_peak_rss_mib": helpers_rss},
    )


def _become_subreaper() -> bool:
    """Linux: processes the measured tool leaves behind (syncd's fork server, and through
    it its conversion workers) become our children when it exits, so their CPU time can
    be counted with the tool's."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    pr_set_child_subreaper = 36
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(pr_set_child_subreaper, 1, 0, 0, 0) == 0


_SUBREAPER = _become_subreaper()
_KEEP: set[int] = set()  # children that are not the measured tool's (the emulator)


def _reap_orphans(grace: float = 3.0) -> tuple[float, float]:
    """CPU seconds and peak RSS (MiB) of the measured tool's orphans (its fork server and
    the workers the server waited for), reaped within `grace` seconds of its exit."""
    if not _SUBREAPER:
        return 0.0, 0.0
    cpu = rss = 0.0
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            found = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            break
        if found is None:
            if not _orphans_alive():
                break
            time.sleep(0.02)
            continue
        if found.si_pid in _KEEP:
            break  # the emulator died: leave it to its owner
        _, _, usage = os.wait4(found.si_pid, 0)
        cpu += usage.ru_utime + usage.ru_stime
        rss = max(rss, usage.ru_maxrss / 1024)
    return cpu, rss


def _orphans_alive() -> bool:
    """Whether a child other than the emulator(s) is still running (Linux /proc)."""
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and int(stat.parent.name) not in _KEEP:
            return True
    return False


def write_syncd_config(run_dir: Path, emu: Emulator) -> Path:
    """A syncd config for a one-shot sync: no webhook, token from the environment."""
    run_dir.mkdir(parents=True, exist_ok=True)
    lines = [
        "confluence:",
        f"  base_url: {emu.base_url}",
        f"  deployment: {'cloud' if emu.cloud else 'datacenter'}",
        f"  space: {emu.space}",
    ]
    if emu.flavor == "gateway":
        lines.append(f"  api_url: {emu.gateway_url()}")
    if emu.cloud:
        lines.append(f"  email: {emu.user}")
    lines += [
        f"  token: ${{{TOKEN_ENV}}}",
        "local:",
        "  path: ./folder",
        "webhook:",
        "  enabled: false",
        "state_dir: ./state",
    ]
    path = run_dir / "config.yaml"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def syncd_env(emu: Emulator) -> dict[str, str]:
    env = dict(os.environ)
    env[TOKEN_ENV] = emu.token
    for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        env.pop(var, None)
    return env


def run_syncd_sync(
    emu: Emulator,
    run_dir: Path,
    *,
    timeout: float = 1800.0,
    reset: bool = True,
    args: tuple[str, ...] = (),
) -> RunResult:
    """One ``syncd sync --config ... [args]`` subprocess; counts its API requests on the
    emulator. With ``-v`` in ``args``, ``extra["files_read"]`` is the number of local files
    the run read (None when the syncd under test does not print it)."""
    config = run_dir / "config.yaml"
    if not config.exists():
        write_syncd_config(run_dir, emu)
    if reset:
        emu.reset_counters()
    log_path = run_dir / f"sync-{time.time_ns()}.log"
    result = run_measured(
        [str(SYNCD), "sync", "--config", str(config), *args],
        env=syncd_env(emu),
        cwd=run_dir,
        log_path=log_path,
        timeout=timeout,
    )
    counts = emu.requests()
    result.requests = int(counts["total"])
    result.by_route = counts["by_route"]
    result.extra["peak_in_flight"] = counts.get("peak_in_flight", {})
    read = re.search(r"^local files read: (\d+)$", log_path.read_text(errors="replace"), re.M)
    result.extra["files_read"] = int(read.group(1)) if read else None
    folder = run_dir / "folder"
    result.extra["md_files"] = sum(1 for _ in folder.rglob("*.md")) if folder.exists() else 0
    return result


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, AttributeError):
        pass
    return (
        f"{os.cpu_count()} vCPU ({cpu}){mem}, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def fmt_row(cells: list[object]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"
