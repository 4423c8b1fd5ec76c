"""The control endpoint behind ``syncd status``: HTTP over a Unix socket in the state dir.

It is never served on the webhook port. Filesystem permissions are the authentication:
the directory is 0700 and the socket 0600, both owned by the daemon's user. A leftover
socket from a crashed daemon is replaced; a live one (another instance answering) or a
path that is not a socket at all is refused rather than deleted.

Status JSON keys (the ``syncd status --json`` contract): ``running``, ``mode``,
``space``, ``path``, ``pages``, ``pending``, ``conflicts``, ``last_event_at``,
``last_poll_at``, ``webhook`` (``registered``, ``id``, ``url``), ``errors``; optional
extras such as ``mode_reason``, ``pid``, ``started_at`` are shown when present.
``conflicts`` lists the page files held and each keep-both conflict copy still on disk;
the extra ``conflict_help`` has one line per entry saying what ends it, and
``conflict_details`` one object per entry: ``path`` (as in ``conflicts``), ``page_id``,
``title`` (null without a page record), ``page`` (the title, or the file's path), ``file``
(the page's file) and ``help`` (as in ``conflict_help``).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
import socket
import stat
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from syncd.sync import open_conflicts
from syncd.sync.open_conflicts import printable

if TYPE_CHECKING:  # the server imports aiohttp when it starts: `syncd status` never needs it
    from aiohttp import web

log = logging.getLogger(__name__)

SOCKET_NAME = "control.sock"
# sun_path is 108 bytes on Linux, 104 on macOS (including the terminating NUL).
MAX_SOCKET_PATH = 103

STATUS_KEYS = (
    "running",
    "mode",
    "space",
    "path",
    "pages",
    "pending",
    "conflicts",
    "last_event_at",
    "last_poll_at",
    "webhook",
    "errors",
)


class ControlSocketError(RuntimeError):
    """The control socket cannot be created safely (the message says why)."""


class DaemonUnresponsive(TimeoutError):
    """Something holds the control socket but did not answer in time (a hung daemon)."""


StatusProvider = Callable[[], Mapping[str, Any]]


class ControlServer:
    """Serves ``GET /status`` (JSON from ``status_provider``) on ``<state_dir>/control.sock``.

    ``extra_routes`` (aiohttp route definitions) extend the endpoint with commands.
    """

    def __init__(
        self,
        state_dir: Path | str,
        status_provider: StatusProvider,
        *,
        socket_name: str = SOCKET_NAME,
        extra_routes: Iterable[web.AbstractRouteDef] = (),
    ) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / socket_name
        self._status_provider = status_provider
        self._extra_routes = list(extra_routes)
        self._runner: web.AppRunner | None = None
        self._inode: tuple[int, int] | None = None

    def make_app(self) -> web.Application:
        from aiohttp import web

        app = web.Application(client_max_size=64 * 1024)
        app.router.add_get("/status", self._handle_status)
        # e.g. POST /sync, /pause, /resume, added by the main loop
        app.router.add_routes(self._extra_routes)
        return app

    async def start(self) -> None:
        if len(os.fsencode(self.path)) > MAX_SOCKET_PATH:
            raise ControlSocketError(
                f"control socket path is too long for a Unix socket ({self.path}); "
                "use a shorter state_dir"
            )
        prepare_private_dir(self.state_dir)
        sock = _bind_fresh(self.path)
        st = os.stat(self.path)
        self._inode = (st.st_dev, st.st_ino)
        from aiohttp import web

        self._runner = web.AppRunner(self.make_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.SockSite(self._runner, sock)
        await site.start()
        log.debug("control socket listening on %s", self.path)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        # Remove only our own socket (a newer daemon may have replaced it).
        with contextlib.suppress(FileNotFoundError):
            st = os.lstat(self.path)
            if self._inode == (st.st_dev, st.st_ino):
                os.unlink(self.path)
        self._inode = None

    async def __aenter__(self) -> ControlServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _handle_status(self, request: web.Request) -> web.Response:
        from aiohttp import web

        try:
            status = dict(self._status_provider())
        except Exception as exc:
            log.exception("status provider failed")
            return web.json_response(
                {"running": True, "errors": [f"status failed: {exc}"]}, status=500
            )
        return web.json_response(status, dumps=lambda o: json.dumps(o, default=str))


def prepare_private_dir(path: Path) -> None:
    """Create ``path`` (mode 0700) or tighten it; refuse one owned by another user."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        raise ControlSocketError(f"{path} is not a directory")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise ControlSocketError(f"{path} is owned by another user (uid {st.st_uid})")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, 0o700)


