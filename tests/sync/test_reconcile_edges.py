"""Reconcile edge cases beyond the table: parents, collisions, guards, scope."""

from __future__ import annotations

from syncd.sync.model import (
    CreateRemote,
    Forget,
    Link,
    LocalEntry,
    Merge,
    MoveLocal,
    MoveLocalToTrash,
    MoveRemote,
    Pull,
    Push,
    ReconcileOptions,
    RecordLocal,
    RemoteEntry,
    RestoreRemote,
    TrashRemote,
    body_hash,
)
from syncd.sync.reconcile import reconcile
from syncd.sync.records import PageRecord, Tombstone

ROOT = "1"
OPTS = ReconcileOptions(root_page_id=ROOT, max_delete=3)


def h(text: str) -> str:
    return body_hash(text)


def rec(pid: str, path: str, title: str, parent: str | None = ROOT, v: int = 1, **kw) -> PageRecord:
    return PageRecord(pid, path, title, parent, v, f"{pid}\n", h(f"{pid}\n"), **kw)


def loc(pid: str | None, path: str, title: str, body: str | None = None, **kw) -> LocalEntry:
    return LocalEntry(path, pid, title, h(body if body is not None else f"{pid}\n"), **kw)


def rem(pid: str, title: str, parent: str | None = ROOT, v: int = 1, **kw) -> RemoteEntry:
    return RemoteEntry(pid, title, parent, v, **kw)


def tracked(*pages: tuple[str, str, str, str | None]):
    """States, locals and remotes for pages in sync: (id, path, title, parent)."""
    states = {p[0]: rec(*p) for p in pages}
    local = [loc(p[0], p[1], p[2]) for p in pages]
    remotes = {p[0]: rem(p[0], p[2], p[3]) for p in pages}
    return states, local, remotes


# ------------------------------------------------------------------ parents


def test_new_nested_file_without_parent_pages_creates_placeholders_parents_first():
    plan = reconcile({}, [loc(None, "A/B/C.md", "C")], {}, options=OPTS)
    assert list(plan.actions) == [
        CreateRemote("A.md", "A", None, placeholder=True),
        CreateRemote("A/B.md", "B", None, parent_path="A.md", placeholder=True),
        CreateRemote("A/B/C.md", "C", None, parent_path="A/B.md"),
    ]


def test_new_file_in_the_folder_of_a_new_file_is_created_after_it():
    plan = reconcile(
        {},
        [loc(None, "Guide/Install.md", "Install"), loc(None, "Guide.md", "Guide")],
        {},
        options=OPTS,
    )
    assert list(plan.actions) == [
        CreateRemote("Guide.md", "Guide", None),
        CreateRemote("Guide/Install.md", "Install", None, parent_path="Guide.md"),
    ]


def test_new_file_under_a_tracked_page_gets_that_parent():
    states, local, remotes = tracked(("g", "Guide.md", "Guide", ROOT))
    plan = reconcile(states, [*local, loc(None, "Guide/New.md", "New")], remotes, options=OPTS)
    assert list(plan.actions) == [CreateRemote("Guide/New.md", "New", "g")]


def test_dirty_new_file_pulls_in_its_new_parent_file():
    local = [loc(None, "Guide.md", "Guide"), loc(None, "Guide/Install.md", "Install")]
    plan = reconcile({}, local, {}, dirty={"Guide/Install.md"}, options=OPTS)
    assert [a.path for a in plan.actions] == ["Guide.md", "Guide/Install.md"]


def test_local_move_into_another_pages_folder_reparents_remotely():
    states, local, remotes = tracked(("a", "A.md", "A", ROOT), ("b", "B.md", "B", ROOT))
    local = [loc("a", "A.md", "A"), loc("b", "A/B.md", "B")]
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [MoveRemote("b", "A/B.md", parent_changed=True, parent_id="a")]


def test_local_move_into_a_new_folder_creates_its_page_then_moves():
    states, _local, remotes = tracked(("b", "B.md", "B", ROOT))
    plan = reconcile(states, [loc("b", "Team/B.md", "B")], remotes, options=OPTS)
    assert list(plan.actions) == [
        CreateRemote("Team.md", "Team", None, placeholder=True),
        MoveRemote("b", "Team/B.md", parent_changed=True, parent_path="Team.md"),
    ]


