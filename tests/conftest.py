"""Fixtures shared by the whole suite."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "tests" / "data"
"""Reference material kept in the repository (tests/data/README.md says what and from where)."""
CORPUS_DIR = DATA_DIR / "corpus" / "storage"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """tests/data: the OpenAPI documents, the storage corpus, the real API samples' index."""
    return DATA_DIR


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The real storage bodies (tests/data/corpus/storage, sources in corpus/SOURCES.md)."""
    return CORPUS_DIR


@pytest.fixture(autouse=True)
def _logging_handlers_restored() -> Iterator[None]:
    """A command run in-process (``syncd sync``, ``syncd run``) installs its log handlers on the
    root and ``syncd`` loggers for the life of the process. In the suite the stream they write
    to is the test's captured stderr, closed when the test ends: later tests' log lines then
    fail with "I/O operation on closed file" noise. Remove the handlers a test left behind."""
    loggers = [logging.getLogger(), logging.getLogger("syncd")]
    before = {id(lg): (set(lg.handlers), lg.level) for lg in loggers}
    yield
    for lg in loggers:
        handlers, level = before[id(lg)]
        for handler in list(lg.handlers):
            # pytest swaps its own capture handlers between phases: leave those to it.
            if handler not in handlers and not type(handler).__module__.startswith("_pytest"):
                lg.removeHandler(handler)
                handler.close()
        lg.setLevel(level)


# ---- the local Confluence emulator (syncd.emulator) ---------------------------------


@pytest.fixture
async def emulator():
    """A Cloud-flavor emulator on a free loopback port: space DEMO, home page + 12 pages."""
    from syncd.emulator.server import EmulatorServer

    async with EmulatorServer(flavor="cloud", pages=12, seed=1) as emu:
        yield emu


@pytest.fixture
async def emulator_dc():
    """The same for Data Center (bearer token, /rest/api at the root)."""
    from syncd.emulator.server import EmulatorServer

    async with EmulatorServer(flavor="dc", pages=12, seed=1) as emu:
        yield emu


@pytest.fixture
async def emulator_factory():
    """``await emulator_factory(flavor="dc", pages=50, ...)`` -> a started EmulatorServer,
    stopped at the end of the test. Takes EmulatorServer's keyword arguments."""
    from syncd.emulator.server import EmulatorServer

    started: list[EmulatorServer] = []

    async def make(**kwargs):
        server = EmulatorServer(**kwargs)
        await server.start()
        started.append(server)
        return server

    yield make
    for server in reversed(started):
        await server.stop()
