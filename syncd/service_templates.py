"""Text of the systemd user units and the launchd agent that run ``syncd run``.

Pure functions, no I/O: ``syncd service install`` fills them in with the real interpreter
and absolute paths of this machine, and the reference copies in ``systemd/`` and
``launchd/`` at the top of the source tree are rendered from the same functions (a test
keeps them identical), so there is one place to change the service definition.

Why the settings are what they are is written as comments into the unit itself, where the
next person reading ``systemctl --user cat syncd`` will look for it.
"""

from __future__ import annotations

import plistlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

UNIT_NAME = "syncd.service"
TEMPLATE_NAME = "syncd@.service"
LAUNCHD_LABEL = "local.syncd"
DROPIN_FILE = "50-config.conf"

# Exit statuses after which restarting cannot help: 2 = bad config, usage, state locked.
NO_RESTART_EXIT_STATUSES = "2"

_SAFE_WORD = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")


def systemd_escape_specifiers(text: str) -> str:
    """Escape ``%`` (unit specifiers) so a literal path survives systemd's expansion."""
    return text.replace("%", "%%")


def systemd_quote(word: str) -> str:
    """Quote one ``ExecStart=`` word: specifiers, variables and spaces stay literal."""
    escaped = systemd_escape_specifiers(word).replace("$", "$$")
    if _SAFE_WORD.match(escaped):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_command_line(argv: Sequence[str]) -> str:
    return " ".join(systemd_quote(word) for word in argv)


@dataclass(frozen=True)
class ServiceSpec:
    """What a service definition needs to know about this machine.

    ``program`` is the command that starts syncd (``[python, "-m", "syncd"]`` or the
    console script). ``config`` is the absolute config path as it must appear in the unit
    (``None`` in the template, which takes it from ``$SYNCD_CONFIG``). ``env_file`` holds
    secrets the config reads as ``${VAR}`` (mode 0600; optional: a ``-`` prefix in the unit).
    ``writable`` lists the synced folder and the state directory, used in the commented
    stricter sandbox block.
    """

    program: tuple[str, ...]
    config: str | None
    env_file: str
    name: str | None = None
    writable: tuple[str, ...] = field(default_factory=tuple)

    def run_argv(self, log_format: str | None = None) -> list[str]:
        argv = [*self.program, "run"]
        if self.config is not None:
            argv += ["--config", self.config]
        return [*argv, "--log-format", log_format] if log_format else argv


_UNIT_HEAD = """\
# syncd: two-way sync of a Markdown folder with a Confluence space (systemd user unit).
#
# Installed by `syncd service install{how}`; remove with `syncd service uninstall`.
# Logs: journalctl --user -u {unit} -f        State: syncd status{status_args}
[Unit]
Description=syncd: Markdown folder <-> Confluence space sync{what}
# No After=network-online.target: a user manager cannot order itself after system
# targets. syncd does not need the network to start; it retries Confluence with back-off.
# Five failed starts within ten minutes stop the restarts (systemctl --user reset-failed
# {unit} to try again): a daemon that keeps crashing needs a human, not a loop.
StartLimitIntervalSec=600
StartLimitBurst=5

[Service]
# syncd speaks sd_notify: READY=1 after start-up, STATUS= lines, STOPPING=1 on shutdown,
# and WATCHDOG=1 from its main loop every WatchdogSec/2 while the loop is healthy.
Type=notify
NotifyAccess=main
WatchdogSec=60
"""

