"""``syncd doctor``: check everything syncd depends on and say how to fix what is wrong.

Each check prints one line, ``ok``, ``warning`` or ``error``, and for the last two a ``fix:``
line. Exit status: 0 all ok, 1 warnings only, 2 at least one error. Checks that need the
server are skipped when the server cannot be reached or refuses the credentials (the error
for that is the thing to fix first).

Nothing here changes anything: webhooks are listed, never registered, and the delivery test
uses Data Center's own test endpoint, which sends one ping to the URL.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import ipaddress
import os
import stat
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx

from syncd import paths
from syncd.config import Config, ConfigError, load_config
from syncd.confluence import (
    AuthFailed,
    ConfluenceClient,
    ConfluenceError,
    ConnectionSettings,
    DeploymentUnknown,
    NotFound,
    PermissionDenied,
    ScopeMissing,
    Unreachable,
    WebhookPermissionDenied,
    WebhooksNotSupported,
    WebhooksUnavailable,
)
from syncd.sync.state import count_tracked_pages

Level = Literal["ok", "warning", "error"]
EXIT_CODES: dict[Level, int] = {"ok": 0, "warning": 1, "error": 2}

CLOCK_WARN_SECONDS = 60.0
CLOCK_ERROR_SECONDS = 300.0
INOTIFY_LIMIT_FILE = Path("/proc/sys/fs/inotify/max_user_watches")
API_TOKEN_PAGE = "https://id.atlassian.com/manage-profile/security/api-tokens"


@dataclass(frozen=True)
class Check:
    level: Level
    topic: str
    message: str
    fix: str | None = None

    def lines(self) -> list[str]:
        out = [f"{self.level:<8} {self.topic}: {self.message}"]
        if self.fix and self.level != "ok":
            out.append(f"{'':<8} fix: {self.fix}")
        return out


def exit_code(checks: list[Check]) -> int:
    return max((EXIT_CODES[c.level] for c in checks), default=0)


# --------------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="config file (default: the platform config path)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=20.0,
        help="seconds allowed for each request to Confluence (default 20)",
    )


def run(args: argparse.Namespace) -> int:
    config_path = Path(args.config).expanduser() if args.config else paths.default_config_path()
    checks = asyncio.run(diagnose(config_path, request_timeout=args.timeout, emit=_print_check))
    counts = {level: sum(c.level == level for c in checks) for level in EXIT_CODES}
    print(f"\n{counts['ok']} ok, {counts['warning']} warning(s), {counts['error']} error(s)")
    return exit_code(checks)


def _print_check(check: Check) -> None:
    for line in check.lines():
        print(line, flush=True)


# --------------------------------------------------------------------------- the checks


async def diagnose(
    config_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    request_timeout: float = 20.0,
    now: Callable[[], float] = time.time,
    emit: Callable[[Check], None] | None = None,
) -> list[Check]:
    """Run every check in order; ``emit`` sees each result as soon as it is known."""
    checks: list[Check] = []

    def add(check: Check) -> None:
        checks.append(check)
        if emit:
            emit(check)

    config, first = load_and_check_locally(config_path, env)
    for check in first:
        add(check)
    if config is None:
        return checks
    for check in await server_checks(config, request_timeout=request_timeout, now=now):
        add(check)
    return checks


def load_and_check_locally(
    config_path: Path, env: Mapping[str, str] | None = None
) -> tuple[Config | None, list[Check]]:
    try:
        config = load_config(config_path, env=env)
    except ConfigError as err:
        fix = "create one with `syncd init`" if not Path(config_path).exists() else None
        return None, [Check("error", "config", str(err), fix or "correct the key named above")]
    return config, local_checks(config, config_path)


def local_checks(config: Config, config_path: Path) -> list[Check]:
    """What can be checked without the network: config, folder, state, watch limit."""
    out = [
        Check(
            "ok",
            "config",
            f"{config_path} (space {config.confluence.space}, folder {config.local.path})",
        )
    ]
    for warning in config.warnings:
        out.append(Check("warning", "config", warning, f"chmod 600 {config_path}"))
    try:
        mode = stat.S_IMODE(config_path.stat().st_mode)
    except OSError:
        mode = 0
    if mode & 0o022:
        out.append(
            Check(
                "warning",
                "config",
                f"{config_path} is writable by other users (mode {mode:o}): they could "
                "point syncd at another folder",
                f"chmod 600 {config_path}",
            )
        )
    out.append(
        check_folder(
            config.local.path, config.state_dir, tracked=count_tracked_pages(config.state_dir)
        )
    )
    out.append(check_state_dir(config.state_dir, config.local.path))
    out.append(check_watch_limit(config.local.path))
    return out


def _inside(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
    except ValueError:
        return False
    return True


def check_folder(folder: Path, state_dir: Path, *, tracked: int = 0) -> Check:
    """``tracked``: pages the state database records; a missing folder then is an unmounted
    disk or a moved folder (``syncd sync`` refuses to run), not one a first sync creates."""
    topic = "folder"
    if _inside(folder, state_dir):
        return Check(
            "error",
            topic,
            f"{folder} is inside the state directory {state_dir}",
            "choose a folder outside the state directory (local.path) or move state_dir",
        )
    if not folder.exists() and tracked:
        return Check(
            "error",
            topic,
            f"{folder} is missing although {tracked} pages are tracked (unmounted or moved?); "
            "syncd will not sync until it is back",
            f"mount the disk or move the folder back to {folder}, or set local.path to where "
            "it is now",
        )
    if not folder.exists():
        parent = folder.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if os.access(parent, os.W_OK | os.X_OK):
            return Check("ok", topic, f"{folder} does not exist yet; the first sync creates it")
        return Check(
            "error",
            topic,
            f"{folder} does not exist and {parent} is not writable",
            f"mkdir -p {folder} (as a user who may), or choose another local.path",
        )
    if not folder.is_dir():
        return Check("error", topic, f"{folder} is not a folder", "set local.path to a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        return Check("error", topic, f"{folder} is not writable", f"chmod u+rwx {folder}")
    if tracked and not _has_page_file(folder):
        return Check(
            "warning",
            topic,
            f"{folder} holds no page file although {tracked} pages are tracked (an unmounted "
            "disk's empty mount point?); syncd deletes nothing for an empty folder",
            "mount the disk, or point local.path at the folder that holds the files",
        )
    return Check("ok", topic, f"{folder} exists and is writable")


def _has_page_file(folder: Path) -> bool:
    """Whether any non-hidden ``.md`` file is under ``folder`` (stops at the first)."""
    for path in folder.rglob("*.md"):
        if not any(part.startswith(".") for part in path.relative_to(folder).parts):
            return True
    return False


def check_state_dir(state_dir: Path, folder: Path) -> Check:
    topic = "state"
    if _inside(state_dir, folder) and not any(
        part.startswith(".") for part in state_dir.resolve().relative_to(folder.resolve()).parts
    ):
        return Check(
            "error",
            topic,
            f"the state directory {state_dir} is inside the synced folder",
            "set state_dir outside local.path (or under a hidden folder such as .syncd/)",
        )
    if not state_dir.exists():
        return Check("ok", topic, f"{state_dir} does not exist yet; syncd creates it (mode 0700)")
    mode = stat.S_IMODE(state_dir.stat().st_mode)
    if not os.access(state_dir, os.W_OK | os.X_OK):
        return Check("error", topic, f"{state_dir} is not writable", f"chmod 700 {state_dir}")
    if mode & 0o077:
        return Check(
            "warning",
            topic,
            f"{state_dir} is readable by other users (mode {mode:o}); it holds copies of "
            "your pages and the webhook secret",
            f"chmod 700 {state_dir}",
        )
    return Check("ok", topic, f"{state_dir} (owner only)")


def count_folders(root: Path, stop_at: int | None = None) -> int:
    """Folders under ``root`` the watcher watches (hidden ones are skipped, as syncd does)."""
    count = 0
    stack = [root]
    while stack:
        current = stack.pop()
        count += 1
        if stop_at is not None and count >= stop_at:
            break
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))
        except OSError:
            continue
    return count


def check_watch_limit(folder: Path, limit_file: Path = INOTIFY_LIMIT_FILE) -> Check:
    topic = "file watching"
    if not sys.platform.startswith("linux"):
        return Check("ok", topic, "no per-folder watch limit on this platform")
    try:
        limit = int(limit_file.read_text().strip())
    except (OSError, ValueError):
        return Check(
            "warning",
            topic,
            f"cannot read {limit_file}; the inotify watch limit is unknown",
            "if local edits go unnoticed, see `syncd status` (the watcher reports it)",
        )
    folders = count_folders(folder, stop_at=limit + 1) if folder.is_dir() else 1
    fix = (
        "echo fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/90-syncd.conf "
        "&& sudo sysctl --system"
    )
    if folders > limit:
        return Check(
            "error",
            topic,
            f"{folders} folders to watch but the inotify limit is {limit}",
            fix,
        )
    if folders > limit // 2:
        return Check(
            "warning",
            topic,
            f"{folders} folders to watch and the inotify limit is {limit} "
            "(shared with every other program of this user)",
            fix,
        )
    return Check("ok", topic, f"{folders} folder(s) to watch, inotify limit {limit}")


# --------------------------------------------------------------------------- server checks


def connection_settings(config: Config, request_timeout: float = 20.0) -> ConnectionSettings:
    """Settings for a quick, interactive check: few retries, short back-off."""
    c = config.confluence
    return ConnectionSettings(
        base_url=c.base_url,
        api_url=c.api_url,
        token=c.token,
        email=c.email,
        deployment=c.deployment,
        max_attempts=2,
        backoff_base=1.0,
        backoff_cap=2.0,
        connect_timeout=min(request_timeout, 10.0),
        read_timeout=request_timeout,
        write_timeout=request_timeout,
        max_retry_after=5.0,
    )


def credentials_fix(config: Config, deployment: str | None) -> str:
    token_ref = "confluence.token"
    if deployment == "cloud" or (deployment is None and config.confluence.email):
        return (
            f"check confluence.email and the API token ({token_ref}); Cloud tokens expire, "
            f"create a new one at {API_TOKEN_PAGE}"
        )
    return (
        f"check the personal access token ({token_ref}); create one under your Confluence "
        "profile > Personal Access Tokens"
    )


def describe_connect_error(config: Config, exc: ConfluenceError) -> Check:
    """The one line for a failure to connect (shared with ``syncd init``)."""
    url = config.confluence.base_url
    if isinstance(exc, AuthFailed):
        return Check(
            "error",
            "credentials",
            f"Confluence at {url} refused the credentials",
            credentials_fix(
                config,
                None if config.confluence.deployment == "auto" else config.confluence.deployment,
            ),
        )
    if isinstance(exc, Unreachable):
        return Check(
            "error",
            "connection",
            f"cannot reach {url}: {exc}",
            "check confluence.base_url, the network and any proxy (HTTPS_PROXY)",
        )
    if isinstance(exc, DeploymentUnknown):
        return Check(
            "error",
            "connection",
            f"no Confluence REST API at {url}",
            "check confluence.base_url (Cloud: https://ORG.atlassian.net/wiki; Data Center: "
            "the address you open in a browser, with its context path if any)",
        )
    if isinstance(exc, PermissionDenied):
        return Check(
            "error",
            "credentials",
            f"Confluence at {url} accepted the login but refused access: {exc}",
            "make sure the account may use the REST API (and is not restricted by an "
            "administrator or IP allowlist)",
        )
    return Check(
        "error",
        "connection",
        f"{url}: {exc}",
        "run `syncd doctor` again; if it persists, check the server's health",
    )


def describe_space_error(config: Config, exc: ConfluenceError) -> Check:
    key = config.confluence.space
    if isinstance(exc, ScopeMissing):
        return Check(
            "error",
            "space",
            f"space {key}: {exc}",
            "the README's Service account section lists the scopes syncd needs",
        )
    suggestion = getattr(exc, "suggestion", None)
    if isinstance(exc, NotFound) and suggestion:
        return Check(
            "error",
            "space",
            f"space {key} not found, but {suggestion} exists (space keys are case-sensitive)",
            f"set confluence.space: {suggestion} (syncd init: --space {suggestion})",
        )
    if isinstance(exc, NotFound):
        return Check(
            "error",
            "space",
            f"space {key} not found, or this user cannot see it",
            "check confluence.space (the key is in the space's URL: /spaces/KEY/...) and "
            "that the account has View permission on it",
        )
    if isinstance(exc, PermissionDenied):
        return Check(
            "error",
            "space",
            f"not allowed to read space {key}",
            "ask a space administrator for View and Add Page permissions",
        )
    return Check("error", "space", f"space {key}: {exc}")


async def server_checks(
    config: Config, *, request_timeout: float = 20.0, now: Callable[[], float] = time.time
) -> list[Check]:
    out: list[Check] = []
    try:
        client = await ConfluenceClient.open(connection_settings(config, request_timeout))
    except ConfluenceError as exc:
        out.append(describe_connect_error(config, exc))
        return out
    try:
        deployment = client.deployment
        flavor = "Cloud" if deployment == "cloud" else "Data Center"
        where = (
            f"{client.site_url} through the API gateway {client.base_url} (scoped token)"
            if client.via_gateway
            else client.base_url
        )
        try:
            user = await client.signed_in_user()
        except ScopeMissing:
            user = {}  # the token is accepted; the scope checks below name what it lacks
        except ConfluenceError as exc:
            if isinstance(exc, NotFound):  # the host answers, but no REST API at this path
                exc = DeploymentUnknown(str(exc), url=client.base_url)
            out.append(describe_connect_error(config, exc))
            return out
        who = user.get("displayName") or user.get("email") or user.get("username")
        out.append(
            Check(
                "ok",
                "credentials",
                f"signed in to Confluence {flavor} at {where}"
                + (f" as {who}" if isinstance(who, str) and who else ""),
            )
        )
        async with _raw_client(config, client, request_timeout) as raw:
            out.extend(await _space_checks(config, client, raw))
            if client.via_gateway:
                out.extend(await _scope_checks(config, client, raw))
            out.extend(await _webhook_checks(config, client, raw))
            out.append(await check_clock(raw, client.base_url, now=now))
    except AuthFailed as exc:
        out.append(describe_connect_error(config, exc))
    finally:
        await client.aclose()
    return out


async def _scope_checks(
    config: Config, client: ConfluenceClient, raw: httpx.AsyncClient
) -> list[Check]:
    """A scoped token (API gateway): each scope syncd needs, checked by the gateway's answer."""
    from syncd.scope_check import check_scopes

    try:
        space = await client.get_space(config.confluence.space)
    except ConfluenceError:
        return []  # the space check said why
    results = await check_scopes(
        raw,
        client.base_url,
        str(space.id),
        attachments=config.sync.attachments,
        root_page=bool(config.confluence.root_page),
    )
    out = []
    for r in results:
        need = r.requirement
        if r.granted:
            out.append(Check("ok", "scope", f"{need} ({need.operation})"))
        elif r.granted is False:
            out.append(
                Check(
                    "error",
                    "scope",
                    f"missing scope {need}: syncd cannot {need.operation}",
                    "add the scope to the token (or create a token with every scope listed "
                    "in the README, Service account)",
                )
            )
        else:
            out.append(Check("warning", "scope", f"{need}: not checked ({r.detail})"))
    return out


