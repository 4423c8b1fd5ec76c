"""Messages name the real cause with its fix, and no line says ``ok`` about what another
line calls an error (issue 16: the first hour with syncd)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import TOKEN, Home, run_syncd
from .test_doctor import write_config
from .test_init import flags


def levels(out: str, topic: str) -> list[str]:
    """The levels of every check line about ``topic``, in order."""
    return [
        line.split()[0]
        for line in out.splitlines()
        if line.split()[:1]
        and line.split()[0] in ("ok", "warning", "error")
        and line.split(None, 1)[1].startswith(topic + ":")
    ]


@pytest.mark.parametrize("flavor", ["cloud", "dc"])
def test_doctor_with_a_wrong_token_never_says_signed_in(
    flavor: str, home: Home, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """The config names its deployment, so opening the client sends nothing: the sign-in is
    proved by a request of its own before any ``ok credentials``."""
    emu = request.getfixturevalue(f"emu_{flavor}")
    monkeypatch.setenv("SYNCD_T", "not-the-token")
    result = run_syncd("doctor", "--config", str(write_config(home, emu)))
    assert result.code == 2
    assert levels(result.out, "credentials") == ["error"], result.out
    assert "signed in" not in result.out
    assert "refused the credentials" in result.out and "fix: check" in result.out


def test_doctor_sees_the_folder_missing_once_pages_are_tracked(
    home: Home, emu_cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCD_T", TOKEN)
    config = write_config(home, emu_cloud)
    assert run_syncd("sync", "--config", str(config)).code == 0
    docs = home.root / "docs"
    docs.rename(home.root / "docs-moved")
    doctor = run_syncd("doctor", "--config", str(config))
    sync = run_syncd("sync", "--config", str(config))
    assert "missing although" in sync.err  # what `syncd sync` says, and doctor agrees
    assert doctor.code == 2
    assert levels(doctor.out, "folder") == ["error"], doctor.out
    assert "does not exist yet" not in doctor.out
    assert f"{docs} is missing although 4 pages are tracked" in doctor.out
    assert f"fix: mount the disk or move the folder back to {docs}" in doctor.out
    # an empty mount point where the folder was: not "ok" either
    docs.mkdir()
    empty = run_syncd("doctor", "--config", str(config))
    assert levels(empty.out, "folder") == ["warning"], empty.out
    assert "holds no page file although 4 pages are tracked" in empty.out


def test_wrong_url_path_is_the_url_not_the_credentials(
    home: Home, emu_cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``/wikii`` answers 404 with the right Cloud credentials; the 401 Cloud gives the
    Data Center probe's bearer token says nothing about the token. A 404 from the space
    listing is a wrong path, never a missing space: the Cloud v2 spec documents 200, 400 and
    401 only for GET /spaces (tests/data/specs/openapi-v2.v3.json); doctor's sign-in is
    GET /rest/api/user/current (200 or 403 in tests/data/specs/swagger.v3.json)."""
    monkeypatch.setenv("SYNCD_T", TOKEN)
    argv = flags(emu_cloud, home)
    argv[argv.index("--url") + 1] = emu_cloud.base_url + "i"
    init = run_syncd(*argv)
    assert init.code != 0
    assert "refused the credentials" not in init.out + init.err
    assert f"no Confluence REST API at {emu_cloud.base_url}i" in init.out
    assert "fix: check confluence.base_url" in init.out
    # the same with the deployment named in the config (no detection): doctor's sign-in
    config = write_config(home, emu_cloud)
    config.write_text(config.read_text().replace(emu_cloud.base_url, emu_cloud.base_url + "i"))
    doctor = run_syncd("doctor", "--config", str(config))
    assert "refused the credentials" not in doctor.out
    assert levels(doctor.out, "credentials") == []
    assert "no Confluence REST API" in doctor.out and "fix: check confluence.base_url" in doctor.out
    sync = run_syncd("sync", "--config", str(config))
    assert sync.code == 2
    assert "no Confluence REST API at" in sync.err and "check confluence.base_url" in sync.err
    assert "not found" not in sync.err and "404: Not Found" not in sync.err


def test_webhook_list_with_a_wrong_token_says_listing_and_the_fix(
    home: Home, emu_cloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYNCD_T", "not-the-token")
    result = run_syncd("webhook", "list", "--config", str(write_config(home, emu_cloud)))
    assert result.code == 1
    assert "registering" not in result.err
    lines = result.err.splitlines()
    at = lines.index("syncd: Confluence refused the credentials while listing webhooks")
    assert lines[at + 1].strip().startswith("fix: check the token (confluence.token)")


def test_emulator_on_a_busy_port_says_so_and_leaks_no_session() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "syncd", "emulator", "--port", str(port), "--pages", "0"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert "address already in use" in done.stderr
    assert "--port" in done.stderr.split("address already in use", 1)[1]  # the fix
    assert "Unclosed" not in done.stderr + done.stdout


def test_demo_banner_names_the_syncd_it_runs() -> None:
    """The banner's commands work without the venv on PATH."""
    from syncd.demo import syncd_command

    command = syncd_command()
    assert Path(command.split()[0]).is_absolute()
    assert shutil.which(command.split()[0])