def test_local_move_back_to_top_level_moves_under_the_root():
    states, _local, remotes = tracked(("a", "A.md", "A", ROOT), ("b", "A/B.md", "B", "a"))
    plan = reconcile(states, [loc("a", "A.md", "A"), loc("b", "B.md", "B")], remotes, options=OPTS)
    assert list(plan.actions) == [MoveRemote("b", "B.md", parent_changed=True, parent_id=None)]


def test_file_rename_without_title_change_is_only_recorded():
    states, _local, remotes = tracked(("a", "A.md", "A", ROOT))
    plan = reconcile(states, [loc("a", "a-renamed.md", "A")], remotes, options=OPTS)
    assert list(plan.actions) == [
        RecordLocal("a", "a-renamed.md", "A", None, "file moved from A.md")
    ]


def test_remote_move_under_a_page_that_is_new_remotely_pulls_the_parent_first():
    states, local, remotes = tracked(("b", "B.md", "B", ROOT))
    # "n" is listed after "b" and sorts after it: order must still be parents first.
    remotes = {"b": rem("b", "B", "zz-new", v=1), "zz-new": rem("zz-new", "New parent", ROOT)}
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [
        Pull("zz-new", None, 1, "New parent", None, "new"),
        MoveLocal("b", "B.md", "B", "zz-new"),
    ]


def test_new_remote_subtree_is_pulled_parents_first():
    remotes = {
        "c": rem("c", "C", "b"),
        "b": rem("b", "B", "a"),
        "a": rem("a", "A", ROOT),
    }
    plan = reconcile({}, [], remotes, options=OPTS)
    assert [a.page_id for a in plan.actions] == ["a", "b", "c"]


def test_deleted_folder_trashes_children_first():
    states, _local, remotes = tracked(
        ("a", "A.md", "A", ROOT), ("b", "A/B.md", "B", "a"), ("c", "A/B/C.md", "C", "b")
    )
    plan = reconcile(states, [], remotes, options=ReconcileOptions(ROOT, max_delete=5))
    # An empty folder is suspicious (unmounted?): the guard holds it unless allowed.
    assert plan.actions == ()
    assert "local folder is empty" in plan.blocked_deletions.reason
    assert [a.page_id for a in plan.blocked_deletions.actions] == ["c", "b", "a"]
    allowed = reconcile(states, [], remotes, options=ReconcileOptions(ROOT, allow_delete=True))
    assert list(allowed.actions) == [
        TrashRemote("c", "A/B/C.md", "C"),
        TrashRemote("b", "A/B.md", "B"),
        TrashRemote("a", "A.md", "A"),
    ]


def test_deleted_subtree_next_to_other_files_trashes_children_first():
    states, _local, remotes = tracked(
        ("a", "A.md", "A", ROOT), ("b", "A/B.md", "B", "a"), ("k", "Keep.md", "Keep", ROOT)
    )
    plan = reconcile(states, [loc("k", "Keep.md", "Keep")], remotes, options=OPTS)
    assert list(plan.actions) == [TrashRemote("b", "A/B.md", "B"), TrashRemote("a", "A.md", "A")]


def test_remote_trashed_parent_with_children_moved_up_moves_files_before_trashing():
    states, local, remotes = tracked(("a", "A.md", "A", ROOT), ("b", "A/B.md", "B", "a"))
    remotes = {"a": rem("a", "A", ROOT, status="trashed"), "b": rem("b", "B", ROOT, v=2)}
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [
        MoveLocal("b", "A/B.md", "B", None),
        Pull("b", "A/B.md", 2, "B", None),
        MoveLocalToTrash("a", "A.md", "trashed"),
    ]


def test_page_file_deleted_beside_its_folder_and_moved_remotely_comes_back_then_moves():
    states, _local, remotes = tracked(
        ("a", "A.md", "A", ROOT), ("b", "A/B.md", "B", "a"), ("g", "G.md", "G", ROOT)
    )
    remotes["a"] = rem("a", "A", "g", v=2)
    local = [loc("b", "A/B.md", "B"), loc("g", "G.md", "G")]
    plan = reconcile(states, local, remotes, options=OPTS)
    # back beside A/ first, then moved under G taking A/ (and B) along
    assert list(plan.actions) == [
        Pull("a", "A.md", 2, "A", "g", "undelete"),
        MoveLocal("a", "A.md", "A", "g"),
    ]


