"""Keep-both: a conflict copy stays listed until the user deletes it, whatever happens to the
page meanwhile. A conflict, then a pull and a push of the page, then a second conflict of the
same page: both copies are listed, each naming the page's file as it is now (`syncd sync` exits 1 and says what to do, `syncd status`
lists them with the daemon stopped); deleting one ends that conflict only, also on a run that
does not scan the folder; deleting the other brings the folder back in sync.

Once a regression: every pull, push or merge of the page cleared its keep-both conflict, and
a second conflict dropped the first copy's record, so copies on disk went unlisted."""

import asyncio
import json
import os
import sys

from scenarios.runner import PROJECT_ROOT, conflict_copies

TODO = "; copy what you need, then delete it"


def listed(ctx) -> list[str]:
    return sorted(conflict_copies(ctx.docs))


def assert_listed(ctx, copies: list[str]) -> None:
    report = ctx.reports[-1]
    assert report.conflicts == copies, (report.conflicts, copies)
    page = ctx.must_file("a").relative_to(ctx.docs).as_posix()  # where the page is now
    for copy in copies:
        assert report.conflict_help[copy] == f"{page}: your text is in {copy}{TODO}"
    assert not report.in_sync


def first_conflict(ctx) -> None:
    copies = listed(ctx)
    assert len(copies) == 1, copies
    ctx.captured["first"] = copies[0]
    assert_listed(ctx, copies)


def first_still_listed(ctx) -> None:
    assert_listed(ctx, [ctx.captured["first"]])


def both_listed(ctx) -> None:
    copies = listed(ctx)
    assert len(copies) == 2 and ctx.captured["first"] in copies, copies
    ctx.captured["second"] = next(c for c in copies if c != ctx.captured["first"])
    assert_listed(ctx, copies)


async def _syncd(ctx, *args: str) -> tuple[int, str]:
    ctx.write_config()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "syncd",
        *args,
        "--config",
        str(ctx.config_path()),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=PROJECT_ROOT,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode() + err.decode()


async def commands_list_both(ctx) -> None:
    """What the user sees: `syncd sync` exits 1 naming the page, both copies and what to do;
    `syncd status` (no daemon running) lists both from the state database."""
    if ctx.emu.flavor != "cloud":
        return  # the commands do not depend on the flavour; once is enough
    rc, text = await _syncd(ctx, "sync")
    assert rc == 1, text
    for copy in (ctx.captured["first"], ctx.captured["second"]):
        line = f"syncd: conflict: page {ctx.pid('a')} 'Alpha Two': Alpha Two.md: your text is in"
        assert f"{line} {copy}{TODO}" in text.splitlines(), text
    rc, text = await _syncd(ctx, "status", "--json")
    status = json.loads(text[: text.rindex("}") + 1])
    assert status["conflicts"] == sorted([ctx.captured["first"], ctx.captured["second"]])


def delete_first(ctx) -> None:
    path = ctx.docs / ctx.captured["first"]
    ctx.captured.setdefault("archive", []).append(path.read_text())  # the user copied it
    path.unlink()


def only_second_listed(ctx) -> None:
    assert_listed(ctx, [ctx.captured["second"]])


def delete_second(ctx) -> None:
    path = ctx.docs / ctx.captured["second"]
    ctx.captured.setdefault("archive", []).append(path.read_text())
    path.unlink()


SCENARIO = {
    "flavors": ["cloud", "dc"],
    "covers": ["B1", "B6"],
    "sync": {"on_conflict": "keep-both"},
    "space": {
        "pages": [
            {
                "key": "a",
                "title": "Alpha",
                "body": "<p>Alpha first.</p><p>Alpha middle.</p><p>Alpha last.</p>",
            },
            {"key": "b", "title": "Beta", "body": "<p>Beta body.</p>"},
        ]
    },
    "steps": [
        {"op": "sync", "in_sync": True},
        # conflict 1
        {"op": "local.edit", "page": "a", "replace": ["Alpha middle.", "Alpha middle L1."]},
        {"op": "remote.edit", "page": "a", "replace": ["Alpha middle.", "Alpha middle R1."]},
        {"op": "sync", "applied": ["conflict"]},
        {"op": "call", "fn": first_conflict},
        # the page is pulled (and renamed), then pushed: the copy is still there, still listed
        {"op": "remote.edit", "page": "a", "replace": ["Alpha first.", "Alpha first R2."]},
        {"op": "remote.rename", "page": "a", "title": "Alpha Two"},
        {"op": "sync"},
        {"op": "assert", "expect": {"files": {"a": {"path": "Alpha Two.md"}}}},
        {"op": "call", "fn": first_still_listed},
        {"op": "local.edit", "page": "a", "replace": ["Alpha last.", "Alpha last L3."]},
        {"op": "sync", "applied": ["pushed"]},
        {"op": "call", "fn": first_still_listed},
        # conflict 2 of the same page: both copies listed
        {"op": "local.edit", "page": "a", "replace": ["Alpha middle R1.", "Alpha middle L4."]},
        {"op": "remote.edit", "page": "a", "replace": ["Alpha middle R1.", "Alpha middle R4."]},
        {"op": "sync", "applied": ["conflict"]},
        {"op": "call", "fn": both_listed},
        {"op": "call", "fn": commands_list_both},
        # the user deletes the first copy; a run that reads only page b still ends it
        {"op": "call", "fn": delete_first},
        {"op": "sync", "pages": ["b"]},
        {"op": "call", "fn": only_second_listed},
        {"op": "sync"},
        {"op": "call", "fn": only_second_listed},
        {"op": "call", "fn": delete_second},
        {"op": "sync", "in_sync": True},
    ],
    "expect": {
        "conflict_copies": 0,
        "conflicts": 0,
        "files": {"a": {"contains": ["Alpha first R2.", "Alpha middle R4.", "Alpha last L3."]}},
    },
}
