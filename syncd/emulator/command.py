"""``syncd emulator``: run a local Confluence until SIGTERM/SIGINT.

The server is imported when one is started: ``syncd emulator show|edit`` talk to a running
one over HTTP and start in a third of the time without it."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from syncd.emulator import FLAVORS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--flavor",
        choices=FLAVORS,
        default="cloud",
        help="Confluence Cloud (REST v2 + v1 under /wiki) or Data Center",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8090, help="port (0 picks a free one)")
    parser.add_argument("--space", default="DEMO", help="key of the space to create")
    parser.add_argument(
        "--pages", type=int, default=50, help="number of seeded pages under the home page"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for the page tree")
    parser.add_argument(
        "--user", default="demo@example.com", help="user name (Cloud: the e-mail for basic auth)"
    )
    parser.add_argument(
        "--token", default="demo-token", help="API token (Cloud) or personal access token (DC)"
    )
    parser.add_argument(
        "--data", metavar="FILE", help="persist the site to FILE (loaded at start, saved on change)"
    )
    parser.add_argument(
        "--corpus", metavar="DIR", help="seed one page per *.xml storage body in DIR instead"
    )
    parser.add_argument(
        "--folders",
        action="store_true",
        help="Cloud: also seed folders, a whiteboard, a database and an embed with pages inside",
    )
    parser.add_argument(
        "--no-tenant-info",
        dest="tenant_info",
        action="store_false",
        help="Cloud: answer 404 at /_edge/tenant_info (tools that find a cloud id there go "
        "through api.atlassian.com instead of this emulator)",
    )
    parser.add_argument(
        "--webhook-secret",
        metavar="S",
        help="DC: sign deliveries of registrations without their own secret",
    )
    from syncd.emulator import page_command

    actions = parser.add_subparsers(
        dest="emulator_action",
        metavar="[show|edit]",
        required=False,
        help="read or change a page of a running emulator (without one: run the emulator)",
    )
    page_command.add_arguments(actions)


def run(args: argparse.Namespace) -> int:
    if getattr(args, "emulator_action", None):
        from syncd.emulator import page_command

        return page_command.run(args)
    if args.pages < 0:
        print("syncd emulator: --pages must be >= 0", file=sys.stderr)
        return 2
    if args.folders and args.flavor != "cloud":
        print(
            "syncd emulator: --folders needs --flavor cloud (Data Center has no folders)",
            file=sys.stderr,
        )
        return 2
    try:
        return asyncio.run(_serve(args))
    except KeyboardInterrupt:
        return 0


async def _serve(args: argparse.Namespace) -> int:
    from syncd.emulator.server import EmulatorServer

    server = EmulatorServer(
        flavor=args.flavor,
        host=args.host,
        port=args.port,
        space=args.space,
        pages=args.pages,
        seed=args.seed,
        user=args.user,
        token=args.token,
        corpus=args.corpus,
        data=args.data,
        webhook_secret=args.webhook_secret,
        folders=args.folders,
        tenant_info=args.tenant_info,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
            signal.signal(sig, lambda *_: loop.call_soon_threadsafe(stop.set))
    try:
        await server.start()
    except OSError as exc:
        print(f"syncd emulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        print(
            "  fix: stop what holds the port, or choose another with --port (0 picks a free one)",
            file=sys.stderr,
        )
        return 1
    try:
        pages = sum(1 for c in server.store.content.values() if c.type == "page")
        folders = sum(1 for c in server.store.content.values() if c.type == "folder")
        auth = (
            f"basic {args.user}:{args.token}"
            if args.flavor == "cloud"
            else f"Authorization: Bearer {args.token}"
        )
        print(
            f"syncd emulator ({args.flavor}) serving space {args.space} with {pages} pages"
            + (f" and {folders} folders" if folders else ""),
            flush=True,
        )
        print(f"  base URL: {server.base_url}", flush=True)
        print(f"  user:     {args.user}", flush=True)
        print(f"  token:    {args.token}", flush=True)
        print(f"  auth:     {auth}", flush=True)
        if args.flavor == "cloud":
            print(
                f"  gateway:  {server.gateway_url} (scoped tokens: POST /_emulator/tokens)",
                flush=True,
            )
        print(f"  control:  {server.root_url}/_emulator/", flush=True)
        if args.data:
            print(f"  data:     {args.data}", flush=True)
        await stop.wait()
    finally:
        await server.stop()
    print("syncd emulator stopped", flush=True)
    return 0
