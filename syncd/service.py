"""``syncd service``: install, uninstall and inspect the background service.

Linux gets a systemd *user* unit in ``$XDG_CONFIG_HOME/systemd/user``; macOS a LaunchAgent in
``~/Library/LaunchAgents``. The files name this machine's interpreter and the absolute config
path, so nothing needs editing by hand. Without ``--now`` the service-manager commands are
printed rather than run, which keeps ``install`` safe to try and easy to script.

Secrets the config reads as ``${VAR}`` are not in a service's environment (it does not see the
login shell), so the service reads them from an env file next to the config (mode 0600);
``--copy-env`` copies them there from the current shell.
"""

from __future__ import annotations

import argparse
import getpass
import os
import plistlib
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from syncd import paths
from syncd import service_templates as tpl
from syncd.config import Config, ConfigError, load_config

MARKER = "syncd service install"
_ENV_REF = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:-[^}]*)?\}")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="service_action", metavar="ACTION", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--name",
            help="instance name, for one service per config (systemd: syncd@NAME.service)",
        )
        p.add_argument(
            "--manager",
            choices=("systemd", "launchd"),
            help="service manager (default: launchd on macOS, systemd elsewhere)",
        )

    install = sub.add_parser(
        "install",
        help="write the service definition for this machine",
        description="Write a systemd user unit (Linux) or LaunchAgent (macOS) that runs "
        "`syncd run` with this interpreter and config, then print (or with --now run) "
        "the commands that enable and start it.",
    )
    install.add_argument("--config", help="config file (default: the platform config path)")
    install.add_argument("--now", action="store_true", help="enable and start the service now")
    install.add_argument(
        "--dry-run", action="store_true", help="show what would be written; change nothing"
    )
    install.add_argument(
        "--copy-env",
        action="store_true",
        help="copy the environment variables the config reads (e.g. the API token) from "
        "this shell into the service's env file (mode 0600)",
    )
    install.add_argument(
        "--force", action="store_true", help="replace a service file not written by syncd"
    )
    common(install)

    uninstall = sub.add_parser(
        "uninstall",
        help="remove the service definition",
        description="Disable the service and remove its files (the config, state and "
        "synced folder are left alone).",
    )
    uninstall.add_argument(
        "--now", action="store_true", help="also stop it now (runs systemctl/launchctl)"
    )
    uninstall.add_argument("--dry-run", action="store_true", help="show what would be removed")
    common(uninstall)

    status = sub.add_parser(
        "status",
        help="show the service manager's view and syncd's own status",
        description="Where the service is installed, what the service manager says about it, "
        "and the output of `syncd status`.",
    )
    status.add_argument(
        "--config", help="the config the service should run (checked against the installed one)"
    )
    common(status)


def run(args: argparse.Namespace) -> int:
    if args.name is not None and not _NAME.match(args.name):
        print(
            f"syncd service: bad --name {args.name!r}: use letters, digits, '.', '_' or '-'",
            file=sys.stderr,
        )
        return 2
    manager = args.manager or ("launchd" if sys.platform == "darwin" else "systemd")
    target = ServiceTarget.for_manager(manager, args.name)
    action = args.service_action
    if action == "install":
        return install(target, args)
    if action == "uninstall":
        return uninstall(target, args)
    return status(target, getattr(args, "config", None))


# --------------------------------------------------------------------------- where things go


def _home() -> Path:
    return Path(os.environ.get("HOME") or Path.home())


def systemd_user_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(_home() / ".config")
    return Path(base) / "systemd" / "user"


def env_file_path() -> Path:
    return paths.default_config_dir() / "env"