def _raw_client(config: Config, client: ConfluenceClient, timeout: float) -> httpx.AsyncClient:
    """A plain HTTP client with the same credentials, for the few calls the Confluence
    client has no method for (operations, the DC webhook test, the Date header)."""
    c = config.confluence
    headers = {"Accept": "application/json", "User-Agent": "syncd-doctor"}
    auth: httpx.Auth | None = None
    if client.deployment == "cloud":
        auth = httpx.BasicAuth(c.email or "", c.token)
    else:
        headers["Authorization"] = f"Bearer {c.token}"
    return httpx.AsyncClient(auth=auth, headers=headers, timeout=timeout, follow_redirects=False)


async def _space_checks(
    config: Config, client: ConfluenceClient, raw: httpx.AsyncClient
) -> list[Check]:
    key = config.confluence.space
    try:
        space = await client.get_space(key)
    except ConfluenceError as exc:
        if isinstance(exc, AuthFailed):
            raise
        return [describe_space_error(config, exc)]
    out = [Check("ok", "space", f'{space.key} "{space.name}"')]
    page_id = config.confluence.root_page or space.homepage_id
    if not page_id:
        out.append(
            Check(
                "warning",
                "permissions",
                f"space {key} has no home page",
                "set confluence.root_page to the page id syncd should treat as the top",
            )
        )
        return out
    try:
        page = await client.get_page(page_id, ancestors=False)
    except NotFound:
        what = "confluence.root_page" if config.confluence.root_page else "the home page"
        out.append(
            Check(
                "error",
                "permissions",
                f"{what} ({page_id}) not found or not visible",
                "check confluence.root_page (the number in the page's URL)"
                if config.confluence.root_page
                else "ask a space administrator for View permission",
            )
        )
        return out
    except PermissionDenied:
        out.append(
            Check(
                "error",
                "permissions",
                f"not allowed to read page {page_id}",
                "ask a space administrator for View permission",
            )
        )
        return out
    can_update = await _can_update(raw, client, page_id)
    title = f'"{page.title}"'
    if can_update is False:
        out.append(
            Check(
                "error",
                "permissions",
                f"can read {title} but not edit it: local edits could not be pushed",
                "ask a space administrator for Add Page (edit) permission on the space",
            )
        )
    elif can_update:
        out.append(Check("ok", "permissions", f"can read and edit {title}"))
    else:
        out.append(
            Check("ok", "permissions", f"can read {title} (edit rights show on the first push)")
        )
    return out


