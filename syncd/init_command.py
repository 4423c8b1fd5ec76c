"""``syncd init``: write a first config, checked against the server.

Interactive by default: it asks for whatever the flags did not give. With ``--url`` and
``--space`` it asks nothing (the rest takes defaults), so scripts can run it.

The token is never written into the config. The config reads it from an environment variable
(``token: ${CONFLUENCE_API_TOKEN}``); init finds the token in that variable, else in the OS
keyring (when the optional ``keyring`` package is installed, entry ``syncd`` / the site URL),
else asks for it without echo, and can save it to the owner-only env file the service reads.
The config is written owner-only (0600, its folder 0700) and never over an existing one
without ``--force``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from syncd import paths
from syncd.config import ConfigError, parse_config, parse_listen
from syncd.confluence import AuthFailed, ConfluenceClient, ConfluenceError
from syncd.confluence.scopes import is_gateway_url
from syncd.confluence.tenant import find_gateway_url
from syncd.doctor import connection_settings, describe_connect_error, describe_space_error
from syncd.service import append_env, env_file_path, read_env_file, write_private

DEFAULT_TOKEN_ENV = "CONFLUENCE_API_TOKEN"
DEFAULT_LISTEN = "127.0.0.1:8765"
KEYRING_SERVICE = "syncd"
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class InitAborted(Exception):
    """Stop with a message; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Create a config: asks for the Confluence site, space, credentials, local folder and "
        "webhook settings, checks them against the server and writes the config owner-only. "
        "With --url and --space nothing is asked."
    )
    parser.add_argument("--url", help="Confluence base URL (Cloud: https://ORG.atlassian.net/wiki)")
    parser.add_argument("--space", help="key of the space to sync")
    parser.add_argument("--email", help="account email (Cloud; basic auth with the API token)")
    parser.add_argument(
        "--token-env",
        metavar="VAR",
        help=f"environment variable holding the API token (default {DEFAULT_TOKEN_ENV})",
    )
    parser.add_argument("--folder", help="local folder to sync (default ~/Confluence/SPACE)")
    parser.add_argument(
        "--deployment",
        choices=("auto", "cloud", "datacenter"),
        help="Confluence deployment (default: detected)",
    )
    parser.add_argument("--root-page", help="sync only this page id and its subtree")
    parser.add_argument(
        "--scoped-token",
        action="store_true",
        help="the token is a scoped API token (a service account's, or one created with "
        "scopes): go through Atlassian's API gateway, found from the site URL. Without it, "
        "a token the site refuses is tried at the gateway too",
    )
    hooks = parser.add_mutually_exclusive_group()
    hooks.add_argument(
        "--webhook", dest="webhook", action="store_true", default=None, help="use webhooks"
    )
    hooks.add_argument(
        "--no-webhook", dest="webhook", action="store_false", help="poll only, no webhook"
    )
    parser.add_argument("--public-url", help="URL Confluence calls for webhook deliveries")
    parser.add_argument("--listen", help=f"host:port of the webhook receiver ({DEFAULT_LISTEN})")
    parser.add_argument(
        "--config",
        dest="config_path",
        metavar="PATH",
        help=f"where to write the config (default {paths.default_config_path()})",
    )
    # the spelling of earlier versions, kept working
    parser.add_argument("--config-path", dest="config_path", help=argparse.SUPPRESS)
    parser.add_argument("--no-check", action="store_true", help="do not contact the server")
    parser.add_argument("--force", action="store_true", help="overwrite an existing config")


def run(args: argparse.Namespace) -> int:
    try:
        return Init(args).run()
    except InitAborted as exc:
        print(f"syncd init: {exc}", file=sys.stderr)
        return exc.code
    except EOFError:
        print("\nsyncd init: input ended before all questions were answered", file=sys.stderr)
        return 2


@dataclass
class Answers:
    url: str
    space: str
    email: str | None
    token_env: str
    folder: str
    deployment: str
    root_page: str | None
    webhook: bool
    listen: str
    public_url: str | None
    #: Atlassian's API gateway for the site (a scoped token), else None.
    api_url: str | None = None