def test_deleting_a_page_file_whose_folder_still_holds_pages_pulls_it_back():
    states, _local, remotes = tracked(("a", "A.md", "A", ROOT), ("b", "A/B.md", "B", "a"))
    plan = reconcile(states, [loc("b", "A/B.md", "B")], remotes, options=OPTS)
    assert list(plan.actions) == [Pull("a", "A.md", 1, "A", None, "undelete")]
    assert any("folder still holds pages" in n for n in plan.notes)


# ------------------------------------------------------------------ identity and collisions


def test_copied_file_with_the_same_id_becomes_a_new_page():
    states, local, remotes = tracked(("a", "A.md", "A", ROOT))
    local = [loc("a", "A.md", "A"), loc("a", "A copy.md", "A copy")]
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [CreateRemote("A copy.md", "A copy", None)]
    assert any("carries the id of A.md" in n for n in plan.notes)


def test_copied_file_keeping_the_title_is_held_for_its_title():
    states, local, remotes = tracked(("a", "A.md", "A", ROOT))
    local = [loc("a", "A.md", "A"), loc("a", "Z/A.md", "A")]
    plan = reconcile(states, local, remotes, options=OPTS)
    assert [a for a in plan.actions if isinstance(a, CreateRemote) and not a.placeholder] == []
    assert [h.path for h in plan.held] == ["Z/A.md"]
    assert "already used by page a" in plan.held[0].reason


def test_both_files_moved_away_the_first_path_keeps_the_id():
    states, _, remotes = tracked(("a", "A.md", "A", ROOT))
    local = [loc("a", "x.md", "A"), loc("a", "y.md", "A (2)")]
    plan = reconcile(states, local, remotes, options=OPTS)
    assert RecordLocal("a", "x.md", "A", None, "file moved from A.md") in plan.actions
    assert CreateRemote("y.md", "A (2)", None) in plan.actions


def test_new_file_with_a_title_used_elsewhere_in_the_space_is_held():
    states, local, remotes = tracked(
        ("g", "Guide.md", "Guide", ROOT), ("x", "Guide/X.md", "X", "g")
    )
    plan = reconcile(states, [*local, loc(None, "X.md", "X")], remotes, options=OPTS)
    assert plan.actions == ()
    assert plan.held[0].path == "X.md" and "already used by page x" in plan.held[0].reason
    assert not plan.in_sync


def test_two_new_files_with_the_same_title_create_one_and_hold_the_other():
    local = [
        loc(None, "A/Notes.md", "Notes"),
        loc(None, "Notes.md", "Notes"),
        loc(None, "A.md", "A"),
    ]
    plan = reconcile({}, local, {}, options=OPTS)
    assert [a.path for a in plan.actions] == ["A.md", "Notes.md"]
    assert [h.path for h in plan.held] == ["A/Notes.md"]


def test_new_file_and_new_remote_page_with_same_title_but_other_parent_are_held():
    remotes = {"g": rem("g", "Guide", ROOT), "n": rem("n", "Notes", "g")}
    states = {"g": rec("g", "Guide.md", "Guide")}
    local = [loc("g", "Guide.md", "Guide"), loc(None, "Notes.md", "Notes")]
    plan = reconcile(states, local, remotes, options=OPTS)
    assert Pull("n", None, 1, "Notes", "g", "new") in plan.actions
    assert [h.path for h in plan.held] == ["Notes.md"]


def test_rename_to_a_title_another_page_has_is_held():
    states, _local, remotes = tracked(("a", "A.md", "A", ROOT), ("b", "B.md", "B", ROOT))
    plan = reconcile(states, [loc("a", "A.md", "A"), loc("b", "B.md", "A")], remotes, options=OPTS)
    assert plan.actions == ()
    assert plan.held[0].page_id == "b" and "page a already has that title" in plan.held[0].reason


def test_lost_state_links_files_to_existing_pages():
    remotes = {"a": rem("a", "A", ROOT, v=7), "t": rem("t", "T", ROOT, status="trashed")}
    local = [loc("a", "A.md", "A"), loc("t", "T.md", "T"), loc("g", "Gone.md", "Gone")]
    plan = reconcile({}, local, remotes, options=OPTS)
    assert list(plan.actions) == [
        CreateRemote("Gone.md", "Gone", None, recreate_of="g"),
        Link("a", "A.md", 7),
        RestoreRemote("t", "T.md"),
        Link("t", "T.md", 1),
    ]
    assert not any(a.destructive for a in plan.actions)


