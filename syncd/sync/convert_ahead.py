"""Page conversions run ahead, in worker processes, while the executor writes earlier pages.

A run that pulls many pages (a first sync, a catch-up) is bound by the CPU once its bodies
arrive in bulk: converting storage to Markdown costs more than the rest of a pull together,
and the executor applies pulls one after another (parents first). Here the bodies the
executor will need next are converted on the machine's other cores as soon as they are
read, so page i+1 converts while page i is written.

The executor's decision is unchanged: a conversion done ahead is used only when it is
provably the one the executor would have made. The converter is a pure function of the
body and of what its link resolver answers (``syncd.convert`` does no I/O), so the worker
records every question it asked its resolver, with the answer it got from a copy of the
page index taken when the pool started; at the page's turn each question is asked again of
the live resolver, for the path the page really gets. Same answers: same Markdown and
sidecar. Any difference (a page placed elsewhere meanwhile, a user name learnt later, a
path not foreseen) and the page is converted again in the executor's process, as without
a pool. A worker that fails costs only that: the page converts in-process and raises there
what it would have raised.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import signal
import threading
from dataclasses import dataclass, replace
from typing import Any

from syncd.convert import Sidecar, storage_to_markdown
from syncd.sync.resolver import PageIndex, PathResolver
from syncd.sync.users import mentioned_users

log = logging.getLogger(__name__)

#: Below this many pulls the pool's start-up (a fork server, then a process per worker)
#: is not repaid.
POOL_MIN_PULLS = 64
#: Workers at most, whatever the machine: the executor's own process needs a core too.
MAX_WORKERS = 4

#: The resolver questions the converter may ask (``syncd.convert.LinkResolver``).
_QUESTIONS = (
    "page_path",
    "page_for_path",
    "attachment_path",
    "attachment_for_path",
    "user_name",
    "jira_url",
)

Question = tuple[str, tuple[Any, ...], Any]


def pool_workers(pulls: int, cpus: int | None = None) -> int:
    """Worker processes for a run that pulls `pulls` pages: none on one core or for a
    handful of pages; else one per core, at most :data:`MAX_WORKERS`."""
    cpus = cpus if cpus is not None else (os.cpu_count() or 1)
    if cpus < 2 or pulls < POOL_MIN_PULLS:
        return 0
    return min(MAX_WORKERS, cpus)


class _Names:
    """The display names a page mentions, as the live `UserNames` knew them at submit."""

    def __init__(self, names: dict[tuple[str, str], str | None]) -> None:
        self._names = names

    def name(self, kind: str, value: str) -> str | None:
        return self._names.get((kind, value))


class Transcript:
    """A resolver that answers through `inner` and writes down every question and answer."""

    def __init__(self, inner: PathResolver) -> None:
        self.inner = inner
        self.questions: list[Question] = []

    def _ask(self, method: str, *args: Any) -> Any:
        answer = getattr(self.inner, method)(*args)
        self.questions.append((method, args, answer))
        return answer

    def page_path(self, title, space_key=None, page_id=None):
        return self._ask("page_path", title, space_key, page_id)

    def page_for_path(self, path):
        return self._ask("page_for_path", path)

    def attachment_path(self, filename, page_title=None):
        return self._ask("attachment_path", filename, page_title)

    def attachment_for_path(self, path):
        return self._ask("attachment_for_path", path)

    def user_name(self, kind, value):
        return self._ask("user_name", kind, value)

    def jira_url(self, server_name, server_id):
        return self._ask("jira_url", server_name, server_id)


def same_answers(questions: list[Question], live: PathResolver) -> bool:
    """Whether the live resolver answers every recorded question as the worker's did."""
    for method, args, answer in questions:
        if method not in _QUESTIONS or getattr(live, method)(*args) != answer:
            return False
    return True


# ---------------------------------------------------------------------- worker process

_worker_index: PageIndex | None = None


def _use_index(index: PageIndex) -> None:
    global _worker_index
    _worker_index = index


def _start_worker(index: PageIndex) -> None:
    _use_index(index)
    # Ctrl-C reaches the whole process group: the executor's process stops the run (and
    # its workers); a worker must not print a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_owner()


def _exit_with_owner() -> None:
    """End this worker when the process that started it is gone.

    The run's process closes its pool at the end; but killed (SIGKILL, SIGTERM without a
    handler, a crash) it closes nothing, and its workers would wait for work forever,
    keeping the fork server alive with them. A thread blocked on the owner's sentinel (no
    CPU while it waits) ends the worker instead."""
    owner = multiprocessing.parent_process()
    if owner is None:
        return

    def watch() -> None:
        owner.join()
        os._exit(0)

    threading.Thread(target=watch, name="owner-watch", daemon=True).start()


