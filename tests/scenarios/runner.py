"""Scenario runner: a starting space and folder, a script of steps on both sides, an end state.

A scenario is a plain dict (one module per scenario in ``cases/``, ``SCENARIO = {...}``)::

    {
      "name": "edit-both-clean-merge",
      "covers": ["B1"],                       # reliability.md §5 checklist ids
      "flavor": "cloud",                      # or "dc"
      "space": {"pages": [{"key": "a", "title": "Alpha", "body": "<p>x</p>", "parent": None}],
                "seeded": 0},                 # a "type" (folder, whiteboard, ...) makes a container
      "sync": {"on_conflict": "merge"},       # the config's sync section
      "root_page": "a",                       # confluence.root_page (a page key)
      "steps": [{"op": "sync"}, {"op": "local.edit", "page": "a", "append": "more"}, ...],
      "expect": {"files": {...}, "pages": {...}, "conflicts": 0, ...},
    }

Engine scenarios run `SyncEngine.run_once` in-process against an `EmulatorServer` on the same
event loop; `syncd sync` subprocess steps (kill -9) run beside it. Every wait is a bounded poll.
Pages are named by scenario keys; the runner maps them to ids. Files are found by the
``page_id`` in their front matter, so expectations survive renames and moves.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from syncd.config import Config, parse_config
from syncd.confluence import ConfluenceClient, ConnectionSettings
from syncd.convert import storage_to_markdown
from syncd.emulator.server import EmulatorServer
from syncd.local import frontmatter
from syncd.sync.engine import SyncEngine, SyncReport, SyncRequest
from syncd.sync.resolver import PageIndex
from syncd.sync.users import UserNames

PROJECT_ROOT = Path(__file__).resolve().parents[2]
OTHER_USER = "colleague@example.com"
CONVERGE_RUNS = 4


# ----------------------------------------------------------------------------- helpers


async def until(predicate: Callable[[], Any], within: float = 15.0, what: str = "condition") -> Any:
    """Poll ``predicate`` (sync or async) every 20 ms until truthy; fail after ``within`` s."""
    deadline = time.monotonic() + within
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within}s waiting for {what}")
        await asyncio.sleep(0.02)


def read_doc(path: Path) -> frontmatter.Document:
    return frontmatter.parse(path.read_text(encoding="utf-8"))


def is_page_file(rel: str) -> bool:
    parts = rel.split("/")
    return rel.endswith(".md") and not any(p.startswith(".") for p in parts)


def is_conflict_copy(rel: str) -> bool:
    return ".conflict-" in rel


def page_files(root: Path) -> dict[str, Path]:
    """Page files by relative path (hidden folders and conflict copies excluded)."""
    out: dict[str, Path] = {}
    if not root.is_dir():
        return out
    for p in root.rglob("*.md"):
        rel = p.relative_to(root).as_posix()
        if is_page_file(rel) and not is_conflict_copy(rel):
            out[rel] = p
    return dict(sorted(out.items()))


def conflict_copies(root: Path) -> dict[str, Path]:
    if not root.is_dir():
        return {}
    return {
        p.relative_to(root).as_posix(): p
        for p in sorted(root.rglob("*.md"))
        if is_conflict_copy(p.name)
    }


def normalize_md(text: str) -> str:
    """Compare Markdown by lines, ignoring trailing spaces and blank-line runs."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out)


def write_requests(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if not k.startswith("GET") and v}


