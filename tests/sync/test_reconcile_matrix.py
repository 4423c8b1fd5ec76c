"""The reconcile decision table: every local state x every remote state.

One tracked page P (id "p", `P.md`, title "P", top level, v3) beside a tracked
page F (id "f", `F.md`). Local states of P: unchanged, edited (body), new (a new
file `N.md` appears beside an unchanged P), deleted, moved (into F's folder),
renamed (front-matter title "P2"). Remote states of P: unchanged, edited (v4),
new (a new page "n" titled "N" appears), trashed, purged, moved (under F),
renamed ("P3", v4), restored (an earlier run had trashed P on both sides: the
record carries a tombstone; the page is current again). For "restored", the
local file is expected to be absent, so "unchanged" and "deleted" both mean
"no file", and "edited"/"moved"/"renamed" mean the user brought it back.
"""

from __future__ import annotations

import pytest

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
H0, H1, HF, HN = (body_hash(t) for t in ("p base\n", "p edited\n", "f body\n", "n body\n"))
OPTS = ReconcileOptions(root_page_id=ROOT, max_delete=10)

REC_P = PageRecord("p", "P.md", "P", ROOT, 3, "p base\n", H0)
REC_F = PageRecord("f", "F.md", "F", ROOT, 2, "f body\n", HF)
TOMB_P = PageRecord(
    "p", "P.md", "P", ROOT, 3, "p base\n", H0, tombstone=Tombstone("remote", 1.0, "t/P.md")
)

L_F = LocalEntry("F.md", "f", "F", HF)
L_P = LocalEntry("P.md", "p", "P", H0)
L_N = LocalEntry("N.md", None, "N", HN)
R_F = RemoteEntry("f", "F", ROOT, 2)
R_P = RemoteEntry("p", "P", ROOT, 3)
R_N = RemoteEntry("n", "N", ROOT, 1)

LOCAL_STATES = {
    "unchanged": [L_F, L_P],
    "edited": [L_F, LocalEntry("P.md", "p", "P", H1)],
    "new": [L_F, L_P, L_N],
    "deleted": [L_F],
    "moved": [L_F, LocalEntry("F/P.md", "p", "P", H0)],
    "renamed": [L_F, LocalEntry("P.md", "p", "P2", H0)],
}
# With a tombstoned record the file was left in the local trash: "unchanged" is no file.
LOCAL_STATES_AFTER_TRASH = {
    **LOCAL_STATES,
    "unchanged": [L_F],
    "new": [L_F, L_N],
}
REMOTE_STATES = {
    "unchanged": [R_F, R_P],
    "edited": [R_F, RemoteEntry("p", "P", ROOT, 4)],
    "new": [R_F, R_P, R_N],
    "trashed": [R_F, RemoteEntry("p", "P", ROOT, 3, status="trashed")],
    "purged": [R_F],
    "moved": [R_F, RemoteEntry("p", "P", "f", 3)],
    "renamed": [R_F, RemoteEntry("p", "P3", ROOT, 4)],
    "restored": [R_F, R_P],
}

PUSH = Push("p", "P.md", 3)
PULL_N = Pull("n", None, 1, "N", None, "new")
CREATE_N = CreateRemote("N.md", "N", None)
MOVE_R_PARENT = MoveRemote("p", "F/P.md", parent_changed=True, parent_id="f")
MOVE_R_TITLE = MoveRemote("p", "P.md", title="P2")
MOVE_L_PARENT = MoveLocal("p", "P.md", "P", "f")
MOVE_L_TITLE = MoveLocal("p", "P.md", "P3", None)
PULL_P3 = Pull("p", "P.md", 4, "P3", None)
RESTORED = Pull("p", "P.md", 3, "P", None, "restored")
FORGET = Forget("p", "P.md", "deleted on both sides")

