"""``syncd demo``: the whole product on one machine, offline.

Starts the emulator with a seeded space of realistic pages, writes a config for it, and
runs the real daemon (webhooks, watcher, poller) syncing into a folder, then tells the
user what to try. Everything lives under the demo folder: the Markdown files at its top,
the config, state and the emulator's data under its hidden ``.syncd/`` folder, so a second
``syncd demo`` in the same folder carries on where the first stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shlex
import socket
import sys
from pathlib import Path
from typing import Any, TextIO

DEMO_USER = "demo@example.com"
DEMO_TOKEN = "demo-token"
DEMO_SECRET = "demo-webhook-secret"
DEMO_SPACE = "DEMO"

log = logging.getLogger("syncd.demo")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--dir",
        default="syncd-demo",
        metavar="D",
        help="folder to sync into (default ./syncd-demo)",
    )
    parser.add_argument("--flavor", choices=("cloud", "dc"), default="cloud")
    parser.add_argument("--pages", type=int, default=15, help="seeded pages (default 15)")
    parser.add_argument("--port", type=int, default=0, help="emulator port (default: any free)")
    parser.add_argument(
        "--folders",
        action="store_true",
        help="Cloud: seed a space tree with folders, a whiteboard, a database and an embed",
    )
    parser.add_argument(
        "--log-format", choices=("plain", "json"), default="plain", help="daemon log format"
    )
    parser.add_argument("-v", "--verbose", action="count", default=0)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_demo_config(folder: Path, *, flavor: str, base_url: str, webhook_port: int) -> Path:
    """The config a user would write for this emulator (owner-only, it holds a literal token)."""
    hidden = folder / ".syncd"
    hidden.mkdir(parents=True, exist_ok=True, mode=0o700)
    lines = [
        "confluence:",
        f"  base_url: {base_url}",
        f"  deployment: {'cloud' if flavor == 'cloud' else 'datacenter'}",
        f"  space: {DEMO_SPACE}",
        *([f"  email: {DEMO_USER}"] if flavor == "cloud" else []),
        f"  token: {DEMO_TOKEN}",
        "local:",
        f"  path: {json.dumps(str(folder))}",
        "webhook:",
        "  enabled: true",
        f"  listen: 127.0.0.1:{webhook_port}",
        f"  secret: {DEMO_SECRET}",
        "  silence_timeout: 2m",
        "poll:",
        "  interval: 30s",
        "  full_scan: 10m",
        "sync:",
        "  debounce: 500ms",
        f"state_dir: {json.dumps(str(hidden / 'state'))}",
        "",
    ]
    path = hidden / "config.yaml"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines))
    os.chmod(path, 0o600)
    return path


def syncd_command() -> str:
    """This syncd by its full path: the banner's commands then work in a terminal whose PATH
    lacks the virtualenv (the README installs into ./.venv without activating it)."""
    exe = Path(sys.executable).parent / "syncd"
    if exe.is_file() and os.access(exe, os.X_OK):
        return shlex.quote(str(exe))
    return f"{shlex.quote(sys.executable)} -m syncd"


def print_guide(out: TextIO, *, emu: Any, folder: Path, config: Path, sample: Any) -> None:
    """What to try, as commands that work in order and as often as they are run."""
    rel = sample.local_path if sample else "README.md"
    syncd = syncd_command()
    with_config = f"--config {shlex.quote(str(config))}"
    print(
        f"""
syncd demo is running.
  Confluence emulator : {emu.base_url}  (user {DEMO_USER}, token {DEMO_TOKEN})
  Emulator control    : {emu.root_url}/_emulator/
  Synced folder       : {folder}
  Config              : {config}

Try, in another terminal:
  1. Edit {shlex.quote(str(folder / rel))} in your editor and save:
     the page changes in Confluence within a second or two.{" See it there:" if sample else ""}""",
        file=out,
    )
    if sample is not None:
        page = sample.page_id
        print(
            f"""     {syncd} emulator show {page} {with_config}
  2. Change the page in Confluence (adds a paragraph; run it as often as you like):
     {syncd} emulator edit {page} "Edited in Confluence" {with_config}
     and watch {rel} change.""",
            file=out,
        )
    print(
        f"""  3. {syncd} status {with_config}

Ctrl-C stops the daemon and the emulator.""",
        file=out,
        flush=True,
    )


def prepare_folder(args: argparse.Namespace) -> Path:
    folder = Path(args.dir).expanduser().resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".syncd").mkdir(exist_ok=True, mode=0o700)
    return folder


async def run_demo(args: argparse.Namespace, folder: Path, out: TextIO = sys.stdout) -> int:
    from syncd.config import ConfigError, load_config
    from syncd.daemon.runtime import Daemon, RunOptions
    from syncd.emulator.server import EmulatorServer

    data = folder / ".syncd" / f"emulator-{args.flavor}.json"
    emu = EmulatorServer(
        flavor=args.flavor,
        port=args.port,
        space=DEMO_SPACE,
        pages=args.pages,
        seed=1,
        user=DEMO_USER,
        token=DEMO_TOKEN,
        data=data,
        folders=getattr(args, "folders", False),
    )
    await emu.start()
    try:
        config_path = write_demo_config(
            folder, flavor=args.flavor, base_url=emu.base_url, webhook_port=_free_port()
        )
        try:
            config = load_config(config_path)
        except ConfigError as err:  # our own file: a bug, but say it plainly
            print(f"syncd demo: {err}", file=sys.stderr)
            return 2
        daemon = Daemon(config, options=RunOptions())
        task = asyncio.create_task(daemon.run())
        ready = asyncio.create_task(daemon.ready.wait())
        await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            ready.cancel()
            return task.result()
        sample = _sample_page(daemon)
        print_guide(out, emu=emu, folder=folder, config=config_path, sample=sample)
        return await task
    finally:
        await emu.stop()


def _sample_page(daemon: Any) -> Any:
    """A tracked page other than the home page, to point the user at."""
    try:
        records = daemon.engine.state.pages().values()
    except Exception:
        return None
    candidates = sorted(
        (r for r in records if r.tombstone is None and r.local_path != "README.md"),
        key=lambda r: r.local_path,
    )
    return candidates[0] if candidates else None


def run(args: argparse.Namespace) -> int:
    from syncd.daemon.logging_setup import setup_logging

    setup_logging(fmt=args.log_format, verbosity=args.verbose)
    if getattr(args, "folders", False) and args.flavor != "cloud":
        print(
            "syncd demo: --folders needs --flavor cloud (Data Center has no folders)",
            file=sys.stderr,
        )
        return 2
    try:
        return asyncio.run(run_demo(args, prepare_folder(args)))
    except KeyboardInterrupt:
        return 130
