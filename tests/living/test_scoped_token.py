"""A scoped API token (a service account's): `syncd init` finds the API gateway, `syncd
doctor` lists the scopes syncd needs and checks each from the gateway's answers.

The emulator's gateway follows Atlassian's (sources in syncd/emulator/gateway.py): the site
refuses scoped tokens, ``/_edge/tenant_info`` gives the cloud id without credentials, and a
missing scope is ``401 Unauthorized; scope does not match``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e.daemon_support import SCOPES

from syncd.config import load_config
from syncd.emulator.server import ThreadedEmulator

from .conftest import EMAIL, TOKEN, Home, run_syncd

SCOPED = "scoped-service-token"


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[ThreadedEmulator]:
    with ThreadedEmulator(flavor="cloud", pages=3, seed=1, user=EMAIL, token=TOKEN) as emu:
        emu.call(emu.server.add_scoped_token, SCOPED, SCOPES)
        monkeypatch.setenv("SYNCD_T", SCOPED)
        yield emu


def init_argv(emu, home: Home, *extra: str) -> list[str]:
    return [
        "init",
        "--url",
        emu.base_url,
        "--space",
        "DEMO",
        "--email",
        EMAIL,
        "--token-env",
        "SYNCD_T",
        "--folder",
        str(home.root / "docs"),
        *extra,
    ]


@pytest.mark.parametrize("flag", [True, False], ids=["--scoped-token", "detected"])
def test_init_with_a_scoped_token_writes_a_gateway_config(flag: bool, emu, home: Home) -> None:
    result = run_syncd(*init_argv(emu, home, *(["--scoped-token"] if flag else [])))
    assert result.code == 0, result.out + result.err
    assert "space DEMO" in result.out
    if not flag:  # the site refused the token, the gateway took it: said so
        assert "it is a scoped API token" in result.out
    cfg = load_config(home.config_path, env={"SYNCD_T": SCOPED})
    assert cfg.confluence.api_url == emu.gateway_url
    assert cfg.confluence.base_url == emu.base_url  # the site, for links and messages
    assert cfg.confluence.deployment == "cloud"
    assert cfg.webhook.enabled is False  # the gateway serves no webhook API
    assert "webhooks cannot be registered with a scoped API token" in result.out


def test_init_with_a_token_refused_everywhere_writes_nothing(emu, home: Home, monkeypatch) -> None:
    monkeypatch.setenv("SYNCD_T", "not-a-token")
    result = run_syncd(*init_argv(emu, home))
    assert result.code == 1
    assert "refused the credentials" in result.out
    assert not home.config_path.exists()


def test_init_scoped_token_without_check_needs_the_gateway_url(home: Home) -> None:
    argv = ["init", "--url", "https://acme.atlassian.net/wiki", "--space", "DOCS"]
    result = run_syncd(*argv, "--email", EMAIL, "--scoped-token", "--no-check")
    assert result.code == 2 and "_edge/tenant_info" in result.err
    assert not home.config_path.exists()


def write_gateway_config(emu, home: Home, extra: str = "") -> str:
    path = home.config_path
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(
        "confluence:\n"
        f"  base_url: {emu.base_url}\n"
        f"  api_url: {emu.gateway_url}\n"
        "  space: DEMO\n"
        f"  email: {EMAIL}\n"
        "  token: ${SYNCD_T}\n"
        f"local:\n  path: {home.root / 'docs'}\n" + extra
    )
    path.chmod(0o600)
    (home.root / "docs").mkdir(exist_ok=True)
    return str(path)


def scope_lines(out: str) -> dict[str, str]:
    """scope requirement -> level, from doctor's ``level scope: ...`` lines."""
    found = {}
    for line in out.splitlines():
        level, _, rest = line.partition(" ")
        rest = rest.strip()
        if rest.startswith("scope:"):
            words = rest.split()
            name = words[3].rstrip(":") if words[1] == "missing" else words[1]
            found[name] = level
    return found


def test_doctor_lists_and_checks_every_scope_syncd_needs(emu, home: Home) -> None:
    config = write_gateway_config(emu, home, "webhook:\n  enabled: false\n")
    result = run_syncd("doctor", "--config", config)
    assert result.code == 0, result.out
    assert "through the API gateway" in result.out
    scopes = scope_lines(result.out)
    assert set(scopes) == {s for s in SCOPES if s != "read:label:confluence"}, result.out
    assert set(scopes.values()) == {"ok"}
    assert "write:label:confluence + read:label:confluence (add and remove labels)" in result.out


def test_doctor_names_a_missing_scope_from_the_gateways_answer(emu, home: Home) -> None:
    partial = tuple(
        s for s in SCOPES if s not in ("write:page:confluence", "read:label:confluence")
    )
    emu.call(emu.server.add_scoped_token, SCOPED, partial)
    config = write_gateway_config(emu, home, "sync:\n  attachments: false\n")
    result = run_syncd("doctor", "--config", config)
    assert result.code != 0
    scopes = scope_lines(result.out)
    assert scopes["write:page:confluence"] == "error"
    assert scopes["write:label:confluence"] == "error"  # needs read:label:confluence with it
    assert "missing scope write:page:confluence: syncd cannot create and update pages" in result.out
    assert "read:attachment:confluence" not in scopes  # attachments are off: not needed
    assert scopes["read:page:confluence"] == "ok"
    # nothing was changed by the probes
    assert (
        emu.call(lambda: emu.store.get(str(emu.store.space("DEMO").homepage_id)).version.number)
        == 1
    )


def test_init_names_the_scope_a_token_lacks_to_read_the_space(emu, home: Home) -> None:
    emu.call(emu.server.add_scoped_token, SCOPED, ("read:page:confluence",))
    result = run_syncd(*init_argv(emu, home, "--scoped-token"))
    assert result.code == 1
    assert "missing scope read:space:confluence: the API token may not read the space" in (
        result.out
    )
    assert not home.config_path.exists()
