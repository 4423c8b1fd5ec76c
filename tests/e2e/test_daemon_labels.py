"""`syncd run` against the emulator: a label added or removed in Confluence (a webhook
event, no new page version) reaches the file's front matter through the one reconcile
path, with no PUT of the page and the body left as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

import syncd.emulator.server as server
from syncd.local import frontmatter

from .daemon_support import Daemon, file_of, page_ids, page_version, quiescent, until, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def doc_of(path: Path) -> frontmatter.Document:
    return frontmatter.parse(path.read_bytes().decode("utf-8"))


def writes(emu) -> dict[str, int]:
    counts = emu.call(lambda: dict(emu.requests))
    return {
        route: n
        for route, n in counts.items()
        if not route.startswith("GET ") and "webhook" not in route and n
    }


@pytest.mark.parametrize("flavor", ["cloud", "dc"])
def test_label_edits_in_confluence_reach_the_front_matter_without_a_put(
    flavor: str, tmp_path: Path
) -> None:
    with server.ThreadedEmulator(flavor=flavor, pages=3, space="DEMO") as emu:
        config = write_config(tmp_path, emu)
        with Daemon(config) as daemon:
            daemon.wait_ready()
            page = page_ids(emu)[1]
            path = until(lambda: file_of(daemon.folder, page), what="the page's file")
            quiescent(emu)
            before = writes(emu)
            version = page_version(emu, page)
            body = doc_of(path).body

            def labels() -> tuple[str, ...]:
                current = file_of(daemon.folder, page)
                return doc_of(current).meta.labels if current else ()

            emu.call(lambda: emu.store.add_label(page, "from-confluence"))
            until(lambda: "from-confluence" in labels(), 20, "the label in the front matter")
            quiescent(emu)
            emu.call(lambda: emu.store.remove_label(page, "from-confluence"))
            until(lambda: "from-confluence" not in labels(), 20, "the label to go")
            quiescent(emu)

            assert writes(emu) == before, "a label pull wrote to Confluence"
            assert page_version(emu, page) == version
            assert doc_of(file_of(daemon.folder, page)).body == body
            remote = emu.call(lambda: set(emu.store.get(page).labels))
            assert set(labels()) == remote
