"""The live daemon under webhook faults (Data Center: signed deliveries).

Duplicated deliveries pull once; reordered deliveries never regress a file; dropped
deliveries are caught by polling; a signed delivery replayed an hour later changes nothing;
a local save is pushed once and never echoed back.
"""

import json

import httpx
from scenarios.runner import Ctx, assert_no_secret, quiescent


def gets_of(ctx: Ctx, pid: str) -> int:
    return sum(v for k, v in ctx.emu.requests.items() if k.startswith("GET") and "{id}" in k)


def mark(ctx: Ctx) -> None:
    ctx.captured["before"] = dict(ctx.emu.requests)


def page_gets_since_mark(ctx: Ctx) -> int:
    before = ctx.captured["before"]
    return sum(
        v - before.get(k, 0)
        for k, v in ctx.emu.requests.items()
        if k.startswith("GET") and "{id}" in k and "child" not in k and "attachment" not in k
    )


async def duplicates_pull_once(ctx: Ctx) -> None:
    await quiescent(ctx)
    dups = [d for d in ctx.emu.deliveries if d["duplicate"] and d["outcome"] == "delivered"]
    assert dups, "no duplicate delivery was sent"
    # one version, delivered twice: at most two reads of that page (hint + confirmation)
    assert page_gets_since_mark(ctx) <= 2, ctx.emu.requests


async def no_regression(ctx: Ctx) -> None:
    await quiescent(ctx)
    text = ctx.must_file("b").read_text()
    assert "Beta third." in text and "Beta second." not in text, text


async def replay_an_hour_later(ctx: Ctx) -> None:
    await quiescent(ctx)
    delivered = [
        d
        for d in ctx.emu.deliveries
        if d["outcome"] == "delivered" and d["event"] == "page_updated"
    ]
    assert delivered, "no delivery to replay"
    old = delivered[0]
    assert "X-Hub-Signature" in old["headers"], old["headers"]
    async with httpx.AsyncClient() as http:
        r = await http.post(ctx.emu.root_url + "/_emulator/clock", json={"advance_s": 3600})
        r.raise_for_status()
    files = {k: ctx.must_file(k).read_bytes() for k in ("a", "b", "c")}
    versions = {k: ctx.page(k).version.number for k in ("a", "b", "c")}
    before = dict(ctx.emu.requests)
    body = json.dumps(old["payload"], separators=(",", ":")).encode()
    async with httpx.AsyncClient() as http:
        r = await http.post(old["url"], content=body, headers=old["headers"])
    assert r.status_code < 500, r.status_code
    await quiescent(ctx)
    assert {k: ctx.must_file(k).read_bytes() for k in files} == files
    assert {k: ctx.page(k).version.number for k in versions} == versions
    writes = {
        k: v - before.get(k, 0)
        for k, v in ctx.emu.requests.items()
        if not k.startswith("GET") and v != before.get(k, 0)
    }
    assert writes == {}, writes


async def no_echo(ctx: Ctx) -> None:
    await quiescent(ctx, quiet=1.5)
    page = ctx.page("a")
    assert page.version.number == ctx.captured["a_version"] + 1, page.version.number
    puts = [v.number for v in page.versions if "Saved while the daemon runs." in v.body]
    assert len(puts) == 1, puts


def remember_a(ctx: Ctx) -> None:
    ctx.captured["a_version"] = ctx.page("a").version.number


SCENARIO = {
    "covers": ["D1", "D2", "D4", "F1", "F3", "F4", "G3", "G4"],
    "flavor": "dc",
    "slow": True,
    "space": {
        "pages": [
            {"key": "a", "title": "Alpha", "body": "<p>Alpha.</p>"},
            {"key": "b", "title": "Beta", "body": "<p>Beta first.</p>"},
            {"key": "c", "title": "Gamma", "body": "<p>Gamma.</p>"},
        ]
    },
    "steps": [
        {"op": "daemon.start", "webhook": {"silence_timeout": "3s"}},
        {"op": "wait.file", "page": "c", "contains": "Gamma."},
        {"op": "wait.quiet"},
        # duplicated
        {"op": "faults", "set": {"webhooks": "duplicate"}},
        {"op": "call", "fn": mark},
        {"op": "remote.edit", "page": "a", "append": "Alpha via duplicated delivery."},
        {"op": "wait.file", "page": "a", "contains": "Alpha via duplicated delivery."},
        {"op": "call", "fn": duplicates_pull_once},
        # reordered: v2 and v3 of Beta arrive v3 first
        {"op": "faults", "set": {"webhooks": "reorder"}},
        {"op": "remote.edit", "page": "b", "body": "<p>Beta second.</p>", "remember": False},
        {"op": "remote.edit", "page": "b", "body": "<p>Beta third.</p>", "remember": False},
        {"op": "wait.file", "page": "b", "contains": "Beta third."},
        {"op": "call", "fn": no_regression},
        # dropped: polling picks the edit up
        {"op": "faults", "set": {"webhooks": "drop"}},
        {"op": "remote.edit", "page": "c", "append": "Gamma while deliveries are dropped."},
        {
            "op": "wait.file",
            "page": "c",
            "contains": "Gamma while deliveries are dropped.",
            "within": 25,
        },
        {"op": "faults", "set": {"webhooks": "deliver"}},
        # replayed an hour later
        {"op": "call", "fn": replay_an_hour_later},
        # a local save is pushed once and not echoed back
        {"op": "call", "fn": remember_a},
        {"op": "local.edit", "page": "a", "append": "Saved while the daemon runs."},
        {"op": "wait.page", "page": "a", "contains": "Saved while the daemon runs."},
        {"op": "call", "fn": no_echo},
        {"op": "daemon.status", "exit": 0},
        {"op": "daemon.stop"},
        {"op": "call", "fn": lambda ctx: assert_no_secret(ctx, ctx.emu.token)},
    ],
    "expect": {
        "files": {"a": {"contains": ["Saved while the daemon runs."]}},
        "pages": {"b": {"version": 3}},
    },
}