EXPECTED: dict[tuple[str, str], list] = {
    # remote unchanged
    ("unchanged", "unchanged"): [],
    ("edited", "unchanged"): [PUSH],
    ("new", "unchanged"): [CREATE_N],
    ("deleted", "unchanged"): [TrashRemote("p", "P.md", "P")],
    ("moved", "unchanged"): [MOVE_R_PARENT],
    ("renamed", "unchanged"): [MOVE_R_TITLE],
    # remote edited (v4)
    ("unchanged", "edited"): [Pull("p", "P.md", 4, "P", None)],
    ("edited", "edited"): [Merge("p", "P.md", 3, 4)],
    ("new", "edited"): [CREATE_N, Pull("p", "P.md", 4, "P", None)],
    ("deleted", "edited"): [Pull("p", "P.md", 4, "P", None, "undelete")],  # edit beats delete
    ("moved", "edited"): [MOVE_R_PARENT, Pull("p", "F/P.md", 4, "P", None)],
    ("renamed", "edited"): [MOVE_R_TITLE, Pull("p", "P.md", 4, "P", None)],
    # remote new page "n"
    ("unchanged", "new"): [PULL_N],
    ("edited", "new"): [PULL_N, PUSH],
    ("new", "new"): [Link("n", "N.md", 1)],  # same title, same parent: tie them, no duplicate
    ("deleted", "new"): [PULL_N, TrashRemote("p", "P.md", "P")],
    ("moved", "new"): [PULL_N, MOVE_R_PARENT],
    ("renamed", "new"): [PULL_N, MOVE_R_TITLE],
    # remote trashed
    ("unchanged", "trashed"): [MoveLocalToTrash("p", "P.md", "trashed")],
    ("edited", "trashed"): [RestoreRemote("p", "P.md"), PUSH],  # edit beats delete
    ("new", "trashed"): [CREATE_N, MoveLocalToTrash("p", "P.md", "trashed")],
    ("deleted", "trashed"): [FORGET],
    ("moved", "trashed"): [RestoreRemote("p", "F/P.md"), MOVE_R_PARENT],
    ("renamed", "trashed"): [RestoreRemote("p", "P.md"), MOVE_R_TITLE],
    # remote purged
    ("unchanged", "purged"): [MoveLocalToTrash("p", "P.md", "absent")],
    ("edited", "purged"): [CreateRemote("P.md", "P", None, recreate_of="p")],
    ("new", "purged"): [CREATE_N, MoveLocalToTrash("p", "P.md", "absent")],
    ("deleted", "purged"): [FORGET],
    ("moved", "purged"): [CreateRemote("F/P.md", "P", "f", recreate_of="p")],
    ("renamed", "purged"): [CreateRemote("P.md", "P2", None, recreate_of="p")],
    # remote moved under F
    ("unchanged", "moved"): [MOVE_L_PARENT],
    ("edited", "moved"): [MOVE_L_PARENT, PUSH],
    ("new", "moved"): [CREATE_N, MOVE_L_PARENT],
    ("deleted", "moved"): [Pull("p", None, 3, "P", "f", "undelete")],  # where it is now
    ("moved", "moved"): [RecordLocal("p", "F/P.md", "P", "f", "same change on both sides")],
    ("renamed", "moved"): [MOVE_R_TITLE, MoveLocal("p", "P.md", "P2", "f")],
    # remote renamed to P3 (v4)
    ("unchanged", "renamed"): [MOVE_L_TITLE, PULL_P3],
    ("edited", "renamed"): [MOVE_L_TITLE, Merge("p", "P.md", 3, 4)],
    ("new", "renamed"): [CREATE_N, MOVE_L_TITLE, PULL_P3],
    ("deleted", "renamed"): [Pull("p", None, 4, "P3", None, "undelete")],
    ("moved", "renamed"): [  # each side keeps the change it made; remote first, then local
        MoveRemote("p", "F/P.md", parent_changed=True, parent_id="f"),
        MoveLocal("p", "F/P.md", "P3", "f"),
        Pull("p", "F/P.md", 4, "P3", None),
    ],
    ("renamed", "renamed"): [MOVE_L_TITLE, PULL_P3],  # different titles: Confluence wins
    # remote restored after an earlier run trashed P on both sides
    ("unchanged", "restored"): [RESTORED],
    ("edited", "restored"): [PUSH],
    ("new", "restored"): [CREATE_N, RESTORED],
    ("deleted", "restored"): [RESTORED],
    ("moved", "restored"): [MOVE_R_PARENT],
    ("renamed", "restored"): [MOVE_R_TITLE],
}


