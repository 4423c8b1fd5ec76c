"""The emulator's store enforces Confluence's rules and reports every change as an event."""

from __future__ import annotations

import time

import pytest

from syncd.emulator.errors import BadRequest, NotFound, TitleExists, VersionConflict
from syncd.emulator.model import Event
from syncd.emulator.store import Store


@pytest.fixture
def store() -> Store:
    s = Store(seed=7)
    s.create_space("ENG", "Engineering")
    return s


@pytest.fixture
def events(store: Store) -> list[Event]:
    got: list[Event] = []
    store.listeners.append(got.append)
    return got


def home(store: Store) -> str:
    return store.space("ENG").homepage_id


def test_space_has_a_home_page(store: Store):
    page = store.get(home(store))
    assert page.type == "page" and page.parent_id is None
    assert page.title == "Engineering Home"


def test_create_defaults_to_under_the_home_page(store: Store, events: list[Event]):
    page = store.create_page("ENG", "Runbook", "<p>x</p>")
    assert page.parent_id == home(store)
    assert page.version.number == 1
    assert [e.name for e in events] == ["page_created"]
    assert events[0].data["page"]["id"] == page.id


def test_titles_are_unique_per_space_including_the_trash(store: Store):
    page = store.create_page("ENG", "Runbook")
    with pytest.raises(TitleExists):
        store.create_page("ENG", "Runbook")
    store.trash(page.id)
    with pytest.raises(TitleExists):
        store.create_page("ENG", "Runbook")
    store.purge(page.id)
    assert store.create_page("ENG", "Runbook").title == "Runbook"


def test_other_spaces_may_reuse_a_title(store: Store):
    store.create_space("OPS")
    store.create_page("ENG", "Runbook")
    assert store.create_page("OPS", "Runbook").space_key == "OPS"


def test_update_must_carry_current_plus_one(store: Store):
    page = store.create_page("ENG", "Runbook", "<p>1</p>")
    for stale in (1, 3, 0):
        with pytest.raises(VersionConflict) as info:
            store.update_content(page.id, version=stale, body="<p>x</p>")
        assert info.value.current == 1 and info.value.status == 409
    store.update_content(page.id, version=2, body="<p>2</p>")
    assert page.version.number == 2 and page.body == "<p>2</p>"
    assert page.version_at(1).body == "<p>1</p>", "the old version stays readable"


def test_rename_onto_a_taken_title_is_refused_and_changes_nothing(store: Store):
    a = store.create_page("ENG", "A")
    store.create_page("ENG", "B")
    with pytest.raises(TitleExists):
        store.update_content(a.id, version=2, title="B")
    assert a.version.number == 1 and a.title == "A"
    store.update_content(a.id, version=2, title="C")
    assert store.by_title("ENG", "C") is a and store.by_title("ENG", "A") is None


def test_trash_purge_restore_emit_the_documented_events(store: Store, events: list[Event]):
    page = store.create_page("ENG", "Doomed")
    store.trash(page.id)
    assert page.status == "trashed"
    store.restore(page.id)
    assert page.status == "current" and page.version.number == 1, "restore is status-only"
    store.trash(page.id)
    store.purge(page.id)
    assert store.find(page.id) is None
    names = [e.name for e in events]
    assert names == [
        "page_created",
        "page_trashed",
        "page_restored",
        "page_trashed",
        "page_removed",
    ]


def test_only_trashed_pages_can_be_purged(store: Store):
    page = store.create_page("ENG", "Live")
    with pytest.raises(BadRequest):
        store.purge(page.id)


def test_trashing_a_parent_lifts_its_children_and_restore_finds_a_home(store: Store):
    parent = store.create_page("ENG", "Parent")
    child = store.create_page("ENG", "Child", parent_id=parent.id)
    grandchild = store.create_page("ENG", "Grandchild", parent_id=child.id)
    store.trash(child.id)
    assert grandchild.parent_id == parent.id, "children move up, they are not deleted"
    assert grandchild.status == "current"
    store.trash(parent.id)
    assert grandchild.parent_id == home(store)
    store.restore(child.id)
    assert child.parent_id == home(store), "its old parent is in the trash"
    store.restore(parent.id)
    assert parent.parent_id == home(store) and store.children(parent.id) == []
    store.trash(parent.id)
    store.purge(parent.id)
    assert store.find(parent.id) is None and grandchild in store.children(home(store))


def test_move_append_before_after_and_events(store: Store, events: list[Event]):
    a = store.create_page("ENG", "A")
    b = store.create_page("ENG", "B")
    c = store.create_page("ENG", "C", parent_id=a.id)
    events.clear()
    store.move(c.id, "append", b.id)
    assert c.parent_id == b.id
    moved = events[-1]
    assert moved.name == "page_moved"
    assert moved.data["oldParent"]["id"] == a.id and moved.data["newParent"]["id"] == b.id
    store.move(c.id, "before", a.id)
    assert c.parent_id == home(store)
    assert [p.title for p in store.children(home(store))] == ["C", "A", "B"]
    store.move(c.id, "after", b.id)
    assert [p.title for p in store.children(home(store))] == ["A", "B", "C"]
    assert [p.position for p in store.children(home(store))] == [0, 1, 2]
    assert c.version.number == 1, "a move publishes no new version"