async def _can_update(
    raw: httpx.AsyncClient, client: ConfluenceClient, page_id: str
) -> bool | None:
    """Whether the user may update the page, from the content's ``operations``; None if the
    server does not say."""
    url = f"{client.base_url}/rest/api/content/{page_id}"
    try:
        reply = await raw.get(url, params={"expand": "operations"})
        data = reply.json() if reply.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None
    ops = data.get("operations") if isinstance(data, dict) else None
    if not isinstance(ops, list):
        return None
    return any(
        isinstance(op, dict) and op.get("operation") == "update" and op.get("targetType") == "page"
        for op in ops
    )


def _is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_public_url(config: Config) -> Check:
    url = config.webhook.public_url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Check(
            "error",
            "public URL",
            f"{url!r} is not an http(s) URL",
            "set webhook.public_url to the URL Confluence should call",
        )
    remote = not _is_loopback(urlsplit(config.confluence.base_url).hostname)
    if remote and _is_loopback(parts.hostname):
        return Check(
            "warning",
            "public URL",
            f"{url} is on this machine's loopback, which Confluence at "
            f"{urlsplit(config.confluence.base_url).hostname} cannot reach: syncd will poll",
            "expose the receiver through a reverse proxy or tunnel and set webhook.public_url "
            "to its address (see README, Webhooks), or set webhook.enabled: false",
        )
    if remote and parts.scheme != "https":
        return Check(
            "warning",
            "public URL",
            f"{url} is plain http: deliveries and their secret cross the network unencrypted",
            "put the receiver behind an HTTPS reverse proxy or tunnel",
        )
    return Check("ok", "public URL", url)


