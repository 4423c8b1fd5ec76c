"""``syncd status [--config C] [--json]``: what the daemon is doing, or last did.

A running daemon answers on its control socket in ``state_dir``. When none answers, the
last known state is read from the state database through a read-only SQLite connection:
no lock is taken, so this works while another process holds the database, and nothing
is ever written. Exit codes follow :func:`syncd.daemon.control.status_exit_code`.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from syncd.daemon.control import (
    SOCKET_NAME,
    DaemonUnresponsive,
    empty_status,
    fetch_status,
    format_status,
    status_exit_code,
)
from syncd.sync.open_conflicts import conflict_rows, status_conflicts
from syncd.sync.records import ConflictRecord

META_PREFIX = "daemon."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", metavar="PATH", help="config file")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument(
        "--timeout", type=float, default=2.0, help="seconds to wait for the daemon (default 2)"
    )


def run(args: argparse.Namespace) -> int:
    from syncd.config import ConfigError, load_config, print_config_error
    from syncd.daemon.credentials import service_environment

    try:
        # The service's secrets live in its env file, not in this shell.
        config = load_config(args.config, env=service_environment())
    except ConfigError as err:
        print_config_error(err)
        return 2
    state_dir = Path(config.state_dir)
    unresponsive = False
    try:
        status = fetch_status(state_dir / SOCKET_NAME, timeout=args.timeout)
    except DaemonUnresponsive as exc:
        status = None
        unresponsive = True
        note = str(exc)
    if status is None:
        status = last_known_status(state_dir, Path(config.local.path))
        status["space"] = status.get("space") or config.confluence.space
        status["path"] = status.get("path") or str(config.local.path)
        if unresponsive:
            status.setdefault("errors", []).append(f"daemon unresponsive: {note}")
    if args.json:
        print(json.dumps(status, indent=2, default=str))
    else:
        sys.stdout.write(format_status(status))
    return status_exit_code(status, unresponsive=unresponsive)


def last_known_status(state_dir: Path, folder: Path | None = None) -> dict[str, Any]:
    """The status contract filled from the state database, ``running`` false. With the
    sync `folder`, a conflict copy the user deleted since is no longer listed."""
    doc = empty_status()
    doc["last_known"] = True
    db = Path(state_dir) / "state.db"
    if not db.is_file():
        doc["mode"] = None
        doc["mode_reason"] = "syncd has not run with this state directory yet"
        return doc
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error as exc:
        doc["errors"] = [f"cannot read {db}: {exc}"]
        return doc
    try:
        meta = dict(_rows(conn, "SELECT key, value FROM meta"))
        pages = _rows(
            conn,
            "SELECT COUNT(*) FROM pages p WHERE NOT EXISTS "
            "(SELECT 1 FROM tombstones t WHERE t.page_id = p.page_id)",
        )
        # Each names its page's file as it is now (renamed or moved since the conflict),
        # with the page's title (as `titled_conflicts` reads them from an open StateDB).
        conflicts = _rows(
            conn,
            "SELECT c.page_id, COALESCE(p.local_path, c.path), c.kind, c.created_at, c.detail, "
            "c.id, p.title FROM conflicts c LEFT JOIN pages p ON p.page_id = c.page_id AND "
            "NOT EXISTS (SELECT 1 FROM tombstones t WHERE t.page_id = p.page_id) ORDER BY c.id",
        )
        hooks = _rows(conn, "SELECT webhook_id, url FROM webhooks ORDER BY created_at")
    except sqlite3.Error as exc:
        doc["errors"] = [f"cannot read {db}: {exc}"]
        return doc
    finally:
        conn.close()
    doc["pages"] = int(pages[0][0]) if pages else 0
    doc["containers"] = _containers(db)
    on_disk = (lambda rel: (Path(folder) / rel).exists()) if folder is not None else None
    titled = ((ConflictRecord(*row[:6]), row[6]) for row in conflicts)
    doc.update(status_conflicts(conflict_rows(titled, on_disk)))
    doc["mode"] = meta.get(META_PREFIX + "mode")
    reason = meta.get(META_PREFIX + "mode_reason")
    if reason:
        doc["mode_reason"] = reason
    doc["last_event_at"] = meta.get(META_PREFIX + "last_event_at")
    doc["last_poll_at"] = meta.get(META_PREFIX + "last_poll_at") or meta.get("poll_watermark")
    if meta.get(META_PREFIX + "stopped_at"):
        doc["stopped_at"] = meta[META_PREFIX + "stopped_at"]
    if meta.get(META_PREFIX + "blocked"):
        doc["blocked"] = meta[META_PREFIX + "blocked"]
    if hooks:
        doc["webhook"] = {
            "registered": True,
            "id": ",".join(str(h[0]) for h in hooks),
            "url": hooks[0][1],
        }
    return doc


def _rows(conn: sqlite3.Connection, sql: str) -> list[tuple]:
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise


def _containers(db: Path) -> dict[str, int]:
    """Live Cloud folders (whiteboards, ...) by kind; empty for a state from before them."""
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error:
        return {}
    try:
        rows = _rows(
            conn, "SELECT kind, COUNT(*) FROM containers WHERE deleted IS NULL GROUP BY kind"
        )
    except sqlite3.Error:
        return {}
    finally:
        conn.close()
    return {str(kind): int(n) for kind, n in sorted(rows)}
