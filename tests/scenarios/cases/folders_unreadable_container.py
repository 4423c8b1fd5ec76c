"""Issue 12: a container syncd cannot read (here every GET of the folder is refused) never
makes a page move in Confluence. Its pages are written into a directory named after the
container's kind and id, with a note; syncs with nothing changed write nothing; once the
folder can be read, the directory takes the folder's name (a local rename only)."""

from scenarios.runner import Ctx

from syncd.confluence import PermissionDenied

PAGES = [
    {"key": "f", "title": "Private", "type": "folder"},
    {"key": "p", "title": "Plan", "body": "<p>Plan.</p>", "parent": "f"},
]


def refuse_folder_reads(ctx: Ctx, client) -> None:
    real = client.get_container

    async def get_container(kind: str, container_id: str):
        if str(container_id) == ctx.pid("f"):
            raise PermissionDenied("not allowed", status=403, method="GET", url="/folders")
        return await real(kind, container_id)

    client.get_container = get_container


def refused(ctx: Ctx) -> None:
    ctx.client_hooks.append(refuse_folder_reads)


def allowed(ctx: Ctx) -> None:
    ctx.client_hooks.clear()


def placed_with_a_note(ctx: Ctx) -> None:
    stand_in = f"folder {ctx.pid('f')}"
    assert ctx.must_file("p").relative_to(ctx.docs).as_posix() == f"{stand_in}/Plan.md"
    assert any("could not be read" in n for n in ctx.reports[-1].plan.notes)
    assert str(ctx.page("p").parent_id) == ctx.pid("f")


async def no_writes(ctx: Ctx) -> None:
    ctx.emu.requests.clear()
    report = await ctx.sync()
    assert not [k for k in ctx.emu.requests if not k.startswith("GET")], ctx.emu.requests
    assert not [a for a in report.plan.actions], report.plan.describe()
    assert any("could not be read" in n for n in report.plan.notes), report.plan.notes
    assert str(ctx.page("p").parent_id) == ctx.pid("f")


def in_place(ctx: Ctx) -> None:
    assert ctx.must_file("p").relative_to(ctx.docs).as_posix() == "Private/Plan.md"
    assert str(ctx.page("p").parent_id) == ctx.pid("f")
    assert ctx.page("p").version.number == 1


SCENARIO = {
    "covers": ["C5"],
    "space": {"pages": PAGES},
    "steps": [
        {"op": "call", "fn": refused},
        {"op": "sync"},
        {"op": "call", "fn": placed_with_a_note},
        {"op": "call", "fn": no_writes},
        {"op": "call", "fn": allowed},
        {"op": "sync"},
        {"op": "call", "fn": in_place},
    ],
    "expect": {"page_count": 2},
    "checks": [in_place],
}