def diff_counts(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


# ----------------------------------------------------------------------------- context


@dataclass
class Ctx:
    scenario: dict[str, Any]
    tmp: Path
    emu: EmulatorServer
    keys: dict[str, str] = field(default_factory=dict)  # scenario key -> page id
    reports: list[SyncReport] = field(default_factory=list)
    captured: dict[str, Any] = field(default_factory=dict)  # steps may stash things here
    edits: list[str] = field(default_factory=list)  # every marker text written on either side
    client_overrides: dict[str, Any] = field(default_factory=dict)
    # wrap the client each sync opens (inject a remote edit between GET and PUT, and so on)
    client_hooks: list[Callable[[Ctx, ConfluenceClient], None]] = field(default_factory=list)
    transport: httpx.AsyncBaseTransport | None = None  # e.g. one that resets connections

    @property
    def docs(self) -> Path:
        return self.tmp / "docs"

    @property
    def state_dir(self) -> Path:
        return self.tmp / "state"

    @property
    def trash(self) -> Path:
        return self.state_dir / "trash"

    @property
    def store(self):
        return self.emu.store

    def pid(self, key: str) -> str:
        return self.keys[key] if key in self.keys else key

    def page(self, key: str):
        return self.store.get(self.pid(key))

    def file_of(self, key: str) -> Path | None:
        pid = self.pid(key)
        for p in page_files(self.docs).values():
            try:
                if str(read_doc(p).meta.page_id) == pid:
                    return p
            except (OSError, ValueError, frontmatter.FrontMatterError):
                continue
        return None

    def must_file(self, key: str) -> Path:
        path = self.file_of(key)
        assert path is not None, f"no local file for page {key!r} ({self.pid(key)})"
        return path

    # ---- config ---------------------------------------------------------------------

    def config_path(self) -> Path:
        return self.tmp / "config.yaml"

    def write_config(self) -> Config:
        sync = dict(self.scenario.get("sync") or {})
        lines = "".join(f"  {k}: {json.dumps(v)}\n" for k, v in sync.items())
        email = f"  email: {self.emu.user}\n" if self.emu.flavor == "cloud" else ""
        deployment = "cloud" if self.emu.flavor == "cloud" else "datacenter"
        root = self.scenario.get("root_page")
        root_line = f"  root_page: {json.dumps(self.pid(root))}\n" if root else ""
        text = (
            "confluence:\n"
            f"  base_url: {self.emu.base_url}\n"
            f"  deployment: {deployment}\n"
            f"  space: {self.emu.space_key}\n"
            f"  token: {self.emu.token}\n"
            f"{email}{root_line}"
            f"local:\n  path: {self.docs}\n"
            f"state_dir: {self.state_dir}\n" + ("sync:\n" + lines if lines else "")
        )
        path = self.config_path()
        path.write_text(text)
        path.chmod(0o600)
        return parse_config(text, path=path)

    @property
    def config(self) -> Config:
        return self.write_config()

    async def open_client(self, config: Config | None = None) -> ConfluenceClient:
        c = (config or self.config).confluence
        settings = ConnectionSettings(
            base_url=c.base_url,
            token=c.token,
            email=c.email,
            deployment=c.deployment,
            backoff_base=0.05,
            backoff_cap=0.5,
            max_attempts=6,
            connect_timeout=2.0,
            read_timeout=10.0,
            **self.client_overrides,
        )
        client = await ConfluenceClient.open(settings, transport=self.transport)
        for hook in self.client_hooks:
            hook(self, client)
        return client

    async def sync(
        self,
        request: SyncRequest | None = None,
        *,
        allow_delete: bool = False,
        dry_run: bool = False,
    ) -> SyncReport:
        config = self.config  # written and parsed once per run
        client = await self.open_client(config)
        try:
            engine = await SyncEngine.open(config, client=client)
            try:
                report = await engine.run_once(request, allow_delete=allow_delete, dry_run=dry_run)
            finally:
                await engine.close()
        finally:
            await client.aclose()
        self.reports.append(report)
        return report

    # ---- emulator -------------------------------------------------------------------

    async def faults(self, **settings: Any) -> dict:
        """What ``POST /_emulator/faults`` does (tests/emulator/test_faults.py covers the
        route), called in-process: an HTTP client per call cost more than the change."""
        self.emu.faults.configure(settings)
        return self.emu.faults.as_dict()

    async def clear_faults(self) -> None:
        self.emu.faults.reset()

    def counts(self) -> dict[str, int]:
        return dict(self.emu.requests)


# ----------------------------------------------------------------------------- steps

Step = Callable[[Ctx, dict[str, Any]], Awaitable[None]]
STEPS: dict[str, Step] = {}


def step(name: str) -> Callable[[Step], Step]:
    def register(fn: Step) -> Step:
        STEPS[name] = fn
        return fn

    return register


def _edit_text(old: str, s: dict[str, Any]) -> str:
    if "body" in s:
        return s["body"]
    text = old
    if "replace" in s:
        a, b = s["replace"]
        assert a in text, f"{a!r} not in {text[:200]!r}"
        text = text.replace(a, b, 1)
    if "append" in s:
        text = text.rstrip("\n") + "\n\n" + s["append"] + "\n"
    if "prepend" in s:
        text = s["prepend"] + "\n\n" + text
    return text


def _remember(ctx: Ctx, s: dict[str, Any]) -> None:
    for key in ("append", "prepend"):
        if key in s and s.get("remember", True):
            ctx.edits.append(s[key])
    if "replace" in s and s.get("remember", True):
        ctx.edits.append(s["replace"][1])


@step("sync")
async def _sync(ctx: Ctx, s: dict[str, Any]) -> None:
    request = None
    if s.get("pages") or s.get("paths") or s.get("full"):
        request = SyncRequest(
            page_ids={ctx.pid(k) for k in s.get("pages", ())},
            paths=set(s.get("paths", ())),
            full=bool(s.get("full")),
        )
    report = await ctx.sync(
        request, allow_delete=s.get("allow_delete", False), dry_run=s.get("dry_run", False)
    )
    if "in_sync" in s:
        assert report.in_sync == s["in_sync"], (report.errors, report.plan.describe())
    if s.get("no_errors"):
        assert not report.errors, report.errors
    if "applied" in s:
        got = sorted(c.event_type for c in report.applied)
        assert got == sorted(s["applied"]), (got, report.plan.describe(), report.errors)
    if "blocked" in s:
        assert (report.blocked_deletions is not None) == s["blocked"], report.blocked_deletions


@step("local.edit")
async def _local_edit(ctx: Ctx, s: dict[str, Any]) -> None:
    path = ctx.must_file(s["page"])
    doc = read_doc(path)
    meta = doc.meta
    if "title" in s:
        meta = frontmatter.FrontMatter(
            page_id=meta.page_id, title=s["title"], labels=meta.labels, extra=meta.extra
        )
    path.write_text(frontmatter.render(meta, _edit_text(doc.body, s)), encoding="utf-8")
    _remember(ctx, s)


@step("local.write")
async def _local_write(ctx: Ctx, s: dict[str, Any]) -> None:
    """A new file (or raw bytes over one): ``path``, ``body``, optional ``title``."""
    path = ctx.docs / s["path"]
    path.parent.mkdir(parents=True, exist_ok=True)
    if "raw" in s:
        path.write_text(s["raw"], encoding="utf-8")
    elif s.get("title"):
        meta = frontmatter.FrontMatter(page_id=None, title=s["title"], labels=(), extra={})
        path.write_text(frontmatter.render(meta, s["body"]), encoding="utf-8")
    else:
        path.write_text(s["body"], encoding="utf-8")
    if s.get("remember", True) and "body" in s:
        ctx.edits.append(s["body"].strip())


@step("local.delete")
async def _local_delete(ctx: Ctx, s: dict[str, Any]) -> None:
    keys = s["pages"] if "pages" in s else [s["page"]]
    for key in keys:
        ctx.must_file(key).unlink()


@step("local.rename")
async def _local_rename(ctx: Ctx, s: dict[str, Any]) -> None:
    """Rename or move a page's file: ``to`` is a path relative to the folder."""
    src = ctx.must_file(s["page"])
    dst = ctx.docs / s["to"]
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.rename(src, dst)


@step("local.mkdir")
async def _local_mkdir(ctx: Ctx, s: dict[str, Any]) -> None:
    (ctx.docs / s["path"]).mkdir(parents=True, exist_ok=True)


@step("local.edit_many")
async def _local_edit_many(ctx: Ctx, s: dict[str, Any]) -> None:
    """Append a line to every page file (except README.md), e.g. 1,000 at once."""
    n = 0
    for rel, path in page_files(ctx.docs).items():
        if rel == "README.md":
            continue
        doc = read_doc(path)
        line = f"{s['append']} {n}"
        path.write_text(frontmatter.render(doc.meta, doc.body + "\n" + line + "\n"))
        n += 1
    ctx.captured["edited_many"] = n


def _body(s: dict[str, Any], old: str) -> str:
    if "body" in s:
        return s["body"]
    text = old
    if "replace" in s:
        a, b = s["replace"]
        assert a in text, f"{a!r} not in {text[:200]!r}"
        text = text.replace(a, b, 1)
    if "append" in s:
        text += f"<p>{s['append']}</p>"
    if "prepend" in s:
        text = f"<p>{s['prepend']}</p>" + text
    return text


@step("remote.edit")
async def _remote_edit(ctx: Ctx, s: dict[str, Any]) -> None:
    with ctx.store.act_as(s.get("as", OTHER_USER)):
        c = ctx.page(s["page"])
        ctx.store.update_content(c.id, body=_body(s, c.body), title=s.get("title"))
    _remember(ctx, s)


@step("remote.create")
async def _remote_create(ctx: Ctx, s: dict[str, Any]) -> None:
    parent = ctx.pid(s["parent"]) if s.get("parent") else None
    with ctx.store.act_as(s.get("as", OTHER_USER)):
        c = ctx.store.create_page(
            ctx.emu.space_key, s["title"], s.get("body", ""), parent_id=parent
        )
    ctx.keys[s["key"]] = c.id


@step("remote.trash")
async def _remote_trash(ctx: Ctx, s: dict[str, Any]) -> None:
    keys = s["pages"] if "pages" in s else [s["page"]]
    with ctx.store.act_as(s.get("as", OTHER_USER)):
        for key in keys:
            ctx.store.trash(ctx.pid(key))


@step("remote.purge")
async def _remote_purge(ctx: Ctx, s: dict[str, Any]) -> None:
    with ctx.store.act_as(s.get("as", OTHER_USER)):
        ctx.store.trash(ctx.pid(s["page"]))
        ctx.store.purge(ctx.pid(s["page"]))


@step("remote.restore")
async def _remote_restore(ctx: Ctx, s: dict[str, Any]) -> None:
    with ctx.store.act_as(s.get("as", OTHER_USER)):
        ctx.store.restore(ctx.pid(s["page"]))


@step("remote.move")
async def _remote_move(ctx: Ctx, s: dict[str, Any]) -> None:
    with ctx.store.act_as(s.get("as", OTHER_USER)):
        ctx.store.move(ctx.pid(s["page"]), "append", ctx.pid(s["to"]))


@step("remote.rename")
async def _remote_rename(ctx: Ctx, s: dict[str, Any]) -> None:
    with ctx.store.act_as(s.get("as", OTHER_USER)):
        ctx.store.update_content(ctx.pid(s["page"]), title=s["title"])


@step("faults")
async def _faults(ctx: Ctx, s: dict[str, Any]) -> None:
    await ctx.faults(**s["set"])


@step("clock")
async def _clock(ctx: Ctx, s: dict[str, Any]) -> None:
    async with httpx.AsyncClient() as http:
        r = await http.post(
            ctx.emu.root_url + "/_emulator/clock", json={"advance_s": s["advance_s"]}
        )
        r.raise_for_status()


@step("reset_counts")
async def _reset_counts(ctx: Ctx, s: dict[str, Any]) -> None:
    ctx.emu.requests.clear()


@step("call")
async def _call(ctx: Ctx, s: dict[str, Any]) -> None:
    result = s["fn"](ctx)
    if asyncio.iscoroutine(result):
        await result


@step("assert")
async def _assert(ctx: Ctx, s: dict[str, Any]) -> None:
    check_expectations(ctx, s["expect"])


# ----------------------------------------------------------------------------- subprocesses


async def syncd_sync_killed(
    ctx: Ctx, *, after_requests: int, jitter: float = 0.0, within: float = 20.0
) -> bool:
    """Run ``syncd sync`` and SIGKILL it once the emulator counted ``after_requests`` more
    requests. Returns False when the process finished first (nothing to kill)."""
    start = sum(ctx.counts().values())
    ctx.write_config()
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        "sync",
        "--config",
        str(ctx.config_path()),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        cwd=PROJECT_ROOT,
        env=env,
    )
    try:
        await until(
            lambda: (
                proc.returncode is not None or sum(ctx.counts().values()) - start >= after_requests
            ),
            within,
            f"{after_requests} requests from syncd sync",
        )
        if jitter:
            await asyncio.sleep(jitter)  # a random point, not a synchronisation
        if proc.returncode is not None:
            return False
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
        return True
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


