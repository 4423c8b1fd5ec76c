"""The daemon's wiring (syncd.daemon.runtime) in-process, with a stand-in sync engine.

The stand-in records every ``run_once`` request and keeps page versions in a real state
database, so these tests check what the daemon asks of the engine (catch-up first, page
ids from webhooks and polls, paths from the watcher, retries after failures), what it
registers with the emulator, what it serves on the control socket and what it leaves
behind for ``syncd status`` -- independently of the real engine. Bounded waits only.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest

import syncd.emulator.server as emulator_server
from syncd.config import parse_config
from syncd.confluence.client import ConfluenceClient
from syncd.daemon.control import fetch_status
from syncd.daemon.receiver import sign_body
from syncd.daemon.runtime import Daemon, RunOptions
from syncd.daemon.status_command import last_known_status
from syncd.daemon.webhook_command import connection_settings
from syncd.sync.records import PageRecord
from syncd.sync.state import StateDB

SECRET = "run-test-secret-9f8e7d"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_config(tmp_path: Path, emu: Any, **over: Any) -> Any:
    port = free_port()
    flavor = emu.flavor
    webhook = {
        "listen": f"127.0.0.1:{port}",
        "public_url": f"http://127.0.0.1:{port}/hook",
        "secret": SECRET,
        "silence_timeout": "1s",
        "unregister_on_exit": True,
    }
    webhook.update(over.pop("webhook", {}))
    doc = {
        "confluence": {
            "base_url": emu.base_url,
            "deployment": "cloud" if flavor == "cloud" else "datacenter",
            "space": "DEMO",
            "token": "demo-token",
            **({"email": "demo@example.com"} if flavor == "cloud" else {}),
        },
        "local": {"path": str(tmp_path / "docs")},
        "webhook": webhook,
        "poll": {"interval": "500ms", "full_scan": "1h"},
        "sync": {"debounce": "100ms", **over.pop("sync", {})},
        "state_dir": str(tmp_path / "state"),
    }
    return parse_config(json.dumps(doc), path=tmp_path / "config.yaml", env={})


@dataclass
class FakeRequest:
    page_ids: set[str] = field(default_factory=set)
    paths: set[str] = field(default_factory=set)
    full: bool = False


@dataclass
class FakeReport:
    applied: list[Any] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    blocked_deletions: str | None = None
    in_sync: bool = True
    conflict_help: dict[str, str] = field(default_factory=dict)


class FakeEngine:
    """Pulls versions by id into a real StateDB; records requests; can be told to fail."""

    def __init__(self, config: Any, client: ConfluenceClient, observer: Any) -> None:
        self.config = config
        self.client = client
        self.observer = observer
        self.state = StateDB.open(config.state_dir)
        self.requests: list[FakeRequest | None] = []
        self.fail_next = 0
        self.closed = False

    @classmethod
    async def open(cls, config: Any, *, observer: Any = None) -> FakeEngine:
        StateDB.open(config.state_dir).close()  # raises StateLocked like the real one
        client = await ConfluenceClient.open(connection_settings(config))
        return cls(config, client, observer)

    async def run_once(self, request: FakeRequest | None = None) -> FakeReport:
        self.requests.append(request)
        if self.fail_next:
            self.fail_next -= 1
            raise RuntimeError("injected failure")
        ids: set[str] = set()
        if request is None or request.full:
            async for ref in self.client.iter_page_tree(self.config.confluence.space):
                ids.add(str(ref.id))
        else:
            ids = set(request.page_ids)
        for pid in ids:
            page = await self.client.get_page(pid)
            self.state.put_page(
                PageRecord(
                    page_id=pid,
                    local_path=f"{page.title}.md",
                    title=page.title,
                    parent_id=None,
                    remote_version=page.version,
                    base_markdown="",
                    local_hash="",
                )
            )
        return FakeReport()

    def status(self) -> dict[str, Any]:
        return {"pages": self.state.count_pages(), "pending": 0, "conflicts": [], "errors": []}

    async def close(self) -> None:
        self.closed = True
        self.state.close()
        await self.client.aclose()


async def until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 (bounded poll of a plain predicate)
            await asyncio.sleep(0.02)


class Harness:
    def __init__(self, config: Any) -> None:
        self.engines: list[FakeEngine] = []
        self.config = config

        async def factory(cfg: Any, *, observer: Any = None) -> FakeEngine:
            engine = await FakeEngine.open(cfg, observer=observer)
            self.engines.append(engine)
            return engine

        self.daemon = Daemon(
            config,
            options=RunOptions(install_signals=False, settle=0.02),
            engine_factory=factory,
            request_factory=FakeRequest,
        )
        self.task: asyncio.Task[int] | None = None

    @property
    def engine(self) -> FakeEngine:
        return self.engines[-1]

    async def __aenter__(self) -> Harness:
        self.task = asyncio.create_task(self.daemon.run())
        ready = asyncio.ensure_future(self.daemon.ready.wait())
        await asyncio.wait({ready, self.task}, timeout=15, return_when="FIRST_COMPLETED")
        if self.task.done():
            ready.cancel()
        return self

    async def stop(self) -> int:
        assert self.task is not None
        self.daemon.request_stop()
        async with asyncio.timeout(10):
            return await self.task

    async def __aexit__(self, *exc: object) -> None:
        if self.task is not None and not self.task.done():
            await self.stop()

    async def status(self) -> dict[str, Any]:
        doc = await asyncio.to_thread(
            fetch_status, Path(self.config.state_dir) / "control.sock", 2.0
        )
        assert doc is not None
        return doc


@pytest.mark.parametrize("flavor", ["dc", "cloud"])
async def test_startup_registration_triggers_and_clean_stop(flavor: str, tmp_path: Path) -> None:
    async with emulator_server.EmulatorServer(flavor=flavor, pages=3, space="DEMO") as emu:
        store = emu.store
        config = make_config(tmp_path, emu)
        async with Harness(config) as h:
            assert h.daemon.ready.is_set()
            engine = h.engine
            # catch-up first: one full reconcile before anything else
            assert engine.requests[0] is None
            hooks = list(store.webhooks.values())
            if flavor == "dc":
                assert len(hooks) == 1
                assert hooks[0].url == config.webhook.public_url
                assert {"page_updated", "space_removed"} <= set(hooks[0].events)
            else:
                assert len(hooks) == len({e for h in hooks for e in h.events}) > 1
                assert all(f"token={SECRET}" in h.url for h in hooks)
            st = await h.status()
            assert st["running"] is True and st["mode"] == "webhook"
            assert st["webhook"]["registered"] is True
            assert st["webhook"]["id"]
            assert st["space"] == "DEMO" and st["pages"] == 4
            assert set(st) >= {
                "running", "mode", "space", "path", "pages", "pending", "conflicts",
                "last_event_at", "last_poll_at", "webhook", "errors",
            }  # fmt: skip

            # a remote edit arrives by webhook -> run_once with that page id
            page = [c.id for c in store.all_content("page")][1]
            store.edit(page, "<p>edited</p>")
            await until(lambda: h.daemon.known_version(page) == 2)
            assert any(r is not None and page in r.page_ids for r in engine.requests)
            st = await h.status()
            assert st["last_event_at"] is not None

            # a local save -> run_once with that path
            folder = Path(config.local.path)
            (folder / "New.md").write_text("# new\n")
            await until(lambda: any(r is not None and "New.md" in r.paths for r in engine.requests))
            assert await h.stop() == 0
        assert engine.closed
        # unregister_on_exit removed the registrations; the socket is gone
        assert not store.webhooks
        assert not (Path(config.state_dir) / "control.sock").exists()
        last = last_known_status(Path(config.state_dir))
        assert last["running"] is False and last["pages"] == 4
        assert last["mode"] == "webhook"
        assert last["last_event_at"] is not None


async def test_webhook_reused_across_restarts(tmp_path: Path) -> None:
    async with emulator_server.EmulatorServer(flavor="dc", pages=1, space="DEMO") as emu:
        config = make_config(tmp_path, emu, webhook={"unregister_on_exit": False, "secret": None})
        async with Harness(config) as h:
            first = {hook.id for hook in emu.store.webhooks.values()}
            assert await h.stop() == 0
        secret_file = Path(config.state_dir) / "webhook-secret"
        assert secret_file.stat().st_mode & 0o077 == 0
        assert len(secret_file.read_text().strip()) >= 32
        async with Harness(config) as h:
            assert {hook.id for hook in emu.store.webhooks.values()} == first
            st = await h.status()
            assert st["webhook"]["id"] == ",".join(str(i) for i in sorted(first))
        last = last_known_status(Path(config.state_dir))
        assert last["webhook"]["registered"] is True


async def test_bad_signature_is_401_and_marks_nothing(tmp_path: Path) -> None:
    async with emulator_server.EmulatorServer(flavor="dc", pages=2, space="DEMO") as emu:
        config = make_config(tmp_path, emu)
        async with Harness(config) as h:
            page = [c.id for c in emu.store.all_content("page")][1]
            body = json.dumps({"event": "page_updated", "page": {"id": int(page)}}).encode()
            before = len(h.engine.requests)
            async with aiohttp.ClientSession() as session:
                async with session.post(
                    config.webhook.public_url,
                    data=body,
                    headers={"X-Hub-Signature": sign_body("wrong", body)},
                ) as resp:
                    assert resp.status == 401
                async with session.post(
                    config.webhook.public_url,
                    data=body,
                    headers={"X-Hub-Signature": sign_body(SECRET, body)},
                ) as resp:
                    assert resp.status == 200
            await until(lambda: len(h.engine.requests) > before)
            assert [r.page_ids for r in h.engine.requests[before:]] == [{page}]


async def test_registration_refused_runs_in_polling_mode(tmp_path: Path, caplog) -> None:
    from syncd.emulator.errors import Forbidden

    async with emulator_server.EmulatorServer(flavor="cloud", pages=2, space="DEMO") as emu:

        def refuse(**_fields: Any) -> Any:
            raise Forbidden("Only administrators can manage webhooks")

        emu.store.add_webhook = refuse  # the account is not an admin
        config = make_config(tmp_path, emu)
        async with Harness(config) as h:
            st = await h.status()
            assert st["mode"] == "polling"
            assert st["webhook"]["registered"] is False
            assert "permission denied" in st["mode_reason"]
            assert "administrator" in st["webhook"]["reason"]
            # the poller still syncs a remote edit
            page = [c.id for c in emu.store.all_content("page")][1]
            emu.store.edit(page, "<p>polled</p>")
            await until(lambda: h.daemon.known_version(page) == 2)
            st = await h.status()
            assert st["last_poll_at"] is not None
        said = [
            r.getMessage() for r in caplog.records if "running in polling mode" in r.getMessage()
        ]
        assert len(said) == 1  # said once


async def test_sync_failure_is_logged_retried_and_never_fatal(tmp_path: Path) -> None:
    async with emulator_server.EmulatorServer(flavor="dc", pages=2, space="DEMO") as emu:
        config = make_config(tmp_path, emu)
        async with Harness(config) as h:
            h.engine.fail_next = 1
            page = [c.id for c in emu.store.all_content("page")][1]
            emu.store.edit(page, "<p>x</p>")
            await until(lambda: h.daemon.known_version(page) == 2)
            failed = [r for r in h.engine.requests if r is not None and page in r.page_ids]
            assert len(failed) >= 2  # the failed attempt and its retry
            st = await h.status()
            assert any("injected failure" in e for e in st["errors"])
            assert h.daemon._healthy()


async def test_space_removed_stops_syncing_and_deletes_nothing(tmp_path: Path) -> None:
    async with emulator_server.EmulatorServer(flavor="dc", pages=1, space="DEMO") as emu:
        config = make_config(tmp_path, emu)
        async with Harness(config) as h:
            space_id = emu.store.space("DEMO").id
            body = json.dumps(
                {"event": "space_removed", "space": {"id": space_id, "key": "DEMO"}}
            ).encode()
            async with aiohttp.ClientSession() as session:
                async with session.post(
                    config.webhook.public_url,
                    data=body,
                    headers={"X-Hub-Signature": sign_body(SECRET, body)},
                ) as resp:
                    assert resp.status == 200
            await until(lambda: h.daemon.space_removed is not None)
            st = await h.status()
            assert st["mode"] == "stopped" and "removed" in st["blocked"]
            count = len(h.engine.requests)
            page = next(c.id for c in emu.store.all_content("page"))
            emu.store.edit(page, "<p>after removal</p>")
            await asyncio.sleep(0)  # nothing to wait for: triggers are dropped
            assert len(h.engine.requests) == count


async def test_second_instance_is_refused_with_the_pid(tmp_path: Path, caplog) -> None:
    async with emulator_server.EmulatorServer(flavor="dc", pages=0, space="DEMO") as emu:
        config = make_config(tmp_path, emu)
        holder = StateDB.open(config.state_dir)
        try:
            h = Harness(config)
            code = await asyncio.wait_for(h.daemon.run(), 10)
        finally:
            holder.close()
        assert code == 2
        assert any("already running" in r.getMessage() for r in caplog.records)


async def test_webhooks_disabled_polls_and_counts_as_healthy(tmp_path: Path) -> None:
    from syncd.daemon.control import status_exit_code

    async with emulator_server.EmulatorServer(flavor="dc", pages=1, space="DEMO") as emu:
        config = make_config(tmp_path, emu, webhook={"enabled": False})
        async with Harness(config) as h:
            st = await h.status()
            assert st["mode"] == "polling" and "disabled" in st["mode_reason"]
            assert st["webhook"]["registered"] is False and st["webhook"]["url"] is None
            assert status_exit_code(st) == 0  # polling by choice is not degraded
            assert not emu.store.webhooks
            page = [c.id for c in emu.store.all_content("page")][1]
            emu.store.edit(page, "<p>polled</p>")
            await until(lambda: h.daemon.known_version(page) == 2)


async def test_port_in_use_says_so_and_polls(tmp_path: Path) -> None:
    async with emulator_server.EmulatorServer(flavor="dc", pages=1, space="DEMO") as emu:
        config = make_config(tmp_path, emu)
        with socket.socket() as busy:
            busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
            busy.bind((config.webhook.host, config.webhook.port))
            busy.listen(1)
            async with Harness(config) as h:
                st = await h.status()
                assert st["mode"] == "polling"
                assert "cannot listen on" in st["webhook"]["reason"]
                assert any("webhook.listen" in e for e in st["errors"])
                assert not emu.store.webhooks


async def test_port_in_use_warns_with_the_port_not_the_public_url(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 16: the warnings name `address already in use` and its fix; none sends the user
    to public_url or an admin account, which have nothing to do with a busy port."""
    async with emulator_server.EmulatorServer(flavor="dc", pages=1, space="DEMO") as emu:
        config = make_config(tmp_path, emu)
        with socket.socket() as busy, caplog.at_level(logging.INFO):
            busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
            busy.bind((config.webhook.host, config.webhook.port))
            busy.listen(1)
            async with Harness(config) as h:
                await h.status()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings and all("already in use" in w or "free the port" in w for w in warnings)
    assert not any("public_url" in w or "manage webhooks" in w for w in warnings), warnings