@dataclass(frozen=True)
class ServiceTarget:
    """The files and service-manager names of one installed service."""

    manager: str  # "systemd" | "launchd"
    name: str | None
    unit: str  # systemd unit name or launchd label
    files: tuple[Path, ...]  # every file install writes, the main one first

    @classmethod
    def for_manager(cls, manager: str, name: str | None) -> ServiceTarget:
        if manager == "launchd":
            label = tpl.launchd_label(name)
            plist = _home() / "Library" / "LaunchAgents" / f"{label}.plist"
            return cls("launchd", name, label, (plist,))
        unit_dir = systemd_user_dir()
        if name:
            unit = f"syncd@{name}.service"
            dropin = unit_dir / f"{unit}.d" / tpl.DROPIN_FILE
            return cls("systemd", name, unit, (dropin, unit_dir / tpl.TEMPLATE_NAME))
        return cls("systemd", None, tpl.UNIT_NAME, (unit_dir / tpl.UNIT_NAME,))

    @property
    def main_file(self) -> Path:
        return self.files[0]

    def enable_commands(self) -> list[list[str]]:
        if self.manager == "systemd":
            return [
                ["systemctl", "--user", "daemon-reload"],
                ["systemctl", "--user", "enable", "--now", self.unit],
            ]
        domain = f"gui/{os.getuid()}"
        return [
            ["launchctl", "bootout", f"{domain}/{self.unit}"],  # may fail: not loaded yet
            ["launchctl", "bootstrap", domain, str(self.main_file)],
        ]

    def restart_command(self) -> list[str]:
        if self.manager == "systemd":
            return ["systemctl", "--user", "restart", self.unit]
        return ["launchctl", "kickstart", "-k", f"gui/{os.getuid()}/{self.unit}"]

    def disable_commands(self) -> list[list[str]]:
        if self.manager == "systemd":
            return [["systemctl", "--user", "disable", "--now", self.unit]]
        return [["launchctl", "bootout", f"gui/{os.getuid()}/{self.unit}"]]

    def logs_hint(self, log_dir: Path | None = None) -> str:
        if self.manager == "systemd":
            return f"journalctl --user -u {self.unit} -f"
        log_dir = log_dir or launchd_log_dir()
        stem = f"syncd-{self.name}" if self.name else "syncd"
        return f"tail -f {shlex.quote(str(log_dir / f'{stem}.err.log'))}"


def launchd_log_dir() -> Path:
    return _home() / "Library" / "Logs" / "syncd"


# --------------------------------------------------------------------------- install


def _program() -> tuple[str, ...]:
    """This interpreter running the syncd package: right for venvs, pipx and system installs.

    ``absolute()`` rather than ``resolve()``: a venv's python is a symlink whose own path is
    what selects the venv's site-packages.
    """
    return (str(Path(sys.executable).absolute()), "-m", "syncd")


def _load(config_path: Path) -> Config | None:
    try:
        return load_config(config_path, env=_ConfigEnv())
    except ConfigError as err:
        print(f"syncd service: {err}", file=sys.stderr)
        if not config_path.exists():
            print("  create one with `syncd init` (or pass --config PATH)", file=sys.stderr)
        return None


class _ConfigEnv(dict[str, str]):
    """The environment for validating the config at install time: variables the service
    will get from its env file may be missing from this shell, which is not an error here."""

    def __init__(self) -> None:
        super().__init__(os.environ)
        self.update(read_env_file(env_file_path()))

    def __missing__(self, key: str) -> str:
        return "unset"

    def __contains__(self, key: object) -> bool:  # every ${VAR} resolves (maybe to "")
        return True


def referenced_variables(config_text: str) -> list[str]:
    """Names of ``${VAR}`` references without a ``:-default`` in the config text."""
    seen: list[str] = []
    for line in config_text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        for match in _ENV_REF.finditer(line):
            if match.group(2) is None and match.group(1) not in seen:
                seen.append(match.group(1))
    return seen


def read_env_file(path: Path) -> dict[str, str]:
    """``VAR=value`` lines of a systemd-style env file (comments and blanks skipped)."""
    out: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return out
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key] = value
    return out


def _env_line(key: str, value: str) -> str:
    """A line both systemd's EnvironmentFile= and a POSIX shell read the same way."""
    if re.fullmatch(r"[A-Za-z0-9_@%+=:,./-]*", value):
        return f"{key}={value}"
    return f"{key}='" + value.replace("'", "'\\''") + "'"


def append_env(path: Path, values: dict[str, str]) -> None:
    """Add variables to the env file, which is (re)written owner-only, atomically."""
    existing = path.read_text(encoding="utf-8") if path.exists() else ""
    if existing and not existing.endswith("\n"):
        existing += "\n"
    text = existing + "".join(_env_line(k, v) + "\n" for k, v in values.items())
    write_private(path, text.encode())


