"""`syncd service`: the unit and plist it writes are valid and point at this machine's
interpreter and config; install/uninstall work in a private HOME without a service manager."""

from __future__ import annotations

import os
import plistlib
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from syncd import service, service_templates
from syncd.config import load_config

from .conftest import Home, run_syncd

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def write_config(home: Home, *, folder: str = "docs", token: str = "${SYNCD_TEST_TOKEN}") -> Path:
    path = home.config_path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "confluence:\n"
        "  base_url: https://confluence.example.com\n"
        "  deployment: datacenter\n"
        "  space: DOCS\n"
        f'  token: "{token}"\n'
        "local:\n"
        f'  path: "{folder}"\n'
    )
    path.chmod(0o600)
    return path


@pytest.fixture
def no_service_manager(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Fail the test if anything would change the service manager's state; read-only
    status queries are recorded and answer "not running" (3)."""
    calls: list[list[str]] = []

    def refuse(argv):
        if "status" in argv:
            calls.append(list(argv))
            return 3
        raise AssertionError(f"tried to run {argv}")

    monkeypatch.setattr(service, "run_command", refuse)
    return calls


def parse_unit(text: str) -> dict[str, list[tuple[str, str]]]:
    """systemd's ini dialect: comments with # or ;, repeated keys allowed, no interpolation."""
    sections: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        assert current is not None, f"line {number} outside a section: {raw!r}"
        assert "=" in line, f"line {number} is not key=value: {raw!r}"
        key, _, value = line.partition("=")
        assert key.strip() == key and key, f"line {number}: bad key {key!r}"
        current.append((key, value))
    return sections


def values(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> list[str]:
    return [v for k, v in unit.get(section, []) if k == key]


def one(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> str:
    found = values(unit, section, key)
    assert len(found) == 1, f"[{section}] {key}= appears {len(found)} times"
    return found[0]


def systemd_verify(unit_path: Path, home: Home, tmp_path: Path) -> str | None:
    """Output of `systemd-analyze --user verify`, or None when it cannot run here."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return None
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    result = subprocess.run(
        [tool, "--user", "verify", "--man=no", str(unit_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = (result.stdout + result.stderr).strip()
    if "Failed to initialize manager" in output or "Failed to lookup" in output:
        return None  # no user manager support in this environment
    return output


# --------------------------------------------------------------------------- systemd unit


def test_install_writes_a_valid_user_unit_for_this_interpreter(
    home: Home, tmp_path: Path, no_service_manager
) -> None:
    config = write_config(home)
    result = run_syncd("service", "install", "--manager", "systemd", "--config", str(config))
    assert result.code == 0, result.err
    unit_path = home.unit_dir / "syncd.service"
    assert f"wrote {unit_path}" in result.out
    # Without --now the enable commands are printed, not run.
    assert "systemctl --user daemon-reload" in result.out
    assert "systemctl --user enable --now syncd.service" in result.out
    assert no_service_manager == []  # nothing ran at all

    unit = parse_unit(unit_path.read_text())
    assert one(unit, "Service", "Type") == "notify"
    assert one(unit, "Service", "NotifyAccess") == "main"
    assert int(one(unit, "Service", "WatchdogSec")) > 0
    assert one(unit, "Service", "Restart") == "on-failure"
    assert int(one(unit, "Service", "RestartSec")) >= 5
    assert one(unit, "Service", "RestartPreventExitStatus") == "2"
    assert int(one(unit, "Unit", "StartLimitBurst")) >= 3
    assert int(one(unit, "Unit", "StartLimitIntervalSec")) >= 60
    assert one(unit, "Service", "StandardOutput") == "journal"
    assert one(unit, "Install", "WantedBy") == "default.target"
    for key in ("NoNewPrivileges", "LockPersonality", "RestrictRealtime", "RestrictSUIDSGID"):
        assert one(unit, "Service", key) == "yes", key
    assert one(unit, "Service", "UMask") == "0077"
    assert one(unit, "Service", "SystemCallFilter") == "@system-service"
    # Options that need user namespaces are explained, not set.
    assert not values(unit, "Service", "ProtectHome")
    assert "# Left out on purpose:" in unit_path.read_text()

    argv = shlex.split(one(unit, "Service", "ExecStart"))
    assert argv[:3] == [str(Path(sys.executable).absolute()), "-m", "syncd"]
    assert argv[3:] == ["run", "--config", str(config), "--log-format", "json"]
    env_file = one(unit, "Service", "EnvironmentFile")
    assert env_file == f"-{home.config_home / 'syncd' / 'env'}"
    # The config reads ${SYNCD_TEST_TOKEN}: the service cannot see this shell, so say so.
    assert "SYNCD_TEST_TOKEN" in result.err and "--copy-env" in result.err

    output = systemd_verify(unit_path, home, tmp_path)
    if output is None:
        pytest.skip("systemd-analyze is not installed (or has no user manager here)")
    assert output == "", output


def test_template_instance_points_at_its_config(home: Home, tmp_path: Path, no_service_manager):
    config = write_config(home)
    other = config.with_name("work space.yaml")
    other.write_bytes(config.read_bytes())
    result = run_syncd(
        "service", "install", "--manager", "systemd", "--name", "work", "--config", str(other)
    )
    assert result.code == 0, result.err
    template = home.unit_dir / "syncd@.service"
    dropin = home.unit_dir / "syncd@work.service.d" / "50-config.conf"
    unit = parse_unit(template.read_text())
    assert one(unit, "Service", "Type") == "notify"
    assert "--config ${SYNCD_CONFIG}" in one(unit, "Service", "ExecStart")
    assert one(unit, "Service", "SyslogIdentifier") == "syncd-%i"
    drop = parse_unit(dropin.read_text())
    assert shlex.split(one(drop, "Service", "Environment")) == [f"SYNCD_CONFIG={other}"]
    target = service.ServiceTarget.for_manager("systemd", "work")
    assert service.installed_config(target) == other
    assert "systemctl --user enable --now syncd@work.service" in result.out

    output = systemd_verify(home.unit_dir / "syncd@work.service", home, tmp_path)
    if output is None:
        pytest.skip("systemd-analyze is not installed (or has no user manager here)")
    assert output == "", output


def test_paths_with_spaces_and_percent_survive_systemd_quoting(home: Home, no_service_manager):
    config = home.root / "my 100% configs" / "sync$d.yaml"
    config.parent.mkdir()
    config.write_text(write_config(home).read_text())
    assert (
        run_syncd("service", "install", "--manager", "systemd", "--config", str(config)).code == 0
    )
    unit_text = (home.unit_dir / "syncd.service").read_text()
    assert "100%% configs" in unit_text and "sync$$d.yaml" in unit_text
    target = service.ServiceTarget.for_manager("systemd", None)
    assert service.installed_config(target) == config


def test_reference_units_in_the_tree_match_the_renderer() -> None:
    for rel, expected in service_templates.reference_files().items():
        path = PROJECT_ROOT / rel
        data = expected if isinstance(expected, bytes) else expected.encode()
        assert path.read_bytes() == data, f"{rel} is stale: regenerate it from service_templates"


def test_units_tell_the_daemon_where_its_env_file_is() -> None:
    """A daemon whose token is refused re-reads the env file the service reads its secrets from
    ($SYNCD_ENV_FILE, daemon/credentials.py): every unit and instance drop-in names it."""
    spec = service_templates.ServiceSpec(
        program=("/opt/syncd",), config="/etc/syncd/docs.yaml", env_file="/srv/syncd/docs env"
    )
    for unit in (
        service_templates.render_systemd_unit(spec),
        service_templates.render_systemd_template(spec),
    ):
        assert 'Environment="SYNCD_ENV_FILE=/srv/syncd/docs env"' in unit
    dropin = service_templates.render_instance_dropin("/etc/syncd/docs.yaml", "/srv/syncd/e%v")
    assert "EnvironmentFile=-/srv/syncd/e%%v" in dropin
    assert "Environment=SYNCD_ENV_FILE=/srv/syncd/e%%v" in dropin


def test_bad_config_is_refused_before_writing(home: Home, no_service_manager) -> None:
    home.config_path.parent.mkdir(parents=True)
    home.config_path.write_text("confluence:\n  base_url: nope\n")
    result = run_syncd("service", "install", "--manager", "systemd")
    assert result.code == 2
    assert "confluence.base_url" in result.err or "missing" in result.err
    assert not (home.unit_dir / "syncd.service").exists()


def test_missing_config_suggests_init(home: Home, no_service_manager) -> None:
    result = run_syncd("service", "install", "--manager", "systemd")
    assert result.code == 2
    assert "syncd init" in result.err


# --------------------------------------------------------------------------- launchd


def test_install_writes_a_valid_launch_agent(home: Home, no_service_manager) -> None:
    config = write_config(home)
    result = run_syncd("service", "install", "--manager", "launchd", "--config", str(config))
    assert result.code == 0, result.err
    plist_path = home.root / "Library" / "LaunchAgents" / "local.syncd.plist"
    with plist_path.open("rb") as fh:
        agent = plistlib.load(fh)
    assert agent["Label"] == "local.syncd"
    assert agent["RunAtLoad"] is True
    assert agent["KeepAlive"] == {"SuccessfulExit": False}
    assert isinstance(agent["ThrottleInterval"], int) and agent["ThrottleInterval"] >= 10
    logs = home.root / "Library" / "Logs" / "syncd"
    assert Path(agent["StandardOutPath"]).parent == logs
    assert Path(agent["StandardErrorPath"]).parent == logs
    assert logs.is_dir()
    argv = agent["ProgramArguments"]
    assert argv[:2] == ["/bin/sh", "-c"]
    run_argv = argv[4:]
    assert run_argv == [
        str(Path(sys.executable).absolute()),
        "-m",
        "syncd",
        "run",
        "--config",
        str(config),
    ]
    # No secret in the plist: the env file is sourced by the wrapper at start.
    assert argv[3] == str(home.config_home / "syncd" / "env")
    assert "EnvironmentVariables" not in agent or set(agent["EnvironmentVariables"]) == {
        "PYTHONUNBUFFERED"
    }
    assert "launchctl bootstrap gui/" in result.out
    assert stat.S_IMODE(plist_path.stat().st_mode) == 0o600


def test_launchd_wrapper_exports_the_env_file(tmp_path: Path) -> None:
    """The sh wrapper really sets the env file's variables for the program it execs."""
    env_file = tmp_path / "env"
    env_file.write_text("SYNCD_T=it's a secret\n".replace("it's a secret", "'it'\\''s x'"))
    argv = [
        "/bin/sh",
        "-c",
        service_templates.LAUNCHD_ENV_WRAPPER,
        str(env_file),
        sys.executable,
        "-c",
        "import os; print(os.environ['SYNCD_T']); print(os.environ['SYNCD_ENV_FILE'])",
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=30, env={})
    # SYNCD_ENV_FILE: where a running daemon re-reads a refused token (daemon/credentials.py).
    assert out.stdout.splitlines() == ["it's x", str(env_file)], out.stderr
    missing = [*argv[:3], str(tmp_path / "absent"), "/bin/echo", "started"]
    out = subprocess.run(missing, capture_output=True, text=True, timeout=30)
    assert out.stdout.strip() == "started"


# --------------------------------------------------------------------------- lifecycle


def test_install_uninstall_round_trip(home: Home, no_service_manager) -> None:
    config = write_config(home)
    assert (
        run_syncd("service", "install", "--manager", "systemd", "--config", str(config)).code == 0
    )
    unit = home.unit_dir / "syncd.service"
    # What `systemctl --user enable` would have created:
    wants = home.unit_dir / "default.target.wants"
    wants.mkdir()
    (wants / "syncd.service").symlink_to(unit)

    status = run_syncd("service", "status", "--manager", "systemd")
    assert f"config: {config}" in status.out
    assert "journalctl --user -u syncd.service" in status.out
    assert status.code == 3  # syncd status: not running
    assert ["systemctl", "--user", "status", "--no-pager", "--lines=5", "syncd.service"] in (
        no_service_manager
    ) or shutil.which("systemctl") is None
    assert any(c[-3:] == ["status", "--config", str(config)] for c in no_service_manager)

    result = run_syncd("service", "uninstall", "--manager", "systemd")
    assert result.code == 0, result.err
    assert not unit.exists()
    assert not (wants / "syncd.service").is_symlink()
    assert "systemctl --user stop syncd.service" in result.out
    assert config.exists(), "the config is never removed"

    again = run_syncd("service", "uninstall", "--manager", "systemd")
    assert again.code == 0 and "not installed" in again.out
    gone = run_syncd("service", "status", "--manager", "systemd")
    assert gone.code == 3 and "not installed" in gone.out


def test_uninstall_keeps_the_template_while_other_instances_use_it(home: Home, no_service_manager):
    config = write_config(home)
    for name in ("a", "b"):
        r = run_syncd(
            "service", "install", "--manager", "systemd", "--name", name, "--config", str(config)
        )
        assert r.code == 0, r.err
    assert run_syncd("service", "uninstall", "--manager", "systemd", "--name", "a").code == 0
    assert not (home.unit_dir / "syncd@a.service.d").exists()
    assert (home.unit_dir / "syncd@.service").exists()
    assert run_syncd("service", "uninstall", "--manager", "systemd", "--name", "b").code == 0
    assert not (home.unit_dir / "syncd@.service").exists()


def test_dry_run_writes_nothing(home: Home, no_service_manager) -> None:
    write_config(home)
    result = run_syncd("service", "install", "--manager", "systemd", "--dry-run")
    assert result.code == 0
    assert "Type=notify" in result.out and "would write" in result.out
    assert not home.unit_dir.exists()


def test_foreign_unit_is_not_overwritten_without_force(home: Home, no_service_manager) -> None:
    write_config(home)
    home.unit_dir.mkdir(parents=True)
    mine = home.unit_dir / "syncd.service"
    mine.write_text("[Service]\nExecStart=/usr/bin/true\n")
    result = run_syncd("service", "install", "--manager", "systemd")
    assert result.code == 1 and "--force" in result.err
    assert mine.read_text() == "[Service]\nExecStart=/usr/bin/true\n"
    assert run_syncd("service", "install", "--manager", "systemd", "--force").code == 0
    assert "Type=notify" in mine.read_text()


def test_copy_env_stores_the_token_owner_only(
    home: Home, monkeypatch: pytest.MonkeyPatch, no_service_manager
) -> None:
    write_config(home)
    monkeypatch.setenv("SYNCD_TEST_TOKEN", "s3cret value")
    result = run_syncd("service", "install", "--manager", "systemd", "--copy-env")
    assert result.code == 0, result.err
    env_file = home.config_home / "syncd" / "env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert service.read_env_file(env_file) == {"SYNCD_TEST_TOKEN": "s3cret value"}
    assert "s3cret" not in result.out + result.err
    # A second install finds the variable in the file and neither warns nor duplicates it.
    again = run_syncd("service", "install", "--manager", "systemd", "--copy-env")
    assert "SYNCD_TEST_TOKEN" not in again.err
    assert env_file.read_text().count("SYNCD_TEST_TOKEN") == 1
    # ...and the config validates with it, as the service will see it.
    cfg = load_config(home.config_path, env=service.read_env_file(env_file))
    assert cfg.confluence.token == "s3cret value"


def test_now_runs_the_enable_commands(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    write_config(home)
    ran: list[list[str]] = []

    monkeypatch.setattr(service.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(service, "run_command", lambda argv: ran.append(list(argv)) or 0)
    result = run_syncd("service", "install", "--manager", "systemd", "--now")
    assert result.code == 0, result.err
    assert ran == [
        ["systemctl", "--user", "daemon-reload"],
        ["systemctl", "--user", "enable", "--now", "syncd.service"],
    ]


def test_bad_instance_name_is_refused(home: Home, no_service_manager) -> None:
    result = run_syncd("service", "install", "--name", "../evil")
    assert result.code == 2 and "--name" in result.err