# ------------------------------------------------------------------ conflicts and content


def test_file_with_conflict_markers_is_held_and_not_pushed():
    states, _, remotes = tracked(("a", "A.md", "A", ROOT))
    local = [loc("a", "A.md", "A", body="x\n<<<<<<< local\n", has_conflict_markers=True)]
    plan = reconcile(states, local, remotes, options=OPTS)
    assert plan.actions == ()
    assert plan.held[0].page_id == "a" and "conflict markers" in plan.held[0].reason
    # ... even when Confluence changed meanwhile (no merge on top of markers)
    remotes = {"a": rem("a", "A", ROOT, v=2)}
    assert reconcile(states, local, remotes, options=OPTS).actions == ()


def test_new_file_with_conflict_markers_is_held():
    plan = reconcile({}, [loc(None, "N.md", "N", has_conflict_markers=True)], {}, options=OPTS)
    assert plan.actions == () and plan.held[0].path == "N.md"


def test_label_edit_in_front_matter_is_a_push():
    states = {"a": rec("a", "A.md", "A", labels=("x",))}
    local = [loc("a", "A.md", "A", labels=("y", "x"))]
    plan = reconcile(states, local, {"a": rem("a", "A")}, options=OPTS)
    assert list(plan.actions) == [Push("a", "A.md", 1)]
    same = [loc("a", "A.md", "A", labels=("x",))]
    assert reconcile(states, same, {"a": rem("a", "A")}, options=OPTS).in_sync


def test_crash_after_pull_write_before_record_plans_a_merge_that_converges():
    # The file already holds v2's Markdown, the record still says v1.
    states = {"a": rec("a", "A.md", "A")}
    local = [loc("a", "A.md", "A", body="what v2 converts to\n")]
    plan = reconcile(states, local, {"a": rem("a", "A", v=2)}, options=OPTS)
    assert list(plan.actions) == [Merge("a", "A.md", 1, 2)]


def test_root_page_parent_is_never_compared():
    states = {ROOT: rec(ROOT, "index.md", "Home", parent=None)}
    plan = reconcile(
        states, [loc(ROOT, "index.md", "Home")], {ROOT: rem(ROOT, "Home", None)}, options=OPTS
    )
    assert plan.in_sync


def test_blog_posts_have_no_parent_and_no_title_check():
    remotes = {"bp": rem("bp", "News", None, kind="blogpost"), "p": rem("p", "News", ROOT)}
    states = {"p": rec("p", "News.md", "News")}
    local = [loc("p", "News.md", "News"), loc(None, "blog/Weekly.md", "News", kind="blogpost")]
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [
        Pull("bp", None, 1, "News", None, "new", "blogpost"),
        CreateRemote("blog/Weekly.md", "News", None, kind="blogpost"),
    ]


# ------------------------------------------------------------------ tombstones


def test_tombstoned_page_still_trashed_needs_nothing_and_purged_is_forgotten():
    tomb = rec("a", "A.md", "A", tombstone=Tombstone("local", 1.0))
    assert reconcile({"a": tomb}, [], {"a": rem("a", "A", status="trashed")}, options=OPTS).in_sync
    plan = reconcile({"a": tomb}, [], {}, options=OPTS)
    assert list(plan.actions) == [
        Forget("a", "A.md", "deleted on both sides and purged in Confluence")
    ]


def test_file_restored_locally_restores_the_trashed_page():
    tomb = rec("a", "A.md", "A", tombstone=Tombstone("remote", 1.0, "trash/A.md"))
    plan = reconcile(
        {"a": tomb}, [loc("a", "A.md", "A")], {"a": rem("a", "A", status="trashed")}, options=OPTS
    )
    assert list(plan.actions) == [RestoreRemote("a", "A.md")]


def test_restored_on_both_sides_clears_the_tombstone():
    tomb = rec("a", "A.md", "A", tombstone=Tombstone("remote", 1.0, "trash/A.md"))
    plan = reconcile({"a": tomb}, [loc("a", "A.md", "A")], {"a": rem("a", "A")}, options=OPTS)
    assert list(plan.actions) == [RecordLocal("a", "A.md", "A", None, "restored on both sides")]