_UNIT_SERVICE = """\
# The config may read secrets as ${{VAR}} (e.g. the API token): keep them in this file,
# mode 0600, one VAR=value per line. The leading "-" makes a missing file harmless.
EnvironmentFile=-{env_file}
# Where a running syncd re-reads the token when Confluence refuses the one it has.
Environment={env_file_var}
Environment=PYTHONUNBUFFERED=1
ExecStart={exec_start}
# No ExecReload=: syncd does not reload on SIGHUP; `systemctl --user restart` instead.
# Back-off: wait 10 s between restarts (on failure or watchdog timeout, not after a clean
# stop). Exit status 2 means a bad config, or another syncd already holds this state:
# restarting would only repeat it.
Restart=on-failure
RestartSec=10
RestartPreventExitStatus={no_restart}
# systemd >= 254 can grow the delay exponentially; enable it where supported:
#RestartSteps=5
#RestartMaxDelaySec=5min
# The first catch-up of a large space runs before READY=1.
TimeoutStartSec=15min
# SIGTERM lets the page in flight finish and the state database close; then SIGKILL
# (safe too: every write is atomic, the state database journaled).
TimeoutStopSec=45
KillMode=mixed
# One line per record in the journal (syncd logs JSON there; journald adds timestamps).
StandardOutput=journal
StandardError=journal
SyslogIdentifier={ident}

# --- Hardening -------------------------------------------------------------------------
# These need no privileges or namespaces, so they work in any user manager:
UMask=0077
NoNewPrivileges=yes
LockPersonality=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RestrictNamespaces=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM
# Unix sockets (sd_notify, control socket, D-Bus for a keyring), IP for Confluence and
# the webhook receiver, netlink for the resolver's interface queries.
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
#
# Left out on purpose:
# - MemoryDenyWriteExecute=: CPython's ctypes/cffi callbacks (libffi closures) may need
#   writable+executable memory; a daemon killed by it on one platform is worse than the
#   protection. Enable it yourself after testing.
# - CapabilityBoundingSet=, AmbientCapabilities=: a user service holds no capabilities.
# - ProtectSystem=, ProtectHome=, PrivateTmp=, PrivateDevices=, ProtectKernel*=,
#   ProtectControlGroups=, ProtectClock=, ProtectHostname=, ProtectProc=, PrivateUsers=:
#   in a user manager each of these needs unprivileged user namespaces; where those are
#   disabled (some distributions, containers, hardened kernels) the service would fail to
#   start with status 226/NAMESPACE. ProtectHome= would also hide the synced folder.
#   If `systemd-analyze --user security {unit}` shows your system supports them, this
#   stricter sandbox keeps syncd to its folder and state (uncomment all four lines):
#PrivateTmp=yes
#ProtectSystem=strict
#ProtectHome=read-only
#ReadWritePaths={writable}

[Install]
WantedBy=default.target
"""


def render_systemd_unit(spec: ServiceSpec) -> str:
    """A single user unit ``syncd.service`` running one config."""
    status_args = f" --config {spec.config}" if spec.config else ""
    head = _UNIT_HEAD.format(
        how="",
        unit=UNIT_NAME,
        status_args=status_args,
        what="",
    )
    return head + _service_body(spec, ident="syncd")


def render_systemd_template(spec: ServiceSpec) -> str:
    """The template ``syncd@.service``: one instance per config, ``syncd@NAME.service``.

    The config path comes from ``SYNCD_CONFIG``: by default ``$XDG_CONFIG_HOME/syncd/NAME.yaml``;
    ``syncd service install --name NAME --config PATH`` sets it in a drop-in.
    """
    head = _UNIT_HEAD.format(
        how=" --name NAME",
        unit="syncd@NAME",
        status_args=" --config <the instance's config>",
        what=" (%i)",
    )
    template_spec = ServiceSpec(
        program=spec.program,
        config=None,
        env_file=spec.env_file,
        writable=spec.writable,
    )
    argv = template_spec.run_argv("json")
    exec_start = systemd_command_line(argv[: len(spec.program) + 1])
    exec_start += " --config ${SYNCD_CONFIG} --log-format json"
    body = _service_body(template_spec, ident="syncd-%i", exec_start=exec_start)
    default_config = (
        "# Default config of instance NAME; `syncd service install --name NAME` overrides it\n"
        "# in syncd@NAME.service.d/" + DROPIN_FILE + ".\n"
        "Environment=SYNCD_CONFIG=%E/syncd/%i.yaml\n"
    )
    return head + default_config + body


def render_instance_dropin(config: str, env_file: str | None = None) -> str:
    """The drop-in that points one template instance at its config (and env file)."""
    lines = [
        "# Written by `syncd service install --name`: this instance's config.",
        "[Service]",
        f"Environment={systemd_quote('SYNCD_CONFIG=' + config)}",
    ]
    if env_file:
        lines.append(f"EnvironmentFile=-{systemd_escape_specifiers(env_file)}")
        lines.append(f"Environment={systemd_quote('SYNCD_ENV_FILE=' + env_file)}")
    return "\n".join(lines) + "\n"


