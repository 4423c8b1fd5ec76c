"""The `syncd` command.

Each subcommand lives in the package that owns it, as a module exposing
``add_arguments(parser)`` and ``run(args) -> int``. They are imported lazily so
``syncd --help`` stays fast and a broken optional part cannot stop the rest.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from syncd import __version__

# name -> (module implementing add_arguments/run, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("syncd.demo", "try syncd offline: emulator + daemon syncing into ./syncd-demo"),
    "emulator": ("syncd.emulator.command", "run a local Confluence emulator"),
    "sync": ("syncd.sync.command", "sync the folder with Confluence once and exit"),
    "restore": ("syncd.sync.restore", "bring a file back from the local trash"),
    "run": ("syncd.daemon.run", "run the sync daemon (webhooks, file watcher, polling)"),
    "status": ("syncd.daemon.status_command", "show what the daemon is doing"),
    "webhook": ("syncd.daemon.webhook_command", "list, register or delete syncd's webhooks"),
    "init": ("syncd.init_command", "create a config, checked against Confluence"),
    "doctor": ("syncd.doctor", "check the config, server, webhooks, folder and clock"),
    "service": ("syncd.service", "install or remove the background service (systemd/launchd)"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncd",
        description="Keep a folder of Markdown files two-way in sync with a Confluence space.",
    )
    parser.add_argument("--version", action="version", version=f"syncd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
