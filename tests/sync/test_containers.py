"""Cloud containers (folders, whiteboards, databases, embeds) in the pure planning steps.

Shapes: a page in a folder carries ``parentId`` = the folder and ``parentType: "folder"``
(recording cloud_v2_page_in_folder_create_answer.json in tests/data/realapi/manifest.json);
a real space's top level holds folders with pages inside, a database and a whiteboard
(recording cloud_space_tree_arcade.json); ``ParentContentType`` =
page|whiteboard|database|embed|folder (tests/data/specs/openapi-v2.v3.json).
"""

from __future__ import annotations

from syncd.local.layout import PageRecord as LayoutRecord
from syncd.local.layout import compute_layout
from syncd.sync.containers import (
    ContainerMap,
    MoveContainerLocal,
    RecordContainer,
    RecordContainerPath,
    RemoteContainer,
    TrashContainerLocal,
    TrashContainerRemote,
    UpdateContainerRemote,
    container_map,
    plan_containers,
)
from syncd.sync.model import (
    CreateRemote,
    LocalEntry,
    MoveRemote,
    Push,
    ReconcileOptions,
    RemoteEntry,
    body_hash,
)
from syncd.sync.reconcile import reconcile
from syncd.sync.records import ContainerRecord, PageRecord

ROOT = "98418"  # "testspace Home" of the arcade capture
FOLDER = "4653064"  # DailyNotes (folder)
POETRY = "5275650"  # Poetry (folder)
OPTS = ReconcileOptions(root_page_id=ROOT, max_delete=3)


def rec(pid: str, path: str, title: str, parent: str | None, v: int = 1) -> PageRecord:
    return PageRecord(pid, path, title, parent, v, f"{pid}\n", body_hash(f"{pid}\n"))


def loc(pid: str | None, path: str, title: str, body: str | None = None) -> LocalEntry:
    return LocalEntry(path, pid, title, body_hash(body if body is not None else f"{pid}\n"))


def rem(pid: str, title: str, parent: str | None, v: int = 1, ptype: str | None = None):
    return RemoteEntry(pid, title, parent, v, parent_type=ptype)


def crec(cid: str, path: str, title: str, parent: str | None = ROOT, kind: str = "folder"):
    return ContainerRecord(cid, kind, title, parent, path, 1)


FOLDERS = ContainerMap({"DailyNotes.md": FOLDER, "Poetry.md": POETRY}, {FOLDER: "current"})


#: The real space tree of tests/data/realapi/manifest.json "cloud_space_tree_arcade.json"
#: (ArcadeAI/arcade-ai evals, ericconfluence.atlassian.net, 2025-05-16; the recording is not
#: redistributable, tests/data/README.md): (id, title, parent id, type), values as recorded.
ARCADE_TREE = [
    ("98418", "testspace Home", None, "page"),
    ("4653060", "Mydb", "98418", "database"),
    ("4653064", "DailyNotes", "98418", "folder"),
    ("4685837", "10-03-98", "4653064", "page"),
    ("5275650", "Poetry", "98418", "folder"),
    ("5242883", "To be or not tobe", "5275650", "page"),
    ("5275653", "Two roadsdiverged", "5275650", "page"),
    ("5242903", "Eternity", "5275650", "page"),
    ("5242913", "BlackHole", "5275650", "page"),
    ("5275676", "Drawings", "98418", "whiteboard"),
]


def test_layout_of_the_real_space_tree_puts_folder_pages_in_directories() -> None:
    records = [LayoutRecord(i, t, p, None, k) for i, t, p, k in ARCADE_TREE]
    layout = compute_layout(records, ROOT)
    assert layout.paths["4685837"] == "DailyNotes/10-03-98.md"
    assert layout.paths["5242883"] == "Poetry/To be or not tobe.md"
    assert dict(layout.containers) == {
        "4653060": "Mydb",
        FOLDER: "DailyNotes",
        POETRY: "Poetry",
        "5275676": "Drawings",
    }
    assert layout.unplaced == ()
    assert layout.children_dir(FOLDER) == "DailyNotes"


