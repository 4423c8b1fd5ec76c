"""The configuration file: YAML validated into typed, frozen objects.

Every problem is reported as a :class:`ConfigError` naming the dotted key (for example
``webhook.silence_timeout``) and the line it is on, so the CLI can print one line and exit 2.

Rules worth knowing:

* ``${VAR}`` in any string value is read from the environment (``${VAR:-default}`` gives a
  fallback, ``$${`` is a literal ``${``). A missing variable is an error naming the key.
* Durations are ``500ms``, ``60s``, ``15m``, ``6h``, ``1d``, combinations such as ``1h30m``,
  or plain numbers meaning seconds.
* ``~`` expands in paths; relative paths are relative to the directory of the config file
  (a service's working directory is not something to rely on).
* A config file readable by group or others that holds a literal secret (a token or webhook
  secret written in the file rather than taken from ``${VAR}``) produces a warning, kept in
  :attr:`Config.warnings` and logged; so does one writable by group or others (it names the
  ``sync.handler`` command syncd runs).
* Anchors and aliases are read, but each node only once, so nested aliases ("billion
  laughs") cannot make loading take forever.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import math
import os
import re
import stat
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NoReturn
from urllib.parse import urlsplit

import yaml

from syncd import paths

log = logging.getLogger(__name__)

Deployment = Literal["auto", "cloud", "datacenter"]
OnConflict = Literal["merge", "keep-both", "local", "remote"]
DEPLOYMENTS: tuple[str, ...] = ("auto", "cloud", "datacenter")
ON_CONFLICT: tuple[str, ...] = ("merge", "keep-both", "local", "remote")
#: What a new local directory without a page file becomes (Cloud folders; DC has none).
NEW_DIRECTORIES: tuple[str, ...] = ("auto", "folder", "page")
SECRET_KEYS: tuple[str, ...] = ("confluence.token", "webhook.secret")


class ConfigError(Exception):
    """A problem with the configuration, located by dotted key and 1-based line."""

    def __init__(
        self, key: str, line: int | None, message: str, path: str | os.PathLike[str] | None = None
    ) -> None:
        self.key = key
        self.line = line
        self.message = message
        self.path = str(path) if path is not None else None
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path or "config"
        if self.line is not None:
            where += f":{self.line}"
        what = f" {self.key}:" if self.key else ""
        text = f"{where}:{what} {self.message}"
        return " ".join(text.split())  # always one line


class ConfigMissing(ConfigError):
    """No file at the config path: the fix is ``syncd init`` (with the same --config)."""

    @property
    def fix(self) -> str:
        given = Path(self.path) if self.path else None
        flag = "" if given in (None, paths.default_config_path()) else f" --config {self.path}"
        return f"create one with `syncd init{flag}`"


def print_config_error(err: ConfigError, prog: str = "syncd") -> None:
    """``err`` as one line on stderr, then its fix when it has one (a missing file)."""
    print(f"{prog}: {err}", file=sys.stderr)
    fix = getattr(err, "fix", None)
    if fix:
        print(f"  fix: {fix}", file=sys.stderr)


def config_error_exit(err: ConfigError) -> NoReturn:
    """Print ``err`` (and its fix) on stderr and exit with status 2 (bad configuration)."""
    print_config_error(err)
    raise SystemExit(2)


# --------------------------------------------------------------------------- typed objects


@dataclass(frozen=True)
class ConfluenceConfig:
    base_url: str
    space: str
    token: str = field(repr=False)
    deployment: Deployment = "auto"
    root_page: str | None = None
    email: str | None = None
    # Base URL of the Jira the pages' issue macros point at: they then read as links.
    jira_url: str | None = None
    #: Most requests on the wire at once (the adaptive budget's ceiling).
    max_connections: int = 32
    #: Atlassian's API gateway for this site (scoped tokens, service accounts):
    #: ``https://api.atlassian.com/ex/confluence/{cloudId}``; None: requests go to base_url.
    api_url: str | None = None

    @property
    def via_gateway(self) -> bool:
        from syncd.confluence.scopes import is_gateway_url

        return self.api_url is not None or is_gateway_url(self.base_url)


@dataclass(frozen=True)
class LocalConfig:
    path: Path


@dataclass(frozen=True)
class WebhookConfig:
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = 8765
    public_url: str = "http://127.0.0.1:8765/webhook"
    secret: str | None = field(default=None, repr=False)
    silence_timeout: float = 900.0
    unregister_on_exit: bool = False
    #: A delivery's body must arrive within this of its head (else 408).
    body_timeout: float = 10.0
    #: A connection without a complete request head for this long is closed.
    idle_timeout: float = 15.0

    @property
    def listen(self) -> str:
        """``host:port`` as written in the config (IPv6 hosts in brackets)."""
        return _join_host_port(self.host, self.port)

    @property
    def path(self) -> str:
        """The URL path deliveries arrive on (the path of ``public_url``)."""
        return urlsplit(self.public_url).path or "/"


@dataclass(frozen=True)
class PollConfig:
    interval: float = 60.0
    full_scan: float = 6 * 3600.0


@dataclass(frozen=True)
class SyncConfig:
    debounce: float = 1.0
    on_conflict: OnConflict = "merge"
    max_delete: int = 10
    attachments: bool = True
    blog_posts: bool = False
    handler: Path | None = None
    #: "auto": a Cloud folder on Cloud, an empty parent page on Data Center.
    new_directories: str = "auto"


@dataclass(frozen=True)
class Config:
    confluence: ConfluenceConfig
    local: LocalConfig
    webhook: WebhookConfig
    poll: PollConfig
    sync: SyncConfig
    state_dir: Path
    source: Path | None = None
    warnings: tuple[str, ...] = ()

    @property
    def log_dir(self) -> Path:
        return paths.default_log_dir()


# --------------------------------------------------------------------------- schema

_REQUIRED = object()


@dataclass(frozen=True)
class _Key:
    kind: str  # str, url, bool, int, duration, path, enum, listen, page_id, space
    default: Any = _REQUIRED
    nullable: bool = False
    choices: tuple[str, ...] = ()


SCHEMA: dict[str, dict[str, _Key]] = {
    "confluence": {
        "base_url": _Key("url"),
        "api_url": _Key("url", None, nullable=True),
        "deployment": _Key("enum", "auto", choices=DEPLOYMENTS),
        "space": _Key("space"),
        "root_page": _Key("page_id", None, nullable=True),
        "email": _Key("str", None, nullable=True),
        "token": _Key("str"),
        "jira_url": _Key("url", None, nullable=True),
        "max_connections": _Key("int", 32),
    },
    "local": {
        "path": _Key("path"),
    },
    "webhook": {
        "enabled": _Key("bool", True),
        "listen": _Key("listen", "127.0.0.1:8765"),
        "public_url": _Key("url", None, nullable=True),
        "secret": _Key("str", None, nullable=True),
        "silence_timeout": _Key("duration", "15m"),
        "unregister_on_exit": _Key("bool", False),
        "body_timeout": _Key("duration", "10s"),
        "idle_timeout": _Key("duration", "15s"),
    },
    "poll": {
        "interval": _Key("duration", "60s"),
        "full_scan": _Key("duration", "6h"),
    },
    "sync": {
        "debounce": _Key("duration", "1s"),
        "on_conflict": _Key("enum", "merge", choices=ON_CONFLICT),
        "max_delete": _Key("int", 10),
        "attachments": _Key("bool", True),
        "blog_posts": _Key("bool", False),
        "handler": _Key("path", None, nullable=True),
        "new_directories": _Key("enum", "auto", choices=NEW_DIRECTORIES),
    },
}
TOP_LEVEL_SCALARS: dict[str, _Key] = {"state_dir": _Key("path", None, nullable=True)}
# Sections whose every key has a default may be left out entirely.
REQUIRED_SECTIONS = ("confluence", "local")

# Whole numbers with a range (at least 1, at most the value).
MAX_INTS = {"confluence.max_connections": 256}

# Durations that must be strictly positive (a zero poll interval would spin).
POSITIVE_DURATIONS = {
    "webhook.silence_timeout",
    "webhook.body_timeout",
    "webhook.idle_timeout",
    "poll.interval",
    "poll.full_scan",
}


# --------------------------------------------------------------------------- parsing helpers

_DURATION_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_ENV_REF = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SPACE_KEY = re.compile(r"^~?[A-Za-z0-9][A-Za-z0-9_.\-]*$")


def parse_duration(value: object) -> float:
    """``"15m"`` -> 900.0; numbers are seconds. Raises ValueError with a readable message."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 500ms, 60s, 15m or 6h")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        if not text:
            raise ValueError("expected a duration such as 500ms, 60s, 15m or 6h, got ''")
        try:
            seconds = float(text)
        except ValueError:
            pos, seconds = 0, 0.0
            for match in _DURATION_PART.finditer(text):
                if match.start() != pos:
                    break
                seconds += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
                pos = match.end()
            if pos != len(text) or pos == 0:
                raise ValueError(
                    f"bad duration {value!r}: use a number with a unit (500ms, 60s, 15m, 6h, 1d)"
                ) from None
    else:
        raise ValueError(f"expected a duration such as 60s, got {type(value).__name__}")
    if math.isnan(seconds) or math.isinf(seconds) or seconds < 0:
        raise ValueError(f"bad duration {value!r}: must be a finite, non-negative time")
    return seconds