def _bind_fresh(path: Path) -> socket.socket:
    """Bind a listening Unix socket at ``path`` with mode 0600, replacing only a stale one."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    if st is not None:
        if not stat.S_ISSOCK(st.st_mode):
            raise ControlSocketError(
                f"{path} exists and is not a socket; refusing to replace it (move it away)"
            )
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            raise ControlSocketError(f"{path} belongs to another user; refusing to replace it")
        if _is_listening(path):
            raise ControlSocketError(f"another syncd is already serving {path}")
        log.info("removing stale control socket %s", path)
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        # The directory is 0700, so the moment between bind and chmod exposes nothing.
        # (The process umask is not touched: it is global and other threads write files.)
        sock.bind(os.fspath(path))
        os.chmod(path, 0o600)
        sock.listen(16)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _is_listening(path: Path, timeout: float = 0.5) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(timeout)
    try:
        probe.connect(os.fspath(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("syncd", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def fetch_status(socket_path: Path | str, timeout: float = 2.0) -> dict[str, Any] | None:
    """Ask a running daemon for its status (blocking; call via ``asyncio.to_thread`` in a loop).

    ``None`` when nothing is listening: no socket file, not a socket, or a stale one
    (connection refused). Raises :class:`DaemonUnresponsive` when the socket accepts but
    no answer comes within ``timeout`` (a hung daemon: report it, don't call it stopped).
    """
    path = os.fspath(socket_path)
    try:
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            return None
    except OSError:
        return None
    conn = _UnixHTTPConnection(path, timeout)
    try:
        try:
            conn.connect()
        except (ConnectionRefusedError, FileNotFoundError):
            return None
        except TimeoutError as exc:
            raise DaemonUnresponsive(
                f"control socket {path} did not accept within {timeout}s"
            ) from exc
        except OSError:
            return None
        try:
            conn.request("GET", "/status", headers={"Accept": "application/json"})
            response = conn.getresponse()
            body = response.read(4 * 1024 * 1024)
        except TimeoutError as exc:
            raise DaemonUnresponsive(f"syncd did not answer on {path} within {timeout}s") from exc
        except (OSError, http.client.HTTPException):
            return None
        try:
            doc = json.loads(body)
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None
    finally:
        conn.close()


# ---- status contract ----------------------------------------------------------------


def empty_status() -> dict[str, Any]:
    """Every contract key with its "nothing known" value; the daemon fills in the rest."""
    return {
        "running": False,
        "mode": None,
        "space": None,
        "path": None,
        "pages": 0,
        "pending": 0,
        "conflicts": [],
        "last_event_at": None,
        "last_poll_at": None,
        "webhook": {"registered": False, "id": None, "url": None},
        "errors": [],
    }


EXIT_OK, EXIT_DEGRADED, EXIT_BLOCKED, EXIT_NOT_RUNNING, EXIT_UNKNOWN = 0, 1, 2, 3, 4


def status_exit_code(status: Mapping[str, Any] | None, *, unresponsive: bool = False) -> int:
    """LSB-flavoured exit code for ``syncd status`` (docs/reliability §4.4).

    0 running and in sync; 1 running but degraded (polling fallback while webhooks are
    wanted, reconciling, ``degraded`` set); 2 running but blocked or with conflicts (needs a
    human); 3 not running; 4 unknown (the socket answered nothing in time).
    """
    if unresponsive:
        return EXIT_UNKNOWN
    if not status or not status.get("running"):
        return EXIT_NOT_RUNNING
    if status.get("blocked") or status.get("conflicts") or status.get("credentials"):
        return EXIT_BLOCKED
    webhook = status.get("webhook") or {}
    wants_webhooks = webhook.get("enabled", True) is not False
    if (
        status.get("degraded")
        or status.get("reconciling")
        or (status.get("mode") == "polling" and wants_webhooks)
    ):
        return EXIT_DEGRADED
    return EXIT_OK


# ---- human output -------------------------------------------------------------------


def iso_utc(ts: float | None) -> str | None:
    """Epoch seconds as ISO-8601 UTC (the status JSON's time format)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


_SECRET_QUERY_KEYS = {"token", "secret", "access_token", "key", "signature", "sig"}


def redact_url(url: str | None) -> str | None:
    """A callback URL fit for display: token-like query values and userinfo masked."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = urlencode(
        [
            (k, "***" if k.lower() in _SECRET_QUERY_KEYS else v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _when(value: Any, now: float) -> str:
    if value in (None, ""):
        return "never"
    ts: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        ts = float(value)
    elif isinstance(value, str):
        try:
            ts = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return value
    if ts is None:
        return str(value)
    return f"{iso_utc(ts)} ({_age(now - ts)})"


def _age(seconds: float) -> str:
    if seconds < 0:
        return "in the future"
    if seconds < 90:
        return f"{int(seconds)}s ago"
    if seconds < 90 * 60:
        return f"{int(seconds // 60)}m ago"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)}h ago"
    return f"{int(seconds // 86400)}d ago"


def format_status(status: Mapping[str, Any], *, now: float | None = None) -> str:
    """Plain-text status for humans, one fact per line in a fixed order."""
    now = time.time() if now is None else now
    lines: list[str] = []

    def row(label: str, value: str) -> None:
        lines.append(f"{label + ':':<12}{value}")

    running = bool(status.get("running"))
    state = "running" if running else "stopped"
    if not running and status.get("last_known"):
        state += " (last known state)"
    row("syncd", state)
    mode = status.get("mode") or "unknown"
    reason = status.get("mode_reason")
    row("mode", f"{mode} ({reason})" if reason else str(mode))
    row("space", str(status.get("space") or "-"))
    row("folder", str(status.get("path") or "-"))
    row("pages", str(status.get("pages", 0) or 0))
    containers = status.get("containers") or {}
    if containers:  # Cloud folders, whiteboards, databases, embeds: directories
        row(
            "folders",
            ", ".join(f"{n} {kind}{'s' if n != 1 else ''}" for kind, n in containers.items()),
        )
    row("pending", str(status.get("pending", 0) or 0))
    conflicts = status.get("conflicts") or []
    if isinstance(conflicts, int):
        row("conflicts", str(conflicts))
    else:
        conflicts = list(conflicts)
        row("conflicts", str(len(conflicts)) if conflicts else "none")
        # One line per conflict: its page and what ends it (older daemons: without the
        # page, or only the paths).
        details = status.get("conflict_details")
        if isinstance(details, list) and len(details) == len(conflicts):
            todo = [conflict_line(detail) for detail in details]
        else:
            todo = list(status.get("conflict_help") or [])
            if len(todo) != len(conflicts):
                todo = conflicts
        lines.extend(f"{'':<12}{printable(str(line))}" for line in todo)
    row("last event", _when(status.get("last_event_at"), now))
    row("last poll", _when(status.get("last_poll_at"), now))
    webhook = status.get("webhook") or {}
    if webhook.get("registered"):
        text = "registered"
        if webhook.get("id") is not None:
            text += f" (id {webhook['id']})"
        if webhook.get("url"):
            text += f" {redact_url(str(webhook['url']))}"
        if webhook.get("healthy") is False:
            text += " - unhealthy"
    else:
        text = "not registered"
        if webhook.get("reason"):
            text += f" ({webhook['reason']})"
    row("webhook", text)
    refused = status.get("credentials") or {}
    if refused.get("refused"):
        row(
            "token",
            f"refused by Confluence since {refused.get('since') or '?'} (likely expired); "
            f"waiting for a new token in {refused.get('source') or 'the config'}",
        )
    errors = status.get("errors") or []
    if isinstance(errors, str):
        errors = [errors]
    row("errors", str(len(errors)) if errors else "none")
    lines.extend(f"{'':<12}{printable(_error_text(err))}" for err in list(errors)[-10:])
    return "\n".join(lines) + "\n"


def conflict_line(detail: Any) -> str:
    """`page 101 'Setup': Guides/Setup.md: what to do`; a conflict without a page record
    is named by its file's path, which starts its help line."""
    if not isinstance(detail, Mapping):
        return str(detail)
    todo = str(detail.get("help") or detail.get("path") or "")
    title, page_id = detail.get("title"), detail.get("page_id")
    return open_conflicts.conflict_line(
        None if page_id is None else str(page_id), str(title) if title else None, todo
    )


def _error_text(err: Any) -> str:
    if isinstance(err, Mapping):
        at = err.get("at")
        msg = err.get("message") or err.get("msg") or json.dumps(err, default=str)
        return f"{at} {msg}" if at else str(msg)
    return str(err)
