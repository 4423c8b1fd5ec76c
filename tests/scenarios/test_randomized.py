"""Randomized interleavings of local and remote edits with faults (hypothesis, derandomized).

After each generated script, convergence runs (faults off) must end with both sides equal
(each file's body is its page converted) and every edit made somewhere: in the final
content, a conflict copy, the local trash or Confluence's page history.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from syncd.emulator.server import EmulatorServer
from syncd.local import frontmatter

from .runner import (
    Ctx,
    all_edits_kept,
    assert_sides_equal,
    build_space,
    conflict_copies,
    converge,
    read_doc,
)

PAGES = 4
PARAS = 3


def base_body(i: int) -> str:
    return "".join(f"<p>P{i}-{k} base paragraph.</p>" for k in range(PARAS))


SPACE = {
    "pages": [
        {"key": f"p{i}", "title": f"Page {i}", "body": base_body(i), "parent": None}
        for i in range(PAGES)
    ]
}

page_ix = st.integers(0, PAGES - 1)
para_ix = st.integers(0, PARAS - 1)
OPS = st.one_of(
    st.tuples(st.just("local_append"), page_ix),
    st.tuples(st.just("remote_append"), page_ix),
    st.tuples(st.just("local_para"), page_ix, para_ix),
    st.tuples(st.just("remote_para"), page_ix, para_ix),
    st.tuples(st.just("local_delete"), page_ix),
    st.tuples(st.just("remote_trash"), page_ix),
    st.tuples(st.just("local_create")),
    st.tuples(st.just("remote_create")),
    st.tuples(st.just("remote_move"), page_ix, page_ix),
    st.tuples(st.just("remote_rename"), page_ix),
    st.tuples(st.just("local_retitle"), page_ix),
    st.tuples(st.just("local_move"), page_ix, page_ix),
    st.tuples(st.just("sync"), st.sampled_from(["none", "503", "slow"])),
)


class Script:
    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.n = 0
        self.unsynced_local: set[str] = set()

    def marker(self, side: str) -> str:
        self.n += 1
        text = f"{side}{self.n:03d} {side} words."
        self.ctx.edits.append(text)
        return text

    async def apply(self, op: tuple) -> None:
        ctx = self.ctx
        kind = op[0]
        if kind in ("local_append", "local_para", "local_delete"):
            key = f"p{op[1]}"
            path = ctx.file_of(key)
            if path is None:
                return
            if kind == "local_delete":
                if key in self.unsynced_local:
                    return  # deleting one's own unsynced edit is not a sync loss
                path.unlink()
                return
            doc = read_doc(path)
            body = doc.body
            if kind == "local_para" and f"P{op[1]}-{op[2]} base paragraph." in body:
                body = body.replace(f"P{op[1]}-{op[2]} base paragraph.", self.marker("L"), 1)
            else:
                body = body.rstrip("\n") + "\n\n" + self.marker("L") + "\n"
            path.write_text(frontmatter.render(doc.meta, body))
            self.unsynced_local.add(key)
        elif kind in ("remote_append", "remote_para", "remote_trash"):
            c = ctx.store.find(ctx.pid(f"p{op[1]}"))
            if c is None or c.status != "current":
                return
            with ctx.store.act_as("colleague@example.com"):
                if kind == "remote_trash":
                    ctx.store.trash(c.id)
                    return
                old = f"P{op[1]}-{op[2]} base paragraph." if kind == "remote_para" else None
                if old and old in c.body:
                    body = c.body.replace(old, self.marker("R"), 1)
                else:
                    body = c.body + f"<p>{self.marker('R')}</p>"
                ctx.store.update_content(c.id, body=body)
        elif kind in ("remote_move", "remote_rename"):
            c = ctx.store.find(ctx.pid(f"p{op[1]}"))
            if c is None or c.status != "current":
                return
            with ctx.store.act_as("colleague@example.com"):
                if kind == "remote_rename":
                    self.n += 1
                    ctx.store.update_content(c.id, title=f"Page {op[1]} r{self.n}")
                    return
                target = ctx.store.find(ctx.pid(f"p{op[2]}"))
                if target is None or target.status != "current" or target.id == c.id:
                    return
                if any(a.id == c.id for a in ctx.store.ancestors(target.id)):
                    return
                ctx.store.move(c.id, "append", target.id)
        elif kind == "local_retitle":
            key = f"p{op[1]}"
            path = ctx.file_of(key)
            if path is None:
                return
            doc = read_doc(path)
            self.n += 1
            meta = frontmatter.FrontMatter(
                page_id=doc.meta.page_id,
                title=f"Page {op[1]} l{self.n}",
                labels=doc.meta.labels,
                extra=doc.meta.extra,
            )
            path.write_text(frontmatter.render(meta, doc.body))
        elif kind == "local_move":
            src = ctx.file_of(f"p{op[1]}")
            dst_parent = ctx.file_of(f"p{op[2]}")
            if src is None or dst_parent is None or src == dst_parent:
                return
            folder = dst_parent.with_suffix("")
            if src.with_suffix("") in (folder, *folder.parents):
                return  # not into its own subtree
            folder.mkdir(exist_ok=True)
            target = folder / src.name
            if target.exists():
                return
            src.rename(target)
            children = src.with_suffix("")
            if children.is_dir():
                children.rename(target.with_suffix(""))
        elif kind == "local_create":
            text = self.marker("N")
            (ctx.docs / f"Local {self.n}.md").write_text(text + "\n")
        elif kind == "remote_create":
            with ctx.store.act_as("colleague@example.com"):
                ctx.store.create_page(
                    ctx.emu.space_key, f"Remote {self.n + 1}", f"<p>{self.marker('C')}</p>"
                )
        elif kind == "sync":
            fault = op[1]
            if fault == "503":
                # without Retry-After: the client's own backoff (a second per 503 else)
                ctx.emu.faults.configure(
                    {"error_rate": 0.3, "error_status": 503, "error_retry_after": None}
                )
            elif fault == "slow":
                ctx.emu.faults.configure({"latency_ms": 5})
            await ctx.sync()
            ctx.emu.faults.reset()
            self.unsynced_local.clear()


def archive_copies(ctx: Ctx) -> None:
    for path in conflict_copies(ctx.docs).values():
        ctx.captured.setdefault("archive", []).append(path.read_text())
        path.unlink()


async def run_script(ops: list[tuple], on_conflict: str, flavor: str = "cloud") -> None:
    with tempfile.TemporaryDirectory(prefix="syncd-rand-") as tmp:
        scenario = {"space": SPACE, "sync": {"on_conflict": on_conflict}}
        emu = EmulatorServer(flavor=flavor, pages=0, seed=1)
        await emu.start()
        ctx = Ctx(scenario=scenario, tmp=Path(tmp), emu=emu)
        try:
            await build_space(ctx)
            ctx.write_config()
            await ctx.sync()
            script = Script(ctx)
            for op in ops:
                await script.apply(op)
            ctx.emu.faults.reset()
            for _ in range(5):  # the user reads and deletes conflict copies (keep-both)
                report = await ctx.sync()
                archive_copies(ctx)
                if report.in_sync and not report.applied and not conflict_copies(ctx.docs):
                    break
            await converge(ctx)
            assert_sides_equal(ctx)
            all_edits_kept(ctx)
        finally:
            await ctx.emu.stop()


# SYNCD_SCENARIO_SEED / SYNCD_SCENARIO_EXAMPLES explore further; the suite stays derandomized.
SEED = os.environ.get("SYNCD_SCENARIO_SEED")


@seed(int(SEED or 0))
@settings(
    max_examples=int(os.environ.get("SYNCD_SCENARIO_EXAMPLES", "40")),
    derandomize=SEED is None,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    ops=st.lists(OPS, min_size=3, max_size=10),
    on_conflict=st.sampled_from(["keep-both", "local", "remote"]),
    flavor=st.sampled_from(["cloud", "dc"]),
)
def test_random_interleavings_converge_and_lose_nothing(ops, on_conflict, flavor) -> None:
    asyncio.run(run_script(ops, on_conflict, flavor))
