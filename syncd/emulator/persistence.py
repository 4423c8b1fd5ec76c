"""Optional persistence of the whole site to one JSON file (``--data FILE``).

Loaded at start; saved atomically (temp file, fsync, rename) a short while after each change
(debounced, so a burst of edits is one write) and at stop. Attachment bytes are base64.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import tempfile
import threading
from dataclasses import asdict
from pathlib import Path

from syncd.emulator.model import (
    CONTAINER_TYPES,
    Attachment,
    AttachmentVersion,
    Content,
    Label,
    Space,
    User,
    Version,
    Webhook,
)
from syncd.emulator.store import Store, title_key

FORMAT = 1
DEBOUNCE_S = 0.2


def dump(store: Store) -> dict:
    with store.lock:
        return {
            "format": FORMAT,
            "user": asdict(store.user),
            "users": [asdict(u) for u in store.users.values()],
            "next_id": store._next_id,
            "next_label_id": store._next_label_id,
            "next_webhook_id": store._next_webhook_id,
            "clock_last": store.clock.peek_ms(),
            "spaces": [asdict(s) for s in sorted(store.spaces.values(), key=lambda s: s.id)],
            "content": [
                _content(c) for c in sorted(store.content.values(), key=lambda c: int(c.id))
            ],
            "children": store._children,
            "roots": store._roots,
            "attachments": [_attachment(a) for a in store.attachments.values()],
            "webhooks": [asdict(h) for h in store.webhooks.values()],
        }


def _content(c: Content) -> dict:
    d = asdict(c)
    d["labels"] = [asdict(lb) for lb in c.labels.values()]
    return d


def _attachment(a: Attachment) -> dict:
    d = asdict(a)
    for v in d["versions"]:
        v["data"] = base64.b64encode(v["data"]).decode()
    return d


def load(data: dict, *, seed: int = 0) -> Store:
    if data.get("format") != FORMAT:
        raise ValueError(f"unsupported emulator data format: {data.get('format')!r}")
    store = Store(User(**data["user"]), seed=seed)
    for raw in data.get("users", []):
        other = User(**raw)
        store.users.setdefault(other.account_id, other)
    store._next_id = data["next_id"]
    store._next_label_id = data["next_label_id"]
    store._next_webhook_id = data["next_webhook_id"]
    store.clock._last = int(data.get("clock_last", 0))
    for s in data["spaces"]:
        space = Space(**s)
        store.spaces[space.key] = space
        store.spaces_by_id[space.id] = space
    for raw in data["content"]:
        raw = dict(raw)
        raw["versions"] = [Version(**v) for v in raw["versions"]]
        raw["labels"] = {lb["name"]: Label(**lb) for lb in raw["labels"]}
        c = Content(**raw)
        store.content[c.id] = c
        if c.type in ("page", "blogpost"):
            store._by_title[title_key(c.space_key, c.type, c.title)] = c.id
        if c.type in ("page", "blogpost", *CONTAINER_TYPES):
            store._listing.setdefault((c.space_key, c.type), []).append(int(c.id))
        for lb in c.labels.values():
            store._labels_by_name[(lb.prefix, lb.name)] = lb.id
    store._children = {k: list(v) for k, v in data["children"].items()}
    store._roots = {k: list(v) for k, v in data["roots"].items()}
    for raw in data["attachments"]:
        raw = dict(raw)
        raw["versions"] = [
            AttachmentVersion(**{**v, "data": base64.b64decode(v["data"])}) for v in raw["versions"]
        ]
        a = Attachment(**raw)
        store.attachments[a.id] = a
    for raw in data["webhooks"]:
        hook = Webhook(**raw)
        store.webhooks[hook.id] = hook
    return store


def load_store(path: Path, *, seed: int = 0) -> Store:
    return load(json.loads(Path(path).read_text(encoding="utf-8")), seed=seed)


def save_store(store: Store, path: Path) -> None:
    """Write atomically: a crash leaves either the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(dump(store), separators=(",", ":")).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class Persister:
    """Saves the store ``DEBOUNCE_S`` after the last change, and once more at stop."""

    def __init__(self, store: Store, path: Path) -> None:
        self.store = store
        self.path = Path(path)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._pending: asyncio.Future | None = None
        self._write_lock = threading.Lock()
        self.saves = 0

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.store.change_listeners.append(self._on_change)
        if not self.path.exists():
            self.save()

    def _on_change(self) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._schedule)

    def _schedule(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
        assert self._loop is not None
        self._handle = self._loop.call_later(DEBOUNCE_S, self._save_in_background)

    def _save_in_background(self) -> None:
        """Write off the event loop: a large space takes a moment to serialise."""
        self._handle = None
        assert self._loop is not None
        self._pending = self._loop.run_in_executor(None, self.save)

    def save(self) -> None:
        with self._write_lock:
            save_store(self.store, self.path)
            self.saves += 1

    def stop(self) -> None:
        """Final save (synchronous, waits for a background save in progress)."""
        if self._on_change in self.store.change_listeners:
            self.store.change_listeners.remove(self._on_change)
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self.save()
