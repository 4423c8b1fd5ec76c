"""The watcher on a real watchdog observer: editors' saves, own writes, bursts, degradation.

Waits are bounded polls on what was delivered. Absence ("no delete was reported") is checked
with a sentinel: a later edit of another file is awaited, and since paths are flushed in the
order they settle, everything about the earlier save has been decided by then.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from syncd.local.atomic import atomic_write
from syncd.local.watcher import LocalChange, LocalWatcher

DEBOUNCE = 0.2
DELETE_DELAY = 0.6
TIMEOUT = 10.0


class Collector:
    def __init__(self) -> None:
        self.batches: list[list[LocalChange]] = []
        self.changed = asyncio.Event()

    def __call__(self, batch: list[LocalChange]) -> None:
        self.batches.append(batch)
        self.changed.set()

    @property
    def changes(self) -> list[LocalChange]:
        return [c for b in self.batches for c in b]

    def for_path(self, rel: str) -> list[LocalChange]:
        return [c for c in self.changes if c.path == rel or c.src == rel]

    async def wait_until(self, pred: Callable[[], bool], limit: float = TIMEOUT) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while not pred():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out; delivered so far: {self.changes}")
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                pass

    async def settle_with_sentinel(self, root: Path, name: str = "sentinel.md") -> None:
        """Edit another file and wait for it: everything older has been decided by then."""
        content = os.urandom(8).hex().encode()
        (root / name).write_bytes(content)
        sha = hashlib.sha256(content).hexdigest()
        await self.wait_until(lambda: any(c.path == name and c.sha256 == sha for c in self.changes))


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[Path, Collector, LocalWatcher]]:
    root = tmp_path / "docs"
    root.mkdir()
    (root / "Page.md").write_text("original\n")
    (root / "Guide").mkdir()
    (root / "Guide" / "Sub.md").write_text("sub\n")
    collector = Collector()
    watcher = LocalWatcher(root, collector, debounce=DEBOUNCE, delete_delay=DELETE_DELAY)
    await watcher.start()
    try:
        yield root, collector, watcher
    finally:
        await watcher.stop()


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def write(path: Path, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


async def assert_one_edit(collector: Collector, root: Path, rel: str, final: str) -> None:
    await collector.wait_until(lambda: bool(collector.for_path(rel)))
    await collector.settle_with_sentinel(root)
    changes = collector.for_path(rel)
    assert changes == [LocalChange("changed", rel, sha256=sha(final))], collector.changes
    assert not any(c.kind == "deleted" for c in collector.changes)
    assert all(c.path in (rel, "sentinel.md") for c in collector.changes), collector.changes


async def test_plain_edit(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, _ = env
    write(root / "Page.md", "edited\n")
    await assert_one_edit(collector, root, "Page.md", "edited\n")


async def test_vim_save(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, _ = env
    page = root / "Page.md"
    write(root / ".Page.md.swp", "swap")  # swap file while editing
    write(root / "4913", "")  # vim's probe file
    os.unlink(root / "4913")
    os.rename(page, root / "Page.md~")  # backup by renaming the original away
    write(page, "saved by vim\n")  # a new file, new inode
    os.unlink(root / "Page.md~")
    write(root / ".Page.md.swp", "swap 2")
    os.unlink(root / ".Page.md.swp")
    await assert_one_edit(collector, root, "Page.md", "saved by vim\n")


async def test_jetbrains_safe_write(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, _ = env
    write(root / "Page.md___jb_tmp___", "saved by jetbrains\n")
    os.rename(root / "Page.md", root / "Page.md___jb_old___")
    os.rename(root / "Page.md___jb_tmp___", root / "Page.md")
    os.unlink(root / "Page.md___jb_old___")
    await assert_one_edit(collector, root, "Page.md", "saved by jetbrains\n")


async def test_gedit_goutputstream(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, _ = env
    write(root / "Guide" / ".goutputstream-XYZ123", "saved by gedit\n")
    os.rename(root / "Guide" / ".goutputstream-XYZ123", root / "Guide" / "Sub.md")
    await assert_one_edit(collector, root, "Guide/Sub.md", "saved by gedit\n")


async def test_emacs_save(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, _ = env
    os.symlink("user@host.1234", root / ".#Page.md")  # lock link
    write(root / "#Page.md#", "autosave")
    os.rename(root / "Page.md", root / "Page.md~")
    write(root / "Page.md", "saved by emacs\n")
    os.unlink(root / "#Page.md#")
    os.unlink(root / ".#Page.md")
    await assert_one_edit(collector, root, "Page.md", "saved by emacs\n")


async def test_delete_then_create(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, _ = env
    os.unlink(root / "Page.md")
    write(root / "Page.md", "recreated\n")
    await assert_one_edit(collector, root, "Page.md", "recreated\n")


async def test_truncate_then_write_in_chunks(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, _ = env
    with open(root / "Page.md", "r+") as f:  # noqa: ASYNC230 - VS Code: truncate in place, then write
        f.truncate(0)
        f.flush()
        os.fsync(f.fileno())
        await asyncio.sleep(0.05)  # the editor's pause between chunks (not synchronisation)
        f.write("first half, ")
        f.flush()
        await asyncio.sleep(0.05)
        f.write("second half\n")
    await assert_one_edit(collector, root, "Page.md", "first half, second half\n")
    assert not any(c.sha256 == sha("") for c in collector.changes)


async def test_real_delete_is_reported_after_the_delay(
    env: tuple[Path, Collector, LocalWatcher],
) -> None:
    root, collector, _ = env
    loop = asyncio.get_running_loop()
    start = loop.time()
    os.unlink(root / "Page.md")
    await collector.wait_until(lambda: bool(collector.for_path("Page.md")))
    assert collector.for_path("Page.md") == [LocalChange("deleted", "Page.md")]
    assert loop.time() - start >= DELETE_DELAY


async def test_rename_is_one_move(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, _ = env
    os.rename(root / "Page.md", root / "Guide" / "Moved.md")
    await collector.wait_until(lambda: bool(collector.for_path("Guide/Moved.md")))
    await collector.settle_with_sentinel(root)
    assert collector.for_path("Guide/Moved.md") == [
        LocalChange("moved", "Guide/Moved.md", src="Page.md", sha256=sha("original\n"))
    ]
    assert not any(c.kind == "deleted" for c in collector.changes)


async def test_chained_renames_collapse(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, _ = env
    os.rename(root / "Page.md", root / "B.md")
    os.rename(root / "B.md", root / "C.md")
    await collector.wait_until(lambda: bool(collector.for_path("C.md")))
    await collector.settle_with_sentinel(root)
    assert [c for c in collector.changes if c.path != "sentinel.md"] == [
        LocalChange("moved", "C.md", src="Page.md", sha256=sha("original\n"))
    ]


async def test_folder_moved_out_reports_its_files_deleted(
    env: tuple[Path, Collector, LocalWatcher], tmp_path: Path
) -> None:
    root, collector, _ = env
    os.rename(root / "Guide", tmp_path / "elsewhere")
    await collector.wait_until(lambda: bool(collector.for_path("Guide/Sub.md")))
    assert collector.for_path("Guide/Sub.md") == [LocalChange("deleted", "Guide/Sub.md")]


async def test_folder_moved_in_reports_its_files(
    env: tuple[Path, Collector, LocalWatcher], tmp_path: Path
) -> None:
    root, collector, _ = env
    outside = tmp_path / "incoming"
    (outside / "Deep").mkdir(parents=True)
    (outside / "Deep" / "New.md").write_text("new\n")
    os.rename(outside, root / "Incoming")
    await collector.wait_until(lambda: bool(collector.for_path("Incoming/Deep/New.md")))
    assert collector.for_path("Incoming/Deep/New.md") == [
        LocalChange("changed", "Incoming/Deep/New.md", sha256=sha("new\n"))
    ]


async def test_own_writes_are_suppressed(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, watcher = env
    watcher.expect_write("Page.md", sha("pulled from confluence\n"))
    atomic_write(root, "Page.md", "pulled from confluence\n")
    watcher.expect_write("Guide/New.md", sha("new remote page\n"))
    atomic_write(root, "Guide/New.md", "new remote page\n")
    watcher.expect_delete("Guide/Sub.md")
    os.unlink(root / "Guide" / "Sub.md")
    await collector.settle_with_sentinel(root)
    assert [c.path for c in collector.changes] == ["sentinel.md"]
    # a later user edit of the same file is seen again
    write(root / "Page.md", "user edit\n")
    await collector.wait_until(lambda: bool(collector.for_path("Page.md")))
    assert collector.for_path("Page.md") == [
        LocalChange("changed", "Page.md", sha256=sha("user edit\n"))
    ]


async def test_own_write_overtaken_by_a_user_edit_is_reported(
    env: tuple[Path, Collector, LocalWatcher],
) -> None:
    root, collector, watcher = env
    watcher.expect_write("Page.md", sha("ours\n"))
    atomic_write(root, "Page.md", "ours\n")
    write(root / "Page.md", "theirs\n")
    await collector.wait_until(lambda: bool(collector.for_path("Page.md")))
    assert collector.for_path("Page.md") == [
        LocalChange("changed", "Page.md", sha256=sha("theirs\n"))
    ]


async def test_own_move_is_suppressed(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, watcher = env
    watcher.expect_move("Page.md", "Renamed.md", sha("original\n"))
    os.rename(root / "Page.md", root / "Renamed.md")
    await collector.settle_with_sentinel(root)
    assert [c.path for c in collector.changes] == ["sentinel.md"]


async def test_touch_without_change_is_quiet(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, watcher = env
    watcher.set_baseline({"Page.md": sha("original\n")})
    write(root / "Page.md", "original\n")  # an editor saving an unchanged buffer
    os.utime(root / "Page.md")
    await collector.settle_with_sentinel(root)
    assert [c.path for c in collector.changes] == ["sentinel.md"]


async def test_ignored_and_non_content_files(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, _ = env
    for name in ["notes.txt", ".hidden.md", "4913", "x.md~", "#x.md#", "~$x.md", "image.png"]:
        write(root / name, "noise")
    (root / ".git").mkdir()
    write(root / ".git" / "HEAD.md", "noise")
    write(root / "Page.attachments.tmp", "noise")
    await collector.settle_with_sentinel(root)
    assert [c.path for c in collector.changes] == ["sentinel.md"]


async def test_attachments_are_reported(env: tuple[Path, Collector, LocalWatcher]) -> None:
    root, collector, _ = env
    (root / "Page.attachments").mkdir()
    (root / "Page.attachments" / "shot.png").write_bytes(b"\x89PNG")
    await collector.wait_until(lambda: bool(collector.for_path("Page.attachments/shot.png")))
    assert collector.for_path("Page.attachments/shot.png")[0].kind == "changed"


async def test_burst_of_1000_files_is_batched(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    (root / "many").mkdir(parents=True)
    collector = Collector()
    async with LocalWatcher(root, collector, debounce=DEBOUNCE, batch_size=256) as watcher:
        names = [f"many/page-{i:04d}.md" for i in range(1000)]
        for i, rel in enumerate(names):  # like a git checkout
            (root / rel).write_text(f"page {i}\n")
        await collector.wait_until(lambda: len(collector.changes) >= 1000, limit=30)
        await collector.settle_with_sentinel(root)
        paths = [c.path for c in collector.changes if c.path != "sentinel.md"]
        assert sorted(paths) == names  # each exactly once
        assert all(len(b) <= 256 for b in collector.batches)
        assert len(collector.batches) <= 20, [len(b) for b in collector.batches]
        assert watcher.pending_count == 0


async def test_queue_sink(tmp_path: Path) -> None:
    queue: asyncio.Queue[list[LocalChange]] = asyncio.Queue()
    async with LocalWatcher(tmp_path, queue, debounce=DEBOUNCE):
        (tmp_path / "Q.md").write_text("q\n")
        batch = await asyncio.wait_for(queue.get(), TIMEOUT)
    assert batch == [LocalChange("changed", "Q.md", sha256=sha("q\n"))]


async def test_async_callback_sink(tmp_path: Path) -> None:
    got: list[LocalChange] = []
    done = asyncio.Event()

    async def consume(batch: list[LocalChange]) -> None:
        got.extend(batch)
        done.set()

    async with LocalWatcher(tmp_path, consume, debounce=DEBOUNCE):
        (tmp_path / "A.md").write_text("a\n")
        await asyncio.wait_for(done.wait(), TIMEOUT)
    assert got == [LocalChange("changed", "A.md", sha256=sha("a\n"))]


async def test_max_wait_flushes_a_file_that_never_goes_quiet(tmp_path: Path) -> None:
    collector = Collector()
    async with LocalWatcher(tmp_path, collector, debounce=0.5, max_wait=1.0):
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT
        i = 0
        while not collector.changes and loop.time() < deadline:
            with open(tmp_path / "Busy.md", "a") as f:  # noqa: ASYNC230 - appended every 100 ms, never quiet
                f.write(f"line {i}\n")
            i += 1
            await asyncio.sleep(0.1)  # the writer's pace, not synchronisation
        assert collector.changes and collector.changes[0].path == "Busy.md"


class _NoWatchesObserver:
    """Stands in for an inotify observer on a machine whose watch limit is exhausted."""

    daemon = False

    def schedule(self, *a: object, **k: object) -> None:
        pass

    def start(self) -> None:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")


async def test_watch_limit_degrades_to_periodic_scans(tmp_path: Path) -> None:
    (tmp_path / "Page.md").write_text("v1\n")
    reasons: list[str] = []
    collector = Collector()
    watcher = LocalWatcher(
        tmp_path,
        collector,
        debounce=0.05,
        delete_delay=0.2,
        fallback_interval=0.2,
        health_interval=0.1,
        on_degraded=reasons.append,
        observer_factory=_NoWatchesObserver,
    )
    async with watcher:
        assert watcher.degraded and "max_user_watches" in watcher.degraded
        assert reasons == [watcher.degraded]
        write(tmp_path / "Page.md", "v2, a bit longer\n")
        (tmp_path / "New.md").write_text("new\n")
        await collector.wait_until(
            lambda: {c.path for c in collector.changes} >= {"Page.md", "New.md"}
        )
        os.unlink(tmp_path / "New.md")
        await collector.wait_until(lambda: any(c.kind == "deleted" for c in collector.changes))
    assert [c for c in collector.changes if c.kind == "deleted"] == [
        LocalChange("deleted", "New.md")
    ]


async def test_dead_observer_thread_is_noticed(tmp_path: Path) -> None:
    degraded = asyncio.Event()
    reasons: list[str] = []

    def on_degraded(reason: str) -> None:
        reasons.append(reason)
        degraded.set()

    watcher = LocalWatcher(
        tmp_path, Collector(), debounce=0.05, health_interval=0.05, on_degraded=on_degraded
    )
    async with watcher:
        watcher._observer.stop()  # simulate the thread dying
        await asyncio.wait_for(degraded.wait(), TIMEOUT)
    assert reasons and "stopped" in reasons[0]
    assert watcher.degraded == reasons[0]


async def test_slow_truncate_then_write_never_reports_an_empty_file(
    env: tuple[Path, Collector, LocalWatcher],
) -> None:
    root, collector, watcher = env
    watcher.set_baseline({"Page.md": sha("original\n")})
    with open(root / "Page.md", "r+") as f:  # noqa: ASYNC230 - the editor's own writes
        f.truncate(0)
        f.flush()
        await asyncio.sleep(DEBOUNCE * 1.5)  # a slow writer: the empty file goes quiet
        f.write("finally written\n")
    await assert_one_edit(collector, root, "Page.md", "finally written\n")
    assert not any(c.sha256 == sha("") for c in collector.changes)


async def test_rescan_catches_missed_events(tmp_path: Path) -> None:
    (tmp_path / "Old.md").write_text("old\n")
    collector = Collector()
    watcher = LocalWatcher(tmp_path, collector, debounce=0.05, delete_delay=0.1)
    async with watcher:
        watcher._observer.stop()  # events are lost from here on (like IN_Q_OVERFLOW)
        await asyncio.to_thread(watcher._observer.join, 5)
        (tmp_path / "Fresh.md").write_text("fresh\n")
        os.unlink(tmp_path / "Old.md")
        assert await watcher.rescan() == 2
        await collector.wait_until(lambda: len(collector.changes) >= 2)
    assert sorted(collector.changes, key=lambda c: c.path) == [
        LocalChange("changed", "Fresh.md", sha256=sha("fresh\n")),
        LocalChange("deleted", "Old.md"),
    ]


async def test_folder_renamed_inside_reports_moves(
    env: tuple[Path, Collector, LocalWatcher],
) -> None:
    root, collector, _ = env
    os.rename(root / "Guide", root / "Handbook")
    await collector.wait_until(lambda: bool(collector.for_path("Handbook/Sub.md")))
    await collector.settle_with_sentinel(root)
    assert collector.for_path("Handbook/Sub.md") == [
        LocalChange("moved", "Handbook/Sub.md", src="Guide/Sub.md", sha256=sha("sub\n"))
    ]
    assert not any(c.kind == "deleted" for c in collector.changes)


async def test_file_moved_out_is_a_delete_and_moved_in_is_a_new_file(
    env: tuple[Path, Collector, LocalWatcher], tmp_path: Path
) -> None:
    root, collector, _ = env
    os.rename(root / "Page.md", tmp_path / "Page.md")
    (tmp_path / "Arriving.md").write_text("arriving\n")
    os.rename(tmp_path / "Arriving.md", root / "Arriving.md")
    await collector.wait_until(
        lambda: bool(collector.for_path("Page.md")) and bool(collector.for_path("Arriving.md"))
    )
    assert collector.for_path("Page.md") == [LocalChange("deleted", "Page.md")]
    assert collector.for_path("Arriving.md") == [
        LocalChange("changed", "Arriving.md", sha256=sha("arriving\n"))
    ]


async def test_root_given_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    collector = Collector()
    async with LocalWatcher(tmp_path / "link", collector, debounce=DEBOUNCE):
        (real / "A.md").write_text("a\n")
        await collector.wait_until(lambda: bool(collector.for_path("A.md")))
    assert collector.for_path("A.md") == [LocalChange("changed", "A.md", sha256=sha("a\n"))]
