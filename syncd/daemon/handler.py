"""The ``sync.handler`` hook: run the user's script after each applied change.

The script gets one JSON object on stdin::

    {"eventType": "page_updated", "direction": "pull",
     "page": {"id": "123", "title": "Setup", "spaceKey": "DOCS", "version": 7,
              "path": "Guides/Setup.md"}}

Runs are serialized through one worker with a bounded queue, so a slow script can never
pile up processes: when the queue is full the change is dropped from the hook (logged,
counted) and syncing carries on. Each run has a time-out; on expiry the script's whole
process group is killed. Failures and time-outs are logged, never raised: the hook is a
side channel and cannot stop a sync.

The script is executed directly (no shell). Its environment is the daemon's minus
syncd's own secrets and the systemd notify variables (see :func:`handler_env`), plus
``SYNCD_EVENT`` and ``SYNCD_PAGE_ID`` for convenience.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shlex
import signal
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_STRIPPED_ENV = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID")
_SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "KEY")
_OWN_PREFIXES = ("SYNCD_", "CONFLUENCE_", "ATLASSIAN_")
OUTPUT_TAIL = 4096


@dataclass(frozen=True, slots=True)
class AppliedChange:
    """What the sync engine applied; ``direction`` is ``pull`` (remote to local) or ``push``."""

    event_type: str
    direction: str
    page_id: str
    title: str | None = None
    space_key: str | None = None
    version: int | None = None
    path: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "eventType": self.event_type,
            "direction": self.direction,
            "page": {
                "id": self.page_id,
                "title": self.title,
                "spaceKey": self.space_key,
                "version": self.version,
                "path": self.path,
            },
        }


@dataclass(frozen=True, slots=True)
class HandlerResult:
    returncode: int | None
    timed_out: bool
    duration: float
    stderr_tail: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and self.error is None


def parse_command(command: str | os.PathLike[str] | Sequence[str]) -> list[str]:
    """A path to an executable, or a command line split like a shell would (no shell runs)."""
    if isinstance(command, os.PathLike):
        return [os.fspath(command)]
    if isinstance(command, str):
        if not command.strip():
            return []
        if Path(command).expanduser().is_file():
            return [str(Path(command).expanduser())]
        return shlex.split(command)
    return [str(part) for part in command]


def handler_env(
    base: Mapping[str, str] | None = None, secrets: Iterable[str | None] = ()
) -> dict[str, str]:
    """The hook's environment: the daemon's, minus syncd's own secrets.

    Removed: any variable whose value holds one of ``secrets`` (the Confluence token, the
    webhook secret), secret-looking ``SYNCD_*``/``CONFLUENCE_*`` variables, and the systemd
    notify/socket variables. The user's other variables (a chat bot token the script
    needs, say) are kept.
    """
    env = dict(os.environ if base is None else base)
    values = [s for s in secrets if s and len(s) >= 3]
    for name, value in list(env.items()):
        upper = name.upper()
        ours = upper.startswith(_OWN_PREFIXES) and any(w in upper for w in _SECRET_WORDS)
        if name in _STRIPPED_ENV or ours or any(secret in value for secret in values):
            del env[name]
    return env


class HandlerRunner:
    """Runs the hook for each :meth:`submit` ted change, one at a time, bounded."""

    def __init__(
        self,
        command: str | os.PathLike[str] | Sequence[str],
        *,
        timeout: float = 30.0,
        max_pending: int = 100,
        kill_grace: float = 2.0,
        env: Mapping[str, str] | None = None,
        secrets: Iterable[str | None] = (),
        cwd: str | os.PathLike[str] | None = None,
    ) -> None:
        self.argv = parse_command(command)
        if not self.argv:
            raise ValueError("sync.handler is empty")
        self.timeout = timeout
        self.kill_grace = kill_grace
        self.env = handler_env(env, secrets)
        self.cwd = cwd
        self._queue: asyncio.Queue[AppliedChange] = asyncio.Queue(maxsize=max_pending)
        self._worker: asyncio.Task[None] | None = None
        self.runs = 0
        self.failures = 0
        self.timeouts = 0
        self.dropped = 0
        self.last_result: HandlerResult | None = None

    # ---- lifecycle ----------------------------------------------------------------

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work(), name="sync-handler")

    async def close(self, drain_timeout: float = 0.0) -> None:
        """Stop the worker, first letting queued runs finish for up to ``drain_timeout`` s."""
        if self._worker is None:
            return
        if drain_timeout > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), drain_timeout)
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker
        self._worker = None
        left = self._queue.qsize()
        if left:
            log.warning("sync.handler: %d queued run(s) skipped at shutdown", left)

    async def join(self) -> None:
        """Wait until every submitted change has been run (wrap in a timeout)."""
        await self._queue.join()

    def submit(self, change: AppliedChange) -> bool:
        """Queue a run without waiting; False (and logged) when the queue is full."""
        if self._worker is None:
            self.start()
        try:
            self._queue.put_nowait(change)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning(
                "sync.handler is falling behind: skipped it for %s of page %s (%d skipped so far)",
                change.event_type,
                change.page_id,
                self.dropped,
            )
            return False
        return True

    async def _work(self) -> None:
        while True:
            change = await self._queue.get()
            try:
                await self.run_once(change)
            except asyncio.CancelledError:
                raise
            except Exception:  # run_once never raises; this is belt and braces
                log.exception("sync.handler run failed")
            finally:
                self._queue.task_done()

    # ---- one run ------------------------------------------------------------------

    async def run_once(self, change: AppliedChange) -> HandlerResult:
        """Run the script for one change, bounded by ``timeout``; logs, never raises."""
        payload = json.dumps(change.to_json(), ensure_ascii=False).encode("utf-8") + b"\n"
        env = dict(self.env)
        env["SYNCD_EVENT"] = change.event_type
        env["SYNCD_PAGE_ID"] = change.page_id
        started = time.monotonic()
        self.runs += 1
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=env,
                cwd=self.cwd,
                start_new_session=True,  # its own process group, so a kill reaches children
            )
        except OSError as exc:
            result = HandlerResult(None, False, time.monotonic() - started, error=str(exc))
            return self._finish(change, result)

        stderr_tail = bytearray()
        readers = [
            asyncio.ensure_future(_drain(proc.stdout, None)),
            asyncio.ensure_future(_drain(proc.stderr, stderr_tail)),
        ]
        timed_out = False
        try:
            async with asyncio.timeout(self.timeout):
                await _feed(proc, payload)
                await proc.wait()
        except TimeoutError:
            timed_out = True
            await self._kill(proc)
        except asyncio.CancelledError:
            await self._kill(proc)
            raise
        finally:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.kill_grace):
                    await asyncio.gather(*readers, return_exceptions=True)
            for reader in readers:
                reader.cancel()
        result = HandlerResult(
            returncode=proc.returncode,
            timed_out=timed_out,
            duration=time.monotonic() - started,
            stderr_tail=stderr_tail.decode("utf-8", "replace").strip(),
        )
        return self._finish(change, result)

    async def _kill(self, proc: asyncio.subprocess.Process) -> None:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.kill_grace):
                await proc.wait()

    def _finish(self, change: AppliedChange, result: HandlerResult) -> HandlerResult:
        self.last_result = result
        what = f"{change.event_type} of page {change.page_id}"
        if result.error is not None:
            self.failures += 1
            log.warning("sync.handler could not start for %s: %s", what, result.error)
        elif result.timed_out:
            self.timeouts += 1
            log.warning("sync.handler timed out after %.0fs for %s (killed)", self.timeout, what)
        elif result.returncode != 0:
            self.failures += 1
            tail = f": {result.stderr_tail[-500:]}" if result.stderr_tail else ""
            log.warning("sync.handler exited %s for %s%s", result.returncode, what, tail)
        else:
            log.debug("sync.handler ran for %s in %.2fs", what, result.duration)
        return result


async def _feed(proc: asyncio.subprocess.Process, payload: bytes) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(payload)
        await proc.stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the script does not read stdin; that is its business
    finally:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            proc.stdin.close()


async def _drain(stream: asyncio.StreamReader | None, tail: bytearray | None) -> None:
    """Read a pipe to its end, keeping only the last OUTPUT_TAIL bytes."""
    if stream is None:
        return
    while chunk := await stream.read(65536):
        if tail is not None:
            tail.extend(chunk)
            if len(tail) > OUTPUT_TAIL:
                del tail[: len(tail) - OUTPUT_TAIL]
