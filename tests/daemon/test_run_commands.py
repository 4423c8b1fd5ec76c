"""`syncd webhook list|register|delete` and `syncd status` (stopped) through the CLI entry
point, against a ThreadedEmulator; plus the registration helpers' edge rules."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import syncd.emulator.server as server
from syncd.cli import main
from syncd.config import parse_config
from syncd.daemon.registration import (
    NoPublicUrl,
    check_public_url,
    load_or_create_secret,
    registration_url,
    webhook_events,
    webhook_name,
)


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