def test_restored_remotely_under_a_new_title_pulls_to_a_new_path():
    tomb = rec("a", "A.md", "A", tombstone=Tombstone("remote", 1.0, "trash/A.md"))
    plan = reconcile({"a": tomb}, [], {"a": rem("a", "A again", v=2)}, options=OPTS)
    assert list(plan.actions) == [Pull("a", None, 2, "A again", None, "restored")]


# ------------------------------------------------------------------ mass deletion guard


def _many(n: int):
    return tracked(*[(f"p{i}", f"P{i}.md", f"P{i}", ROOT) for i in range(n)])


def test_guard_blocks_mass_local_deletion_but_keeps_other_actions():
    states, local, remotes = _many(6)
    local = [*local[:2], loc(None, "New.md", "New")]  # 4 files deleted, 1 new
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [CreateRemote("New.md", "New", None)]
    blocked = plan.blocked_deletions
    assert blocked is not None
    assert "4 pages would be moved to the Confluence trash" in blocked.reason
    assert "--allow-delete" in blocked.reason
    assert sorted(a.page_id for a in blocked.actions) == ["p2", "p3", "p4", "p5"]
    assert any("blocked" in line for line in plan.describe())

    allowed = reconcile(
        states, local, remotes, options=ReconcileOptions(ROOT, max_delete=3, allow_delete=True)
    )
    assert allowed.blocked_deletions is None
    assert sum(isinstance(a, TrashRemote) for a in allowed.actions) == 4


def test_guard_blocks_mass_remote_deletion():
    states, local, remotes = _many(6)
    remotes = {
        pid: (rem(pid, r.title, status="trashed") if i < 2 else r)
        for i, (pid, r) in enumerate(remotes.items())
    }
    remotes = {k: v for k, v in remotes.items() if k not in ("p2", "p3")}  # two purged
    remotes["p5"] = rem("p5", "P5", v=2)
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [Pull("p5", "P5.md", 2, "P5", None)]
    assert "4 files would be moved to the local trash" in plan.blocked_deletions.reason


def test_guard_allows_exactly_max_delete():
    states, local, remotes = _many(6)
    plan = reconcile(states, local[3:], remotes, options=OPTS)
    assert plan.blocked_deletions is None
    assert sum(isinstance(a, TrashRemote) for a in plan.actions) == 3


def test_guard_blocks_any_deletion_when_the_remote_listing_is_empty():
    states, local, _ = _many(2)
    plan = reconcile(states, local, {}, options=OPTS)
    assert plan.actions == ()
    assert "remote listing is empty" in plan.blocked_deletions.reason


def test_guard_counts_per_side():
    states, local, remotes = _many(6)
    local = local[3:]  # 3 local deletions -> 3 remote trashes
    remotes = {
        k: (rem(k, v.title, status="trashed") if k in ("p3", "p4", "p5") else v)
        for k, v in remotes.items()
    }  # 3 remote trashes -> 3 local trash moves
    plan = reconcile(states, local, remotes, options=OPTS)
    assert plan.blocked_deletions is None
    assert sum(a.destructive for a in plan.actions) == 6


# ------------------------------------------------------------------ scope


def test_dirty_limits_the_pages_considered():
    states, local, remotes = _many(3)
    remotes = {k: rem(k, v.title, v=2) for k, v in remotes.items()}  # all edited remotely
    plan = reconcile(states, local, remotes, dirty={"p1"}, options=OPTS)
    assert [a.page_id for a in plan.actions] == ["p1"]
    by_path = reconcile(states, local, remotes, dirty={"P2.md"}, options=OPTS)
    assert [a.page_id for a in by_path.actions] == ["p2"]


def test_dirty_deleted_file_path_finds_its_record():
    states, local, remotes = _many(3)
    plan = reconcile(states, local[1:], remotes, dirty={"P0.md"}, options=OPTS)
    assert list(plan.actions) == [TrashRemote("p0", "P0.md", "P0")]


def test_everything_in_sync_is_an_empty_plan():
    states, local, remotes = _many(5)
    plan = reconcile(states, local, remotes, options=OPTS)
    assert plan.in_sync and plan.describe() == []


# ------------------------------------------------------------------ regressions found by the convergence test