class Init:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.interactive = not (args.url and args.space)
        self.out = sys.stdout
        self.token: str | None = None
        self.token_source = ""

    # -- prompting

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def ask(self, question: str, default: str | None = None, *, required: bool = True) -> str:
        hint = f" [{default}]" if default else ""
        while True:
            print(f"{question}{hint}: ", end="", file=self.out, flush=True)
            line = self.read_line()
            answer = line.strip() or (default or "")
            if answer or not required:
                return answer
            self.say("  (an answer is needed)")

    def confirm(self, question: str, default: bool) -> bool:
        hint = "Y/n" if default else "y/N"
        while True:
            answer = self.ask(f"{question} ({hint})", required=False).lower()
            if not answer:
                return default
            if answer in ("y", "yes"):
                return True
            if answer in ("n", "no"):
                return False

    def read_line(self) -> str:
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        if not sys.stdin.isatty():
            print(file=self.out)  # the answer was not echoed: end the prompt's line
        return line

    def ask_secret(self, question: str) -> str:
        if sys.stdin.isatty():
            return getpass.getpass(f"{question}: ")
        # Not a terminal (a pipe or a file): there is no echo to turn off.
        print(f"{question}: ", end="", file=self.out, flush=True)
        return self.read_line().strip()

    # -- the flow

    def run(self) -> int:
        config_path = Path(self.args.config_path or paths.default_config_path()).expanduser()
        config_path = config_path.absolute()
        if config_path.exists() and not self.args.force:
            raise InitAborted(
                f"{config_path} already exists; pass --force to replace it "
                "(or --config PATH to write another)",
                code=1,
            )
        if self.interactive:
            self.say("syncd init: a few questions to connect a folder to a Confluence space.")
            self.say("Press Enter to accept the [default].\n")
        answers = self.gather()
        detected = answers.deployment
        if self.args.no_check and self.args.scoped_token and not is_gateway_url(answers.url):
            raise InitAborted(
                "--scoped-token finds the API gateway from the site, which --no-check does not "
                "contact: drop --no-check, or give --url https://api.atlassian.com/ex/"
                "confluence/<cloudId> (the cloud id is at <site>/_edge/tenant_info)"
            )
        if self.args.no_check:
            self.say("not checking the settings against the server (--no-check)")
        else:
            detected = self.check(answers)
            if detected is None:
                return 1
        if (answers.api_url or is_gateway_url(answers.url)) and self.args.webhook is None:
            if answers.webhook:
                self.say(
                    "webhooks cannot be registered with a scoped API token: the config polls "
                    "for changes (poll.interval)"
                )
            answers.webhook = False
        text = render_config(answers, detected)
        env = {**os.environ, answers.token_env: self.token or "unset"}
        try:
            parse_config(text, path=config_path, env=env)
        except ConfigError as err:
            raise InitAborted(f"the answers do not make a valid config: {err}") from None
        write_config(config_path, text)
        self.say(f"wrote {config_path} (mode 0600)")
        self.next_steps(config_path, answers, text)
        return 0

    def gather(self) -> Answers:
        a = self.args
        interactive = self.interactive
        url = a.url or (
            self.ask("Confluence URL (Cloud: https://ORG.atlassian.net/wiki)")
            if interactive
            else ""
        )
        url = url.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InitAborted(f"--url: expected an http(s) URL, got {url!r}")
        cloud_host = (parts.hostname or "").endswith(".atlassian.net")
        space = a.space or self.ask("Space key (in the space's URL: /spaces/KEY/)")
        space = space.strip()

        deployment = a.deployment or ("cloud" if cloud_host or a.scoped_token else "auto")
        if a.scoped_token and deployment == "datacenter":
            raise InitAborted("--scoped-token: scoped API tokens exist on Confluence Cloud only")
        cloud_host = cloud_host or deployment == "cloud" or is_gateway_url(url)
        email = a.email
        if interactive and email is None:
            if cloud_host or deployment == "cloud":
                email = self.ask("Atlassian account email")
            else:
                email = (
                    self.ask(
                        "Account email (Cloud only; leave empty for a Data Center access token)",
                        required=False,
                    )
                    or None
                )
        if (cloud_host or deployment == "cloud") and not email:
            raise InitAborted("--email is required for Confluence Cloud (email + API token)")

        token_env = a.token_env or DEFAULT_TOKEN_ENV
        if interactive and not a.token_env:
            token_env = self.ask("Environment variable for the API token", DEFAULT_TOKEN_ENV)
        if not _VAR_NAME.match(token_env):
            raise InitAborted(f"--token-env: {token_env!r} is not an environment variable name")
        self.find_token(token_env, url)

        default_folder = f"~/Confluence/{space}"
        folder = a.folder or (
            self.ask("Local folder", default_folder) if interactive else default_folder
        )

        webhook = a.webhook
        if webhook is None:
            webhook = (
                self.confirm("Receive changes by webhook? (no: poll every minute)", True)
                if interactive
                else True
            )
        listen = a.listen or DEFAULT_LISTEN
        public_url = a.public_url
        if webhook and interactive:
            if not a.listen:
                listen = self.ask("Address the webhook receiver listens on", DEFAULT_LISTEN)
            if public_url is None:
                self.say(
                    "  Confluence must reach the receiver. If it runs on another machine, give "
                    "the address of\n  a reverse proxy or tunnel that forwards to it."
                )
                public_url = (
                    self.ask("URL Confluence calls", f"http://{listen}/webhook", required=False)
                    or None
                )
        try:
            parse_listen(listen)
        except ValueError as exc:
            raise InitAborted(f"--listen: {exc}") from None
        if public_url == f"http://{listen}/webhook":
            public_url = None  # the default: keep the config short
        return Answers(
            url=url,
            space=space,
            email=email or None,
            token_env=token_env,
            folder=folder,
            deployment=deployment,
            root_page=a.root_page,
            webhook=webhook,
            listen=listen,
            public_url=public_url,
        )

    def find_token(self, token_env: str, url: str) -> None:
        """Environment first, then the keyring, then (interactive) a prompt without echo."""
        if os.environ.get(token_env):
            self.token, self.token_source = os.environ[token_env], f"${token_env}"
            if self.interactive:
                self.say(f"  using the token in ${token_env}")
            return
        saved = read_env_file(env_file_path()).get(token_env)
        if saved:
            self.token, self.token_source = saved, str(env_file_path())
            if self.interactive:
                self.say(f"  using the token saved in {env_file_path()}")
            return
        keyring_token = _keyring_token(url)
        if keyring_token:
            self.token, self.token_source = keyring_token, "keyring"
            self.say("  using the token stored in the OS keyring")
            return
        if not self.interactive:
            if not self.args.no_check:
                raise InitAborted(
                    f"${token_env} is not set: export it (or pass --token-env VAR, or --no-check)"
                )
            return
        self.token = self.ask_secret(
            "API token (Cloud: API token; Data Center: personal access token; not shown)"
        )
        self.token_source = "prompt"

    def check(self, answers: Answers) -> str | None:
        """Connect and read the space; returns the detected deployment or None on failure."""
        self.say(f"checking {answers.url} ...")
        if self.args.scoped_token and not is_gateway_url(answers.url):
            answers.api_url = self.find_gateway(answers.url)
        config = self.config_for(answers)
        result = asyncio.run(_check_server(config))
        if result.refused and answers.api_url is None and not is_gateway_url(answers.url):
            result = self.try_gateway(answers, result)
        for line in result.lines:
            self.say(line)
        if result.ok:
            return result.deployment
        if self.interactive and self.confirm("Write the config anyway?", False):
            return answers.deployment
        if not self.interactive:
            self.say("the config was not written (pass --no-check to write it without checking)")
        return None

    def config_for(self, answers: Answers):  # type: ignore[no-untyped-def]
        text = render_config(answers, answers.deployment)
        env = {**os.environ, answers.token_env: self.token or "unset"}
        try:
            return parse_config(text, env=env, path=None)
        except ConfigError as err:
            raise InitAborted(f"the answers do not make a valid config: {err}") from None

    def find_gateway(self, url: str) -> str:
        try:
            gateway = asyncio.run(find_gateway_url(url))
        except ConfluenceError as exc:
            raise InitAborted(f"--scoped-token: cannot find the site's cloud id: {exc}") from None
        self.say(f"ok       scoped token: requests go through the API gateway {gateway}")
        return gateway

    def try_gateway(self, answers: Answers, refused: CheckResult) -> CheckResult:
        """The site refused the token: a scoped token is refused there and accepted only
        through the API gateway. Keep the gateway if it accepts the token."""
        try:
            gateway = asyncio.run(find_gateway_url(answers.url))
        except ConfluenceError:
            return refused  # not a Cloud site: the refusal stands
        trial = Answers(**{**answers.__dict__, "api_url": gateway, "deployment": "cloud"})
        result = asyncio.run(_check_server(self.config_for(trial)))
        if result.refused:
            return refused
        self.say(
            "the site refused the token and Atlassian's API gateway accepted it: it is a "
            f"scoped API token, so the config goes through {gateway}"
        )
        answers.api_url, answers.deployment = gateway, "cloud"
        return result

    def next_steps(self, config_path: Path, answers: Answers, text: str = "") -> None:
        env_path = env_file_path()
        if self.token_source in ("prompt", "keyring") and self.token:
            if self.interactive and self.confirm(
                f"Save the token in {env_path} (owner-only) for the service?", True
            ):
                append_env(env_path, {answers.token_env: self.token})
                self.say(f"saved ${answers.token_env} in {env_path} (mode 0600)")
        default = config_path == paths.default_config_path().absolute()
        flag = "" if default else f" --config {config_path}"
        self.say("\nnext:")
        self.say(f"  syncd doctor{flag}                  check everything")
        self.say(f"  syncd sync{flag}                    first sync into {answers.folder}")
        self.say(f"  syncd run{flag}                     keep syncing (Ctrl-C stops)")
        # A service does not see this shell: the token goes into its env file.
        copy_env = " --copy-env" if "${" in text else ""
        self.say(f"  syncd service install{flag} --now{copy_env}   run it in the background")
        if not os.environ.get(answers.token_env):
            self.say(
                f"the config reads the token from ${answers.token_env}: export it before "
                f"running syncd in a shell (e.g. set -a; . {env_path}; set +a)"
            )


