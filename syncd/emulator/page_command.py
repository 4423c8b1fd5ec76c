"""``syncd emulator show|edit PAGE``: read or change a page of a running emulator the way a
Confluence user's script would, through the REST v1 content API (served by Cloud under
``/wiki`` and by Data Center alike).

``edit`` reads the page's current version and sends the next one, so it works however often
it is run (a hand-written curl with a fixed version number gets 409 the second time).
"""

from __future__ import annotations

import argparse
import html
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

DEFAULT_URL = "http://127.0.0.1:8090/wiki"  # `syncd emulator`'s defaults
DEFAULT_USER = "demo@example.com"
DEFAULT_TOKEN = "demo-token"


def add_arguments(sub: Any) -> None:
    """Add ``show`` and ``edit`` to the subparsers of ``syncd emulator``."""
    show = sub.add_parser("show", help="print a page's title, version and stored body")
    edit = sub.add_parser(
        "edit", help="add a paragraph to a page (reads the current version first)"
    )
    for action in (show, edit):
        action.add_argument(
            "page", metavar="PAGE", help="page id, or a synced Markdown file (its page_id)"
        )
    edit.add_argument("text", metavar="TEXT", help="the paragraph to add")
    edit.add_argument("--replace", action="store_true", help="replace the body instead")
    for action in (show, edit):
        action.add_argument(
            "--config",
            dest="page_config",
            metavar="PATH",
            help="use the Confluence of this syncd config (the demo prints it)",
        )
        action.add_argument(
            "--url", dest="page_url", metavar="URL", help=f"base URL (default {DEFAULT_URL})"
        )
        action.add_argument(
            "--user", dest="page_user", metavar="U", help=f"Cloud user (default {DEFAULT_USER})"
        )
        action.add_argument(
            "--token", dest="page_token", metavar="T", help=f"token (default {DEFAULT_TOKEN})"
        )


@dataclass(frozen=True)
class Site:
    base_url: str
    auth: httpx.Auth | None
    headers: dict[str, str]


def site_of(args: argparse.Namespace) -> Site:
    """Where and as whom: the config's Confluence, else the flags (emulator defaults)."""
    if args.page_config:
        from syncd.config import load_config

        c = load_config(args.page_config).confluence
        cloud = c.deployment == "cloud" or (c.deployment == "auto" and bool(c.email))
        base, user, token = c.base_url, c.email or "", c.token
    else:
        base = (args.page_url or DEFAULT_URL).rstrip("/")
        cloud = urlsplit(base).path.endswith("/wiki")
        user, token = args.page_user or DEFAULT_USER, args.page_token or DEFAULT_TOKEN
    if cloud:
        return Site(base, httpx.BasicAuth(user, token), {})
    return Site(base, None, {"Authorization": f"Bearer {token}"})


def page_id_of(page: str) -> str:
    """A page id as given, or the ``page_id`` in a synced file's front matter."""
    if page.isdigit():
        return page
    from syncd.local.frontmatter import parse

    path = Path(page).expanduser()
    try:
        meta = parse(path.read_text(encoding="utf-8")).meta
    except (OSError, ValueError) as exc:
        raise SystemExit(
            f"syncd emulator: {page} is neither a page id nor a readable file: {exc}"
        ) from None
    page_id = getattr(meta, "page_id", None)
    if not page_id:
        raise SystemExit(
            f"syncd emulator: {page} has no page_id in its front matter (not synced yet?)"
        )
    return str(page_id)


def run(args: argparse.Namespace) -> int:
    from syncd.config import ConfigError

    try:
        site = site_of(args)
    except ConfigError as err:
        print(f"syncd emulator: {err}", file=sys.stderr)
        return 2
    page_id = page_id_of(args.page)
    with httpx.Client(auth=site.auth, headers=site.headers, timeout=30) as http:
        try:
            if args.emulator_action == "show":
                page = _read(http, site, page_id)
                print(f"{page['title']} (page {page_id}, version {page['version']['number']})")
                print(page["body"]["storage"]["value"])
                return 0
            return _edit(http, site, page_id, args.text, replace=args.replace)
        except httpx.HTTPStatusError as exc:
            print(
                f"syncd emulator: {exc.request.method} {exc.request.url} answered "
                f"{exc.response.status_code}: {exc.response.text[:200]}",
                file=sys.stderr,
            )
            return 1
        except httpx.HTTPError as exc:
            print(f"syncd emulator: cannot reach {site.base_url}: {exc}", file=sys.stderr)
            print(
                "  fix: start it (`syncd emulator` or `syncd demo`) or pass --url", file=sys.stderr
            )
            return 1


def _read(http: httpx.Client, site: Site, page_id: str) -> dict[str, Any]:
    url = f"{site.base_url}/rest/api/content/{page_id}"
    return http.get(url, params={"expand": "body.storage,version"}).raise_for_status().json()


def _edit(http: httpx.Client, site: Site, page_id: str, text: str, *, replace: bool) -> int:
    paragraph = f"<p>{html.escape(text, quote=False)}</p>"
    for _ in range(3):  # someone else's edit in between: read again and re-apply
        page = _read(http, site, page_id)
        version = int(page["version"]["number"])
        body = paragraph if replace else page["body"]["storage"]["value"] + paragraph
        reply = http.put(
            f"{site.base_url}/rest/api/content/{page_id}",
            json={
                "id": page_id,
                "type": page.get("type", "page"),
                "title": page["title"],
                "version": {"number": version + 1},
                "body": {"storage": {"representation": "storage", "value": body}},
            },
        )
        if reply.status_code == 409:
            continue
        reply.raise_for_status()
        print(f"{page['title']} (page {page_id}) is now version {version + 1}")
        return 0
    print(f"syncd emulator: page {page_id} kept changing; try again", file=sys.stderr)
    return 1