def test_no_change_in_a_folder_plans_nothing() -> None:
    # The data-loss bug: a foldered page, unchanged on both sides, was moved out of its folder.
    states = {"p": rec("p", "DailyNotes/Standup.md", "Standup", FOLDER)}
    local = [loc("p", "DailyNotes/Standup.md", "Standup")]
    remotes = {"p": rem("p", "Standup", FOLDER, ptype="folder")}
    plan = reconcile(states, local, remotes, options=OPTS, containers=FOLDERS)
    assert plan.in_sync, plan.describe()


def test_a_page_under_a_container_syncd_cannot_place_is_never_moved() -> None:
    # The container could not be read and has no record: the file sits where syncd put it.
    states = {"p": rec("p", "Standup.md", "Standup", FOLDER)}
    local = [loc("p", "Standup.md", "Standup", body="edited\n")]
    remotes = {"p": rem("p", "Standup", FOLDER, ptype="folder")}
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == [Push("p", "Standup.md", 1)]


def test_moved_in_confluence_under_an_unread_container_moves_nothing() -> None:
    states = {"p": rec("p", "Standup.md", "Standup", ROOT)}
    local = [loc("p", "Standup.md", "Standup")]
    remotes = {"p": rem("p", "Standup", "999", v=1, ptype="folder")}
    plan = reconcile(states, local, remotes, options=OPTS)
    assert not [a for a in plan.actions if isinstance(a, MoveRemote)]
    assert any("could not place" in n for n in plan.notes)


def test_rename_and_edit_inside_a_folder_keep_the_page_there() -> None:
    states = {"p": rec("p", "DailyNotes/Standup.md", "Standup", FOLDER)}
    local = [loc("p", "DailyNotes/Daily.md", "Daily", body="new\n")]
    remotes = {"p": rem("p", "Standup", FOLDER, ptype="folder")}
    plan = reconcile(states, local, remotes, options=OPTS, containers=FOLDERS)
    moves = [a for a in plan.actions if isinstance(a, MoveRemote)]
    assert moves == [MoveRemote("p", "DailyNotes/Daily.md", title="Daily")]


def test_moving_a_file_into_and_out_of_a_folder_moves_the_page() -> None:
    states = {
        "a": rec("a", "A.md", "A", ROOT),
        "b": rec("b", "DailyNotes/B.md", "B", FOLDER),
    }
    local = [loc("a", "Poetry/A.md", "A"), loc("b", "B.md", "B")]
    remotes = {"a": rem("a", "A", ROOT), "b": rem("b", "B", FOLDER, ptype="folder")}
    cmap = ContainerMap(FOLDERS.dirs, {FOLDER: "current", POETRY: "current"})
    plan = reconcile(states, local, remotes, options=OPTS, containers=cmap)
    assert set(plan.actions) == {
        MoveRemote("a", "Poetry/A.md", parent_changed=True, parent_id=POETRY),
        MoveRemote("b", "B.md", parent_changed=True, parent_id=None),
    }


def test_new_directory_becomes_a_folder_and_new_file_in_a_folder_goes_inside() -> None:
    local = [loc(None, "Ideas/One.md", "One"), loc(None, "DailyNotes/Two.md", "Two")]
    opts = ReconcileOptions(root_page_id=ROOT, new_directories="folder")
    plan = reconcile({}, local, {}, options=opts, containers=FOLDERS)
    assert list(plan.actions) == [
        CreateRemote("Ideas.md", "Ideas", None, placeholder=True, folder=True),
        CreateRemote("DailyNotes/Two.md", "Two", FOLDER),
        CreateRemote("Ideas/One.md", "One", None, parent_path="Ideas.md"),
    ]
    assert plan.actions[0].describe().startswith("create folder 'Ideas' for Ideas/")


def test_new_directory_is_an_empty_page_when_asked() -> None:
    opts = ReconcileOptions(root_page_id=ROOT, new_directories="page")
    plan = reconcile({}, [loc(None, "Ideas/One.md", "One")], {}, options=opts)
    assert plan.actions[0] == CreateRemote("Ideas.md", "Ideas", None, placeholder=True)


