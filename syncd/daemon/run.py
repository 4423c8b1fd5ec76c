"""``syncd run``: the long-running daemon (see :mod:`syncd.daemon.runtime`).

Exit status: 0 after a clean stop (SIGTERM/SIGINT), 1 when it cannot start (Confluence
unreachable, credentials refused), 2 for a bad configuration or a second instance.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

log = logging.getLogger("syncd.daemon")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", "-c", metavar="PATH", help="config file (default: platform config dir)"
    )
    parser.add_argument(
        "--log-format",
        choices=("plain", "json"),
        default="plain",
        help="plain lines for humans, json for journald and log shippers",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail (-vv: libraries too)"
    )
    parser.add_argument(
        "--handler",
        metavar="PATH",
        help="script run after each applied change (overrides sync.handler)",
    )


def run(args: argparse.Namespace) -> int:
    from syncd.config import ConfigError, load_config, print_config_error
    from syncd.daemon.logging_setup import RecentErrors, setup_logging
    from syncd.daemon.runtime import Daemon, RunOptions

    recent = RecentErrors()
    # Logging first, so the config's own warnings come out formatted.
    redactor = setup_logging(fmt=args.log_format, verbosity=args.verbose, recent=recent)
    try:
        config = load_config(args.config)
    except ConfigError as err:
        print_config_error(err)
        return 2
    redactor.add(config.confluence.token)
    redactor.add(config.webhook.secret)

    async def main() -> int:
        daemon = Daemon(
            config,
            options=RunOptions(handler=args.handler),
            recent=recent,
            redactor=redactor,
        )
        return await daemon.run()

    try:
        return asyncio.run(main())
    except KeyboardInterrupt:
        return 130