def _keyring_token(url: str) -> str | None:
    """The token saved with ``keyring set syncd <url>``, if the keyring package is present."""
    try:
        import keyring  # type: ignore[import-not-found]  # optional, never a dependency
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, url) or None
    except Exception:  # a locked or absent keyring backend is no reason to fail
        return None


@dataclass
class CheckResult:
    ok: bool
    deployment: str
    lines: list[str]
    #: Confluence refused the credentials (not a missing space or permission).
    refused: bool = False


async def _check_server(config) -> CheckResult:  # type: ignore[no-untyped-def]
    lines: list[str] = []
    try:
        client = await ConfluenceClient.open(connection_settings(config))
    except ConfluenceError as exc:
        return CheckResult(
            False,
            config.confluence.deployment,
            describe_connect_error(config, exc).lines(),
            refused=isinstance(exc, AuthFailed),
        )
    try:
        flavor = "Cloud" if client.deployment == "cloud" else "Data Center"
        lines.append(f"ok       connected to Confluence {flavor}")
        try:
            space = await client.get_space(config.confluence.space)
        except ConfluenceError as exc:
            if isinstance(exc, AuthFailed):
                lines = describe_connect_error(config, exc).lines()
                return CheckResult(False, client.deployment, lines, refused=True)
            lines += describe_space_error(config, exc).lines()
            return CheckResult(False, client.deployment, lines)
        lines.append(f'ok       space {space.key} "{space.name}"')
        return CheckResult(True, client.deployment, lines)
    finally:
        await client.aclose()