# ----------------------------------------------------------------------------- expectations


def _check_text(where: str, text: str, spec: dict[str, Any]) -> None:
    for needle in spec.get("contains", ()):
        assert needle in text, f"{where}: {needle!r} missing from {text[:600]!r}"
    for needle in spec.get("absent", ()):
        assert needle not in text, f"{where}: {needle!r} should be gone: {text[:600]!r}"


def check_expectations(ctx: Ctx, expect: dict[str, Any]) -> None:
    for key, spec in (expect.get("files") or {}).items():
        if spec is None:
            assert ctx.file_of(key) is None, f"page {key!r} should have no local file"
            continue
        path = ctx.must_file(key)
        rel = path.relative_to(ctx.docs).as_posix()
        if "path" in spec:
            assert rel == spec["path"], f"{key}: at {rel}, expected {spec['path']}"
        doc = read_doc(path)
        if "title" in spec:
            assert doc.meta.title == spec["title"], (doc.meta.title, spec["title"])
        _check_text(f"file {rel}", doc.body, spec)
    for rel, spec in (expect.get("paths") or {}).items():
        path = ctx.docs / rel
        if spec is None:
            assert not path.exists(), f"{rel} should not exist"
            continue
        assert path.is_file(), f"{rel} missing; have {list(page_files(ctx.docs))}"
        _check_text(rel, path.read_text(encoding="utf-8"), spec)
    for key, spec in (expect.get("pages") or {}).items():
        c = ctx.store.find(ctx.pid(key))
        if spec is None:
            assert c is None, f"page {key!r} should be purged"
            continue
        assert c is not None, f"page {key!r} ({ctx.pid(key)}) does not exist"
        where = f"page {key} ({c.title}, v{c.version.number}, {c.status})"
        if "version" in spec:
            assert c.version.number == spec["version"], where
        if "title" in spec:
            assert c.title == spec["title"], where
        if "status" in spec:
            assert c.status == spec["status"], where
        if "parent" in spec:
            want = ctx.pid(spec["parent"]) if spec["parent"] else None
            assert str(c.parent_id) == str(want), f"{where}: parent {c.parent_id} != {want}"
        _check_text(where, c.body, spec)
    if "titles" in expect:  # pages present (current) by title, with body substrings
        current = {c.title: c for c in ctx.store.all_content("page") if c.status == "current"}
        for title, spec in expect["titles"].items():
            if spec is None:
                assert title not in current, f"a page titled {title!r} should not exist"
                continue
            assert title in current, f"no page titled {title!r}; have {sorted(current)}"
            _check_text(f"page {title!r}", current[title].body, spec)
    if "page_count" in expect:
        n = sum(1 for c in ctx.store.all_content("page") if c.status == "current")
        assert n == expect["page_count"], n
    if "conflict_copies" in expect:
        copies = conflict_copies(ctx.docs)
        spec = expect["conflict_copies"]
        count = spec if isinstance(spec, int) else spec["count"]
        assert len(copies) == count, list(copies)
        if isinstance(spec, dict):
            text = "\n".join(p.read_text() for p in copies.values())
            _check_text("conflict copies", text, spec)
    if "conflicts" in expect:
        last = ctx.reports[-1]
        assert len(last.conflicts) == expect["conflicts"], last.conflicts
    if "local_trash" in expect:
        spec = expect["local_trash"]
        files = [p for p in ctx.trash.rglob("*") if p.is_file()] if ctx.trash.is_dir() else []
        text = "\n".join(p.read_text(errors="replace") for p in files)
        assert files or not spec.get("contains"), "the local trash is empty"
        _check_text("local trash", text, spec)
    if "markers" in expect:
        for key in expect["markers"]:
            body = read_doc(ctx.must_file(key)).body
            assert "<<<<<<<" in body and ">>>>>>>" in body, body
    for key in expect.get("history_contains", {}):
        c = ctx.page(key)
        text = "\n".join(v.body for v in c.versions)
        for needle in expect["history_contains"][key]:
            assert needle in text, f"{needle!r} in no version of {c.title}"
    if "no_temp_files" not in expect or expect["no_temp_files"]:
        temps = [p for p in ctx.docs.rglob("*") if ".tmp" in p.name] if ctx.docs.is_dir() else []
        assert not temps, temps


