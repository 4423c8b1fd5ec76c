"""`syncd restore PATH`: put a file back from the local trash.

Files land in the local trash (``<state_dir>/trash/<stamp>/<path>``) when their
page was trashed or deleted in Confluence (an attachment's file: when the
attachment was). Restoring puts the newest trashed copy of PATH back into the
folder (beside the current file, as ``<stem>.restored-<stamp>.md``, if something
is already there); the next sync then restores the page in Confluence from its
trash (or re-creates it when it was deleted for good), or uploads the attachment
again. ``--list`` shows what the trash holds.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from syncd.config import ConfigError, config_error_exit, load_config
from syncd.local.atomic import find_in_trash, list_trash, restore_from_trash


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", nargs="?", help="the file's path in the synced folder")
    parser.add_argument("--config", "-c", metavar="C", help="configuration file")
    parser.add_argument("--list", action="store_true", help="list the files in the local trash")


def relative_to_folder(path: str, folder: Path, cwd: Path | None = None) -> str | None:
    """PATH as a path relative to the synced folder, None when it points outside.

    Absolute paths must be inside the folder. A relative path is taken from the
    current directory when that is inside the folder (as a shell user means it),
    otherwise from the folder itself.
    """
    root = folder.resolve()
    here = (cwd or Path.cwd()).resolve()
    candidate = Path(path)
    if not candidate.is_absolute():
        base = here if here.is_relative_to(root) else root
        candidate = base / candidate
    clean = Path(os.path.normpath(candidate))
    try:
        return clean.relative_to(root).as_posix()
    except ValueError:
        return None


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as err:
        config_error_exit(err)
    from syncd.sync.engine import trash_dir

    trash = trash_dir(config)
    folder = Path(config.local.path)
    if args.list or not args.path:
        entries = list_trash(trash)
        for entry in entries:
            print(f"{entry.stamp}  {entry.rel}")
        if not entries:
            print("the local trash is empty")
        return 0
    rel = relative_to_folder(args.path, folder)
    if rel is None or rel.startswith("../"):
        print(f"syncd: {args.path} is not inside the synced folder {folder}", file=sys.stderr)
        return 2
    matches = find_in_trash(trash, rel)
    if not matches:
        similar = sorted({e.rel for e in list_trash(trash) if Path(e.rel).name == Path(rel).name})
        hint = f" (trashed: {', '.join(similar)})" if similar else " (see `syncd restore --list`)"
        print(f"syncd: {rel} is not in the local trash{hint}", file=sys.stderr)
        return 1
    folder.mkdir(parents=True, exist_ok=True)
    restored = restore_from_trash(matches[0], folder)
    if ".attachments/" in rel:
        print(f"restored {restored}; the next sync uploads the attachment again")
    else:
        print(f"restored {restored}; the next sync brings the page back in Confluence")
    return 0
