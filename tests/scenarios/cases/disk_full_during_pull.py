"""ENOSPC while a pulled page is written: the old file stays whole; the next run converges."""

import errno
import os


def keep_old(ctx):
    ctx.captured["old"] = ctx.must_file("a").read_bytes()


def disk_full(ctx):
    real_write = os.write
    docs = str(ctx.docs.resolve())
    state = {"calls": 0}

    def full_write(fd, data):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = ""
        if target.startswith(docs):
            state["calls"] += 1
            if state["calls"] == 1 and len(data) > 1:
                return real_write(fd, bytes(data)[: len(data) // 2])  # a short write first
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    os.write = full_write
    ctx.captured["restore"] = lambda: setattr(os, "write", real_write)
    ctx.captured["state"] = state


async def sync_on_full_disk(ctx):
    try:
        report = await ctx.sync()
    finally:
        ctx.captured["restore"]()
    assert ctx.captured["state"]["calls"] > 0, "the write never happened"
    assert not report.in_sync and report.errors, report.plan.describe()
    assert ctx.must_file("a").read_bytes() == ctx.captured["old"], "the old file was damaged"
    leftovers = [
        p
        for p in ctx.docs.rglob("*")
        if p.is_file() and ".syncd" not in p.parts and not p.name.endswith(".md")
    ]
    assert leftovers == [], leftovers


SCENARIO = {
    "covers": ["A1"],
    "space": {"pages": [{"key": "a", "title": "Alpha", "body": "<p>Alpha v1.</p>" * 200}]},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": keep_old},
        {"op": "remote.edit", "page": "a", "body": "<p>Alpha v2.</p>" * 300},
        {"op": "call", "fn": disk_full},
        {"op": "call", "fn": sync_on_full_disk},
    ],
    "expect": {
        "files": {"a": {"contains": ["Alpha v2."], "absent": ["Alpha v1."]}},
        "pages": {"a": {"version": 2}},
    },
}
