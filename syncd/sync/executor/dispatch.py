"""Run a plan's actions: in plan order, content actions of different pages concurrently,
bodies of pulls fetched ahead."""

from __future__ import annotations

import asyncio

from syncd.confluence import ConfluenceError, ScopeMissing, stops_every_request
from syncd.confluence.models import Page
from syncd.convert import ConversionRefused
from syncd.local.atomic import ChangedOnDiskError
from syncd.sync.executor.base import log
from syncd.sync.executor.durability import GroupCommit
from syncd.sync.executor.results import ExecutionResult, Held
from syncd.sync.model import Action, Merge, Plan, Pull, Push


class Dispatch(GroupCommit):
    """Runs actions in order (content runs concurrently) and fetches page bodies ahead."""

    async def apply(self, plan: Plan) -> ExecutionResult:
        actions = list(plan.actions)
        fetches: dict[int, asyncio.Task[Page | ConfluenceError]] = {}
        total = len(actions)
        self._done = 0
        # A page another action changes first (a rename, a restore) is fetched when its
        # turn comes, never ahead: the prefetched copy would be stale.
        touched = {getattr(a, "page_id", None) for a in actions if not isinstance(a, Pull)} - {None}
        # Likewise a page read while planning: only a Pull or Merge may use it, and only
        # when no other action of the plan changes that page first.
        for a in actions:
            if not isinstance(a, Pull | Merge):
                self._fetched.pop(getattr(a, "page_id", None), None)  # type: ignore[arg-type]
        runs = _content_runs(actions)
        try:
            i = 0
            while i < total:
                if i in runs:
                    self._close_group()
                    end = runs[i]
                    await self._apply_concurrently(actions[i:end], total)
                    i = end
                    continue
                for j in range(i, min(total, i + self.s.prefetch)):
                    ahead = actions[j]
                    if (
                        j not in fetches
                        and isinstance(ahead, Pull)
                        and (j == i or (ahead.page_id not in touched and not _is_content(ahead)))
                    ):
                        fetches[j] = asyncio.ensure_future(self._fetch(actions[j]))
                if isinstance(actions[i], Pull):
                    self._open_group()
                else:
                    self._close_group()
                await self._run_action(actions[i], fetches.pop(i, None))
                if self._dirs is not None:
                    self._grouped()
                self._tick(actions[i], total)
                i += 1
        finally:
            for task in fetches.values():
                task.cancel()
            self._close_group()
            self._flush_scan_rows()
        return self.result

    async def _run_action(
        self, action: Action, prefetched: asyncio.Task[Page | ConfluenceError] | None = None
    ) -> None:
        """Apply one action; its failure is reported and the run goes on (unless fatal)."""
        try:
            if prefetched is not None:
                await self._do_pull(action, await prefetched)  # type: ignore[arg-type]
            else:
                await getattr(self, f"_do_{type(action).__name__}")(action)
        except Held as held:
            self.result.errors.append(str(held))
            if getattr(action, "page_id", None):
                self.held_ids.add(action.page_id)  # type: ignore[attr-defined]
            self.result.held.append(getattr(action, "path", None) or "")
        except ChangedOnDiskError as exc:
            self.result.errors.append(
                f"{getattr(action, 'path', '')}: changed while syncing ({exc.strerror}); "
                "it is synced on the next run"
            )
        except (ConfluenceError, ConversionRefused, OSError) as exc:
            if stops_every_request(exc):
                raise
            self.result.errors.append(f"{action.describe()}: failed: {exc}")
            if not isinstance(exc, ScopeMissing):  # said once, for the run (collapse_scope_errors)
                log.warning("%s failed: %s", action.describe(), exc)

    def _tick(self, action: Action, total: int) -> None:
        self._done += 1
        if self.progress is not None:
            self.progress(self._done, total, action.describe())

    async def _apply_concurrently(self, run: list[Action], total: int) -> None:
        """Apply a run of content actions (Push, Merge, Pull of a tracked page), several
        pages at a time.

        They come after every create and move of the plan and before its deletions, and
        each touches only its own page's file, record and remote page, so pages do not
        wait for one another; actions on the same page still run one after the other, in
        plan order. Each commits its own record after its effect, as in order. The
        executor runs on one event loop: state, index and file writes between two awaits
        are not interleaved, and no transaction spans an await. A fatal error (credentials,
        Confluence unreachable) or a bug stops new actions from starting; those under way
        finish (and record) before it is raised.
        """
        chains: dict[str, list[Action]] = {}
        for action in run:
            chains.setdefault(action.page_id, []).append(action)  # type: ignore[attr-defined]
        gate = asyncio.Semaphore(max(1, self.s.concurrency))
        stop: list[BaseException] = []

        async def chain(actions: list[Action]) -> None:
            for action in actions:
                async with gate:
                    if stop:
                        return
                    try:
                        await self._run_action(action)
                    except Exception as exc:  # fatal: let the others finish, then raise
                        stop.append(exc)
                        return
                self._tick(action, total)

        tasks = [asyncio.ensure_future(chain(c)) for c in chains.values()]
        try:
            await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        if stop:
            raise stop[0]

    def _already_fetched(self, page_id: str, version: int) -> Page | None:
        """The page as read while planning, if it is at `version` (it is dropped either way)."""
        page = self._fetched.pop(page_id, None)
        if page is None or page.version != version or page.status != "current":
            return None
        return page

    async def _get_page(self, page_id: str, kind: str, version: int | None = None) -> Page:
        """The current page, from what planning read when `version` is the one it read."""
        page = self._already_fetched(page_id, version) if version is not None else None
        if page is not None and page.kind == kind:
            return page
        return await self.client.get_page(page_id, kind=kind, ancestors=False)  # type: ignore[arg-type]

    async def _fetch(self, action: Pull) -> Page | ConfluenceError:
        """The page body (and, ahead of need, its attachment list) for a Pull."""
        try:
            page_task = self._get_page(action.page_id, action.kind, action.remote_version)
            if self.attachments is None:
                page = await page_task
            else:
                page, listed = await asyncio.gather(
                    page_task, self.client.list_attachments(action.page_id, kind=action.kind)
                )
                self._listed[action.page_id] = listed
        except ConfluenceError as exc:
            return exc
        if self.conversions is not None:
            await self._convert_ahead(page, action)
        return page

    async def _convert_ahead(self, page: Page, action: Pull) -> None:
        """Start converting a fetched body in a worker, for the path the page will most
        likely get (the executor checks the result against the live index at its turn)."""
        assert self.conversions is not None
        try:
            # Names of mentioned users first, so the worker writes them as the pull would.
            await self._learn_users(page.body)
        except ConfluenceError:
            return  # the pull asks again at its turn, and reports what fails then
        path = self.index.path_of(page.id) or self.cur(action.path)
        if path:
            self.conversions.submit(page.id, page.version, page.body, path)


def _is_content(action: Action) -> bool:
    """A push, merge or pull of a tracked page: the plan's content phase."""
    return isinstance(action, Push | Merge) or (
        isinstance(action, Pull) and action.reason == "changed"
    )


def _content_runs(actions: list[Action]) -> dict[int, int]:
    """Start -> end (exclusive) of each run of two or more consecutive content actions."""
    runs: dict[int, int] = {}
    i = 0
    while i < len(actions):
        j = i
        while j < len(actions) and _is_content(actions[j]):
            j += 1
        if j - i > 1:
            runs[i] = j
        i = max(j, i + 1)
    return runs
