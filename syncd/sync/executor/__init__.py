"""Apply a Plan to the folder and to Confluence.

This is the real counterpart of tests/sync/simulator.py and follows the
executor contract in `syncd.sync.model` point by point: effect first, record
second (one transaction per action); current values from the state; planning
paths rewritten through the moves made so far; a 409 becomes a merge; after
every remote write what Confluence stored becomes the base (from the update's
answer when it carries the stored body, else re-read), so the next run makes
no request and nothing loops.

Actions run in plan order, except the content phase (push, merge, pull of a
tracked page), whose pages are applied up to `concurrency` at a time (actions
of one page still in order). Bodies are fetched ahead of time for runs of
`Pull` actions (bounded window), but applied in plan order, so a first sync
streams: fetch, convert, write, record per page, with at most `prefetch`
bodies in memory.

The executor is one class assembled from parts, one per responsibility:
dispatch (running the plan), durability (group commits for runs of pulls), paths (where pages go), files (reading and
writing them), records and conflicts (the state), and one part per kind of
action: pull, push, merging (merge and link), create, moves, trash.
"""

from __future__ import annotations

from syncd.sync.executor.base import ExecutorBase
from syncd.sync.executor.conflicts import CONFLICT_STAMP, ConflictRecords
from syncd.sync.executor.create import Creating
from syncd.sync.executor.dispatch import Dispatch
from syncd.sync.executor.durability import GroupCommit
from syncd.sync.executor.files import FileAccess
from syncd.sync.executor.merging import Merging
from syncd.sync.executor.moves import Moves
from syncd.sync.executor.paths import PathAllocation
from syncd.sync.executor.pull import Pulling
from syncd.sync.executor.push import Pushing
from syncd.sync.executor.records import PageRecords
from syncd.sync.executor.results import Applied, ExecutionResult, Held
from syncd.sync.executor.settings import ExecutorSettings, WriteObserver
from syncd.sync.executor.trash import Deletions

__all__ = [
    "CONFLICT_STAMP",
    "Applied",
    "ExecutionResult",
    "Executor",
    "ExecutorSettings",
    "Held",
    "WriteObserver",
]


class Executor(
    Dispatch,
    GroupCommit,
    Pulling,
    Pushing,
    Merging,
    Creating,
    Moves,
    Deletions,
    PageRecords,
    ConflictRecords,
    FileAccess,
    PathAllocation,
    ExecutorBase,
):
    """Applies a Plan: `Executor(...).apply(plan)` (see the module docstring)."""