def _convert_in_worker(
    body: str, path: str, names: dict[tuple[str, str], str | None]
) -> tuple[str, Sidecar, list[Question]]:
    """Convert one body against the worker's copy of the index; the sidecar comes back
    without the body (the executor has it)."""
    assert _worker_index is not None
    _worker_index.users = _Names(names)  # type: ignore[assignment]
    transcript = Transcript(_worker_index.for_page(path))
    result = storage_to_markdown(body, resolver=transcript)
    return result.markdown, replace(result.sidecar, body=""), transcript.questions


# ---------------------------------------------------------------------- executor side


def _worker_context() -> multiprocessing.context.BaseContext:
    """Never a plain fork: this process runs threads (the watcher, the file I/O pool),
    which a fork would copy mid-flight. Where it exists, a fork server started once per
    process (with the converter imported) makes each later pool start in milliseconds;
    elsewhere (Windows) each worker is a fresh interpreter."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def warm_up() -> None:
    """Start the fork server now (a fresh interpreter importing the converter: a quarter
    of a second), so that a pool started later only forks. Blocking: run it in a thread,
    early in a run that will pull many pages (a first sync)."""
    context = _worker_context()
    if context.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        forkserver.ensure_running()


@dataclass
class _Ahead:
    version: int
    body: str
    future: asyncio.Future


class ConversionPool:
    """Worker processes converting the bodies of the pulls ahead of the executor."""

    def __init__(self, index: PageIndex, workers: int) -> None:
        self.index = index
        self._workers = workers
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._ahead: dict[str, _Ahead] = {}
        #: Conversions done ahead and used, and those the executor had to redo (for
        #: tests and benches).
        self.used = 0
        self.redone = 0
        #: The workers could not start or died: every page converts in-process.
        self.broken = False

    def _executor(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # Each worker gets the index as it is when the worker starts (pickled then;
            # no copy is kept here).
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=_worker_context(),
                initializer=_start_worker,
                initargs=(self.index,),
            )
        return self._pool

    def start(self) -> None:
        """Start the workers now (their start-up overlaps with the first reads). If they
        cannot start (no processes left, no temporary directory for the fork server's
        socket...), the run converts in this process, as with a handful of pages."""
        try:
            pool = self._executor()
            for _ in range(self._workers):
                pool.submit(os.getpid)
        except Exception as exc:
            self._unavailable(exc)

    def _unavailable(self, exc: BaseException) -> None:
        log.warning("conversion workers unavailable (%s); converting in this process", exc)
        self.broken = True
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def submit(self, page_id: str, version: int, body: str, path: str) -> None:
        """Convert `body` (the page at `version`) ahead, as if its file were `path`."""
        if page_id in self._ahead or self.broken:
            return
        users = self.index.users
        names = {
            key: (users.name(*key) if users is not None else None) for key in mentioned_users(body)
        }
        try:
            future = asyncio.get_running_loop().run_in_executor(
                self._executor(), _convert_in_worker, body, path, names
            )
        except RuntimeError as exc:  # the pool was shut down (the run is ending)
            log.debug("conversion ahead unavailable: %s", exc)
            return
        except (OSError, concurrent.futures.BrokenExecutor) as exc:
            self._unavailable(exc)
            return
        self._ahead[page_id] = _Ahead(version, body, future)

    async def take(
        self, page_id: str, version: int, body: str, live: PathResolver
    ) -> tuple[str, Sidecar] | None:
        """The conversion done ahead for this page, if it is the one `live` would give;
        None: convert in-process."""
        ahead = self._ahead.pop(page_id, None)
        if ahead is None:
            return None
        if ahead.version != version or ahead.body != body:
            ahead.future.cancel()
            self.redone += 1
            return None
        try:
            markdown, sidecar, questions = await ahead.future
        except Exception as exc:  # the in-process conversion raises what it must
            log.debug("conversion ahead of page %s failed: %s", page_id, exc)
            self.redone += 1
            return None
        if not same_answers(questions, live):
            self.redone += 1
            return None
        self.used += 1
        sidecar.body = body
        return markdown, sidecar

    def close(self) -> None:
        for ahead in self._ahead.values():
            ahead.future.cancel()
        self._ahead.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