def scenario(local_state: str, remote_state: str):
    restored = remote_state == "restored"
    states = {"f": REC_F, "p": TOMB_P if restored else REC_P}
    local = (LOCAL_STATES_AFTER_TRASH if restored else LOCAL_STATES)[local_state]
    remotes = {r.page_id: r for r in REMOTE_STATES[remote_state]}
    return states, local, remotes


def test_matrix_is_complete():
    assert len(EXPECTED) == len(LOCAL_STATES) * len(REMOTE_STATES) == 48


@pytest.mark.parametrize(("local_state", "remote_state"), sorted(EXPECTED))
def test_decision_table(local_state: str, remote_state: str):
    states, local, remotes = scenario(local_state, remote_state)
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == EXPECTED[(local_state, remote_state)]
    assert plan.held == ()
    assert plan.blocked_deletions is None
    assert len(plan.describe()) >= len(plan.actions)


@pytest.mark.parametrize(("local_state", "remote_state"), sorted(EXPECTED))
def test_decision_table_is_independent_of_input_order(local_state: str, remote_state: str):
    states, local, remotes = scenario(local_state, remote_state)
    forward = reconcile(states, local, remotes, options=OPTS)
    backward = reconcile(
        dict(reversed(list(states.items()))),
        list(reversed(local)),
        dict(reversed(list(remotes.items()))),
        options=OPTS,
    )
    assert forward == backward


def test_notes_explain_the_surprising_cells():
    plan = reconcile(*scenario("renamed", "renamed"), options=OPTS)
    assert any("keeping the Confluence title" in n for n in plan.notes)
    plan = reconcile(*scenario("edited", "purged"), options=OPTS)
    assert any("creating a new page" in n for n in plan.notes)


# ------------------------------------------------------------------ labels
#
# A label added or removed in Confluence bumps no version: a remote side whose
# labels are known (the snapshot loaded them) and differ from the record's is
# edited. Labels None (not loaded) is no change. P is recorded with ("a", "b").