# ------------------------------------------------------------------ container plan


def _plan(records, remote, *, present, pages=(), entries=(), wanted=None):
    return plan_containers(
        {r.container_id: r for r in records},
        {c.container_id: c for c in remote},
        wanted_dirs=wanted or {},
        present_dirs=present,
        pages={p.page_id: p for p in pages},
        local_entries=list(entries),
        root_page_id=ROOT,
    )


def test_new_remote_containers_are_recorded_where_the_layout_puts_them() -> None:
    plan = _plan(
        [],
        [RemoteContainer(FOLDER, "folder", "DailyNotes", ROOT, 3)],
        present=set(),
        wanted={FOLDER: "DailyNotes"},
    )
    assert plan.actions == (
        RecordContainer(FOLDER, "DailyNotes", "folder", "DailyNotes", ROOT, 3, "new in Confluence"),
    )
    assert plan.map.at("DailyNotes.md") == FOLDER


def test_unreadable_container_gets_a_stand_in_directory_and_a_note() -> None:
    plan = _plan(
        [],
        [RemoteContainer("77", "whiteboard", "whiteboard 77", None, 0, "unknown")],
        present=set(),
    )
    assert plan.actions[0].path == "whiteboard 77"
    assert "could not be read" in plan.notes[0]


def test_remote_rename_moves_the_directory() -> None:
    plan = _plan(
        [crec(FOLDER, "DailyNotes", "DailyNotes")],
        [RemoteContainer(FOLDER, "folder", "Journal", ROOT, 2)],
        present={"DailyNotes"},
        wanted={FOLDER: "Journal"},
    )
    assert plan.actions == (MoveContainerLocal(FOLDER, "DailyNotes", "folder", "Journal", ROOT, 2),)
    # Dry runs: both the old and the new directory name the folder.
    assert plan.map.at("DailyNotes.md") == plan.map.at("Journal.md") == FOLDER


def test_local_rename_and_move_are_recognised_by_the_pages_inside() -> None:
    pages = [
        rec("p", "DailyNotes/Standup.md", "Standup", FOLDER),
        rec("g", "Guide.md", "Guide", ROOT),
    ]
    entries = [loc("p", "Guide/Journal/Standup.md", "Standup"), loc("g", "Guide.md", "Guide")]
    plan = _plan(
        [crec(FOLDER, "DailyNotes", "DailyNotes")],
        [RemoteContainer(FOLDER, "folder", "DailyNotes", ROOT, 2)],
        present={"Guide", "Guide/Journal"},
        pages=pages,
        entries=entries,
    )
    assert plan.actions == (
        UpdateContainerRemote(
            FOLDER,
            "Guide/Journal",
            from_path="DailyNotes",
            title="Journal",
            parent_changed=True,
            parent_id="g",
        ),
    )
    assert plan.map.at("Guide/Journal.md") == FOLDER


def test_a_whiteboard_directory_renamed_locally_changes_nothing_remotely() -> None:
    pages = [rec("p", "Drawings/Sketch.md", "Sketch", "5275676")]
    plan = _plan(
        [crec("5275676", "Drawings", "Drawings", kind="whiteboard")],
        [RemoteContainer("5275676", "whiteboard", "Drawings", ROOT, 1)],
        present={"Sketches"},
        pages=pages,
        entries=[loc("p", "Sketches/Sketch.md", "Sketch")],
    )
    assert [type(a) for a in plan.actions] == [RecordContainerPath]
    assert "not renamed or moved in Confluence" in plan.notes[0]


