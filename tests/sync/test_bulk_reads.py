"""What a bulk answer is trusted with (syncd.sync.bulk_reads): a body only with its own
version and never an older one than planned, labels only when known, a batch that failed
or a page it left out are read one by one, each page handed out once, batches read in
plan order a bounded number ahead."""

from __future__ import annotations

import asyncio

from syncd.confluence import ServerError
from syncd.confluence.models import Attachment, Page
from syncd.sync.bulk_reads import BulkAttachments, BulkBodies


class FakeClient:
    def __init__(self, pages: dict[str, Page], *, limit: int = 2, fail: bool = False) -> None:
        self.pages = pages
        self.limit = limit
        self.fail = fail
        self.batches: list[list[str]] = []
        self.attachments: dict[str, list[Attachment]] = {}

    def bulk_body_limit(self) -> int:
        return self.limit

    async def iter_pages_by_id(self, ids, *, kind="page"):
        self.batches.append(list(ids))
        if self.fail:
            raise ServerError("boom", status=500)
        for pid in ids:
            if pid in self.pages:
                yield self.pages[pid]

    async def space_attachments(self, space_key):
        return self.attachments


def page(pid: str, version: int, labels=()) -> Page:
    return Page(id=pid, title=pid, parent_id=None, version=version, body="<p/>", labels=labels)


async def test_bodies_come_in_plan_order_batches_and_only_at_a_trusted_version():
    client = FakeClient(
        {"1": page("1", 3), "2": page("2", 1), "3": page("3", 5, None), "5": page("5", 1)}
    )
    pulls = [(pid, "page") for pid in ("1", "2", "3", "4", "5", "6", "7", "8")]
    bodies = BulkBodies(client, pulls, labels={"3": None}, ahead=1)  # type: ignore[arg-type]
    got = await bodies.get("1", 2, "page")
    assert got is not None and got.version == 3  # edited since the listing: its own version
    assert client.batches == [["1", "2"], ["3", "4"]]  # this batch and one ahead
    assert await bodies.get("2", 2, "page") is None  # older than planned: read on its own
    assert await bodies.get("3", 5, "page") is None  # labels unknown (Cloud, no sweep)
    assert await bodies.get("4", 1, "page") is None  # not in the answer (trashed meanwhile)
    assert await bodies.get("1", 2, "page") is None  # handed out once
    assert await bodies.get("5", 1, "blogpost") is None  # another kind: not this batch's
    await asyncio.sleep(0)
    assert ["7", "8"] not in client.batches  # never more than one batch ahead of need
    bodies.close()


async def test_a_failed_batch_is_read_page_by_page():
    client = FakeClient({"1": page("1", 1)}, fail=True)
    bodies = BulkBodies(client, [("1", "page")])  # type: ignore[arg-type]
    assert await bodies.get("1", 1, "page") is None


async def test_attachment_lists_are_vouched_for_only_when_they_hold_every_recorded_one():
    client = FakeClient({})
    a1 = Attachment(id="a1", title="x.png", page_id="1", version=1)
    client.attachments = {"1": [a1]}
    lists = BulkAttachments(client, "DEMO", {"1": {"a1"}, "2": {"a9"}, "3": set()})  # type: ignore[arg-type]
    assert await lists.get("1") == [a1]
    assert await lists.get("2") is None  # a recorded attachment missing: read its own list
    assert await lists.get("3") == []  # nothing recorded, nothing listed
    assert await lists.get("1") is None  # once per page
