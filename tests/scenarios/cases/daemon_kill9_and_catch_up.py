"""The live daemon is killed with SIGKILL during its first sync; while it is down both
sides change (edits, a remote trash, a remote move); the restarted daemon catches up from
a full reconcile without any webhook, and loses nothing."""

import asyncio
import contextlib
import random

from scenarios.runner import Ctx, until


async def kill_during_first_sync(ctx: Ctx) -> None:
    from scenarios.runner import DaemonProc, write_daemon_config

    await ctx.faults(latency_ms=20)
    write_daemon_config(ctx)
    start = sum(ctx.emu.requests.values())
    n = random.Random(3).randint(8, 20)
    daemon = DaemonProc(ctx)
    spawn = asyncio.ensure_future(daemon.start())  # killed before it reports ready
    try:
        await until(lambda: sum(ctx.emu.requests.values()) - start >= n, 30, "requests")
    finally:
        assert daemon.proc is not None  # its requests were counted, so it was spawned
        daemon.proc.kill()
        await daemon.proc.wait()
        spawn.cancel()
        with contextlib.suppress(asyncio.CancelledError, AssertionError):
            await spawn
    await ctx.faults(latency_ms=0)


SCENARIO = {
    "covers": ["A1", "A6", "F4", "C4"],
    "slow": True,
    "space": {
        "seeded": 8,
        "pages": [
            {"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"},
            {"key": "b", "title": "Beta", "body": "<p>Beta.</p>"},
            {"key": "c", "title": "Gamma", "body": "<p>Gamma.</p>"},
        ],
    },
    "steps": [
        {"op": "call", "fn": kill_during_first_sync},
        {"op": "daemon.start"},
        {"op": "wait.file", "page": "c", "contains": "Gamma."},
        {"op": "wait.quiet"},
        {"op": "daemon.stop"},
        # while stopped: edits on both sides, a remote trash and a remote move
        {"op": "local.edit", "page": "a", "append": "Alpha edited while syncd was down."},
        {"op": "remote.edit", "page": "b", "append": "Beta edited while syncd was down."},
        {"op": "remote.trash", "page": "c"},
        {"op": "remote.move", "page": "b", "to": "a"},
        {"op": "daemon.start"},
        {"op": "wait.page", "page": "a", "contains": "Alpha edited while syncd was down."},
        {"op": "wait.file", "page": "b", "contains": "Beta edited while syncd was down."},
        {"op": "wait.quiet"},
        {"op": "daemon.stop"},
    ],
    "expect": {
        "files": {"c": None, "b": {"path": "Alpha/Beta.md"}},
        "pages": {"a": {"version": 2}, "b": {"parent": "a", "version": 2}},
        "local_trash": {"contains": ["Gamma."]},
    },
}