async def test_busy_port_is_taken_over_once_free(tmp_path: Path) -> None:
    """A port held at start (an old instance still stopping) is retried with the
    registration back-off: once free, the receiver listens and webhooks resume."""
    async with emulator_server.EmulatorServer(flavor="dc", pages=1, space="DEMO") as emu:
        config = make_config(tmp_path, emu)
        busy = socket.socket()
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        busy.bind((config.webhook.host, config.webhook.port))
        busy.listen(1)
        try:
            async with Harness(config) as h:
                st = await h.status()
                assert st["mode"] == "polling" and "cannot listen on" in st["webhook"]["reason"]
                busy.close()
                await until(lambda: h.daemon.machine.mode.value == "webhook", within=20)
                assert len(emu.store.webhooks) == 1
                page = [c.id for c in emu.store.all_content("page")][1]
                emu.store.edit(page, "<p>delivered</p>")
                await until(lambda: h.daemon.known_version(page) == 2)
                st = await h.status()
                assert st["webhook"]["registered"] is True
        finally:
            busy.close()


def test_conflict_log_lines_say_what_ends_each_conflict(tmp_path: Path, caplog) -> None:
    """Regression: every new conflict was logged as 'conflict held: X (resolve the markers,
    then save)', also in keep-both mode where no markers were written."""
    emu = SimpleNamespace(flavor="cloud", base_url="http://127.0.0.1:9")
    daemon = Daemon(make_config(tmp_path, emu), options=RunOptions(install_signals=False))
    copy = "Both.conflict-20261205-004756.md"
    help_lines = {
        copy: f"Both.md: your text is in {copy}; copy what you need, then delete it",
        "Held.md": "Held.md: resolve the conflict markers, then save",
    }
    report = FakeReport(conflicts=sorted(help_lines), conflict_help=help_lines)
    with caplog.at_level(logging.WARNING, logger="syncd.daemon"):
        daemon._handle_report(report)
        daemon._handle_report(report)  # still there: not logged again
    logged = [r.getMessage() for r in caplog.records if r.name == "syncd.daemon"]
    assert logged == [f"conflict: {help_lines[path]}" for path in sorted(help_lines)]


def test_stopped_status_lists_each_copy_on_disk_with_what_to_do(tmp_path: Path) -> None:
    """`syncd status` with no daemon: from the state database, every keep-both copy still
    on disk (a deleted one is no longer listed), naming the page's file as it is now."""
    folder = tmp_path / "docs"
    folder.mkdir()
    kept, deleted = "Setup.conflict-20261205-004756.md", "Setup.conflict-20261205-004757.md"
    (folder / kept).write_text("my text")
    with StateDB.open(tmp_path / "state") as db:
        db.put_page(
            PageRecord(
                page_id="7",
                local_path="Install.md",  # renamed since the conflicts
                title="Install",
                parent_id=None,
                remote_version=3,
                base_markdown="",
                local_hash="",
            )
        )
        db.add_conflict_copy("7", "Setup.md", kept)
        db.add_conflict_copy("7", "Setup.md", deleted)
        db.add_conflict("8", "Held.md", "markers", "1 conflict(s)")
    status = last_known_status(tmp_path / "state", folder)
    assert status["conflicts"] == ["Held.md", kept]
    assert status["conflict_help"] == [
        "Held.md: resolve the conflict markers, then save",
        f"Install.md: your text is in {kept}; copy what you need, then delete it",
    ]