def parse_listen(value: str) -> tuple[str, int]:
    """``"127.0.0.1:8765"`` -> ("127.0.0.1", 8765); also ``[::1]:8765`` and ``:8765``."""
    text = value.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or not text[end + 1 :].startswith(":"):
            raise ValueError(f"bad listen address {value!r}: expected [IPv6]:port")
        host, port_text = text[1:end], text[end + 2 :]
        ipaddress.IPv6Address(host)
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            raise ValueError(f"bad listen address {value!r}: expected host:port")
        if ":" in host:
            raise ValueError(f"bad listen address {value!r}: put IPv6 hosts in brackets")
        host = host or "127.0.0.1"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"bad listen address {value!r}: port must be 1-65535")
    return host, int(port_text)


def _join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _expand_env(value: str, env: Mapping[str, str]) -> tuple[str, str | None]:
    """Expand ``${VAR}``; returns (text, name of a missing variable or None)."""
    missing: list[str] = []

    def repl(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        missing.append(name)
        return ""

    text = _ENV_REF.sub(repl, value)
    return text, (missing[0] if missing else None)


def _is_literal_secret(raw: object) -> bool:
    """A secret written in the file rather than referenced from the environment."""
    return isinstance(raw, str) and bool(raw) and _ENV_REF.search(raw) is None


# --------------------------------------------------------------------------- loader


@dataclass
class _Located:
    """Line numbers of the YAML document: dotted key -> line of the key (1-based)."""

    lines: dict[str, int]

    def line(self, key: str) -> int | None:
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rpartition(".")[0]
        return None


def _locate(node: yaml.Node | None, path: Path | None) -> tuple[ConfigError | None, _Located]:
    """Walk the composed node tree for key lines, flagging duplicate and non-string keys.

    Each mapping is walked once: an alias reaches the same node again, and following every
    alias would make a small file of nested aliases ("billion laughs") take forever.
    """
    lines: dict[str, int] = {}
    seen: set[int] = set()

    def walk(n: yaml.Node, prefix: str) -> ConfigError | None:
        if not isinstance(n, yaml.MappingNode) or id(n) in seen:
            return None
        seen.add(id(n))
        for key_node, value_node in n.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                return ConfigError(prefix or "", line, "keys must be plain names", path)
            dotted = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            if dotted in lines:
                return ConfigError(
                    dotted, line, f"duplicate key (first set on line {lines[dotted]})", path
                )
            lines[dotted] = line
            err = walk(value_node, dotted)
            if err:
                return err
        return None

    err = walk(node, "") if node is not None else None
    return err, _Located(lines)


def load_config(
    path: str | os.PathLike[str] | None = None, *, env: Mapping[str, str] | None = None
) -> Config:
    """Read, expand and validate the config file (default: :func:`paths.default_config_path`).

    Raises :class:`ConfigError` on any problem; never returns a partly valid config.
    """
    cfg_path = Path(path).expanduser() if path is not None else paths.default_config_path()
    try:
        text = cfg_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigMissing("", None, "config file not found", cfg_path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("", None, f"cannot read config file: {exc}", cfg_path) from None
    try:
        st_mode: int | None = cfg_path.stat().st_mode
    except OSError:
        st_mode = None
    return parse_config(text, path=cfg_path, env=env, file_mode=st_mode)


def parse_config(
    text: str,
    *,
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    file_mode: int | None = None,
) -> Config:
    """Validate config text; ``path`` is used for messages and to anchor relative paths."""
    env = os.environ if env is None else env
    src = Path(path) if path is not None else None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError("", line, f"invalid YAML: {problem}", src) from None
    except yaml.YAMLError as exc:
        raise ConfigError("", None, f"invalid YAML: {exc}", src) from None
    if data is None:
        raise ConfigError("", None, "config file is empty", src)
    if not isinstance(data, dict):
        raise ConfigError("", 1, "the config must be a mapping of sections (confluence:, ...)", src)
    err, located = _locate(node, src)
    if err:
        raise err
    return _Validator(data, located, src, env, file_mode).build()


class _Validator:
    def __init__(
        self,
        data: dict[str, Any],
        located: _Located,
        src: Path | None,
        env: Mapping[str, str],
        file_mode: int | None,
    ) -> None:
        self.data = data
        self.located = located
        self.src = src
        self.env = env
        self.file_mode = file_mode
        self.base_dir = src.parent if src is not None else Path.cwd()
        self.literal_secrets: list[str] = []

    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(key, self.located.line(key), message, self.src)

    def unknown(self, key: str, known: list[str]) -> ConfigError:
        name = key.rpartition(".")[2]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
        return self.error(key, f"unknown key{hint}")

    # -- whole document

    def build(self) -> Config:
        known_top = [*SCHEMA, *TOP_LEVEL_SCALARS]
        for key in self.data:
            if not isinstance(key, str) or key not in known_top:
                raise self.unknown(str(key), known_top)
        sections: dict[str, dict[str, Any]] = {}
        for section, keys in SCHEMA.items():
            raw = self.data.get(section)
            if raw is None:
                if section in REQUIRED_SECTIONS and section not in self.data:
                    raise self.error(section, "missing section")
                raw = {}
            if not isinstance(raw, dict):
                raise self.error(section, f"expected a mapping of keys, got {_type(raw)}")
            for key in raw:
                if not isinstance(key, str) or key not in keys:
                    raise self.unknown(f"{section}.{key}", list(keys))
            sections[section] = {
                name: self.value(f"{section}.{name}", spec, raw, name)
                for name, spec in keys.items()
            }
        top = {
            name: self.value(name, spec, self.data, name)
            for name, spec in TOP_LEVEL_SCALARS.items()
        }

        c = sections["confluence"]
        self.check_gateway(c)
        if c["deployment"] == "cloud" and not c["email"]:
            raise self.error(
                "confluence.email", "required for Cloud (basic auth with email + API token)"
            )
        confluence = ConfluenceConfig(**c)
        if c["deployment"] == "datacenter" and sections["sync"]["new_directories"] == "folder":
            raise self.error(
                "sync.new_directories",
                "'folder' needs Confluence Cloud (Data Center has no folders); use page or auto",
            )

        w = sections["webhook"]
        host, port = w.pop("listen")
        if w["public_url"] is None:
            w["public_url"] = f"http://{_join_host_port(host, port)}/webhook"
        webhook = WebhookConfig(host=host, port=port, **w)

        state_dir = top["state_dir"] or paths.default_state_dir(confluence.space)
        self.check_state_outside_folder(state_dir, sections["local"]["path"])
        return Config(
            confluence=confluence,
            local=LocalConfig(**sections["local"]),
            webhook=webhook,
            poll=PollConfig(**sections["poll"]),
            sync=SyncConfig(**sections["sync"]),
            state_dir=state_dir,
            source=self.src,
            warnings=tuple(self.permission_warnings()),
        )

    def check_gateway(self, c: dict[str, Any]) -> None:
        """``api_url`` is Atlassian's API gateway, which serves Cloud only, with basic auth."""
        from syncd.confluence.scopes import is_gateway_url

        api = c["api_url"]
        if api is not None:
            if not is_gateway_url(api):
                raise self.error(
                    "confluence.api_url",
                    f"expected the API gateway URL https://api.atlassian.com/ex/confluence/"
                    f"<cloudId>, got {api!r} (`syncd init --scoped-token` finds it)",
                )
            c["api_url"] = api.rstrip("/").removesuffix("/wiki")
        gateway = api is not None or is_gateway_url(c["base_url"])
        if not gateway:
            return
        key = "confluence.api_url" if api is not None else "confluence.base_url"
        if c["deployment"] == "datacenter":
            raise self.error(key, "the API gateway serves Confluence Cloud only, not datacenter")
        if not c["email"]:
            raise self.error(
                "confluence.email",
                "required with the API gateway (basic auth with the service account's or "
                "your email + the scoped API token)",
            )

    def check_state_outside_folder(self, state_dir: Path, folder: Path) -> None:
        """The state dir holds a trash of .md files: inside the folder they would be synced
        back as pages. Allowed only under a hidden folder, which syncd never scans."""
        try:
            inner = state_dir.resolve().relative_to(folder.resolve())
        except ValueError:
            return
        if not any(part.startswith(".") for part in inner.parts):
            key = "state_dir" if "state_dir" in self.located.lines else "local.path"
            raise self.error(
                key,
                f"the state directory {state_dir} is inside the synced folder {folder}; "
                "put it elsewhere (or under a hidden folder such as .syncd/)",
            )

    def permission_warnings(self) -> list[str]:
        out: list[str] = []
        if self.file_mode is None or os.name != "posix":
            return out
        mode = stat.S_IMODE(self.file_mode)
        where = self.src or "the config file"
        if self.literal_secrets and mode & 0o077:
            out.append(
                f"{where} is readable by other users and holds a literal secret "
                f"({', '.join(self.literal_secrets)}): run `chmod 600 {where}` or use ${{VAR}}"
            )
        if mode & 0o022:
            # sync.handler is a command syncd runs: whoever can edit the file can run
            # commands as this user, and can point the sync at another server or folder.
            out.append(
                f"{where} is writable by other users, who could make syncd run commands "
                f"(sync.handler) as you: run `chmod go-w {where}`"
            )
        for message in out:
            log.warning("%s", message)
        return out

    # -- one value

    def value(self, key: str, spec: _Key, raw_section: Mapping[str, Any], name: str) -> Any:
        if name not in raw_section:
            if spec.default is _REQUIRED:
                raise self.error(key, "missing required key")
            return self.convert(key, spec, spec.default, from_default=True)
        raw = raw_section[name]
        if raw is None:
            if spec.nullable:
                return None
            if spec.default is _REQUIRED:
                raise self.error(key, "a value is required")
            return self.convert(key, spec, spec.default, from_default=True)
        if isinstance(raw, str):
            if key in SECRET_KEYS and _is_literal_secret(raw):
                self.literal_secrets.append(key)
            expanded, missing = _expand_env(raw, self.env)
            if missing:
                raise self.error(key, f"environment variable {missing} is not set")
            raw = expanded
            if raw == "" and spec.nullable:
                return None
        return self.convert(key, spec, raw)

    def convert(self, key: str, spec: _Key, raw: Any, from_default: bool = False) -> Any:
        converter: Callable[[str, _Key, Any], Any] = getattr(self, f"_as_{spec.kind}")
        if from_default and raw is None:
            return None
        return converter(key, spec, raw)

    def _expect(self, key: str, raw: Any, kinds: type | tuple[type, ...], what: str) -> None:
        if isinstance(raw, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
            raise self.error(key, f"expected {what}, got a boolean")
        if not isinstance(raw, kinds):
            raise self.error(key, f"expected {what}, got {_type(raw)}")

    def _as_str(self, key: str, spec: _Key, raw: Any) -> str:
        self._expect(key, raw, str, "a string")
        if not raw.strip():
            raise self.error(key, "must not be empty")
        return raw

    def _as_space(self, key: str, spec: _Key, raw: Any) -> str:
        self._expect(key, raw, str, "a space key string (quote it)")
        if not _SPACE_KEY.match(raw):
            raise self.error(key, f"bad space key {raw!r}")
        return raw

    def _as_url(self, key: str, spec: _Key, raw: Any) -> str:
        self._expect(key, raw, str, "a URL")
        parts = urlsplit(raw.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise self.error(key, f"expected an http(s) URL, got {raw!r}")
        return raw.strip().rstrip("/") if key == "confluence.base_url" else raw.strip()

    def _as_bool(self, key: str, spec: _Key, raw: Any) -> bool:
        self._expect(key, raw, bool, "true or false")
        return bool(raw)

    def _as_int(self, key: str, spec: _Key, raw: Any) -> int:
        self._expect(key, raw, int, "a whole number")
        if raw < 0:
            raise self.error(key, "must not be negative")
        if key in MAX_INTS and not 1 <= raw <= MAX_INTS[key]:
            raise self.error(key, f"must be between 1 and {MAX_INTS[key]}, got {raw}")
        return int(raw)

    def _as_duration(self, key: str, spec: _Key, raw: Any) -> float:
        try:
            seconds = parse_duration(raw)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None
        if key in POSITIVE_DURATIONS and seconds <= 0:
            raise self.error(key, "must be longer than zero")
        return seconds

    def _as_enum(self, key: str, spec: _Key, raw: Any) -> str:
        if not isinstance(raw, str) or raw not in spec.choices:
            raise self.error(key, f"expected one of {' | '.join(spec.choices)}, got {raw!r}")
        return raw

    def _as_listen(self, key: str, spec: _Key, raw: Any) -> tuple[str, int]:
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = f":{raw}"
        self._expect(key, raw, str, "host:port")
        try:
            return parse_listen(raw)
        except ValueError as exc:
            raise self.error(key, str(exc)) from None

    def _as_page_id(self, key: str, spec: _Key, raw: Any) -> str:
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        self._expect(key, raw, str, "a page id")
        if not raw.strip().isdigit():
            raise self.error(key, f"expected a numeric page id, got {raw!r}")
        return raw.strip()

    def _as_path(self, key: str, spec: _Key, raw: Any) -> Path:
        self._expect(key, raw, str, "a path")
        if not raw.strip():
            raise self.error(key, "must not be empty")
        p = Path(raw).expanduser()
        if not p.is_absolute():
            p = self.base_dir / p
        return Path(os.path.normpath(p))


def _type(value: object) -> str:
    if value is None:
        return "nothing"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }.get(type(value), type(value).__name__)