def test_move_under_own_descendant_is_refused(store: Store):
    a = store.create_page("ENG", "A")
    b = store.create_page("ENG", "B", parent_id=a.id)
    with pytest.raises(BadRequest):
        store.move(a.id, "append", b.id)
    with pytest.raises(BadRequest):
        store.update_content(a.id, version=2, parent_id=b.id)
    assert a.parent_id == home(store) and a.version.number == 1


def test_update_with_new_parent_emits_updated_then_moved(store: Store, events: list[Event]):
    a = store.create_page("ENG", "A")
    b = store.create_page("ENG", "B")
    events.clear()
    store.update_content(b.id, version=2, parent_id=a.id)
    assert [e.name for e in events] == ["page_updated", "page_moved"]
    assert store.ancestors(b.id)[-1] is a


def test_labels_add_remove_and_events(store: Store, events: list[Event]):
    page = store.create_page("ENG", "Labelled")
    events.clear()
    store.add_label(page.id, "Synced")
    store.add_label(page.id, "synced")  # same label, no second event
    assert list(page.labels) == ["synced"]
    store.remove_label(page.id, "synced")
    assert [e.name for e in events] == ["label_created", "label_added", "label_removed"]
    with pytest.raises(NotFound):
        store.remove_label(page.id, "synced")


def test_attachments_keep_versions_and_bytes(store: Store, events: list[Event]):
    page = store.create_page("ENG", "Files")
    events.clear()
    a = store.add_attachment(page.id, "diagram.png", b"v1")
    assert a.id.startswith("att") and a.media_type == "image/png"
    store.add_attachment(page.id, "diagram.png", b"v2 bytes")
    assert [v.data for v in a.versions] == [b"v1", b"v2 bytes"]
    assert a.size == len(b"v2 bytes")
    with pytest.raises(BadRequest):
        store.add_attachment(page.id, "diagram.png", b"x", allow_update=False)
    store.delete_attachment(a.id)
    assert a.status == "trashed"
    store.restore_attachment(a.id)
    assert a.status == "current" and [v.data for v in a.versions] == [b"v1", b"v2 bytes"]
    store.delete_attachment(a.id)
    store.delete_attachment(a.id, purge=True)
    assert store.attachments_of(page.id) == []
    assert [e.name for e in events] == [
        "attachment_created",
        "attachment_updated",
        "attachment_trashed",
        "attachment_restored",
        "attachment_trashed",
        "attachment_removed",
    ]
    assert all(e.data["attachedTo"]["id"] for e in events)


def test_stored_bodies_are_normalised_like_confluence(store: Store):
    body = (
        '<p>x</p><ac:structured-macro ac:name="info"><ac:rich-text-body><p>i</p>'
        "</ac:rich-text-body></ac:structured-macro>"
    )
    page = store.create_page("ENG", "Macro", body)
    assert page.body != body
    assert 'ac:macro-id="' in page.body
    assert (
        page.body.replace(
            page.body[
                page.body.index(" ac:macro-id") : page.body.index(
                    '"', page.body.index('ac:macro-id="') + 13
                )
                + 1
            ],
            "",
        )
        == body
    )


def test_comments_blogs_and_space_updates_emit_events(store: Store, events: list[Event]):
    page = store.create_page("ENG", "Commented")
    store.add_comment(page.id, "<p>nice</p>")
    blog = store.create_blogpost("ENG", "News", "<p>n</p>")
    store.update_content(blog.id, version=2, body="<p>m</p>")
    store.trash(blog.id)
    store.purge(blog.id)
    store.update_space("ENG", name="Eng")
    names = [e.name for e in events]
    assert names == [
        "page_created",
        "comment_created",
        "blog_created",
        "blog_updated",
        "blog_trashed",
        "blog_removed",
        "space_updated",
    ]


def test_listing_after_id_is_ordered_and_skips_purged(store: Store):
    pages = [store.create_page("ENG", f"P{i}") for i in range(5)]
    store.trash(pages[2].id)
    store.purge(pages[2].id)
    ids = [c.id for c in store.listing("ENG", "page", int(pages[0].id))]
    assert ids == [pages[1].id, pages[3].id, pages[4].id]


def test_clock_is_monotonic_and_can_advance(store: Store):
    t1 = store.clock.now_ms()
    t2 = store.clock.now_ms()
    assert t2 > t1
    wall = int(time.time() * 1000)
    store.clock.advance(120)
    assert store.clock.now_ms() >= wall + 120_000


def test_title_uniqueness_ignores_case_but_a_page_may_change_its_own_case(store: Store):
    page = store.create_page("ENG", "Runbook")
    with pytest.raises(TitleExists):
        store.create_page("ENG", "RUNBOOK")
    store.update_content(page.id, version=2, title="RunBook")
    assert store.by_title("ENG", "runbook") is page


def test_act_as_attributes_changes_to_another_user(store: Store, events: list[Event]):
    page = store.create_page("ENG", "Shared")
    with store.act_as("colleague@example.com") as other:
        store.edit(page.id, "<p>theirs</p>")
    store.edit(page.id, "<p>mine</p>")
    assert other.account_id != store.user.account_id
    assert [v.author for v in page.versions] == [
        store.user.account_id,
        other.account_id,
        store.user.account_id,
    ]
    assert [e.user.email for e in events] == [
        "demo@example.com",
        "colleague@example.com",
        "demo@example.com",
    ]
    assert store.user_by_account(other.account_id) is other
