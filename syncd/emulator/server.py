"""Running the emulator: ``EmulatorServer`` (async context manager on the caller's loop) and
``ThreadedEmulator`` (the same server on its own loop in a background thread, for synchronous
clients and subprocess tests).

    async with EmulatorServer(flavor="cloud", pages=20) as emu:
        emu.base_url    # http://127.0.0.1:PORT/wiki  (dc: http://127.0.0.1:PORT)
        emu.root_url    # http://127.0.0.1:PORT
        emu.gateway_url # http://127.0.0.1:PORT/ex/confluence/CLOUD_ID  (cloud: the API gateway)
        emu.store       # the in-memory model
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from aiohttp import web

from syncd.emulator import FLAVORS, control, gateway, routes_v1, routes_v2, routes_webhooks
from syncd.emulator.deliveries import Deliverer
from syncd.emulator.faults import Faults
from syncd.emulator.middleware import pipeline
from syncd.emulator.seed import seed_corpus, seed_folders, seed_space
from syncd.emulator.state import STATE_KEY, EmulatorState
from syncd.emulator.store import Store, make_user


def build_store(
    *,
    space: str,
    pages: int,
    seed: int,
    user: str,
    corpus: str | Path | None,
    folders: bool = False,
) -> Store:
    """A new site with one space: ``pages`` seeded pages (or one per corpus file), and with
    ``folders`` the Cloud content tree of ``seed.FOLDER_TREE`` (folders, a whiteboard...)."""
    store = Store(make_user(user), seed=seed)
    store.create_space(space, _space_name(space))
    if corpus:
        seed_corpus(store, space, Path(corpus))
    else:
        seed_space(store, space, pages, seed)
    if folders:
        seed_folders(store, space)
    return store


def _space_name(key: str) -> str:
    return "Demo" if key == "DEMO" else key.title()


def build_app(state: EmulatorState) -> web.Application:
    app = web.Application(middlewares=[pipeline], client_max_size=64 * 1024 * 1024)
    app[STATE_KEY] = state
    app.add_routes(control.routes)
    if state.flavor == "cloud":
        app.add_routes(routes_v2.routes)
        gateway.add_routes(app)
    routes_webhooks.add_routes(app, state.flavor)  # before v1's catch-all under /rest/api
    routes_v1.add_routes(app, state.flavor)
    return app


class EmulatorServer:
    """A local Confluence (Cloud or DC flavor) listening on ``host:port`` (0 picks a port)."""

    def __init__(
        self,
        flavor: str = "cloud",
        host: str = "127.0.0.1",
        port: int = 0,
        space: str = "DEMO",
        pages: int = 0,
        seed: int = 0,
        user: str = "demo@example.com",
        token: str = "demo-token",
        corpus: str | Path | None = None,
        data: str | Path | None = None,
        webhook_secret: str | None = None,
        folders: bool = False,
        tenant_info: bool = True,
    ) -> None:
        if flavor not in FLAVORS:
            raise ValueError(f"flavor must be one of {', '.join(FLAVORS)}, not {flavor!r}")
        if folders and flavor != "cloud":
            raise ValueError("folders exist on Confluence Cloud only, not on Data Center")
        self._folders = folders
        self.flavor = flavor
        self.host = host
        self.port = port
        self.space_key = space
        self._pages = pages
        self._seed = seed
        self._corpus = corpus
        self.data = Path(data) if data else None
        self.user = user
        self.token = token
        self.webhook_secret = webhook_secret
        self.store: Store = Store(make_user(user), seed=seed)
        self.faults = Faults()
        self.state = EmulatorState(
            store=self.store,
            flavor=flavor,
            user=user,
            token=token,
            webhook_secret=webhook_secret,
            faults=self.faults,
            tenant_info=tenant_info,
        )
        self.deliverer = Deliverer(self.state)
        self.state.deliverer = self.deliverer
        self._runner: web.AppRunner | None = None
        self.persister: Any = None

    # ---- URLs -----------------------------------------------------------------------

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.root_url + ("/wiki" if self.flavor == "cloud" else "")

    @property
    def gateway_url(self) -> str:
        """The API gateway's address for this site (scoped tokens work only there)."""
        return f"{self.root_url}/ex/confluence/{self.state.cloud_id}"

    # ---- tokens ---------------------------------------------------------------------

    def add_scoped_token(self, token: str, scopes: Iterable[str]) -> None:
        """Accept ``token`` (with this emulator's user) at the gateway, for ``scopes``."""
        self.state.scoped_tokens[token] = frozenset(scopes)

    def revoke_token(self, token: str) -> None:
        """Refuse ``token`` from now on, as Confluence does once a token expires."""
        self.state.scoped_tokens.pop(token, None)
        if self.state.token == token:
            self.state.token = ""

    @property
    def deliveries(self) -> list[dict]:
        """The delivery log (same entries as ``GET /_emulator/deliveries``)."""
        return self.deliverer.log

    @property
    def requests(self) -> dict[str, int]:
        return self.state.request_counts

    @property
    def peak_in_flight(self) -> dict[str, int]:
        """The most requests of each route served at the same time (see ``control``)."""
        return self.state.peak_in_flight

    # ---- lifecycle ------------------------------------------------------------------

    def _prepare_store(self) -> None:
        if self.data is not None and self.data.exists():
            from syncd.emulator.persistence import load_store

            store = load_store(self.data, seed=self._seed)
        else:
            store = build_store(
                space=self.space_key,
                pages=self._pages,
                seed=self._seed,
                user=self.user,
                corpus=self._corpus,
                folders=self._folders,
            )
        self.store = store
        self.state.store = store

    async def start(self) -> EmulatorServer:
        loop = asyncio.get_running_loop()
        if self._pages > 1000 or self.data is not None:
            await loop.run_in_executor(None, self._prepare_store)
        else:
            self._prepare_store()
        if self.data is not None:
            from syncd.emulator.persistence import Persister

            self.persister = Persister(self.store, self.data)
            self.persister.start(loop)
        try:
            await self.deliverer.start()
            app = build_app(self.state)
            self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
            await site.start()
        except BaseException:  # a busy port: close the delivery session and the persister
            await self.stop()
            raise
        server = site._server
        if self.port == 0 and server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        self.state.root_url = self.root_url
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await self.deliverer.stop()
        if self.persister is not None:
            self.persister.stop()
            self.persister = None

    async def __aenter__(self) -> EmulatorServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


class ThreadedEmulator:
    """An ``EmulatorServer`` running on its own event loop in a daemon thread."""

    def __init__(self, **kwargs: Any) -> None:
        self.server = EmulatorServer(**kwargs)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._error: BaseException | None = None

    def __getattr__(self, name: str) -> Any:
        # base_url, root_url, store, deliveries, flavor, ... come from the server
        if name == "server":
            raise AttributeError(name)
        return getattr(self.server, name)

    def start(self, timeout: float = 30.0) -> ThreadedEmulator:
        self._thread = threading.Thread(target=self._run, name="syncd-emulator", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("emulator did not start in time")
        if self._error is not None:
            raise RuntimeError("emulator failed to start") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    async def _main(self) -> None:
        self._stopped = asyncio.Event()
        try:
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            await self._stopped.wait()
        finally:
            await self.server.stop()

    def call(self, fn: Any, *args: Any, timeout: float = 10.0, **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` on the emulator's loop and return its result."""
        assert self._loop is not None

        async def invoke() -> Any:
            result = fn(*args, **kwargs)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is None or self._thread is None:
            return
        if self._stopped is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout)
        self._thread = None

    def __enter__(self) -> ThreadedEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