def test_trash_on_either_side_waits_for_the_pages() -> None:
    trashed = _plan(
        [crec(FOLDER, "DailyNotes", "DailyNotes")],
        [RemoteContainer(FOLDER, "folder", "DailyNotes", ROOT, 2, "trashed")],
        present={"DailyNotes"},
    )
    assert trashed.actions == (TrashContainerLocal(FOLDER, "DailyNotes", "trashed"),)
    assert trashed.after_pages == trashed.actions
    removed = _plan(
        [crec(FOLDER, "DailyNotes", "DailyNotes")],
        [RemoteContainer(FOLDER, "folder", "DailyNotes", ROOT, 2)],
        present=set(),
        pages=[rec("p", "DailyNotes/Standup.md", "Standup", FOLDER)],
    )
    assert removed.actions == (TrashContainerRemote(FOLDER, "DailyNotes", "DailyNotes"),)


def test_restored_container_is_recorded_again() -> None:
    record = ContainerRecord(FOLDER, "folder", "DailyNotes", ROOT, "DailyNotes", 2, 0.0, "remote")
    plan = _plan(
        [record], [RemoteContainer(FOLDER, "folder", "DailyNotes", ROOT, 3)], present=set()
    )
    assert [type(a) for a in plan.actions] == [RecordContainer]
    assert plan.actions[0].reason == "restored"


def test_container_map_of_records_skips_deleted_ones() -> None:
    records = {
        FOLDER: crec(FOLDER, "DailyNotes", "DailyNotes"),
        POETRY: ContainerRecord(POETRY, "folder", "Poetry", ROOT, "Poetry", 1, 0.0, "local"),
    }
    assert dict(container_map(records).dirs) == {"DailyNotes.md": FOLDER}


def test_a_file_placed_outside_its_known_folder_goes_into_its_directory() -> None:
    # Pulled before its folder was known (a targeted run): the file sits at the top; once
    # the folder is known the file moves into its directory and nothing moves remotely.
    from syncd.sync.model import MoveLocal

    states = {"p": rec("p", "Standup.md", "Standup", FOLDER)}
    local = [loc("p", "Standup.md", "Standup")]
    remotes = {"p": rem("p", "Standup", FOLDER, ptype="folder")}
    plan = reconcile(states, local, remotes, options=OPTS, containers=FOLDERS)
    assert list(plan.actions) == [MoveLocal("p", "Standup.md", "Standup", FOLDER)]


def test_dry_run_summary_counts_folders_apart_from_pages() -> None:
    from syncd.sync.command import plan_summary

    local = [loc(None, "Ideas/One.md", "One")]
    opts = ReconcileOptions(root_page_id=ROOT, new_directories="folder")
    plan = reconcile({}, local, {}, options=opts)
    assert plan_summary(plan, 0, 2) == (
        "plan: 1 page to create, 1 folder to create, 2 folder steps (dry run: nothing was changed)"
    )


def test_a_folder_moved_out_of_the_root_page_leaves_its_directory_locally() -> None:
    """root_page: a recorded folder whose parents no longer reach the root is `outside`;
    its directory follows its pages to the local trash, nothing changes in Confluence.
    One that could not be read, or sits under a current page of the subtree, stays."""
    from syncd.sync.snapshots import outside_root

    read = {
        FOLDER: RemoteContainer(FOLDER, "folder", "DailyNotes", "elsewhere", 3),
        "f2": RemoteContainer("f2", "folder", "Inner", FOLDER),
        "f3": RemoteContainer("f3", "folder", "Kept", "p", 1),
        "f4": RemoteContainer("f4", "folder", "Unread", "elsewhere", 1, "unknown"),
    }
    remotes = {
        "p": rem("p", "P", ROOT),
        "elsewhere": RemoteEntry("elsewhere", "E", "x", 1, "outside"),
    }
    marked = outside_root(read, remotes, ROOT)
    assert {cid: c.status for cid, c in marked.items()} == {
        FOLDER: "outside",
        "f2": "outside",
        "f3": "current",
        "f4": "unknown",
    }
    plan = _plan(
        [crec(FOLDER, "DailyNotes", "DailyNotes")], [marked[FOLDER]], present={"DailyNotes"}
    )
    assert plan.actions == (TrashContainerLocal(FOLDER, "DailyNotes", "outside"),)
    assert "moved out of confluence.root_page" in plan.describe()[0]