async def converge(ctx: Ctx, *, runs: int = CONVERGE_RUNS, allow_delete: bool = False) -> None:
    """Sync until a run has nothing to do, then prove the next run writes nothing."""
    for _ in range(runs):
        report = await ctx.sync(allow_delete=allow_delete)
        if report.in_sync and not report.applied:
            break
    else:
        raise AssertionError(
            f"not converged after {runs} runs: {report.errors} {report.conflicts} "
            f"{report.plan.describe()}"
        )
    before = ctx.counts()
    snapshot = {rel: p.read_bytes() for rel, p in page_files(ctx.docs).items()}
    report = await ctx.sync()
    delta = diff_counts(before, ctx.counts())
    assert report.in_sync and not report.applied, report.plan.describe()
    assert write_requests(delta) == {}, f"a no-op sync wrote: {delta}"
    after = {rel: p.read_bytes() for rel, p in page_files(ctx.docs).items()}
    assert after == snapshot, "a no-op sync rewrote files"


def is_write(key: str) -> bool:
    """A request that changes the site (the user lookup is a POST that only reads)."""
    return key.startswith(("PUT", "POST", "DELETE")) and not key.endswith("/users-bulk")


def assert_sides_equal(ctx: Ctx) -> None:
    """Every current page of the space (of the ``root_page`` subtree) has one file whose
    body is the page converted."""
    current = [c for c in ctx.store.all_content("page") if c.status == "current"]
    if ctx.scenario.get("root_page"):
        root = ctx.pid(ctx.scenario["root_page"])
        inside = {root} | {str(c.id) for c in ctx.store.descendants(root)}
        current = [c for c in current if str(c.id) in inside]
    files = page_files(ctx.docs)
    by_id: dict[str, Path] = {}
    for p in files.values():
        by_id[str(read_doc(p).meta.page_id)] = p
    assert len(files) == len(current), (sorted(files), sorted(c.title for c in current))
    index = PageIndex(ctx.emu.space_key)
    if ctx.emu.flavor == "cloud":
        # Mentions read with the names Confluence Cloud gives (DC is asked by user key only).
        names = UserNames(None)
        for user in ctx.store.users.values():
            names.remember("account-id", user.account_id, user.display_name)
        index.users = names
    for c in current:
        path = by_id.get(str(c.id))
        index.set_page(str(c.id), c.title, path and path.relative_to(ctx.docs).as_posix())
    for c in current:
        path = by_id.get(str(c.id))
        assert path is not None, f"no file for page {c.title!r} ({c.id})"
        rel = path.relative_to(ctx.docs).as_posix()
        local = normalize_md(read_doc(path).body)
        remote = normalize_md(storage_to_markdown(c.body, resolver=index.for_page(rel)).markdown)
        assert local == remote, f"{c.title}: local and remote differ\n{local}\n---\n{remote}"