def test_cross_moves_that_would_form_a_loop_keep_the_confluence_side():
    # Locally B was moved into A's folder; in Confluence A was moved under B.
    states, _local, _ = tracked(("a", "A.md", "A", ROOT), ("b", "B.md", "B", ROOT))
    local = [loc("a", "A.md", "A"), loc("b", "A/B.md", "B")]
    remotes = {"a": rem("a", "A", "b"), "b": rem("b", "B", ROOT)}
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [
        MoveLocal("b", "A/B.md", "B", None),
        MoveLocal("a", "A.md", "A", "b"),
    ]
    assert any("own subtree" in n for n in plan.notes)


def test_folder_named_like_another_page_without_its_page_file_is_held_not_duplicated():
    states, local, remotes = tracked(("t", "T.md", "T", ROOT), ("c", "C.md", "C", ROOT))
    local = [loc("t", "T.md", "T"), loc("c", "X/T/C.md", "C"), loc("x", "X.md", "X")]
    states["x"], remotes["x"] = rec("x", "X.md", "X"), rem("x", "X")
    plan = reconcile(states, local, remotes, options=OPTS)
    assert not any(isinstance(a, CreateRemote) for a in plan.actions)
    assert [h.path for h in plan.held] == ["X/T/C.md"]
    assert "folder X/T/" in plan.held[0].reason


def test_trashed_page_edited_in_confluence_before_trash_is_merged_after_restore():
    states = {"a": rec("a", "A.md", "A", v=1)}
    local = [loc("a", "A.md", "A", body="local edit\n")]
    remotes = {"a": rem("a", "A", v=3, status="trashed")}
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [RestoreRemote("a", "A.md"), Merge("a", "A.md", 1, 3)]


def test_page_trashed_remotely_whose_folder_gets_a_new_file_is_restored():
    states, local, remotes = tracked(("a", "A.md", "A", ROOT))
    local = [*local, loc(None, "A/New.md", "New")]
    remotes["a"] = rem("a", "A", status="trashed")
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [RestoreRemote("a", "A.md"), CreateRemote("A/New.md", "New", "a")]
    purged = reconcile(states, local, {}, options=OPTS)
    assert list(purged.actions) == [
        CreateRemote("A.md", "A", None, recreate_of="a"),
        CreateRemote("A/New.md", "New", None, parent_path="A.md"),
    ]


def test_parent_trashed_and_edited_child_purged_restores_the_parent_first():
    states, local, remotes = tracked(("a", "A.md", "A", ROOT), ("b", "A/B.md", "B", "a"))
    local = [loc("a", "A.md", "A"), loc("b", "A/B.md", "B", body="edited\n")]
    remotes = {"a": rem("a", "A", status="trashed")}
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [
        RestoreRemote("a", "A.md"),
        CreateRemote("A/B.md", "B", "a", recreate_of="b"),
    ]


def test_deleted_subtree_changed_remotely_comes_back_by_layout_parents_first():
    # Both files deleted; A moved and B edited in Confluence: B must follow A.
    states, _local, _ = tracked(
        ("a", "A.md", "A", ROOT), ("b", "A/B.md", "B", "a"), ("g", "G.md", "G", ROOT)
    )
    remotes = {"a": rem("a", "A", "g"), "b": rem("b", "B", "a", v=2), "g": rem("g", "G")}
    plan = reconcile(states, [loc("g", "G.md", "G")], remotes, options=OPTS)
    assert list(plan.actions) == [
        Pull("a", None, 1, "A", "g", "undelete"),
        Pull("b", None, 2, "B", "a", "undelete"),
    ]


def test_parent_gone_on_both_sides_comes_back_for_an_edited_child():
    # A.md deleted locally and trashed in Confluence; A/B.md edited, B purged.
    states, _local, _ = tracked(("a", "A.md", "A", ROOT), ("b", "A/B.md", "B", "a"))
    local = [loc("b", "A/B.md", "B", body="edited\n")]
    remotes = {"a": rem("a", "A", status="trashed")}
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [
        RestoreRemote("a", "A.md"),
        Pull("a", "A.md", 1, "A", None, "restored"),
        CreateRemote("A/B.md", "B", "a", recreate_of="b"),
    ]
    # ... and purged instead: an empty placeholder replaces it.
    plan = reconcile(states, local, {}, options=OPTS)
    assert list(plan.actions) == [
        Forget("a", "A.md", "purged; replaced by a placeholder"),
        CreateRemote("A.md", "A", None, placeholder=True),
        CreateRemote("A/B.md", "B", None, parent_path="A.md", recreate_of="b"),
    ]


