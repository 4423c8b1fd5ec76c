"""``syncd webhook list|register|delete``: manage the daemon's registrations by hand.

``list`` shows every webhook the account can see, ours marked with ``*``; ``register``
does what ``syncd run`` does at startup (reuse by name and URL, update events and secret,
one per event on Cloud); ``delete`` removes ours (or the ids given). Registrations are
recorded in the state database when no daemon holds it; a running daemon keeps its own
records and re-registers on its own schedule.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from syncd.daemon.control import redact_url


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", "-c", metavar="PATH", help="config file")
    sub = parser.add_subparsers(dest="webhook_action", metavar="ACTION", required=True)
    lst = sub.add_parser("list", help="list registered webhooks (ours marked *)")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    reg = sub.add_parser("register", help="register (or update) this folder's webhook now")
    delete = sub.add_parser("delete", help="delete this folder's webhook(s), or the ids given")
    delete.add_argument("ids", nargs="*", metavar="ID", help="webhook ids (default: ours)")
    for action in (lst, reg, delete):  # `syncd webhook list --config C` works too
        action.add_argument("--config", "-c", metavar="PATH", default=argparse.SUPPRESS)


def connection_settings(config: Any) -> Any:
    from syncd.confluence.settings import ConnectionSettings

    c = config.confluence
    return ConnectionSettings(
        base_url=c.base_url,
        api_url=c.api_url,
        token=c.token,
        email=c.email,
        deployment=c.deployment,
    )


@contextlib.asynccontextmanager
async def _state(config: Any) -> AsyncIterator[Any]:
    """The state database when no daemon holds it, else None (records are the daemon's)."""
    from syncd.sync.state import StateDB, StateLocked

    try:
        db = StateDB.open(config.state_dir)
    except StateLocked:
        yield None
        return
    try:
        yield db
    finally:
        db.close()


class _NoState:
    def webhooks(self) -> list[Any]:
        return []

    def put_webhook(self, record: Any) -> None:
        pass

    def delete_webhook(self, webhook_id: str) -> bool:
        return False


def _print_refusal(exc: BaseException, doing: str) -> None:
    from syncd.daemon.registration import refusal_and_fix

    reason, fix = refusal_and_fix(exc, doing)
    print(f"syncd: {reason}", file=sys.stderr)
    if fix:
        print(f"  fix: {fix}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from syncd.config import ConfigError, load_config, print_config_error

    try:
        config = load_config(args.config)
    except ConfigError as err:
        print_config_error(err)
        return 2
    return asyncio.run(_run(args, config))


async def _run(args: argparse.Namespace, config: Any) -> int:
    from syncd.confluence.client import ConfluenceClient
    from syncd.confluence.errors import ConfluenceError
    from syncd.daemon.registration import (
        Registrar,
        RegistrationRefused,
        load_or_create_secret,
        read_secret,
        webhook_name,
    )

    name = webhook_name(config)
    try:
        client = await ConfluenceClient.open(connection_settings(config))
    except ConfluenceError as exc:
        print(f"syncd: cannot reach Confluence: {exc}", file=sys.stderr)
        return 1
    try:
        action = args.webhook_action
        if action == "list":
            try:
                hooks = await client.list_webhooks()
            except ConfluenceError as exc:
                _print_refusal(exc, "listing webhooks")
                return 1
            rows = [
                {
                    "id": h.id,
                    "name": h.name,
                    "url": redact_url(h.url),
                    "events": list(h.events),
                    "active": h.active,
                    "ours": h.name == name,
                }
                for h in hooks
            ]
            if args.json:
                print(json.dumps(rows, indent=2))
            elif not rows:
                print("no webhooks registered")
            else:
                for r in rows:
                    mark = "*" if r["ours"] else " "
                    state = "" if r["active"] else " (inactive)"
                    print(
                        f"{mark} {r['id']:>8}  {r['name']}  {r['url']}  "
                        f"{len(r['events'])} event(s){state}"
                    )
            return 0
        async with _state(config) as db:
            state = db if db is not None else _NoState()
            if action == "register":
                secret = load_or_create_secret(config.state_dir, config.webhook.secret)
                registrar = Registrar(config, client, state, secret)
                try:
                    hooks = await registrar.register()
                except RegistrationRefused as exc:
                    print(f"syncd: {exc}", file=sys.stderr)
                    return 1
                for h in hooks:
                    print(f"registered {h.id} {name} {redact_url(h.url)}")
                return 0
            if action == "delete":
                secret_value = read_secret(config.state_dir, config.webhook.secret) or "-"
                from syncd.daemon.registration import WebhookSecret

                registrar = Registrar(config, client, state, WebhookSecret(secret_value, "-"))
                try:
                    if args.ids:
                        for webhook_id in args.ids:
                            await client.delete_webhook(webhook_id)
                            state.delete_webhook(webhook_id)
                            print(f"deleted {webhook_id}")
                        return 0
                    removed = await registrar.unregister()
                except ConfluenceError as exc:
                    _print_refusal(exc, "deleting webhooks")
                    return 1
                print(f"deleted {removed} webhook(s) named {name}")
                return 0
        return 2
    finally:
        await client.aclose()