async def _webhook_checks(
    config: Config, client: ConfluenceClient, raw: httpx.AsyncClient
) -> list[Check]:
    poll = f"syncd polls for changes every {config.poll.interval:g} s instead"
    if not config.webhook.enabled:
        return [Check("ok", "webhooks", f"disabled in the config (webhook.enabled: false); {poll}")]
    out = [check_public_url(config)]
    try:
        hooks = await client.list_webhooks()
    except WebhookPermissionDenied:
        out.append(
            Check(
                "warning",
                "webhooks",
                f"this account may not register webhooks; {poll}",
                "Data Center: ask an administrator to run syncd's first start with an admin "
                "token or grant the right; or set webhook.enabled: false"
                if client.deployment != "cloud"
                else "use an account that may manage the site's webhooks, or set "
                "webhook.enabled: false",
            )
        )
        return out
    except (WebhooksNotSupported, WebhooksUnavailable) as exc:
        out.append(
            Check(
                "warning",
                "webhooks",
                f"webhooks cannot be registered here ({exc}); {poll}",
                "set webhook.enabled: false to skip the attempt",
            )
        )
        return out
    except ConfluenceError as exc:
        out.append(Check("warning", "webhooks", f"could not list webhooks: {exc}; {poll}"))
        return out
    ours = [h for h in hooks if getattr(h, "name", "").startswith("syncd")]
    out.append(
        Check(
            "ok",
            "webhooks",
            f"can register webhooks ({len(hooks)} registered, {len(ours)} by syncd)",
        )
    )
    if client.deployment == "cloud":
        out.append(
            Check(
                "ok",
                "delivery",
                "Cloud offers no delivery test; `syncd status` shows when the last "
                "delivery arrived and whether syncd fell back to polling",
            )
        )
    else:
        out.append(await check_delivery_dc(raw, client.base_url, config.webhook.public_url))
    return out


