"""The `syncd` command.

Each subcommand lives in the package that owns it, as a module exposing
``add_arguments(parser)`` and ``run(args) -> int``. Only the command being run is
imported: ``syncd sync`` does not pay for the emulator's web server (aiohttp's client
alone takes a few hundred milliseconds to import), and a broken optional part cannot stop
the rest. ``syncd --help`` lists every command from the table below without importing any.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Collection, Sequence

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


def build_parser(load: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The parser with every command; only the modules of the commands in ``load`` (all when
    None) are imported and add their arguments: the others need none to be listed."""
    parser = argparse.ArgumentParser(
        prog="syncd",
        description="Keep a folder of Markdown files two-way in sync with a Confluence space.",
    )
    parser.add_argument("--version", action="version", version=f"syncd {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        command_parser = sub.add_parser(name, help=help_text, description=help_text)
        if load is not None and name not in load:
            continue
        module = importlib.import_module(module_name)
        module.add_arguments(command_parser)
        command_parser.set_defaults(_run=module.run)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The command named on the line (the first word not an option), if it is one."""
    word = next((a for a in argv if not a.startswith("-")), None)
    return word if word in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command_in(argv)
    parser = build_parser(load=[command] if command else [])
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
