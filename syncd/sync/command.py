"""`syncd sync`: one full reconcile of the whole space, then exit.

Exit status: 0 in sync, 1 conflicts remain or deletions were blocked by the
mass-deletion guard, 2 on error (bad config, refused credentials, Confluence
unreachable, folder locked by a running syncd): one clear line on stderr,
the traceback only with ``-v``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
import traceback
from typing import TextIO

from syncd.config import ConfigError, config_error_exit, load_config

#: Changes listed one per line before the rest is summarised (all of them with -v).
MAX_LISTED = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", metavar="C", help="configuration file")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and change nothing")
    parser.add_argument(
        "--allow-delete",
        action="store_true",
        help="confirm deletions above sync.max_delete (the mass-deletion guard)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more detail")


class TerminalProgress:
    """A one-line progress display on stderr, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self._last = 0.0
        self._shown = False

    def __call__(self, done: int, total: int, message: str) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        width = 60
        text = f"[{done}/{total}] {message}"
        if len(text) > width:
            text = text[: width - 1] + "…"
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=[logging.ERROR, logging.WARNING, logging.DEBUG][min(args.verbose, 2)],
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        config = load_config(args.config)
    except ConfigError as err:
        config_error_exit(err)
    for warning in config.warnings:
        print(f"syncd: warning: {warning}", file=sys.stderr)
    try:
        return asyncio.run(_sync(config, args))
    except KeyboardInterrupt:
        # Each step is written atomically and recorded as it completes: the next run
        # carries on from there.
        print(
            "\nsyncd: interrupted; run again to continue (what was done is kept)", file=sys.stderr
        )
        return 130
    except Exception as exc:
        print(f"syncd: {describe_error(exc)}", file=sys.stderr)
        if args.verbose:
            traceback.print_exc()
        return 2


#: How the dry-run summary names each kind of action: (one, several).
ACTION_NOUNS: dict[str, tuple[str, str]] = {
    "pull": ("pull", "pulls"),
    "push": ("push", "pushes"),
    "merge": ("merge", "merges"),
    "create": ("page to create", "pages to create"),
    "move-remote": ("move in Confluence", "moves in Confluence"),
    "move-local": ("local move", "local moves"),
    "trash-remote": ("page to trash", "pages to trash"),
    "trash-local": ("file to the local trash", "files to the local trash"),
    "restore-remote": ("page to restore", "pages to restore"),
    "link": ("file to link", "files to link"),
}


def _count(n: int, nouns: tuple[str, str]) -> str:
    return f"{n} {nouns[0] if n == 1 else nouns[1]}"


def plan_summary(
    plan, attachment_changes: int = 0, folder_steps: int = 0, open_conflicts: int = 0
) -> str:
    """One line after the dry-run plan: how many of each, and that nothing changed.
    Bookkeeping steps (record, forget) touch neither side and are left out.
    `open_conflicts`: conflicts waiting for the user besides the pages the plan holds
    (conflict copies still on disk, refusals)."""
    from collections import Counter

    folders = sum(1 for a in plan.actions if getattr(a, "folder", False))
    verbs = Counter(action.verb for action in plan.actions if not getattr(action, "folder", False))
    parts = [_count(verbs[verb], nouns) for verb, nouns in ACTION_NOUNS.items() if verbs[verb]]
    if folders:
        parts.append(_count(folders, ("folder to create", "folders to create")))
    if folder_steps:
        parts.append(_count(folder_steps, ("folder step", "folder steps")))
    if attachment_changes:
        parts.append(_count(attachment_changes, ("attachment change", "attachment changes")))
    if plan.held:
        parts.append(_count(len(plan.held), ("conflict held", "conflicts held")))
    if open_conflicts:
        parts.append(_count(open_conflicts, ("open conflict", "open conflicts")))
    if plan.blocked_deletions is not None:
        blocked = len(plan.blocked_deletions.actions)
        parts.append(_count(blocked, ("deletion blocked", "deletions blocked")))
    what = ", ".join(parts) if parts else "no change to either side"
    return f"plan: {what} (dry run: nothing was changed)"


def describe_error(exc: BaseException) -> str:
    from syncd.confluence import AuthFailed, ConfluenceError, DeploymentUnknown, Unreachable
    from syncd.sync.state import StateError

    if isinstance(exc, AuthFailed):
        return f"Confluence refused the credentials: {exc} (check confluence.email/token)"
    if isinstance(exc, Unreachable):
        return f"cannot reach Confluence: {exc} (check confluence.base_url and the network)"
    if isinstance(exc, DeploymentUnknown):
        return (
            f"{exc.message}; check confluence.base_url (Cloud: https://ORG.atlassian.net/wiki; "
            "Data Center: the address you open in a browser, with its context path)"
        )
    if isinstance(exc, ConfluenceError | StateError | FileNotFoundError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


async def _sync(config, args: argparse.Namespace) -> int:
    from syncd.sync.engine import SyncEngine
    from syncd.sync.open_conflicts import printable

    progress = TerminalProgress() if sys.stderr.isatty() and not args.dry_run else None
    engine = await SyncEngine.open(config, progress=progress, interactive=True)
    try:
        report = await engine.run_once(None, dry_run=args.dry_run, allow_delete=args.allow_delete)
    finally:
        if progress is not None:
            progress.finish()
        await engine.close()
    out = sys.stdout
    if args.dry_run:
        lines = (
            report.container_preview
            + report.plan.describe()
            + report.attachment_preview
            + report.conflict_preview
        )
        for line in lines:
            print(line, file=out)
        if not lines:
            print("nothing to do: in sync", file=out)
        else:
            print(
                plan_summary(
                    report.plan,
                    len(report.attachment_preview),
                    len(report.container_preview),
                    len(report.conflict_preview),
                ),
                file=out,
            )
    else:
        shown = report.applied if args.verbose else report.applied[:MAX_LISTED]
        for change in shown:
            print(f"{change.event_type}: {change.path}", file=out)
        if len(shown) < len(report.applied):
            print(f"... and {len(report.applied) - len(shown)} more (-v lists all)", file=out)
        summary = f"{len(report.applied)} change(s) applied"
        print(summary if report.applied else "in sync: nothing to do", file=out)
        if args.verbose:
            print(f"local files read: {report.files_read}", file=out)
    for note in report.plan.notes:
        if not args.dry_run:
            print(f"note: {note}", file=out)
    for error in report.errors:
        print(f"syncd: {error}", file=sys.stderr)
    for path in report.conflicts:
        # its page and what ends it, escaped as `syncd status` shows it (titles are untrusted)
        line = report.conflict_lines.get(path) or report.conflict_help.get(path) or path
        print(f"syncd: conflict: {printable(line)}", file=sys.stderr)
    if report.blocked_deletions:
        print(f"syncd: {report.blocked_deletions}", file=sys.stderr)
    if report.conflicts or report.blocked_deletions:
        return 1
    return 0 if report.in_sync or args.dry_run else 1