async def check_delivery_dc(raw: httpx.AsyncClient, base_url: str, public_url: str) -> Check:
    """Ask Data Center to POST a test ping to the receiver (``/rest/api/webhooks/test``)."""
    topic = "delivery"
    try:
        reply = await raw.post(f"{base_url}/rest/api/webhooks/test", params={"url": public_url})
    except httpx.HTTPError as exc:
        return Check("warning", topic, f"the delivery test could not run: {exc}")
    if reply.status_code in (401, 403):
        return Check(
            "warning",
            topic,
            "not allowed to run Data Center's webhook test (administrators only)",
            "an administrator can test it under Administration > Webhooks",
        )
    try:
        data = reply.json()
    except ValueError:
        data = None
    if reply.status_code == 200 and isinstance(data, dict) and "statusCode" in data:
        code = data.get("statusCode")
        if code == 404:
            return Check(
                "warning",
                topic,
                f"Confluence reached {public_url} but it answered 404",
                "the path of webhook.public_url must be the receiver's path (check the reverse "
                "proxy's forwarding rule)",
            )
        if isinstance(code, int) and code >= 500 and code != 503:
            return Check(
                "warning",
                topic,
                f"Confluence reached {public_url} but it answered HTTP {code}",
                "check the reverse proxy or tunnel in front of the receiver",
            )
        note = (
            " (HTTP 401: the unsigned test ping was refused, as it should be)"
            if code == 401
            else f" (HTTP {code})"
        )
        return Check("ok", topic, f"Confluence reached the receiver at {public_url}{note}")
    message = data.get("message") if isinstance(data, dict) else None
    return Check(
        "warning",
        topic,
        f"Confluence could not deliver to {public_url}"
        + (f": {message}" if message else f" (HTTP {reply.status_code})"),
        "start syncd (`syncd run` or the service) and make sure webhook.public_url is "
        "reachable from the Confluence server",
    )


