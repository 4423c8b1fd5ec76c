"""Watch the synced folder and report debounced, coalesced changes of real files.

The watchdog observer runs in its own thread; its handler only converts each event to
relative paths and hands it to the asyncio loop with ``loop.call_soon_threadsafe``. All
decisions happen on the loop thread, and files are stat'ed and hashed in a worker thread.

What reaches the sink is a batch of :class:`LocalChange` (``changed``, ``deleted`` or
``moved``) for pages (``*.md``) and attachment files, each after ``debounce`` seconds without
events for that path (or ``max_wait`` after its first event, so a file rewritten forever is
still reported). The decision is made by looking at the disk when a path is flushed, not by
replaying events, which is what turns editors' safe-save dances into one edit:

* write temp + rename over (gedit ``.goutputstream-*``, JetBrains ``___jb_tmp___``, syncd's
  own ``.syncd.*.tmp``): the temp name is ignored; the rename marks the real file.
* rename the original away + write a new file (vim ``name~``, emacs, JetBrains
  ``___jb_old___``), or delete + create: at flush time the file exists, so it is a change.
  A path found missing is only reported deleted after ``delete_delay`` more seconds in which
  it did not come back.
* vim's ``4913`` probe, swap files, ``#emacs#`` files, hidden files: ignored.
* truncate then write (VS Code): an empty file that was not empty is re-read after another
  quiet period before it is reported.
* a file whose content hash equals the last one reported (a touch, an editor saving an
  unchanged buffer) is not reported.

syncd's own writes are announced with :meth:`LocalWatcher.expect_write` (and
``expect_delete`` / ``expect_move``) *before* writing; when the path is flushed and the file
on disk has exactly the announced hash, nothing is reported.

If the OS watch limit is hit (inotify ``ENOSPC``/``EMFILE``) or the observer thread dies, the
watcher says so (``degraded`` and the ``on_degraded`` callback, with the sysctl fix) and falls
back to comparing (size, mtime) listings every ``fallback_interval`` seconds, feeding the same
flush logic.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import inspect
import logging
import os
import stat
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

from syncd.local.ignore import is_content_path

log = logging.getLogger(__name__)

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
SYSCTL_FIX = (
    "raise the limit: echo fs.inotify.max_user_watches=524288 | "
    "sudo tee /etc/sysctl.d/90-syncd-inotify.conf && sudo sysctl --system"
)
_EVENT_FILTER = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileClosedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


@dataclass(frozen=True)
class LocalChange:
    """A settled change of one file. Paths are relative POSIX paths."""

    kind: Literal["changed", "deleted", "moved"]
    path: str  # for a move: the new path
    src: str | None = None  # for a move: the old path
    sha256: str | None = None  # content hash at flush time (None for deletes)


Sink = Callable[[list[LocalChange]], Awaitable[Any] | Any] | asyncio.Queue


@dataclass
class _Pending:
    first_seen: float
    last_seen: float
    gen: int = 0
    moved_from: str | None = None
    not_before: float = 0.0
    missing_since: float | None = None
    empty_retried: bool = False


@dataclass(frozen=True)
class _Probe:
    exists: bool
    regular: bool = False
    size: int = 0
    mtime_ns: int = 0
    sha256: str | None = None


@dataclass
class _Expectation:
    present: bool
    sha256: str | None
    expires: float


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: LocalWatcher) -> None:
        self._watcher = watcher

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self._watcher._from_observer_thread(event)
        except Exception:  # a handler exception would kill the observer thread
            log.exception("watcher: failed to handle %r", event)


class LocalWatcher:
    """Debounced, coalesced local change notifications for one synced folder."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        sink: Sink,
        *,
        debounce: float = 1.0,
        max_wait: float = 30.0,
        delete_delay: float | None = None,
        batch_size: int = 256,
        fallback_interval: float = 30.0,
        health_interval: float = 5.0,
        expect_ttl: float = 120.0,
        on_degraded: Callable[[str], Any] | None = None,
        observer_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.root = Path(root)
        self._root_str = os.path.abspath(self.root)
        # FSEvents reports resolved paths (/private/var/... for /var/...): accept both forms.
        self._root_prefixes = tuple(
            {p.rstrip(os.sep) + os.sep for p in (self._root_str, os.path.realpath(self.root))}
        )
        self._sink = sink
        self.debounce = max(0.0, debounce)
        self.max_wait = max(max_wait, self.debounce)
        self.delete_delay = (
            max(2 * self.debounce, 2.0) if delete_delay is None else max(0.0, delete_delay)
        )
        self.batch_size = max(1, batch_size)
        self.fallback_interval = fallback_interval
        self.health_interval = health_interval
        self.expect_ttl = expect_ttl
        self._on_degraded = on_degraded
        self._observer_factory = observer_factory
        # tick: flushes are aligned to it so a burst is delivered in a few large batches
        self._tick = max(self.debounce / 4, 0.01)

        self._loop: asyncio.AbstractEventLoop | None = None
        self._observer: Any = None
        self._tasks: list[asyncio.Task[None]] = []
        self._wakeup = asyncio.Event()
        self._pending: dict[str, _Pending] = {}
        self._dirs_to_list: set[str] = set()
        self._known: set[str] = set()
        self._known_hash: dict[str, str] = {}
        self._listing: dict[str, tuple[int, int]] = {}
        self._expect: dict[str, list[_Expectation]] = {}
        self._expect_lock = threading.Lock()
        self._running = False
        self.degraded: str | None = None
        self.batches_delivered = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start watching; never raises for watch-limit errors (degrades instead)."""
        self._loop = asyncio.get_running_loop()
        self._wakeup = asyncio.Event()
        self._running = True
        try:
            self._start_observer()
        except OSError as exc:
            self._degrade(_describe_os_error(exc))
        listing = await asyncio.to_thread(self._list_tree)
        self._listing = listing
        self._known.update(listing)
        self._tasks.append(asyncio.create_task(self._flush_loop(), name="syncd-watcher-flush"))
        self._tasks.append(asyncio.create_task(self._health_loop(), name="syncd-watcher-health"))

    def _start_observer(self) -> None:
        if self._observer_factory is not None:
            observer = self._observer_factory()
        else:
            from watchdog.observers import Observer

            observer = Observer()
        observer.schedule(
            _Handler(self), os.path.realpath(self.root), recursive=True, event_filter=_EVENT_FILTER
        )
        observer.daemon = True
        observer.start()
        self._observer = observer

    async def stop(self) -> None:
        """Stop the observer and the timers. Pending, unflushed changes are dropped:
        the engine's startup scan catches them on the next run."""
        self._running = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        observer, self._observer = self._observer, None
        if observer is not None:
            with contextlib.suppress(Exception):
                observer.stop()
            await asyncio.to_thread(_join, observer, 5.0)

    async def __aenter__(self) -> LocalWatcher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def pending_count(self) -> int:
        return len(self._pending) + len(self._dirs_to_list)

    # ------------------------------------------------------------------ own writes

    def expect_write(self, rel: str, sha256: str) -> None:
        """Announce that syncd is about to write ``rel`` with this content (thread-safe)."""
        self._add_expectation(rel, _Expectation(True, sha256, time.monotonic() + self.expect_ttl))

    def expect_delete(self, rel: str) -> None:
        """Announce that syncd is about to remove (or trash) ``rel``."""
        self._add_expectation(rel, _Expectation(False, None, time.monotonic() + self.expect_ttl))

    def expect_move(self, src: str, dst: str, sha256: str) -> None:
        """Announce that syncd is about to move ``src`` to ``dst`` (content ``sha256``)."""
        self.expect_delete(src)
        self.expect_write(dst, sha256)

    def set_baseline(self, hashes: dict[str, str]) -> None:
        """Seed the last-known hashes (e.g. from the state database) so no-op saves stay quiet."""
        self._known_hash.update(hashes)
        self._known.update(hashes)

    def _add_expectation(self, rel: str, exp: _Expectation) -> None:
        with self._expect_lock:
            self._expect.setdefault(rel, []).append(exp)

    def _expects_absent(self, rel: str) -> bool:
        now = time.monotonic()
        with self._expect_lock:
            return any(not e.present and e.expires > now for e in self._expect.get(rel, ()))

    def _take_expectations(self, rel: str) -> list[_Expectation]:
        now = time.monotonic()
        with self._expect_lock:
            found = [e for e in self._expect.pop(rel, []) if e.expires > now]
            # drop expired entries of other paths now and then
            if len(self._expect) > 1000:
                for key in [k for k, v in self._expect.items() if all(e.expires <= now for e in v)]:
                    del self._expect[key]
        return found

    # ------------------------------------------------------------------ events in

    def _rel(self, path: str | bytes) -> str | None:
        text = os.fsdecode(path)
        for prefix in self._root_prefixes:
            if text.startswith(prefix):
                rel = text[len(prefix) :]
                return rel.replace(os.sep, "/") if os.sep != "/" else rel
        return None

    def _from_observer_thread(self, event: FileSystemEvent) -> None:
        """Runs on the observer thread: filter cheaply, then hand over to the loop."""
        kind = event.event_type
        if kind in ("opened", "closed_no_write", "attrib") or (
            event.is_directory and kind == "modified"
        ):
            return
        src = self._rel(event.src_path) if event.src_path else None
        dst = self._rel(event.dest_path) if event.dest_path else None
        if event.is_directory:
            if (src and _hidden(src)) and (not dst or _hidden(dst)):
                return
        elif not (src and is_content_path(src)) and not (dst and is_content_path(dst)):
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # loop closing
            loop.call_soon_threadsafe(self._on_event, kind, src, dst, event.is_directory)

    def _on_event(self, kind: str, src: str | None, dst: str | None, is_dir: bool) -> None:
        if not self._running:
            return
        if is_dir:
            self._on_dir_event(kind, src, dst)
            return
        src_ok = bool(src and is_content_path(src))
        dst_ok = bool(dst and is_content_path(dst))
        if kind == "moved":
            if src_ok and dst_ok:
                assert src is not None and dst is not None
                prior = self._pending.get(src)
                origin = prior.moved_from if prior and prior.moved_from else src
                if prior and prior.moved_from:
                    # src was itself only a move target: collapse a->b->c into a->c
                    del self._pending[src]
                else:
                    self._touch(src)
                entry = self._touch(dst)
                entry.moved_from = origin if origin != dst else None
            elif src_ok:
                self._touch(src)  # renamed away (backup, out of the tree): check it later
            elif dst_ok:
                self._touch(dst)  # renamed over from a temp file: an edit of dst
            return
        if src_ok and src is not None:
            self._touch(src)

    def _on_dir_event(self, kind: str, src: str | None, dst: str | None) -> None:
        if kind in ("deleted", "moved") and src and not _hidden(src):
            prefix = src + "/"
            for rel in [k for k in self._known if k.startswith(prefix)]:
                self._touch(rel)
        target = dst if kind == "moved" else (src if kind == "created" else None)
        if target and not _hidden(target):
            self._dirs_to_list.add(target)
            self._wakeup.set()

    def _touch(self, rel: str) -> _Pending:
        assert self._loop is not None
        now = self._loop.time()
        entry = self._pending.get(rel)
        if entry is None:
            entry = self._pending[rel] = _Pending(first_seen=now, last_seen=now)
            self._wakeup.set()  # an update only moves a deadline later: no need to wake
        else:
            entry.last_seen = now
            entry.gen += 1
            entry.not_before = 0.0
            entry.missing_since = None
        return entry

    # ------------------------------------------------------------------ flushing

    def _ready_at(self, entry: _Pending) -> float:
        quiet = min(entry.last_seen + self.debounce, entry.first_seen + self.max_wait)
        return max(quiet, entry.not_before)

    async def _flush_loop(self) -> None:
        assert self._loop is not None
        while self._running:
            self._wakeup.clear()
            timeout: float | None = None
            if self._dirs_to_list:
                timeout = 0.0
            elif self._pending:
                due = min(self._ready_at(e) for e in self._pending.values())
                due = -(-due // self._tick) * self._tick  # align to the tick grid
                timeout = max(0.0, due - self._loop.time())
            if timeout is None or timeout > 0:
                try:
                    await asyncio.wait_for(self._wakeup.wait(), timeout)
                    continue  # a new path arrived: recompute the deadline
                except TimeoutError:
                    pass
            try:
                await self._flush_due()
            except Exception:
                log.exception("watcher: flush failed")

    async def _flush_due(self) -> None:
        assert self._loop is not None
        if self._dirs_to_list:
            dirs, self._dirs_to_list = sorted(self._dirs_to_list), set()
            found = await asyncio.to_thread(self._list_dirs, dirs)
            for rel in found:
                self._touch(rel)
        now = self._loop.time()
        # Move targets first, so a move consumes its origin before the origin alone is judged.
        ready = sorted(
            (p for p, e in self._pending.items() if self._ready_at(e) <= now + 1e-6),
            key=lambda p: (self._pending[p].moved_from is None, p),
        )
        if not ready:
            return
        snapshot = {p: self._pending[p].gen for p in ready}
        origins = {self._pending[p].moved_from for p in ready} - {None}
        probes = await asyncio.to_thread(self._probe_many, [*ready, *sorted(origins)])  # type: ignore[list-item]
        changes: list[LocalChange] = []
        consumed: set[str] = set()
        now = self._loop.time()
        for rel in ready:
            entry = self._pending.get(rel)
            if entry is None or entry.gen != snapshot[rel] or rel in consumed:
                continue  # new events arrived meanwhile (or consumed by a move): next round
            change = self._decide(rel, entry, probes, now, consumed)
            if change is not None:
                changes.append(change)
        for i in range(0, len(changes), self.batch_size):
            await self._deliver(changes[i : i + self.batch_size])

    def _decide(
        self,
        rel: str,
        entry: _Pending,
        probes: dict[str, _Probe],
        now: float,
        consumed: set[str],
    ) -> LocalChange | None:
        probe = probes[rel]
        origin = entry.moved_from
        if origin is not None and probe.exists and probe.regular:
            origin_probe = probes.get(origin) or _Probe(False)
            if not origin_probe.exists:
                del self._pending[rel]
                self._pending.pop(origin, None)
                consumed.add(origin)
                gone = self._take_expectations(origin)
                came = self._take_expectations(rel)
                self._known.discard(origin)
                self._known_hash.pop(origin, None)
                self._known.add(rel)
                self._known_hash[rel] = probe.sha256 or ""
                if any(not e.present for e in gone) and any(
                    e.present and e.sha256 == probe.sha256 for e in came
                ):
                    return None
                return LocalChange("moved", rel, src=origin, sha256=probe.sha256)
            entry.moved_from = None  # the origin is back: dst is simply a new file
        elif origin is not None:
            entry.moved_from = None

        if probe.exists:
            if not probe.regular:
                del self._pending[rel]  # replaced by a link or a folder: not content
                return None
            known = self._known_hash.get(rel)
            if (
                probe.sha256 == EMPTY_SHA256
                and known not in (None, EMPTY_SHA256)
                and not entry.empty_retried
            ):
                entry.empty_retried = True  # truncate-then-write: look again after a pause
                entry.not_before = now + max(self.debounce, 0.05)
                return None
            del self._pending[rel]
            expected = self._take_expectations(rel)
            self._known.add(rel)
            self._known_hash[rel] = probe.sha256 or ""
            if any(e.present and e.sha256 == probe.sha256 for e in expected):
                return None  # our own write
            if known == probe.sha256:
                return None  # same bytes as last reported: a touch or a no-op save
            return LocalChange("changed", rel, sha256=probe.sha256)

        # missing
        if rel not in self._known and rel not in self._known_hash:
            del self._pending[rel]  # created and removed between flushes: never existed for us
            self._take_expectations(rel)
            return None
        if self._expects_absent(rel):
            del self._pending[rel]
            self._take_expectations(rel)
            self._known.discard(rel)
            self._known_hash.pop(rel, None)
            return None
        if entry.missing_since is None:
            entry.missing_since = now
            entry.not_before = now + self.delete_delay
            return None
        if now - entry.missing_since + 1e-6 < self.delete_delay:
            entry.not_before = entry.missing_since + self.delete_delay
            return None
        del self._pending[rel]
        self._take_expectations(rel)
        self._known.discard(rel)
        self._known_hash.pop(rel, None)
        return LocalChange("deleted", rel)

    async def _deliver(self, batch: list[LocalChange]) -> None:
        if not batch:
            return
        self.batches_delivered += 1
        try:
            if isinstance(self._sink, asyncio.Queue):
                self._sink.put_nowait(batch)
                return
            result = self._sink(batch)
            if inspect.isawaitable(result):
                await result
        except Exception:
            log.exception("watcher: change consumer failed")

    # ------------------------------------------------------------------ disk access (thread)

    def _probe_many(self, rels: Iterable[str]) -> dict[str, _Probe]:
        return {rel: self._probe(rel) for rel in rels}

    def _probe(self, rel: str) -> _Probe:
        path = os.path.join(self._root_str, rel)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            return _Probe(False)
        except OSError:
            return _Probe(False)
        if not stat.S_ISREG(st.st_mode):
            return _Probe(True, regular=False)
        h = hashlib.sha256()
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return _Probe(False)
        except OSError:
            return _Probe(True, regular=False)
        try:
            while chunk := os.read(fd, 1 << 20):
                h.update(chunk)
        finally:
            os.close(fd)
        return _Probe(True, True, st.st_size, st.st_mtime_ns, h.hexdigest())

    def _list_tree(self) -> dict[str, tuple[int, int]]:
        return self._list_dirs([""])

    def _list_dirs(self, rel_dirs: Iterable[str]) -> dict[str, tuple[int, int]]:
        """(size, mtime_ns) of every content file under the given folders; links not followed."""
        out: dict[str, tuple[int, int]] = {}
        stack = list(rel_dirs)
        while stack:
            rel_dir = stack.pop()
            try:
                it = os.scandir(os.path.join(self._root_str, rel_dir))
            except OSError:
                continue
            with it:
                for de in it:
                    rel = f"{rel_dir}/{de.name}" if rel_dir else de.name
                    try:
                        if de.is_dir(follow_symlinks=False):
                            if not de.name.startswith("."):
                                stack.append(rel)
                        elif de.is_file(follow_symlinks=False) and is_content_path(rel):
                            st = de.stat(follow_symlinks=False)
                            out[rel] = (st.st_size, st.st_mtime_ns)
                    except OSError:
                        continue
        return out

    # ------------------------------------------------------------------ degraded mode

    def _degrade(self, reason: str) -> None:
        if self.degraded is not None:
            return
        self.degraded = reason
        log.warning(
            "watcher degraded: %s; falling back to scanning the folder every %gs",
            reason,
            self.fallback_interval,
        )
        if self._on_degraded is not None:
            try:
                self._on_degraded(reason)
            except Exception:
                log.exception("watcher: on_degraded callback failed")

    async def rescan(self) -> int:
        """Compare a fresh (size, mtime) listing with the last one and mark what differs.

        Runs periodically in degraded mode; callers may also use it after suspected missed
        events. Returns the number of paths marked.
        """
        listing = await asyncio.to_thread(self._list_tree)
        previous, self._listing = self._listing, listing
        marked: set[str] = set()
        for rel, sig in listing.items():
            if previous.get(rel) != sig or rel not in self._known:
                marked.add(rel)
        marked.update(previous.keys() - listing.keys())
        marked.update(self._known - listing.keys())
        for rel in sorted(marked - self._pending.keys()):  # pending ones are being decided
            self._touch(rel)
        return len(marked)

    async def _health_loop(self) -> None:
        next_scan = 0.0
        while self._running:
            assert self._loop is not None
            if (
                self.degraded is None
                and self._observer is not None
                and not _observer_alive(self._observer)
            ):
                self._degrade("the file watcher thread stopped")
            if self.degraded is not None and self._loop.time() >= next_scan:
                try:
                    await self.rescan()
                except Exception:
                    log.exception("watcher: fallback scan failed")
                next_scan = self._loop.time() + self.fallback_interval
            delay = self.fallback_interval if self.degraded else self.health_interval
            await asyncio.sleep(min(delay, self.health_interval))


def _hidden(rel: str) -> bool:
    return any(part.startswith(".") for part in rel.split("/"))


def _observer_alive(observer: Any) -> bool:
    try:
        if not observer.is_alive():
            return False
        return all(e.is_alive() for e in getattr(observer, "emitters", ()))
    except Exception:
        return False


def _join(observer: Any, timeout: float) -> None:
    with contextlib.suppress(Exception):
        observer.join(timeout)


def _describe_os_error(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"inotify watch limit reached (fs.inotify.max_user_watches); {SYSCTL_FIX}"
    if exc.errno == errno.EMFILE:
        return (
            "inotify instance limit reached (fs.inotify.max_user_instances); raise it with "
            "sysctl fs.inotify.max_user_instances=512"
        )
    return f"cannot watch the folder: {exc}"