def all_edits_kept(ctx: Ctx) -> None:
    """Every edit is in the final content, a conflict copy, the local trash or page history."""
    places: list[str] = []
    for p in page_files(ctx.docs).values():
        places.append(p.read_text(errors="replace"))
    for p in conflict_copies(ctx.docs).values():
        places.append(p.read_text(errors="replace"))
    if ctx.trash.is_dir():
        places += [p.read_text(errors="replace") for p in ctx.trash.rglob("*") if p.is_file()]
    for c in ctx.store.all_content("page"):
        places += [v.body for v in c.versions]
    places += ctx.captured.get("archive", [])  # conflict copies the "user" read and deleted
    blob = "\n".join(places)
    lost = [e for e in ctx.edits if e not in blob]
    assert not lost, f"edits lost: {lost}"


# ----------------------------------------------------------------------------- driver


async def build_space(ctx: Ctx) -> None:
    space = ctx.scenario.get("space") or {}
    for spec in space.get("pages", ()):
        parent = ctx.pid(spec["parent"]) if spec.get("parent") else None
        if spec.get("type", "page") != "page":  # a Cloud folder, whiteboard, database, embed
            c = ctx.store.create_container(
                ctx.emu.space_key, spec["type"], spec["title"], parent_id=parent
            )
        else:
            c = ctx.store.create_page(
                ctx.emu.space_key, spec["title"], spec.get("body", ""), parent_id=parent
            )
        ctx.keys[spec["key"]] = c.id
    ctx.keys["home"] = str(ctx.store.space(ctx.emu.space_key).homepage_id)


