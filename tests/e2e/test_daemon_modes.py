"""`syncd run` switching between webhook and polling mode, and polling from the start
when Confluence refuses the registration. Short silence timeout and poll interval."""

from __future__ import annotations

import pytest

from .daemon_support import (
    Daemon,
    edit_page,
    file_of,
    page_ids,
    set_faults,
    status_json,
    until,
    use_gateway,
    write_config,
)

server = pytest.importorskip("syncd.emulator.server", reason="emulator not available")

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAST = {"webhook": {"silence_timeout": "1s"}, "poll": {"interval": "500ms"}}


def on_disk(daemon: Daemon, page_id: str, marker: str) -> bool:
    path = file_of(daemon.folder, page_id)
    return path is not None and marker in path.read_text()


@pytest.mark.parametrize("flavor", ["dc", "cloud"])
def test_dropped_deliveries_fall_back_to_polling_and_back(flavor: str, tmp_path) -> None:
    with server.ThreadedEmulator(flavor=flavor, pages=3, space="DEMO") as emu:
        config = write_config(tmp_path, emu, **FAST)
        with Daemon(config) as daemon:
            assert daemon.wait_ready()["mode"] == "webhook"
            _home, a, b, _c = page_ids(emu)[:4]

            # deliveries stop: the freshness check notices, polling still syncs
            set_faults(emu, webhooks="drop")
            edit_page(emu, a, "<p>while-dropped</p>")
            until(lambda: on_disk(daemon, a, "while-dropped"), what="the change synced by polling")
            st = until(
                lambda: (s := daemon.status()) and s["mode"] == "polling" and s,
                what="polling mode",
            )
            assert "not delivered" in st["mode_reason"]
            code, cli = status_json(config)
            assert code == 1  # running, degraded
            assert cli["mode"] == "polling" and cli["last_poll_at"] is not None
            assert cli["webhook"]["registered"] is True

            # deliveries are back and cover what polling finds: webhook mode again
            set_faults(emu, webhooks="deliver")
            edit_page(emu, b, "<p>deliveries-back</p>")
            until(lambda: on_disk(daemon, b, "deliveries-back"), what="the delivered change")
            st = until(
                lambda: (s := daemon.status()) and s["mode"] == "webhook" and s,
                within=20,
                what="webhook mode again",
            )
            assert "deliveries resumed" in st["mode_reason"]
            log = daemon.log()
            assert "mode webhook -> polling" in log and "mode polling -> webhook" in log
            assert daemon.stop() == 0


# Why registration is refused: a user who may not manage webhooks (DC, Cloud), or a scoped
# token through the API gateway, which serves no webhook API (syncd does not even ask).
REFUSAL = {"dc": "administrator", "cloud": "administrator", "gateway": "scoped API token"}


@pytest.mark.parametrize("flavor", ["dc", "cloud", "gateway"])
def test_registration_refused_polls_from_the_start(flavor: str, tmp_path) -> None:
    from syncd.emulator.errors import Forbidden

    emu_flavor = "cloud" if flavor == "gateway" else flavor
    with server.ThreadedEmulator(flavor=emu_flavor, pages=2, space="DEMO") as emu:

        def refuse(**_fields: object) -> object:
            raise Forbidden("Only administrators can manage webhooks")

        # the account may read but not manage webhooks (403 on registration)
        emu.call(setattr, emu.store, "add_webhook", refuse)
        if flavor == "gateway":
            use_gateway(emu)
        config = write_config(tmp_path, emu, **FAST)
        with Daemon(config) as daemon:
            st = daemon.wait_ready()
            assert st["mode"] == "polling"
            assert st["webhook"]["registered"] is False
            assert REFUSAL[flavor] in st["webhook"]["reason"]
            _home, a = page_ids(emu)[:2]
            edit_page(emu, a, "<p>polled-edit</p>")
            until(lambda: on_disk(daemon, a, "polled-edit"), what="the change synced by polling")
            code, cli = status_json(config)
            assert code == 1 and cli["mode"] == "polling" and cli["running"] is True
            assert cli["webhook"] == {
                "registered": False,
                "id": None,
                "url": daemon.public_url,
                "enabled": True,
                "reason": st["webhook"]["reason"],
            }
            assert daemon.stop() == 0
        # said once, with what to do
        if flavor == "gateway":  # no registration to retry, no receiver, no webhook request
            assert daemon.log().count("cannot be registered with a scoped API token") == 1
            assert "webhook receiver listening" not in daemon.log()
            assert not any("webhook" in route for route in emu.requests)
        else:
            assert daemon.log().count("running in polling mode") == 1
            assert "use an account allowed to manage webhooks" in daemon.log()
