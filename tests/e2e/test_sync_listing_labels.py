"""A listing's labels are a hint: a label difference is confirmed from the page's own
label list before reconcile sees it. Cloud's space-wide label sweep uses an endpoint
whose documented default prefix ("my, team") leaves out global labels; if a server
does that, every labelled page would otherwise read as "labels removed in Confluence".
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from syncd.confluence import ConfluenceClient

from .sync_kit import diff_counts, file_for, make_config, read_doc, request_counts, run_sync

EmulatorServer = pytest.importorskip("syncd.emulator.server").EmulatorServer


@pytest.mark.parametrize("flavor", ["cloud", "dc"])
async def test_a_listing_that_misses_labels_neither_rewrites_nor_undeletes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flavor: str
) -> None:
    async with EmulatorServer(flavor=flavor, pages=3, space="DEMO") as emu:
        kept, deleted, plain = [c.id for c in emu.store.all_content("page")][1:4]
        emu.store.add_label(kept, "alpha")
        emu.store.add_label(deleted, "beta")
        config = make_config(tmp_path, emu)
        assert (await run_sync(config)).in_sync
        root = config.local.path
        kept_file = file_for(root, kept)
        assert kept_file is not None and "alpha" in read_doc(kept_file).meta.labels
        before_bytes = kept_file.read_bytes()

        listed = ConfluenceClient.iter_page_tree

        async def unlabelled(self, *args, **kwargs):  # every page listed without labels
            async for ref in listed(self, *args, **kwargs):
                yield replace(ref, labels=()) if ref.labels is not None else ref

        monkeypatch.setattr(ConfluenceClient, "iter_page_tree", unlabelled)
        file_for(root, deleted).unlink()
        labelled = [c.id for c in emu.store.all_content("page") if c.labels]
        before = request_counts(emu)
        report = await run_sync(config)
        spent = diff_counts(before, request_counts(emu))

        assert report.in_sync, report.errors
        assert emu.store.get(deleted).status == "trashed"  # the local delete went through
        assert kept_file.read_bytes() == before_bytes  # labels not stripped from the file
        assert "alpha" in emu.store.get(kept).labels  # nor from the page
        assert file_for(root, plain) is not None
        writes = {k: n for k, n in spent.items() if not k.startswith("GET ")}
        assert all("label" not in k for k in writes), writes
        label_reads = sum(
            n
            for k, n in spent.items()
            if k in ("GET /wiki/api/v2/pages/{id}/labels", "GET /rest/api/content/{id}/label")
        )
        assert label_reads == len(labelled)  # one confirmation per labelled page, no more
