"""`syncd run` through Atlassian's API gateway with a scoped token (a service account's):
a missing scope is named once and loses nothing; a token refused mid-run (expired) is said
once, and a new token written to the env file resumes the daemon without a restart.

The gateway's behaviour (scoped tokens refused by the site, the 401 "Unauthorized; scope does
not match" for a missing scope) is cited in syncd/emulator/gateway.py.
"""

from __future__ import annotations

import pytest

from .daemon_support import (
    SCOPES,
    Daemon,
    edit_page,
    file_of,
    page_body,
    page_ids,
    quiescent,
    status_json,
    syncd_cli,
    until,
    use_gateway,
    write_config,
)

server = pytest.importorskip("syncd.emulator.server", reason="emulator not available")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAST = {"poll": {"interval": "500ms"}, "webhook": {"enabled": False}}
SCOPE_LINE = (
    "missing scope write:page:confluence: the API token may not update pages "
    "(add the scope to the token, or create a token that has it)"
)


def errors_of(daemon: Daemon) -> list[str]:
    st = daemon.status() or {}
    return [e if isinstance(e, str) else str(e.get("message")) for e in st.get("errors", [])]


def test_missing_write_scope_is_named_once_and_loses_nothing(tmp_path) -> None:
    read_only = tuple(s for s in SCOPES if s != "write:page:confluence")
    with server.ThreadedEmulator(flavor="cloud", pages=3, space="DEMO") as emu:
        use_gateway(emu, "read-mostly", read_only)
        config = write_config(tmp_path, emu, **FAST)
        with Daemon(config) as daemon:
            daemon.wait_ready()
            _home, a, b = page_ids(emu)[:3]
            before = page_body(emu, a)
            for pid, marker in ((a, "local-edit-a"), (b, "local-edit-b")):
                path = file_of(daemon.folder, pid)
                assert path is not None
                path.write_text(path.read_text() + f"\n{marker}\n")
            until(lambda: SCOPE_LINE in errors_of(daemon), what="the missing scope named")
            # two pages refused, one line; the edits stay on disk, Confluence is unchanged
            assert daemon.log().count("missing scope") == 1, daemon.log()
            assert "local-edit-a" in file_of(daemon.folder, a).read_text()
            assert page_body(emu, a) == before
            # the scope granted (the same token, more scopes): the pushes land by themselves
            emu.call(emu.server.add_scoped_token, "read-mostly", SCOPES)
            until(
                lambda: "local-edit-a" in page_body(emu, a) and "local-edit-b" in page_body(emu, b),
                within=30,
                what="the held pushes",
            )


def test_expired_token_then_new_token_in_env_file_resumes(tmp_path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("CONFLUENCE_API_TOKEN=token-2026\n")
    env_file.chmod(0o600)
    with server.ThreadedEmulator(flavor="cloud", pages=3, space="DEMO") as emu:
        use_gateway(emu, "token-2026")
        config = write_config(
            tmp_path, emu, confluence={"token": "${CONFLUENCE_API_TOKEN}"}, **FAST
        )
        run_env = {"CONFLUENCE_API_TOKEN": "token-2026", "SYNCD_ENV_FILE": str(env_file)}
        with Daemon(config, env=run_env) as daemon:
            daemon.wait_ready()
            _home, a, b = page_ids(emu)[:3]
            emu.call(emu.server.revoke_token, "token-2026")  # expired
            # both sides change while the token is refused
            path = file_of(daemon.folder, a)
            path.write_text(path.read_text() + "\nwritten-while-expired\n")
            edit_page(emu, b, "<p>changed-in-confluence</p>")
            until(
                lambda: (st := daemon.status()) and st.get("credentials"),
                within=20,
                what="the refused token in the status",
            )
            # `syncd status` reads the token from the env file too (not in this shell)
            only_env_file = {"SYNCD_ENV_FILE": str(env_file)}
            code, st = status_json(config, env=only_env_file)
            assert code == 2 and str(env_file) in st["credentials"]["source"]
            text = syncd_cli("status", "--config", str(config), env=only_env_file).stdout
            assert "refused by Confluence since" in text
            assert "refused the API token (likely expired" in daemon.log()
            quiescent(emu, quiet=2.0)  # no request is sent while the token is refused
            assert file_of(daemon.folder, a) == path and "written-while-expired" in path.read_text()

            # a new token in the env file: no restart, the daemon resumes and converges
            emu.call(emu.server.add_scoped_token, "token-2027", SCOPES)
            env_file.write_text("CONFLUENCE_API_TOKEN=token-2027\n")
            until(
                lambda: "written-while-expired" in page_body(emu, a),
                within=30,
                what="the local edit pushed with the new token",
            )
            until(
                lambda: "changed-in-confluence" in file_of(daemon.folder, b).read_text(),
                within=30,
                what="the remote edit pulled with the new token",
            )
            until(lambda: not (daemon.status() or {}).get("credentials"), what="status cleared")
            assert daemon.log().count("refused the API token") == 1
            assert "a new API token was found" in daemon.log()
            assert daemon.stop() == 0
