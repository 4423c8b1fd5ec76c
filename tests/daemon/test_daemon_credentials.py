"""TokenWatch: a refused token is said once, the work waits without requests, a new token in
the env file or the config is switched to in place, and the same token is retried rarely."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from syncd.config import load_config
from syncd.confluence import AuthFailed
from syncd.daemon.credentials import TokenStillRefused, TokenWatch


class FakeClient:
    def __init__(self) -> None:
        self.swapped: list[tuple[str | None, str]] = []

    def replace_credentials(self, email: str | None, token: str) -> None:
        self.swapped.append((email, token))


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    env_file = tmp_path / "env"
    env_file.write_text("TOK=first\n")
    monkeypatch.setenv("SYNCD_ENV_FILE", str(env_file))
    monkeypatch.setenv("TOK", "first")
    config_path = tmp_path / "config.yaml"
    config_path.write_text(
        "confluence:\n  base_url: https://acme.atlassian.net/wiki\n  space: DOCS\n"
        "  email: bot@serviceaccount.atlassian.com\n  token: ${TOK}\n"
        f"local:\n  path: {tmp_path / 'docs'}\nstate_dir: {tmp_path / 'state'}\n"
    )
    config_path.chmod(0o600)
    now = [1000.0]
    client = FakeClient()
    renewed: list[str] = []
    watch = TokenWatch(
        load_config(config_path),
        client=lambda: client,
        on_renewed=renewed.append,
        clock=lambda: now[0],
        check_every=0.01,
        retry_every=900.0,
    )
    return watch, env_file, client, renewed, now


async def test_refusal_is_said_once_and_requests_wait(setup, caplog) -> None:
    watch, _env, client, _renewed, _now = setup
    caplog.set_level(logging.INFO, logger="syncd.daemon")
    watch.check()  # a usable token: nothing to say
    watch.note(AuthFailed("authentication failed", status=401))
    watch.note(AuthFailed("authentication failed", status=401))
    assert [r.levelname for r in caplog.records].count("ERROR") == 1
    assert "likely expired" in caplog.text
    with pytest.raises(TokenStillRefused):
        watch.check()
    assert watch.status()["refused"] == "authentication failed (HTTP 401)"
    assert not watch.renew() and client.swapped == []  # the source did not change


async def test_a_new_token_in_the_env_file_is_switched_to(setup) -> None:
    watch, env_file, client, renewed, _now = setup
    watch.note(AuthFailed("authentication failed", status=401))
    env_file.write_text("TOK=second-and-longer\n")
    stop = asyncio.Event()
    await asyncio.wait_for(watch.wait_until_usable(stop), 5)
    assert client.swapped == [("bot@serviceaccount.atlassian.com", "second-and-longer")]
    assert renewed == ["API token renewed"] and watch.refused is None
    watch.check()


async def test_the_same_token_is_retried_rarely(setup) -> None:
    watch, env_file, client, _renewed, now = setup
    watch.note(AuthFailed("authentication failed", status=401))
    env_file.write_text("TOK=first\n# touched, same token\n")
    stop = asyncio.Event()
    waiting = asyncio.ensure_future(watch.wait_until_usable(stop))
    await asyncio.sleep(0.1)
    assert not waiting.done()  # same token: still waiting, no retry yet
    now[0] += 901  # the rare retry is due
    await asyncio.wait_for(waiting, 5)
    assert client.swapped == [] and watch.refused is not None  # retried, not renewed