REC_PL = PageRecord("p", "P.md", "P", ROOT, 3, "p base\n", H0, labels=("a", "b"))
LABEL_LOCAL = {
    "unchanged": [L_F, LocalEntry("P.md", "p", "P", H0, labels=("b", "a"))],
    "edited": [L_F, LocalEntry("P.md", "p", "P", H1, labels=("a", "b"))],
    "labels edited": [L_F, LocalEntry("P.md", "p", "P", H0, labels=("a", "local"))],
    "no front matter": [L_F, LocalEntry("P.md", "p", "P", H0)],
    "deleted": [L_F],
}
LABEL_REMOTE = {
    "same labels": RemoteEntry("p", "P", ROOT, 3, labels=("b", "a", "a")),
    "labels changed": RemoteEntry("p", "P", ROOT, 3, labels=("a", "b", "remote")),
    "label removed": RemoteEntry("p", "P", ROOT, 3, labels=("a",)),
    "labels unknown": RemoteEntry("p", "P", ROOT, 3, labels=None),
    "edited, labels unknown": RemoteEntry("p", "P", ROOT, 4, labels=None),
}
PULL_LABELS = Pull("p", "P.md", 3, "P", None)
LABEL_EXPECTED: dict[tuple[str, str], list] = {
    ("unchanged", "same labels"): [],
    ("unchanged", "labels changed"): [PULL_LABELS],
    ("unchanged", "label removed"): [PULL_LABELS],
    ("unchanged", "labels unknown"): [],
    ("unchanged", "edited, labels unknown"): [Pull("p", "P.md", 4, "P", None)],
    ("edited", "same labels"): [PUSH],
    ("edited", "labels changed"): [Merge("p", "P.md", 3, 3)],
    ("edited", "label removed"): [Merge("p", "P.md", 3, 3)],
    ("edited", "labels unknown"): [PUSH],
    ("edited", "edited, labels unknown"): [Merge("p", "P.md", 3, 4)],
    ("labels edited", "same labels"): [PUSH],
    ("labels edited", "labels changed"): [Merge("p", "P.md", 3, 3)],
    ("labels edited", "label removed"): [Merge("p", "P.md", 3, 3)],
    ("labels edited", "labels unknown"): [PUSH],
    ("labels edited", "edited, labels unknown"): [Merge("p", "P.md", 3, 4)],
    # a file without front matter does not manage labels; Confluence's still come in
    ("no front matter", "same labels"): [],
    ("no front matter", "labels changed"): [PULL_LABELS],
    ("no front matter", "label removed"): [PULL_LABELS],
    ("no front matter", "labels unknown"): [],
    ("no front matter", "edited, labels unknown"): [Pull("p", "P.md", 4, "P", None)],
    # a label edit is an edit: it beats a local delete like a body edit does
    ("deleted", "same labels"): [TrashRemote("p", "P.md", "P")],
    ("deleted", "labels changed"): [Pull("p", "P.md", 3, "P", None, "undelete")],
    ("deleted", "label removed"): [Pull("p", "P.md", 3, "P", None, "undelete")],
    ("deleted", "labels unknown"): [TrashRemote("p", "P.md", "P")],
    ("deleted", "edited, labels unknown"): [Pull("p", "P.md", 4, "P", None, "undelete")],
}


def test_label_table_is_complete():
    assert len(LABEL_EXPECTED) == len(LABEL_LOCAL) * len(LABEL_REMOTE)


@pytest.mark.parametrize(("local_state", "remote_state"), sorted(LABEL_EXPECTED))
def test_label_decision_table(local_state: str, remote_state: str):
    states = {"f": REC_F, "p": REC_PL}
    remotes = {"f": R_F, "p": LABEL_REMOTE[remote_state]}
    local = LABEL_LOCAL[local_state]
    plan = reconcile(states, local, remotes, options=OPTS)
    assert list(plan.actions) == LABEL_EXPECTED[(local_state, remote_state)]
    assert plan.held == () and plan.blocked_deletions is None
    backward = reconcile(
        dict(reversed(list(states.items()))),
        list(reversed(local)),
        dict(reversed(list(remotes.items()))),
        options=OPTS,
    )
    assert backward == plan


def test_remote_labels_are_normalised_like_local_ones():
    assert RemoteEntry("p", "P", ROOT, 3, labels=("b", "a", "b")).labels == ("a", "b")
    assert RemoteEntry("p", "P", ROOT, 3).labels is None


def test_restored_page_with_changed_labels_comes_back_once():
    tomb = PageRecord(
        "p", "P.md", "P", ROOT, 3, "p base\n", H0, labels=("a",),
        tombstone=Tombstone("remote", 1.0, "t/P.md"),
    )  # fmt: skip
    remotes = {"f": R_F, "p": RemoteEntry("p", "P", ROOT, 3, labels=("a", "new"))}
    plan = reconcile({"f": REC_F, "p": tomb}, [L_F], remotes, options=OPTS)
    assert list(plan.actions) == [RESTORED]


def test_labels_only_change_follows_a_remote_rename():
    remotes = {"f": R_F, "p": RemoteEntry("p", "P3", ROOT, 3, labels=("a", "b", "c"))}
    plan = reconcile({"f": REC_F, "p": REC_PL}, LABEL_LOCAL["unchanged"], remotes, options=OPTS)
    assert list(plan.actions) == [MOVE_L_TITLE, Pull("p", "P.md", 3, "P3", None)]