def _q(value: str) -> str:
    """A YAML scalar for any string (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def render_config(a: Answers, deployment: str) -> str:
    """The config text, commented; every other key keeps its default (config.example.yaml)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    lines = [
        f"# syncd configuration, written by `syncd init` on {stamp}.",
        "# Every key and its default is described in config.example.yaml.",
        "confluence:",
        f"  base_url: {_q(a.url)}",
        f"  deployment: {deployment}",
        f"  space: {_q(a.space)}",
    ]
    if a.root_page:
        lines.append(f"  root_page: {_q(a.root_page)}")
    if a.api_url:
        lines += [
            "  # A scoped API token works only through Atlassian's API gateway: requests go",
            "  # there; base_url is kept for links and messages.",
            f"  api_url: {_q(a.api_url)}",
        ]
    if a.email:
        lines.append(f"  email: {_q(a.email)}")
    lines += [
        "  # The token is read from the environment, never stored here.",
        f"  token: {_q('${' + a.token_env + '}')}",
        "local:",
        f"  path: {_q(a.folder)}",
        "webhook:",
        f"  enabled: {'true' if a.webhook else 'false'}",
        f"  listen: {_q(a.listen)}",
    ]
    if a.public_url:
        lines.append(f"  public_url: {_q(a.public_url)}")
    else:
        lines.append("  # public_url: the URL Confluence calls (default http://<listen>/webhook)")
    lines += [
        "  # secret: null means syncd generates one and keeps it in its state directory.",
        "  secret: null",
        "poll:",
        "  interval: 60s",
        "sync:",
        "  on_conflict: merge",
        "",
    ]
    return "\n".join(lines)


def write_config(path: Path, text: str) -> None:
    """Owner-only: the folder 0700 when syncd creates it (or it is syncd's own config
    folder), the file 0600, written atomically."""
    parent = path.parent
    created = not parent.exists()
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if created or parent == paths.default_config_dir():
        os.chmod(parent, 0o700)
    write_private(path, text.encode("utf-8"), mode=0o600)
