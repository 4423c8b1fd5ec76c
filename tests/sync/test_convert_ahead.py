"""Conversions done ahead in worker processes (`syncd.sync.convert_ahead`).

A worker converts with a copy of the page index and writes down what it asked; its
result is used only when the live index answers every question the same way, so a pull
writes exactly what an in-process conversion would have written.
"""

from __future__ import annotations

import pickle

import pytest

from syncd.convert import storage_to_markdown
from syncd.sync import convert_ahead
from syncd.sync.convert_ahead import (
    ConversionPool,
    _convert_in_worker,
    _use_index,
    pool_workers,
    same_answers,
)
from syncd.sync.resolver import PageIndex
from syncd.sync.users import UserNames

BODY = (
    '<p>See <ac:link><ri:page ri:content-title="Other" /></ac:link>, '
    '<ac:image><ri:attachment ri:filename="a.png" /></ac:image> and '
    '<ac:link><ri:user ri:account-id="557058:abc" /></ac:link>.</p>'
)


def sent(idx: PageIndex) -> PageIndex:
    """The index as a worker receives it (the pool pickles it when the worker starts)."""
    return pickle.loads(pickle.dumps(idx))


def index() -> PageIndex:
    idx = PageIndex("DOCS")
    idx.set_page("1", "Here", "Here.md")
    idx.set_page("2", "Other", "Team/Other.md")
    idx.users = UserNames(None)
    idx.users.remember("account-id", "557058:abc", "Ada Lovelace")
    return idx


def test_workers_only_for_many_pulls_on_several_cores() -> None:
    assert pool_workers(1000, cpus=1) == 0
    assert pool_workers(convert_ahead.POOL_MIN_PULLS - 1, cpus=8) == 0
    assert pool_workers(convert_ahead.POOL_MIN_PULLS, cpus=2) == 2
    assert pool_workers(10_000, cpus=64) == convert_ahead.MAX_WORKERS


def test_a_worker_conversion_is_the_in_process_one_while_the_index_agrees() -> None:
    live = index()
    _use_index(sent(live))
    names = {("account-id", "557058:abc"): "Ada Lovelace"}
    markdown, sidecar, questions = _convert_in_worker(BODY, "Here.md", names)
    expected = storage_to_markdown(BODY, resolver=live.for_page("Here.md"))
    assert markdown == expected.markdown
    assert "[Other](Team/Other.md)" in markdown and "@Ada Lovelace" in markdown
    sidecar.body = BODY
    assert sidecar == expected.sidecar
    asked = {method for method, _, _ in questions}
    assert {"page_path", "attachment_path", "user_name"} <= asked
    assert same_answers(questions, live.for_page("Here.md"))
    # The page is placed elsewhere: every relative answer differs.
    assert not same_answers(questions, live.for_page("Sub/Here.md"))
    # The linked page moved meanwhile.
    live.set_page("2", "Other", "Elsewhere/Other.md")
    assert not same_answers(questions, live.for_page("Here.md"))


def test_a_user_name_learnt_after_the_worker_ran_is_a_difference() -> None:
    live = index()
    _use_index(sent(live))
    _, _, questions = _convert_in_worker(BODY, "Here.md", {})  # name not known yet
    assert not same_answers(questions, live.for_page("Here.md"))


async def test_the_pool_hands_out_only_what_the_executor_would_have_written() -> None:
    live = index()
    pool = ConversionPool(live, workers=1)
    pool.start()
    try:
        pool.submit("1", 3, BODY, "Here.md")
        pool.submit("5", 1, "<p>five</p>", "Five.md")
        pool.submit("6", 2, "<p>six</p>", "Six.md")
        done = await pool.take("1", 3, BODY, live.for_page("Here.md"))
        assert done is not None
        expected = storage_to_markdown(BODY, resolver=live.for_page("Here.md"))
        assert done == (expected.markdown, expected.sidecar)
        # Read again at another version meanwhile: the executor converts that body itself.
        assert await pool.take("5", 2, "<p>five v2</p>", live.for_page("Five.md")) is None
        # Placed elsewhere than foreseen, but nothing in it depends on the place: used.
        assert await pool.take("6", 2, "<p>six</p>", live.for_page("Dir/Six.md")) is not None
        assert await pool.take("404", 1, BODY, live.for_page("X.md")) is None
        assert (pool.used, pool.redone) == (2, 1)
    finally:
        pool.close()


@pytest.mark.parametrize("failure", [RuntimeError("worker died"), RecursionError()])
async def test_a_failed_worker_conversion_falls_back_to_the_executor(failure, monkeypatch):
    live = index()
    pool = ConversionPool(live, workers=1)

    async def broken(*args):
        raise failure

    class Loop:
        def run_in_executor(self, *args):
            import asyncio

            return asyncio.ensure_future(broken())

    monkeypatch.setattr(convert_ahead.asyncio, "get_running_loop", lambda: Loop())
    monkeypatch.setattr(pool, "_executor", lambda: None)
    pool.submit("1", 1, BODY, "Here.md")
    monkeypatch.undo()
    assert await pool.take("1", 1, BODY, live.for_page("Here.md")) is None
    assert pool.redone == 1
    pool.close()


def test_the_index_goes_to_a_worker_without_its_user_names() -> None:
    """The pool pickles the live index when a worker starts (no copy is kept); the user
    names cache holds the state database and stays behind (names go with each page)."""
    import threading

    live = index()
    live.users.db = threading.Lock()  # type: ignore[union-attr]  # unpicklable, as a DB is
    received = sent(live)
    assert received.users is None and live.users is not None
    assert received.for_page("Here.md").page_path("Other") == "Team/Other.md"


OWNER = """
import asyncio, os, sys
from syncd.sync.convert_ahead import ConversionPool
from syncd.sync.resolver import PageIndex

async def main():
    pool = ConversionPool(PageIndex("DOCS"), 2)
    pool.start()
    pids = await asyncio.gather(
        *(asyncio.get_running_loop().run_in_executor(pool._executor(), os.getpid) for _ in range(8))
    )
    print(" ".join(str(p) for p in set(pids)), flush=True)
    await asyncio.sleep(60)  # killed here, its pool never closed

if __name__ == "__main__":  # the workers' fork server imports this file too
    asyncio.run(main())
"""


def test_workers_end_when_the_run_that_started_them_is_killed(tmp_path) -> None:
    """A `syncd sync` killed mid-run (SIGKILL) closes nothing: its workers must not wait
    for work forever."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "owner.py"
    script.write_text(OWNER)
    owner = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        line = owner.stdout.readline()  # type: ignore[union-attr]
        workers = [int(p) for p in line.split()]
        assert workers and owner.pid not in workers
    finally:
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True

    deadline = time.monotonic() + 20
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p) for p in workers)