def _service_body(spec: ServiceSpec, *, ident: str, exec_start: str | None = None) -> str:
    if exec_start is None:
        exec_start = systemd_command_line(spec.run_argv("json"))
    writable = " ".join(systemd_quote(p) for p in spec.writable) or "<folder> <state dir>"
    return _UNIT_SERVICE.format(
        env_file=systemd_escape_specifiers(spec.env_file),
        env_file_var=systemd_quote("SYNCD_ENV_FILE=" + spec.env_file),
        exec_start=exec_start,
        no_restart=NO_RESTART_EXIT_STATUSES,
        ident=ident,
        unit=UNIT_NAME if ident == "syncd" else "syncd@NAME",
        writable=writable,
    )


# --------------------------------------------------------------------------- launchd

# Runs the command with the env file's variables set, so secrets stay out of the plist
# (which is a world-readable file in ~/Library/LaunchAgents). $0 is the env file; it is also
# exported as SYNCD_ENV_FILE, where a running syncd re-reads a refused token.
LAUNCHD_ENV_WRAPPER = (
    'set -a; SYNCD_ENV_FILE="$0"; if [ -r "$0" ]; then . "$0"; fi; set +a; exec "$@"'
)


def launchd_label(name: str | None) -> str:
    return f"{LAUNCHD_LABEL}.{name}" if name else LAUNCHD_LABEL


def launchd_agent(spec: ServiceSpec, *, log_dir: str, home: str) -> dict[str, object]:
    """The LaunchAgent as a plist dictionary (see ``render_launchd_plist``).

    ``KeepAlive`` restarts on a non-zero exit or crash only (a clean stop exits 0);
    ``ThrottleInterval`` spaces restarts 30 s apart; launchd has no notion of a bad-config
    exit, so syncd's status tells why it keeps failing. ``RunAtLoad`` starts it at login.
    """
    label = launchd_label(spec.name)
    stem = f"syncd-{spec.name}" if spec.name else "syncd"
    return {
        "Label": label,
        "ProgramArguments": [
            "/bin/sh",
            "-c",
            LAUNCHD_ENV_WRAPPER,
            spec.env_file,
            *spec.run_argv(),
        ],
        "RunAtLoad": True,
        "KeepAlive": {"SuccessfulExit": False},
        "ThrottleInterval": 30,
        "ExitTimeOut": 45,
        "ProcessType": "Background",
        "LowPriorityIO": True,
        "Umask": 0o077,
        "WorkingDirectory": home,
        "EnvironmentVariables": {"PYTHONUNBUFFERED": "1"},
        "StandardOutPath": f"{log_dir}/{stem}.out.log",
        "StandardErrorPath": f"{log_dir}/{stem}.err.log",
    }


def render_launchd_plist(spec: ServiceSpec, *, log_dir: str, home: str) -> bytes:
    return plistlib.dumps(launchd_agent(spec, log_dir=log_dir, home=home), sort_keys=False)


# --------------------------------------------------------------------------- reference copies

REFERENCE_PROGRAM = ("%h/.local/bin/syncd",)
REFERENCE_CONFIG = "%E/syncd/config.yaml"
REFERENCE_ENV_FILE = "%E/syncd/env"


def reference_files() -> dict[str, str | bytes]:
    """The files kept in ``systemd/`` and ``launchd/`` (for reading and manual installs)."""
    unit_spec = ServiceSpec(
        program=REFERENCE_PROGRAM, config=REFERENCE_CONFIG, env_file=REFERENCE_ENV_FILE
    )
    unit = render_systemd_unit(unit_spec)
    template = render_systemd_template(unit_spec)
    # Specifiers must stay live in the reference copies (they are not literal paths).
    unit = _unescape_reference(unit)
    template = _unescape_reference(template)
    home = "/Users/USERNAME"
    plist_spec = ServiceSpec(
        program=(f"{home}/.local/bin/syncd",),
        config=f"{home}/Library/Application Support/syncd/config.yaml",
        env_file=f"{home}/Library/Application Support/syncd/env",
    )
    plist = render_launchd_plist(plist_spec, log_dir=f"{home}/Library/Logs/syncd", home=home)
    return {
        "systemd/syncd.service": unit,
        "systemd/syncd@.service": template,
        f"launchd/{LAUNCHD_LABEL}.plist": plist,
    }


def _unescape_reference(text: str) -> str:
    return text.replace("%%h", "%h").replace("%%E", "%E")