def write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``path`` atomically with ``mode`` (temp file in the same folder, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _owned_by_syncd(path: Path) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return True  # nothing there
    return MARKER.encode() in data or b"<string>local.syncd" in data


def render(target: ServiceTarget, config: Config, config_path: Path) -> dict[Path, bytes]:
    """The files to write for ``target``, keyed by path."""
    writable = (str(config.local.path), str(config.state_dir))
    spec = tpl.ServiceSpec(
        program=_program(),
        config=str(config_path),
        env_file=str(env_file_path()),
        name=target.name,
        writable=writable,
    )
    if target.manager == "launchd":
        plist = tpl.render_launchd_plist(spec, log_dir=str(launchd_log_dir()), home=str(_home()))
        return {target.main_file: plist}
    if target.name:
        dropin, template = target.files
        template_spec = tpl.ServiceSpec(
            program=spec.program, config=None, env_file=spec.env_file, writable=writable
        )
        return {
            template: tpl.render_systemd_template(template_spec).encode(),
            dropin: tpl.render_instance_dropin(str(config_path)).encode(),
        }
    return {target.main_file: tpl.render_systemd_unit(spec).encode()}


def install(target: ServiceTarget, args: argparse.Namespace) -> int:
    config_path = Path(args.config or paths.default_config_path()).expanduser().absolute()
    config = _load(config_path)
    if config is None:
        return 2
    files = render(target, config, config_path)
    if not args.force:
        foreign = [p for p in files if p.exists() and not _owned_by_syncd(p)]
        if foreign:
            print(
                f"syncd service: {foreign[0]} exists and was not written by syncd; "
                "move it away or pass --force",
                file=sys.stderr,
            )
            return 1

    env_path = env_file_path()
    missing_env = _missing_service_env(config_path, env_path)
    if args.dry_run:
        for path, data in files.items():
            print(f"# would write {path}")
            print(data.decode(), end="" if data.endswith(b"\n") else "\n")
        copyable = [k for k in missing_env if args.copy_env and k in os.environ]
        if copyable:
            print(f"# would add {', '.join(copyable)} to {env_path} (mode 0600)")
        for name in missing_env:
            if name not in copyable:
                print(_env_warning(name, env_path, args.copy_env), file=sys.stderr)
        print("# then run:")
        for argv in target.enable_commands():
            print("  " + shlex.join(argv))
        return 0

    for path, data in files.items():
        write_private(path, data, mode=0o644 if target.manager == "systemd" else 0o600)
        print(f"wrote {path}")
    if target.manager == "launchd":
        launchd_log_dir().mkdir(parents=True, exist_ok=True, mode=0o700)

    if missing_env:
        copyable = {k: os.environ[k] for k in missing_env if k in os.environ}
        if args.copy_env and copyable:
            append_env(env_path, copyable)
            print(f"copied {', '.join(copyable)} into {env_path} (mode 0600)")
            missing_env = [k for k in missing_env if k not in copyable]
        for name in missing_env:
            print(_env_warning(name, env_path, args.copy_env), file=sys.stderr)

    commands = target.enable_commands()
    if args.now:
        code = _run_commands(commands, tolerate_first=target.manager == "launchd")
        if code:
            return code
        print(f"started {target.unit}")
    else:
        print("to enable and start it now (or rerun with --now):")
        for argv in commands:
            print("  " + shlex.join(argv))
    if target.manager == "systemd":
        print(
            "to keep it running while you are logged out: "
            + shlex.join(["loginctl", "enable-linger", getpass.getuser()])
        )
    status_argv = ["syncd", "status", "--config", str(config_path)]
    print(f"then: {shlex.join(status_argv)}    logs: {target.logs_hint()}")
    return 0


def _env_warning(name: str, env_path: Path, copy_env: bool) -> str:
    """The service sees only its env file: say the variable is not there, and how to fix it."""
    where = f"{env_path} has no {name}" if env_path.exists() else f"{env_path} does not exist"
    return (
        f"warning: the config reads ${{{name}}}, but the service does not see your shell's "
        f"environment and its env file {where}: add {name}=... there (chmod 600)"
        + (f"; ${name} is not set in this shell either" if copy_env else ", or add --copy-env")
    )


def _missing_service_env(config_path: Path, env_path: Path) -> list[str]:
    try:
        text = config_path.read_text(encoding="utf-8")
    except OSError:
        return []
    in_file = read_env_file(env_path)
    return [name for name in referenced_variables(text) if name not in in_file]


def run_command(argv: Sequence[str]) -> int:
    """Run a service-manager command in the foreground (the one place syncd does)."""
    sys.stdout.flush()
    return subprocess.run(list(argv), check=False).returncode


def _run_commands(commands: Sequence[Sequence[str]], *, tolerate_first: bool = False) -> int:
    for index, argv in enumerate(commands):
        if shutil.which(argv[0]) is None:
            print(f"syncd service: {argv[0]} not found; run these yourself:", file=sys.stderr)
            for rest in commands[index:]:
                print("  " + shlex.join(rest), file=sys.stderr)
            return 1
        print("$ " + shlex.join(argv), flush=True)
        code = run_command(argv)
        if code and not (tolerate_first and index == 0):
            print(
                f"syncd service: `{shlex.join(argv)}` failed with status {code}",
                file=sys.stderr,
            )
            return 1
    return 0


# --------------------------------------------------------------------------- uninstall


def uninstall(target: ServiceTarget, args: argparse.Namespace) -> int:
    present = [p for p in target.files if p.exists()]
    # The template is shared by every instance: keep it while other instances use it.
    if target.manager == "systemd" and target.name:
        template = target.files[1]
        others = [
            d
            for d in template.parent.glob("syncd@*.service.d")
            if d.name != f"{target.unit}.d" and (d / tpl.DROPIN_FILE).exists()
        ]
        if others and template in present:
            present.remove(template)
    wants = systemd_user_dir() / "default.target.wants" / target.unit
    if not present and not wants.is_symlink():
        print(f"{target.unit} is not installed (no {target.main_file})")
        return 0
    if args.dry_run:
        if args.now:
            for argv in target.disable_commands():
                print("would run: " + shlex.join(argv))
        for path in present:
            print(f"would remove {path}")
        return 0
    if args.now:
        _run_commands(target.disable_commands())  # a unit that is not running is fine
    if target.manager == "systemd" and wants.is_symlink():
        wants.unlink()  # what `systemctl disable` does, so nothing points at a removed unit
    for path in present:
        path.unlink()
        print(f"removed {path}")
        if path.parent.name.endswith(".service.d"):
            try:
                path.parent.rmdir()
            except OSError:
                pass  # the user's own drop-ins are still there
    if target.manager == "systemd":
        reload = ["systemctl", "--user", "daemon-reload"]
        if args.now:
            _run_commands([reload])
        else:
            print("if it is running, stop it with:")
            print("  " + shlex.join(["systemctl", "--user", "stop", target.unit]))
            print("  " + shlex.join(reload))
    elif not args.now:
        print("if it is loaded, unload it with:")
        for argv in target.disable_commands():
            print("  " + shlex.join(argv))
    print("the config, state and synced folder were left in place")
    return 0


# --------------------------------------------------------------------------- status


def installed_config(target: ServiceTarget) -> Path | None:
    """The config path the installed service runs with (None if not installed)."""
    path = target.main_file
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if target.manager == "launchd":
        try:
            argv = plistlib.loads(data).get("ProgramArguments", [])
        except Exception:
            return None
        return _after_flag(argv, "--config")
    for line in data.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition("=")
        value = value.replace("$$", "$").replace("%%", "%")
        if key == "ExecStart":
            return _after_flag(shlex.split(value), "--config")
        if key == "Environment":
            for word in shlex.split(value):
                if word.startswith("SYNCD_CONFIG="):
                    return Path(word.partition("=")[2])
    return None


def _after_flag(argv: Sequence[str], flag: str) -> Path | None:
    for index, word in enumerate(argv[:-1]):
        if word == flag:
            return Path(argv[index + 1])
    return None


def status(target: ServiceTarget, config: str | None = None) -> int:
    """``config``: the config the user means; said when the installed service runs another."""
    wanted = Path(config).expanduser().absolute() if config else None
    config_path = installed_config(target)
    if config_path is None:
        print(f"{target.unit}: not installed (no {target.main_file})")
        flag = f" --config {shlex.quote(str(wanted))}" if wanted else ""
        print(f"install it with `syncd service install{flag}` (add --now to start it)")
        return 3
    print(f"{target.unit}: installed at {target.main_file}")
    print(f"config: {config_path}")
    if wanted is not None and Path(config_path).absolute() != wanted:
        print(
            f"note: {target.unit} runs {config_path}, not {wanted}; a service for another "
            "config is installed with --name NAME (then: syncd service status --name NAME)"
        )
    if target.manager == "systemd":
        manager_view = ["systemctl", "--user", "status", "--no-pager", "--lines=5", target.unit]
    else:
        manager_view = ["launchctl", "print", f"gui/{os.getuid()}/{target.unit}"]
    print(f"service manager: {shlex.join(manager_view)}")
    print(f"logs: {target.logs_hint()}")
    if shutil.which(manager_view[0]):
        run_command(manager_view)
    print()
    syncd_status = [*_program(), "status", "--config", str(config_path)]
    print("syncd's own view: " + shlex.join(["syncd", "status", "--config", str(config_path)]))
    from syncd.cli import COMMANDS

    if "status" not in COMMANDS:
        return 0
    return run_command(syncd_status)
