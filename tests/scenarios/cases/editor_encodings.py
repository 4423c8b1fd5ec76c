"""Files saved by other editors: CRLF line ends and a UTF-8 BOM change no content, so
nothing is pushed; a file with invalid UTF-8 is reported by name and never pushed or
deleted; fixing it lets the edit through."""

from scenarios.runner import Ctx


def crlf_and_bom(ctx: Ctx) -> None:
    a = ctx.must_file("a")
    a.write_bytes(a.read_bytes().replace(b"\n", b"\r\n"))
    b = ctx.must_file("b")
    b.write_bytes(b"\xef\xbb\xbf" + b.read_bytes())
    ctx.captured["before"] = dict(ctx.emu.requests)


def nothing_pushed(ctx: Ctx) -> None:
    from scenarios.runner import diff_counts, write_requests

    delta = write_requests(diff_counts(ctx.captured["before"], dict(ctx.emu.requests)))
    assert delta == {}, delta
    assert ctx.page("a").version.number == 1 and ctx.page("b").version.number == 1


def bad_bytes(ctx: Ctx) -> None:
    c = ctx.must_file("c")
    ctx.captured["c_path"] = c
    ctx.captured["c_good"] = c.read_bytes()
    c.write_bytes(ctx.captured["c_good"] + b"\nLatin-1 caf\xe9 edit.\n")


async def reported(ctx: Ctx) -> None:
    report = await ctx.sync()
    assert ctx.page("c").version.number == 1 and ctx.page("c").status == "current"
    assert ctx.captured["c_path"].exists()
    assert not report.in_sync, report.plan.describe()
    assert any("Gamma" in e for e in report.errors + report.conflicts), (
        report.errors,
        report.conflicts,
    )


def fix(ctx: Ctx) -> None:
    ctx.captured["c_path"].write_bytes(ctx.captured["c_good"] + "\nUTF-8 café edit.\n".encode())
    ctx.edits.append("UTF-8 café edit.")


SCENARIO = {
    "covers": ["D3", "E1"],
    "space": {
        "pages": [
            {"key": "a", "title": "Alpha", "body": "<p>Alpha one.</p><p>Alpha two.</p>"},
            {"key": "b", "title": "Beta", "body": "<p>Beta.</p>"},
            {"key": "c", "title": "Gamma", "body": "<p>Gamma.</p>"},
        ]
    },
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": crlf_and_bom},
        {"op": "sync"},
        {"op": "call", "fn": nothing_pushed},
        {"op": "call", "fn": bad_bytes},
        {"op": "call", "fn": reported},
        {"op": "call", "fn": fix},
        {"op": "sync"},
    ],
    "expect": {"pages": {"c": {"version": 2, "contains": ["café edit"]}}},
}