def test_unchanged_children_of_a_purged_parent_are_not_local_moves():
    states, local, _ = tracked(("a", "A.md", "A", ROOT), ("b", "A/B.md", "B", "a"))
    plan = reconcile(states, local, {}, options=ReconcileOptions(ROOT, allow_delete=True))
    assert list(plan.actions) == [
        MoveLocalToTrash("b", "A/B.md", "absent"),
        MoveLocalToTrash("a", "A.md", "absent"),
    ]


def test_restore_is_ordered_before_creates_beneath_it():
    # T moved under S in Confluence (remote depth 2) but P is still at depth 2 locally.
    states, local, remotes = tracked(
        ("s", "S.md", "S", ROOT), ("t", "T.md", "T", ROOT), ("p", "T/P.md", "P", "t")
    )
    remotes["t"] = rem("t", "T", "s")
    remotes["p"] = rem("p", "P", "t", status="trashed")
    local = [*local, loc(None, "T/P/New.md", "New")]
    plan = reconcile(states, local, remotes, options=OPTS)
    kinds = [type(a).__name__ for a in plan.actions]
    assert kinds.index("RestoreRemote") < kinds.index("CreateRemote")


def test_a_remote_parent_that_is_itself_deleted_is_not_followed():
    # B was moved locally under C; in Confluence B is trashed under A, which is purged.
    states, _local, _ = tracked(("b", "B.md", "B", ROOT), ("c", "C.md", "C", ROOT))
    local = [loc("b", "C/B.md", "B"), loc("c", "C.md", "C")]
    remotes = {"b": rem("b", "B", "a", status="trashed"), "c": rem("c", "C")}
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [
        RestoreRemote("b", "C/B.md"),
        MoveRemote("b", "C/B.md", parent_changed=True, parent_id="c"),
    ]


def test_files_under_a_held_new_file_are_held_too():
    states, local, remotes = tracked(("x", "X.md", "X", ROOT))
    local = [*local, loc(None, "N.md", "X"), loc(None, "N/Child.md", "Child")]
    plan = reconcile(states, local, remotes, options=OPTS)
    assert plan.actions == ()
    assert [(h.path, h.reason.split(";")[0]) for h in plan.held] == [
        ("N.md", "title 'X' is already used by page x in the space"),
        ("N/Child.md", "its parent N.md is held"),
    ]


def test_reconcile_does_not_mutate_its_inputs():
    import copy

    states, local, remotes = _many(4)
    remotes["p1"] = rem("p1", "P1", v=5)
    local = [*local[1:], loc(None, "A/New.md", "New")]
    before = copy.deepcopy((states, local, remotes))
    reconcile(states, local, remotes, options=OPTS)
    assert (states, local, remotes) == before


# ------------------------------------------------------------------ root_page boundary


def test_page_moved_out_of_the_root_page_leaves_without_moving_back():
    """`outside`: current in Confluence but no longer below confluence.root_page. Before,
    the unplaceable new parent made the plan push the local position back (MoveRemote)."""
    states, local, remotes = tracked(
        ("a", "A.md", "A", ROOT), ("b", "A/B.md", "B", "a"), ("c", "C.md", "C", ROOT)
    )
    local = [e for e in local if e.page_id != "c"]  # c's file is gone too
    local = [e if e.page_id != "b" else loc("b", "A/B.md", "B", "edited\n") for e in local]
    states["d"] = rec("d", "D.md", "D")
    local.append(loc("d", "D.md", "D"))
    for pid, title in (("b", "B"), ("c", "C"), ("d", "D")):
        remotes[pid] = rem(pid, title, "99", status="outside")
    plan = reconcile(states, local, remotes, options=OPTS)
    assert not [a for a in plan.actions if isinstance(a, MoveRemote | Push | TrashRemote)]
    assert MoveLocalToTrash("d", "D.md", "absent", why="moved out of confluence.root_page") in (
        plan.actions
    )
    assert [a.page_id for a in plan.actions if isinstance(a, Forget)] == ["c"]
    assert [h.page_id for h in plan.held] == ["b"]  # edited here: kept, not pushed
