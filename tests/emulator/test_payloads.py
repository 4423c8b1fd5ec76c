"""Webhook payloads per event, in the DC ID-only shape and the Cloud capture shape."""

from __future__ import annotations

import pytest

from syncd.emulator.model import Event
from syncd.emulator.payloads import cloud_payload, dc_payload
from syncd.emulator.store import Store

BASE = "http://127.0.0.1:1/wiki"


@pytest.fixture
def recorded() -> tuple[Store, dict[str, Event]]:
    store = Store()
    store.create_space("ENG", "Engineering")
    events: dict[str, Event] = {}
    store.listeners.append(lambda e: events.__setitem__(e.name, e))
    a = store.create_page("ENG", "A")
    b = store.create_page("ENG", "B")
    store.edit(a.id, "<p>2</p>")
    store.move(a.id, "append", b.id)
    store.add_label(a.id, "tag")
    store.remove_label(a.id, "tag")
    att = store.add_attachment(a.id, "f.txt", b"1")
    store.add_attachment(a.id, "f.txt", b"2")
    store.delete_attachment(att.id)
    store.restore_attachment(att.id)
    store.delete_attachment(att.id)
    store.delete_attachment(att.id, purge=True)
    store.add_comment(a.id, "<p>c</p>")
    blog = store.create_blogpost("ENG", "News")
    store.edit(blog.id, "<p>n</p>")
    store.trash(blog.id)
    store.purge(blog.id)
    store.trash(a.id)
    store.restore(a.id)
    store.trash(a.id)
    store.purge(a.id)
    store.update_space("ENG", name="Eng")
    return store, events


def test_every_documented_event_is_emitted(recorded):
    _, events = recorded
    assert set(events) >= {
        "page_created",
        "page_updated",
        "page_trashed",
        "page_removed",
        "page_restored",
        "page_moved",
        "attachment_created",
        "attachment_updated",
        "attachment_trashed",
        "attachment_restored",
        "attachment_removed",
        "label_added",
        "label_removed",
        "comment_created",
        "blog_created",
        "blog_updated",
        "blog_removed",
        "space_updated",
    }


def test_dc_payloads_are_id_only(recorded):
    store, events = recorded
    user = store.user

    def dc(name: str) -> dict:
        payload = dc_payload(events[name], user)
        assert payload["event"] == name and payload["userKey"] == user.user_key
        assert isinstance(payload["timestamp"], int)
        return payload

    assert set(dc("page_created")) == {"timestamp", "event", "userKey", "page"}
    assert set(dc("page_created")["page"]) == {"id"}
    assert isinstance(dc("page_created")["page"]["id"], int)
    assert dc("page_updated")["updateTrigger"] == "edit_page"
    moved = dc("page_moved")
    assert moved["oldParent"]["id"] == int(store.space("ENG").homepage_id)
    assert set(moved["newParent"]) == {"id"}
    att = dc("attachment_updated")
    assert set(att) == {"timestamp", "event", "userKey", "attachedTo", "attachments"}
    assert isinstance(att["attachments"][0]["id"], int)
    assert dc("label_added")["label"] == {"name": "tag"}
    assert dc("label_added")["labeled"]["labels"] == [{"name": "tag"}]
    assert set(dc("comment_created")) == {"timestamp", "event", "userKey", "comment"}
    assert set(dc("blog_removed")) == {"timestamp", "event", "userKey", "blog"}
    space = dc("space_updated")["space"]
    assert set(space) == {
        "id",
        "homePage",
        "creatorKey",
        "creationDate",
        "lastModifierKey",
        "modificationDate",
    }


def test_cloud_payloads_follow_the_capture(recorded):
    store, events = recorded
    user = store.user
    for name, event in events.items():
        payload = cloud_payload(event, user, BASE)
        assert "event" not in payload and "webhookEvent" not in payload, name
        assert payload["userAccountId"] == user.account_id and payload["accountType"] == "customer"
    page = cloud_payload(events["page_updated"], user, BASE)["page"]
    assert set(page) == {
        "idAsString",
        "creatorAccountId",
        "spaceKey",
        "spaceId",
        "modificationDate",
        "lastModifierAccountId",
        "self",
        "id",
        "title",
        "creationDate",
        "contentType",
        "version",
    }
    assert isinstance(page["id"], int) and page["idAsString"] == str(page["id"])
    assert page["contentType"] == "page" and page["version"] == 2
    assert page["self"].startswith(f"{BASE}/spaces/ENG/pages/{page['id']}/")
    assert cloud_payload(events["page_updated"], user, BASE)["updateTrigger"] == "edit_page"
    moved = cloud_payload(events["page_moved"], user, BASE)
    assert {"page", "oldParent", "newParent"} <= set(moved)
    comment = cloud_payload(events["comment_created"], user, BASE)["comment"]
    assert comment["contentType"] == "comment" and comment["parent"]["contentType"] == "page"
    assert "focusedCommentId=" in comment["self"]
    blog = cloud_payload(events["blog_updated"], user, BASE)["blog"]
    assert blog["contentType"] == "blogpost"
    att = cloud_payload(events["attachment_created"], user, BASE)
    assert att["attachments"][0]["fileName"] == "f.txt" and att["attachedTo"]["title"] == "A"


def test_purged_page_payload_keeps_what_it_knew(recorded):
    store, events = recorded
    removed = cloud_payload(events["page_removed"], store.user, BASE)["page"]
    assert removed["title"] == "A" and store.find(removed["idAsString"]) is None


def test_payloads_name_the_acting_user():
    store = Store()
    store.create_space("ENG")
    got: list[Event] = []
    store.listeners.append(got.append)
    page = store.create_page("ENG", "Mine")
    with store.act_as("other@example.com") as other:
        store.edit(page.id, "<p>x</p>")
    dc = dc_payload(got[-1], got[-1].user)
    assert dc["userKey"] == other.user_key
    cloud = cloud_payload(got[-1], got[-1].user, BASE)
    assert cloud["userAccountId"] == other.account_id
    assert cloud["page"]["lastModifierAccountId"] == other.account_id
    assert cloud["page"]["creatorAccountId"] == store.user.account_id
