"""Helpers shared by the attachment scenarios (steps are plain functions of the Ctx)."""

from __future__ import annotations

import argparse
import contextlib
import io
from pathlib import Path

OTHER = "colleague@example.com"


def attach(ctx, key: str, files: dict[str, bytes]) -> None:
    """Attach files to a page in Confluence, with the page edit an editor's upload makes."""
    with ctx.store.act_as(OTHER):
        for name, data in files.items():
            att = ctx.store.add_attachment(ctx.pid(key), name, data)
            ctx.captured.setdefault("atts", {})[name] = att.id
        c = ctx.store.get(ctx.pid(key))
        ctx.store.update_content(c.id, body=c.body + "<p>Files attached.</p>")


def folder(ctx, key: str) -> Path:
    return ctx.must_file(key).with_suffix(".attachments")


def remote(ctx, name: str):
    return ctx.store.get_attachment(ctx.captured["atts"][name])


def trash_remote(ctx, name: str) -> None:
    with ctx.store.act_as(OTHER):
        ctx.store.delete_attachment(ctx.captured["atts"][name])


def new_remote_version(ctx, name: str, data: bytes) -> None:
    """The "upload a new version" button: the page itself is not edited."""
    with ctx.store.act_as(OTHER):
        ctx.store.update_attachment_data(ctx.captured["atts"][name], data)


def no_attachment_deleted(ctx) -> None:
    deletes = {k: v for k, v in ctx.emu.requests.items() if k.startswith("DELETE")}
    assert deletes == {}, deletes
    trashed = [a.filename for a in ctx.store.attachments.values() if a.status != "current"]
    assert trashed == [], trashed


def syncd_restore(ctx, rel: str) -> str:
    """`syncd restore REL` as the user runs it; returns what it printed."""
    from syncd.sync import restore

    ctx.write_config()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = restore.run(argparse.Namespace(path=rel, config=str(ctx.config_path()), list=False))
    assert code == 0, out.getvalue()
    return out.getvalue()