def emulator_kwargs(scenario: dict[str, Any], tmp: Path) -> dict[str, Any]:
    space = scenario.get("space") or {}
    kwargs = {
        "flavor": scenario.get("flavor", "cloud"),
        "pages": space.get("seeded", 0),
        "seed": scenario.get("seed", 1),
        **(scenario.get("emulator") or {}),
    }
    if scenario.get("persist"):
        kwargs["data"] = tmp / "emulator.json"
    return kwargs


async def restart_emulator(ctx: Ctx) -> None:
    """Stop the emulator and start it again on the same port from its data file."""
    port = ctx.emu.port
    await ctx.emu.stop()
    kwargs = emulator_kwargs(ctx.scenario, ctx.tmp)
    assert "data" in kwargs, "restart needs a scenario with persist: True"
    emu = EmulatorServer(**{**kwargs, "port": port})
    await emu.start()
    ctx.emu = emu


@step("emulator.restart")
async def _emulator_restart(ctx: Ctx, s: dict[str, Any]) -> None:
    await restart_emulator(ctx)


async def run_scenario(scenario: dict[str, Any], tmp: Path) -> Ctx:
    emu = EmulatorServer(**emulator_kwargs(scenario, tmp))
    await emu.start()
    ctx = Ctx(scenario=scenario, tmp=tmp, emu=emu)
    try:
        await build_space(ctx)
        ctx.write_config()
        for i, s in enumerate(scenario.get("steps", ())):
            op = s["op"]
            try:
                await STEPS[op](ctx, s)
            except AssertionError as exc:
                raise AssertionError(f"step {i} ({op}): {exc}") from exc
        await ctx.clear_faults()
        expect = scenario.get("expect") or {}
        if expect.get("converged", True):
            await converge(ctx, allow_delete=expect.get("converge_allow_delete", False))
            if expect.get("sides_equal", True):
                assert_sides_equal(ctx)
        check_expectations(ctx, expect)
        if expect.get("edits_kept", True):
            all_edits_kept(ctx)
        for check in scenario.get("checks", ()):
            result = check(ctx)
            if asyncio.iscoroutine(result):
                await result
    finally:
        daemon = ctx.captured.pop("daemon", None)
        if daemon is not None:
            await daemon.stop(signal.SIGKILL)
        await ctx.emu.stop()
    return ctx


