"""A crash between writing a downloaded attachment and committing its record (seen with
kill -9 in kill9_first_sync): the next run finds the file identical to Confluence's
attachment and only records it; it must not upload the same bytes as a new version."""

from scenarios.runner import Ctx

from syncd.sync.state import StateDB


def drop_attachment_records(ctx: Ctx) -> None:
    with StateDB.open(ctx.state_dir) as db:
        records = db.attachments()
        assert records, "the seeded space has attachments"
        for record in records:
            db.delete_attachment(record.attachment_id)
    ctx.captured["before"] = dict(ctx.emu.requests)


def no_upload(ctx: Ctx) -> None:
    from scenarios.runner import diff_counts, write_requests

    delta = write_requests(diff_counts(ctx.captured["before"], dict(ctx.emu.requests)))
    assert delta == {}, delta
    again = [a.filename for a in ctx.store.attachments.values() if len(a.versions) > 1]
    assert again == [], f"identical bytes uploaded again as a new version: {again}"


SCENARIO = {
    "covers": ["A1", "A2", "D2"],
    "space": {"seeded": 10},
    "steps": [
        {"op": "sync", "in_sync": True},
        {"op": "call", "fn": drop_attachment_records},
        {"op": "sync"},
        {"op": "call", "fn": no_upload},
    ],
    "expect": {},
}
