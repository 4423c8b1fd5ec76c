"""`syncd init`: a checked, owner-only config, from flags or from answers on stdin."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import types
from pathlib import Path

import pytest

from syncd.config import load_config
from syncd.service import read_env_file

from .conftest import EMAIL, TOKEN, Home, run_syncd


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def flags(emu, home: Home, *extra: str) -> list[str]:
    argv = [
        "init",
        "--url",
        emu.base_url,
        "--space",
        "DEMO",
        "--token-env",
        "SYNCD_T",
        "--folder",
        str(home.root / "docs"),
    ]
    if emu.flavor == "cloud":
        argv += ["--email", EMAIL]
    return [*argv, *extra]


@pytest.mark.parametrize("flavor", ["cloud", "dc"])
def test_non_interactive_init_writes_a_checked_owner_only_config(
    flavor: str, home: Home, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    emu = request.getfixturevalue(f"emu_{flavor}")
    monkeypatch.setenv("SYNCD_T", TOKEN)
    result = run_syncd(*flags(emu, home))
    assert result.code == 0, result.out + result.err
    assert "space DEMO" in result.out
    path = home.config_path
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    text = path.read_text()
    assert TOKEN not in text, "the token is never written into the config"
    assert "${SYNCD_T}" in text
    cfg = load_config(path, env={"SYNCD_T": TOKEN})
    assert cfg.confluence.base_url == emu.base_url
    assert cfg.confluence.space == "DEMO"
    assert cfg.confluence.deployment == ("cloud" if flavor == "cloud" else "datacenter")
    assert cfg.confluence.token == TOKEN
    assert cfg.local.path == home.root / "docs"
    assert cfg.webhook.enabled and cfg.webhook.listen == "127.0.0.1:8765"
    assert cfg.warnings == ()
    # Nothing was asked.
    assert "?" not in result.out.replace("(dry run?)", "")


def test_existing_config_is_kept_unless_forced(
    home: Home, emu_dc, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCD_T", TOKEN)
    home.config_path.parent.mkdir(parents=True)
    home.config_path.write_text("# mine\n")
    result = run_syncd(*flags(emu_dc, home))
    assert result.code == 1 and "--force" in result.err
    assert home.config_path.read_text() == "# mine\n"
    forced = run_syncd(*flags(emu_dc, home, "--force", "--no-webhook", "--listen", "[::1]:9000"))
    assert forced.code == 0, forced.err
    cfg = load_config(home.config_path, env={"SYNCD_T": TOKEN})
    assert cfg.webhook.enabled is False and cfg.webhook.port == 9000


def test_bad_token_writes_nothing(home: Home, emu_cloud, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCD_T", "wrong-token")
    result = run_syncd(*flags(emu_cloud, home))
    assert result.code == 1
    assert "refused the credentials" in result.out
    assert "--no-check" in result.out
    assert not home.config_path.exists()


def test_missing_space_writes_nothing(home: Home, emu_dc, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNCD_T", TOKEN)
    argv = flags(emu_dc, home)
    argv[argv.index("DEMO")] = "NOPE"
    result = run_syncd(*argv)
    assert result.code == 1
    assert "space NOPE not found" in result.out
    assert not home.config_path.exists()


def test_no_check_needs_no_server_nor_token(home: Home) -> None:
    result = run_syncd(
        "init",
        "--url",
        "https://confluence.invalid",
        "--space",
        "OPS",
        "--no-check",
        "--deployment",
        "datacenter",
        "--public-url",
        "https://hooks.example.com/syncd",
        "--config-path",
        str(home.root / "conf" / "ops.yaml"),
    )
    assert result.code == 0, result.err
    path = home.root / "conf" / "ops.yaml"
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
    cfg = load_config(path, env={"CONFLUENCE_API_TOKEN": "x"})
    assert cfg.webhook.public_url == "https://hooks.example.com/syncd"
    assert cfg.local.path == home.root / "Confluence" / "OPS"
    assert f"--config {path}" in result.out  # next steps name the non-default config


def test_missing_token_is_a_clear_error(home: Home, emu_dc) -> None:
    result = run_syncd(*flags(emu_dc, home))
    assert result.code == 2
    assert "$SYNCD_T is not set" in result.err


def test_cloud_needs_an_email(home: Home) -> None:
    result = run_syncd(
        "init", "--url", "https://acme.atlassian.net/wiki", "--space", "X", "--no-check"
    )
    assert result.code == 2 and "--email" in result.err
    assert not home.config_path.exists()


def test_interactive_init_from_stdin(home: Home, emu_cloud) -> None:
    """A person answering the prompts (here through a pipe: the token is read as a line,
    since there is no terminal whose echo could be turned off)."""
    folder = home.root / "notes"
    answers = (
        "\n".join(
            [
                emu_cloud.base_url,  # URL
                "DEMO",  # space
                EMAIL,  # email
                "",  # token variable: default CONFLUENCE_API_TOKEN
                TOKEN,  # the token itself (not set in the environment)
                str(folder),  # folder
                "y",  # webhooks
                "",  # listen: default
                "https://hooks.example.com/syncd",  # public URL
                "y",  # save the token for the service
            ]
        )
        + "\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CONFLUENCE_API_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "syncd", "init"],
        input=answers,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    for prompt in (
        "Confluence URL",
        "Space key",
        "email",
        "Environment variable for the API token",
        "API token",
        "Local folder",
        "Receive changes by webhook",
        "URL Confluence calls",
        "Save the token",
    ):
        assert prompt in out, f"no prompt {prompt!r} in:\n{out}"
    assert TOKEN not in out + proc.stderr, "the token is never echoed"
    cfg_text = home.config_path.read_text()
    assert TOKEN not in cfg_text
    env_file = home.config_home / "syncd" / "env"
    assert mode(env_file) == 0o600
    saved = read_env_file(env_file)
    assert saved == {"CONFLUENCE_API_TOKEN": TOKEN}
    cfg = load_config(home.config_path, env=saved)
    assert cfg.local.path == folder
    assert cfg.confluence.email == EMAIL and cfg.confluence.deployment == "cloud"
    assert cfg.webhook.public_url == "https://hooks.example.com/syncd"


def test_interactive_init_stops_cleanly_when_input_ends(home: Home) -> None:
    result = run_syncd("init", stdin="https://confluence.example.com\n")
    assert result.code == 2
    assert "input ended" in result.err
    assert not home.config_path.exists()


def test_interactive_failed_check_asks_before_writing(home: Home, emu_dc) -> None:
    answers = "\n".join([emu_dc.base_url, "DEMO", "", "", "wrong", "", "n", "n"]) + "\n"
    result = run_syncd("init", stdin=answers)
    assert result.code == 1, result.out + result.err
    assert "refused the credentials" in result.out
    assert "Write the config anyway?" in result.out
    assert not home.config_path.exists()


def test_token_from_the_os_keyring(home: Home, emu_dc, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the optional keyring package present and no variable set, init checks the
    server with the keyring's token (entry "syncd" / the site URL)."""
    asked: list[tuple[str, str]] = []

    class FakeKeyring(types.ModuleType):
        def get_password(self, service: str, user: str) -> str | None:
            asked.append((service, user))
            return TOKEN if (service, user) == ("syncd", emu_dc.base_url) else None

    monkeypatch.setitem(sys.modules, "keyring", FakeKeyring("keyring"))
    result = run_syncd(*flags(emu_dc, home))
    assert result.code == 0, result.out + result.err
    assert asked == [("syncd", emu_dc.base_url)]
    assert "OS keyring" in result.out
    assert TOKEN not in home.config_path.read_text()


def test_bad_space_key_is_refused_before_contacting_the_server(home: Home) -> None:
    result = run_syncd(
        "init",
        "--url",
        "https://confluence.example.com",
        "--space",
        "no spaces",
        "--no-check",
        "--deployment",
        "datacenter",
    )
    assert result.code == 2
    assert "confluence.space" in result.err
    assert not home.config_path.exists()
