"""`syncd webhook list|register|delete` and `syncd status` (stopped; its conflicts also as
a running daemon serves them) through the CLI entry point, against a ThreadedEmulator; plus
the registration helpers' edge rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest
import yaml

import syncd.emulator.server as server
from syncd.cli import main
from syncd.config import load_config, parse_config
from syncd.daemon.registration import (
    NoPublicUrl,
    check_public_url,
    load_or_create_secret,
    registration_url,
    webhook_events,
    webhook_name,
)
from syncd.daemon.runtime import Daemon, RunOptions
from syncd.sync.engine import SyncEngine
from syncd.sync.records import PageRecord
from syncd.sync.state import StateDB


def write_config(tmp_path: Path, base_url: str, flavor: str, **webhook: object) -> Path:
    doc = {
        "confluence": {
            "base_url": base_url,
            "deployment": "cloud" if flavor == "cloud" else "datacenter",
            "space": "DEMO",
            "token": "demo-token",
            **({"email": "demo@example.com"} if flavor == "cloud" else {}),
        },
        "local": {"path": str(tmp_path / "docs")},
        "webhook": {"listen": "127.0.0.1:8765", "public_url": "http://127.0.0.1:8765/hook"}
        | webhook,
        "state_dir": str(tmp_path / "state"),
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    return path


@pytest.mark.parametrize("flavor", ["dc", "cloud"])
def test_webhook_register_list_delete(flavor: str, tmp_path: Path, capsys) -> None:
    with server.ThreadedEmulator(flavor=flavor, pages=0, space="DEMO") as emu:
        config = write_config(tmp_path, emu.base_url, flavor)
        # someone else's webhook is listed but never touched
        emu.call(
            lambda: emu.store.add_webhook(
                name="other-tool", url="http://example.invalid/x", events=["page_created"]
            )
        )
        assert main(["webhook", "register", "--config", str(config)]) == 0
        ours = emu.call(lambda: [h for h in emu.store.webhooks.values() if h.name != "other-tool"])
        assert ours and all(h.name.startswith("syncd-DEMO-") for h in ours)
        secret = (tmp_path / "state" / "webhook-secret").read_text().strip()
        if flavor == "cloud":
            assert all(f"token={secret}" in h.url for h in ours)
        # registering again reuses the same registrations
        assert main(["webhook", "--config", str(config), "register"]) == 0
        again = emu.call(lambda: [h for h in emu.store.webhooks.values() if h.name != "other-tool"])
        assert {h.id for h in again} == {h.id for h in ours}
        capsys.readouterr()

        assert main(["webhook", "list", "--config", str(config), "--json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert {r["name"] for r in rows if r["ours"]} == {ours[0].name}
        assert any(r["name"] == "other-tool" and not r["ours"] for r in rows)
        assert secret not in json.dumps(rows)  # the Cloud token is masked
        assert main(["webhook", "list", "--config", str(config)]) == 0
        text = capsys.readouterr().out
        assert "* " in text and secret not in text

        # status while stopped shows the registration recorded in the state database
        assert main(["status", "--config", str(config), "--json"]) == 3
        st = json.loads(capsys.readouterr().out)
        assert st["running"] is False and st["webhook"]["registered"] is True
        assert secret not in json.dumps(st)

        assert main(["webhook", "delete", "--config", str(config)]) == 0
        assert "deleted" in capsys.readouterr().out
        left = emu.call(lambda: [h.name for h in emu.store.webhooks.values()])
        assert left == ["other-tool"]
        assert main(["status", "--config", str(config), "--json"]) == 3
        assert json.loads(capsys.readouterr().out)["webhook"]["registered"] is False


def test_status_of_a_never_started_daemon(tmp_path: Path, capsys) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9/", "dc")
    assert main(["status", "--config", str(config)]) == 3
    out = capsys.readouterr().out
    assert "stopped" in out and "DEMO" in out and "not registered" in out
    assert main(["status", "--config", str(config), "--json"]) == 3
    st = json.loads(capsys.readouterr().out)
    assert st["running"] is False and st["pages"] == 0 and st["space"] == "DEMO"


def test_status_names_the_page_of_each_conflict_running_or_stopped(tmp_path: Path, capsys) -> None:
    """`syncd status` says which page each conflict is about: the page's title (quoted
    with its control characters escaped: a title is untrusted and must not drive the
    terminal), or the file's path for a conflict without a page (a new file refused).
    Stopped, read from the state database; running, served by the daemon: the same rows."""
    config = write_config(tmp_path, "http://127.0.0.1:9/", "dc")
    folder = tmp_path / "docs"
    folder.mkdir()
    copy = "Setup.conflict-20261205-004756.md"
    (folder / copy).write_text("my text")
    hostile = "Evil\x1b]0;owned\x07\x1b[2J"
    with StateDB.open(tmp_path / "state") as db:
        for page_id, path, title in (("7", "Install.md", "Install"), ("9", "Evil.md", hostile)):
            db.put_page(
                PageRecord(
                    page_id=page_id,
                    local_path=path,  # page 7 was Setup.md at its conflict
                    title=title,
                    parent_id=None,
                    remote_version=3,
                    base_markdown="",
                    local_hash="",
                )
            )
        db.add_conflict_copy("7", "Setup.md", copy)
        db.add_conflict("9", "Evil.md", "markers", "1 conflict(s)")
        db.add_conflict(None, "Drafts/New.md", "refused", "line 3: a table inside a list item")
    refused = (
        "Drafts/New.md: line 3: a table inside a list item; edit that part of the file to sync it"
    )
    markers = "Evil.md: resolve the conflict markers, then save"
    kept = f"Install.md: your text is in {copy}; copy what you need, then delete it"

    assert main(["status", "--config", str(config)]) == 3
    lines = capsys.readouterr().out.splitlines()
    at = lines.index("conflicts:  3")
    assert lines[at + 1 : at + 5] == [
        f"            {refused}",
        rf"            page 9 'Evil\x1b]0;owned\x07\x1b[2J': {markers}",
        f"            page 7 'Install': {kept}",
        "last event: never",
    ]

    assert main(["status", "--config", str(config), "--json"]) == 3
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    stopped = json.loads(out)
    assert stopped["conflicts"] == ["Drafts/New.md", "Evil.md", copy]  # keys kept as they were
    assert stopped["conflict_help"] == [refused, markers, kept]
    assert stopped["conflict_details"] == [
        {
            "path": "Drafts/New.md",
            "page_id": None,
            "title": None,
            "page": "Drafts/New.md",
            "file": "Drafts/New.md",
            "help": refused,
        },
        {
            "path": "Evil.md",
            "page_id": "9",
            "title": hostile,
            "page": hostile,
            "file": "Evil.md",
            "help": markers,
        },
        {
            "path": copy,
            "page_id": "7",
            "title": "Install",
            "page": "Install",
            "file": "Install.md",
            "help": kept,
        },
    ]

    loaded = load_config(config)
    daemon = Daemon(loaded, options=RunOptions(install_signals=False))
    with StateDB.open(loaded.state_dir) as db:
        daemon.engine = SyncEngine(
            loaded, db, cast(Any, None), own_client=False, observer=None, progress=None
        )
        running = json.loads(json.dumps(daemon.status(), default=str))
    keys = ("conflicts", "conflict_help", "conflict_details")
    assert {k: running[k] for k in keys} == {k: stopped[k] for k in keys}


def test_syncd_sync_names_the_page_of_each_conflict_as_status_does(tmp_path: Path, capsys) -> None:
    """`syncd sync` (a dry run, then a real run) ends with one line per open conflict in
    the words `syncd status` shows it: the page's title with its escape sequence shown
    escaped, and a conflict without a page (a copy whose page is gone) by its file."""
    with server.ThreadedEmulator(flavor="cloud", pages=0, space="DEMO") as emu:
        setup, evil = (
            emu.call(lambda t=title: str(emu.store.create_page("DEMO", t, "<p>one</p>").id))
            for title in ("Setup", "Evil\x1b]0;owned\x07\x1b[2J")
        )
        config = write_config(tmp_path, emu.base_url, "cloud")
        assert main(["sync", "--config", str(config)]) == 0
        stamp = ".conflict-20261205-004756.md"
        for stem in ("Setup", "Evil_]0;owned__[2J", "Orphan"):
            (tmp_path / "docs" / f"{stem}{stamp}").write_text("my text\n")
        todo = "your text is in {}" + stamp + "; copy what you need, then delete it"
        expected = [
            rf"page {evil} 'Evil\x1b]0;owned\x07\x1b[2J': Evil_]0;owned__[2J.md: "
            + todo.format("Evil_]0;owned__[2J"),
            "Orphan.md: " + todo.format("Orphan"),
            f"page {setup} 'Setup': Setup.md: " + todo.format("Setup"),
        ]
        capsys.readouterr()
        for run in (["--dry-run"], []):  # copies found by the scan, then recorded
            assert main(["sync", "--config", str(config), *run]) == 1
            err = capsys.readouterr().err
            assert "\x1b" not in err and "\x07" not in err
            lines = [line for line in err.splitlines() if line.startswith("syncd: conflict: ")]
            assert lines == [f"syncd: conflict: {line}" for line in expected], run
        assert main(["status", "--config", str(config)]) == 3
        out = capsys.readouterr().out.splitlines()
        at = out.index("conflicts:  3")
        assert out[at + 1 : at + 4] == [f"{'':<12}{line}" for line in expected]


def test_bad_config_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "config.yaml"
    bad.write_text("confluence:\n  base_url: nope\n")
    for command in (["status"], ["webhook", "list"]):
        assert main([*command, "--config", str(bad)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("syncd: ") and "\n" not in err and "confluence" in err
    # `run` sets up the process's logging: run it as its own process
    done = subprocess.run(
        [sys.executable, "-m", "syncd", "run", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    err = done.stderr.strip()
    assert done.returncode == 2
    assert err.startswith("syncd: ") and "\n" not in err and "confluence" in err


def _config(**webhook: object):
    doc = {
        "confluence": {
            "base_url": "https://acme.atlassian.net/wiki",
            "space": "DOCS",
            "token": "t",
        },
        "local": {"path": "/tmp/docs-x"},
        "webhook": webhook,
        "state_dir": "/tmp/state-x",
    }
    return parse_config(json.dumps(doc), env={})


def test_loopback_public_url_for_a_remote_site_is_refused_with_what_to_do() -> None:
    with pytest.raises(NoPublicUrl, match=r"set webhook\.public_url"):
        check_public_url(_config())
    check_public_url(_config(public_url="https://hooks.example.com/syncd"))


def test_cloud_url_carries_the_token_and_names_are_per_state_dir(tmp_path: Path) -> None:
    cfg = _config(public_url="https://hooks.example.com/syncd?x=1")
    url = registration_url(cfg, "cloud", "s3cret")
    assert url == "https://hooks.example.com/syncd?x=1&token=s3cret"
    assert registration_url(cfg, "datacenter", "s3cret") == "https://hooks.example.com/syncd?x=1"
    assert webhook_name(cfg).startswith("syncd-DOCS-")
    assert "space_removed" in webhook_events(cfg) and "page_updated" in webhook_events(cfg)
    first = load_or_create_secret(tmp_path, None)
    assert first.generated and (tmp_path / "webhook-secret").stat().st_mode & 0o777 == 0o600
    assert load_or_create_secret(tmp_path, None).value == first.value
    assert load_or_create_secret(tmp_path, "configured").value == "configured"