async def check_clock(
    raw: httpx.AsyncClient, base_url: str, *, now: Callable[[], float] = time.time
) -> Check:
    """Compare the server's ``Date`` header with the local clock (1 s resolution)."""
    topic = "clock"
    try:
        before = now()
        reply = await raw.get(base_url)
        after = now()
    except httpx.HTTPError as exc:
        return Check("warning", topic, f"could not read the server time: {exc}")
    header = reply.headers.get("date")
    try:
        server = parsedate_to_datetime(header).timestamp() if header else None
    except (TypeError, ValueError):
        server = None
    if server is None:
        return Check("warning", topic, "the server sent no usable Date header; skew unknown")
    local = (before + after) / 2
    skew = local - server
    # The header is truncated to the second: one second of skew is noise.
    if abs(skew) <= 1.5:
        return Check("ok", topic, "local clock agrees with the server")
    direction = "ahead of" if skew > 0 else "behind"
    level: Level = "ok"
    if abs(skew) > CLOCK_ERROR_SECONDS:
        level = "error"
    elif abs(skew) > CLOCK_WARN_SECONDS:
        level = "warning"
    when = dt.timedelta(seconds=round(abs(skew)))
    return Check(
        level,
        topic,
        f"local clock is {when} {direction} the server"
        + ("; change queries could miss edits" if level != "ok" else ""),
        "turn on time synchronisation (timedatectl set-ntp true; macOS: System Settings > "
        "General > Date & Time)",
    )