def seeded(seed: int) -> random.Random:
    return random.Random(seed)


# ----------------------------------------------------------------------------- daemon


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_daemon_config(ctx: Ctx, **webhook: Any) -> Path:
    """The scenario's config plus a webhook receiver on a free port and fast polling."""
    import yaml

    ctx.write_config()
    doc = yaml.safe_load(ctx.config_path().read_text())
    port = free_port()
    doc["webhook"] = {
        "listen": f"127.0.0.1:{port}",
        "public_url": f"http://127.0.0.1:{port}/hook",
        "silence_timeout": "60s",
        **webhook,
    }
    doc["poll"] = {"interval": "500ms", "full_scan": "1h"}
    doc.setdefault("sync", {}).setdefault("debounce", "200ms")
    ctx.config_path().write_text(yaml.safe_dump(doc))
    ctx.config_path().chmod(0o600)
    return ctx.config_path()


class DaemonProc:
    """One ``syncd run`` subprocess against the in-process emulator; output in a log file."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.log_path = ctx.tmp / f"daemon-{time.monotonic_ns()}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("NOTIFY_SOCKET", None)
        with open(self.log_path, "wb") as log:  # noqa: ASYNC230 - a local log file
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "syncd",
                "run",
                "--config",
                str(self.ctx.config_path()),
                "-v",
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                cwd=PROJECT_ROOT,
                env=env,
            )

        def ready() -> bool:
            if self.proc is not None and self.proc.returncode is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}:\n{self.log()}")
            return "ready:" in self.log()

        await until(ready, 30, "the daemon to be ready")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def status(self) -> dict[str, Any] | None:
        from syncd.daemon.control import fetch_status

        return await asyncio.to_thread(fetch_status, self.ctx.state_dir / "control.sock", 2.0)

    async def stop(self, sig: int = signal.SIGTERM, within: float = 15.0) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        try:
            return await asyncio.wait_for(self.proc.wait(), within)
        finally:
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()


async def quiescent(
    ctx: Ctx, quiet: float = 1.2, within: float = 20.0, ignore: tuple[str, ...] = ("/search",)
) -> None:
    """Wait until the emulator's request counter has not moved for ``quiet`` seconds
    (the polling fallback's change queries, ``ignore``, do not count)."""
    state = {"last": -1, "since": time.monotonic()}

    def still() -> bool:
        total = sum(v for k, v in ctx.counts().items() if not any(i in k for i in ignore))
        now = time.monotonic()
        if total != state["last"]:
            state["last"], state["since"] = total, now
            return False
        return now - state["since"] >= quiet

    await until(still, within, "the emulator's request counter to settle")


@step("daemon.start")
async def _daemon_start(ctx: Ctx, s: dict[str, Any]) -> None:
    write_daemon_config(ctx, **s.get("webhook", {}))
    daemon = DaemonProc(ctx)
    ctx.captured["daemon"] = daemon
    await daemon.start()


@step("daemon.stop")
async def _daemon_stop(ctx: Ctx, s: dict[str, Any]) -> None:
    daemon: DaemonProc = ctx.captured.pop("daemon")
    code = await daemon.stop(signal.SIGKILL if s.get("kill") else signal.SIGTERM)
    if not s.get("kill"):
        assert code == 0, f"daemon exited {code}:\n{daemon.log()[-3000:]}"


@step("wait.file")
async def _wait_file(ctx: Ctx, s: dict[str, Any]) -> None:
    def has() -> bool:
        path = ctx.file_of(s["page"])
        return path is not None and s["contains"] in path.read_text(errors="replace")

    await until(has, s.get("within", 15), f"{s['page']} to contain {s['contains']!r}")


@step("wait.page")
async def _wait_page(ctx: Ctx, s: dict[str, Any]) -> None:
    await until(
        lambda: s["contains"] in ctx.page(s["page"]).body,
        s.get("within", 15),
        f"page {s['page']} to contain {s['contains']!r}",
    )


@step("wait.quiet")
async def _wait_quiet(ctx: Ctx, s: dict[str, Any]) -> None:
    await quiescent(ctx, s.get("quiet", 1.2))


@step("daemon.status")
async def _daemon_status(ctx: Ctx, s: dict[str, Any]) -> None:
    """`syncd status --json` answers with the expected exit code (0 = in sync)."""
    want = s.get("exit", 0)

    async def status_code() -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "syncd",
            "status",
            "--config",
            str(ctx.config_path()),
            "--json",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), 20)
        return proc.returncode or 0, out.decode(errors="replace")

    seen: dict[str, Any] = {}

    async def settled() -> bool:
        seen["code"], seen["out"] = await status_code()
        return seen["code"] == want

    try:
        await until(settled, s.get("within", 15), f"syncd status to exit {want}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: last exit {seen.get('code')}: {seen.get('out')}") from None


def assert_no_secret(ctx: Ctx, secret: str) -> None:
    """The token appears in no state file, log or trash (the config file is the user's)."""
    places = [p for p in ctx.state_dir.rglob("*") if p.is_file()]
    places += list(ctx.tmp.glob("daemon-*.log"))
    leaks = [p for p in places if secret.encode() in p.read_bytes()]
    assert leaks == [], leaks
