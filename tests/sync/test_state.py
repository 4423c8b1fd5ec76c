"""The state database: schema, records, transactions, lock, crash consistency."""

from __future__ import annotations

import os
import select
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from syncd.sync import state as state_mod
from syncd.sync.model import body_hash
from syncd.sync.records import (
    KEEP_BOTH,
    MARKERS,
    REFUSED,
    AttachmentRecord,
    PageRecord,
    Tombstone,
    WebhookRecord,
)
from syncd.sync.state import StateCorrupt, StateDB, StateError, StateLocked, StateTooNew


def page(page_id: str = "101", **kw) -> PageRecord:
    md = kw.pop("base_markdown", f"# Page {page_id}\n")
    fields = dict(
        page_id=page_id,
        local_path=f"Page {page_id}.md",
        title=f"Page {page_id}",
        parent_id="1",
        remote_version=3,
        base_markdown=md,
        local_hash=body_hash(md),
        base_sidecar='{"blocks": []}',
        labels=("b", "a"),
        local_mtime_ns=123,
        local_size=45,
        synced_at=1000.0,
    )
    fields.update(kw)
    return PageRecord(**fields)


@pytest.fixture
def db(tmp_path: Path):
    state = StateDB.open(tmp_path / "state")
    yield state
    state.close()


def test_fresh_database_is_migrated_to_the_latest_schema(tmp_path: Path):
    with StateDB.open(tmp_path / "s") as state:
        assert state.schema_version == len(state_mod.MIGRATIONS)
        assert state.count_pages() == 0
        assert state.integrity_check() == "ok"
    conn = sqlite3.connect(tmp_path / "s" / "state.db")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {
        "pages",
        "tombstones",
        "attachments",
        "conflicts",
        "webhooks",
        "meta",
        "deliveries",
        "pending_creates",
    } <= tables
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_page_round_trip_and_reopen(tmp_path: Path):
    record = page(tombstone=Tombstone("remote", 5.0, "trash/2026/x.md"))
    with StateDB.open(tmp_path / "s") as state:
        state.put_page(record)
        state.put_page(page("102", kind="blogpost", parent_id=None))
    with StateDB.open(tmp_path / "s") as state:
        got = state.get_page("101")
        assert got == PageRecord(**{**record.__dict__, "labels": ("a", "b")})
        assert state.find_page_by_path("Page 102.md").kind == "blogpost"
        assert set(state.pages()) == {"101", "102"}
        assert [r.page_id for r in state.iter_pages()] == ["101", "102"]
        assert set(state.tombstones()) == {"101"}


def test_put_page_without_tombstone_clears_it(db: StateDB):
    db.put_page(page(tombstone=Tombstone("local", 1.0)))
    db.update_page("101", tombstone=None, remote_version=4)
    got = db.get_page("101")
    assert got.tombstone is None and got.remote_version == 4


def test_delete_page_cascades_to_tombstone_and_attachments(db: StateDB):
    db.put_page(page(tombstone=Tombstone("local", 1.0)))
    db.put_attachment(AttachmentRecord("101", "att9", "img.png", 2, "Page 101/img.png", "h"))
    assert [a.attachment_id for a in db.attachments("101")] == ["att9"]
    assert db.delete_page("101")
    assert db.get_page("101") is None
    assert db.attachments() == []
    assert db.tombstones() == {}


def test_attachment_requires_its_page(db: StateDB):
    with pytest.raises(sqlite3.IntegrityError):
        db.put_attachment(AttachmentRecord("999", "att1", "a.png", 1, "a.png", "h"))


def test_prune_tombstones_forgets_only_old_ones(db: StateDB):
    db.put_page(page("1", tombstone=Tombstone("local", 10.0)))
    db.put_page(page("2", tombstone=Tombstone("remote", 20.0)))
    db.put_page(page("3"))
    assert db.prune_tombstones(older_than=15.0) == 1
    assert set(db.pages()) == {"2", "3"}


def test_transaction_rollback_on_exception_keeps_old_data(db: StateDB):
    db.put_page(page(remote_version=3))
    with pytest.raises(RuntimeError), db.transaction():
        db.update_page("101", remote_version=4)
        db.put_page(page("102"))
        db.set_watermark("2026-01-01T00:00:00Z")
        raise RuntimeError("crash in the middle of applying an action")
    assert db.get_page("101").remote_version == 3
    assert db.get_page("102") is None
    assert db.get_watermark() is None


def test_nested_transactions_join_the_outer_one(db: StateDB):
    with pytest.raises(ValueError), db.transaction():
        with db.transaction():
            db.put_page(page("1"))
        raise ValueError
    assert db.get_page("1") is None


def test_a_group_commits_the_records_of_several_actions_at_once(db: StateDB, tmp_path: Path):
    """Group commit (`executor.durability`): writes of several actions join one
    transaction; another connection sees none of them until `end_group`."""
    db.begin_group()
    with db.transaction():
        db.put_page(page("1"))
    db.put_page(page("2"))
    other = sqlite3.connect(db.path)
    try:
        assert other.execute("SELECT count(*) FROM pages").fetchone()[0] == 0
        assert db.get_page("1") is not None  # the group's own connection reads its writes
        db.end_group()
        assert other.execute("SELECT count(*) FROM pages").fetchone()[0] == 2
    finally:
        other.close()
    assert not db.in_group


def test_a_failed_block_inside_a_group_undoes_only_itself(db: StateDB):
    db.begin_group()
    db.put_page(page("1"))
    with pytest.raises(RuntimeError), db.transaction():
        db.put_page(page("2"))
        with db.transaction():  # nested deeper: joins the block
            db.put_page(page("3"))
        raise RuntimeError("this action failed halfway")
    db.end_group()
    assert db.get_page("1") is not None
    assert db.get_page("2") is None and db.get_page("3") is None


def test_a_group_rolled_back_leaves_no_record(db: StateDB):
    db.put_page(page("0"))
    db.begin_group()
    db.put_page(page("1"))
    db.end_group(commit=False)
    assert db.get_page("0") is not None and db.get_page("1") is None
    with pytest.raises(StateError), db.transaction():
        db.begin_group()  # a group cannot open inside a transaction


def test_conflicts_webhooks_watermark_meta(db: StateDB):
    c = db.add_conflict("101", "Page 101.md", "markers", "2 conflict blocks")
    db.add_conflict(None, "New.md", "title", "title already used by page 7")
    assert [x.kind for x in db.conflicts()] == ["markers", "title"]
    assert db.conflicts()[0] == c
    assert db.page_conflicts("101") == [c]
    assert [x.kind for x in db.page_conflicts(path="New.md")] == ["title"]

    db.put_webhook(WebhookRecord("wh1", "http://127.0.0.1:1/hook", "keyring:syncd/wh1", 1.0))
    assert db.webhooks()[0].secret_ref == "keyring:syncd/wh1"
    assert db.delete_webhook("wh1") and db.webhooks() == []

    db.set_watermark("2026-11-24T10:00:00Z")
    assert db.get_watermark() == "2026-11-24T10:00:00Z"


def test_a_sync_of_the_page_never_ends_its_keep_both_copies(db: StateDB):
    """The conflicts a page's sync ends (its pull, push or merge) are markers and
    refusals, never a keep-both copy: each lasts until the user deletes it. A new conflict
    of the page takes the place of the one recorded before."""
    db.add_conflict_copy("101", "Page.md", "Page.conflict-20261205-004756.md")
    db.add_conflict("101", "Page.md", MARKERS, "1 conflict(s)")
    db.add_conflict_copy(None, "New.md", "New.conflict-20261205-004756.md")
    db.add_conflict(None, "New.md", REFUSED, "line 3: a table in a list")
    assert [c.kind for c in db.page_conflicts("101")] == [MARKERS]
    again = db.set_conflict("101", "Page.md", MARKERS, "2 conflict(s)")
    assert db.page_conflicts("101") == [again]
    assert [c.kind for c in db.page_conflicts(path="New.md")] == [REFUSED]
    for c in db.page_conflicts("101") + db.page_conflicts(path="New.md"):
        assert c.id is not None and db.end_conflict(c.id)
    assert [(c.kind, c.detail) for c in db.conflicts()] == [
        (KEEP_BOTH, "Page.conflict-20261205-004756.md"),
        (KEEP_BOTH, "New.conflict-20261205-004756.md"),
    ]


def test_each_conflict_copy_has_its_own_record_and_ends_alone(db: StateDB):
    first = db.add_conflict_copy("101", "Page.md", "Page.conflict-20261205-004756.md")
    second = db.add_conflict_copy("101", "Page.md", "Page.conflict-20261205-005012.md")
    assert [c.id for c in db.conflicts()] == [first.id, second.id]
    # the same copy name recorded again (the old copy deleted, not yet forgotten): one record
    again = db.add_conflict_copy("101", "Page.md", "Page.conflict-20261205-004756.md")
    assert [c.id for c in db.conflicts()] == [second.id, again.id]
    assert db.end_conflict(second.id) is True
    assert db.end_conflict(second.id) is False
    assert [c.detail for c in db.conflicts()] == ["Page.conflict-20261205-004756.md"]


def test_delivery_keys_dedupe_and_stay_bounded(db: StateDB, monkeypatch):
    monkeypatch.setattr(state_mod, "DELIVERY_KEYS_MAX", 5)
    assert db.remember_delivery("101:4")
    assert not db.remember_delivery("101:4")
    for i in range(20):
        db.remember_delivery(f"k{i}")
    assert db.delivery_count() == 5
    assert db.remember_delivery("101:4")  # long evicted: treated as new


def test_pending_create_journal(db: StateDB):
    intent = db.add_pending_create("New.md", "New", "1")
    assert db.pending_creates() == [intent]
    db.resolve_pending_create(intent.client_key)
    assert db.pending_creates() == []


def test_migrations_run_once_in_order_and_keep_data(tmp_path: Path, monkeypatch):
    with StateDB.open(tmp_path / "s") as state:
        state.put_page(page())
    extra = ("ALTER TABLE pages ADD COLUMN note TEXT", "UPDATE pages SET note = 'migrated'")
    current = len(state_mod.MIGRATIONS)
    monkeypatch.setattr(state_mod, "MIGRATIONS", [*state_mod.MIGRATIONS, extra])
    with StateDB.open(tmp_path / "s") as state:
        assert state.schema_version == current + 1
        assert state.get_page("101") is not None
    conn = sqlite3.connect(tmp_path / "s" / "state.db")
    assert conn.execute("SELECT note FROM pages").fetchall() == [("migrated",)]
    conn.close()
    with StateDB.open(tmp_path / "s") as state:  # already migrated: nothing re-run
        assert state.schema_version == current + 1


def test_failed_migration_leaves_the_previous_version(tmp_path: Path, monkeypatch):
    StateDB.open(tmp_path / "s").close()
    broken = ("CREATE TABLE extra (x)", "THIS IS NOT SQL")
    monkeypatch.setattr(state_mod, "MIGRATIONS", [*state_mod.MIGRATIONS, broken])
    with pytest.raises(sqlite3.OperationalError):
        StateDB.open(tmp_path / "s")
    monkeypatch.undo()
    with StateDB.open(tmp_path / "s") as state:  # lock released, schema untouched
        assert state.schema_version == len(state_mod.MIGRATIONS)
    conn = sqlite3.connect(tmp_path / "s" / "state.db")
    assert conn.execute("SELECT name FROM sqlite_master WHERE name='extra'").fetchall() == []
    conn.close()


def test_newer_schema_is_refused(tmp_path: Path):
    StateDB.open(tmp_path / "s").close()
    conn = sqlite3.connect(tmp_path / "s" / "state.db")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StateTooNew, match="schema version 99"):
        StateDB.open(tmp_path / "s")


def test_second_open_in_process_is_refused_with_pid(tmp_path: Path):
    with StateDB.open(tmp_path / "s"):
        with pytest.raises(StateLocked) as info:
            StateDB.open(tmp_path / "s")
        assert info.value.pid == os.getpid()
        assert str(os.getpid()) in str(info.value)
    StateDB.open(tmp_path / "s").close()  # released on close


def test_folder_lock_refuses_a_second_state_on_the_same_folder(tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    with StateDB.open(tmp_path / "s1", folder=folder):
        with pytest.raises(StateLocked):
            StateDB.open(tmp_path / "s2", folder=folder)
        # the failed attempt released its state-dir lock
        StateDB.open(tmp_path / "s2").close()


def test_state_remembers_its_folder(tmp_path: Path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    StateDB.open(tmp_path / "s", folder=tmp_path / "a").close()
    with pytest.raises(StateError, match="belongs to folder"):
        StateDB.open(tmp_path / "s", folder=tmp_path / "b")


def _spawn(code: str) -> subprocess.Popen:
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=root,
    )


def _wait_line(proc: subprocess.Popen, expected: str, timeout: float = 30.0) -> None:
    """Wait (bounded) for the child to report it reached the point under test."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, f"child did not print {expected!r} within {timeout}s"
    line = proc.stdout.readline()
    assert line.strip() == expected, (line, proc.stderr.read() if proc.poll() is not None else "")


def test_lock_refuses_a_second_process_and_is_reclaimed_after_kill(tmp_path: Path):
    state_dir = tmp_path / "s"
    holder = _spawn(
        f"""
        import sys, time
        from syncd.sync.state import StateDB
        db = StateDB.open({str(state_dir)!r})
        print("locked", flush=True)
        time.sleep(60)
        """
    )
    try:
        _wait_line(holder, "locked")
        with pytest.raises(StateLocked) as info:
            StateDB.open(state_dir)
        assert info.value.pid == holder.pid
        assert f"pid {holder.pid}" in str(info.value)
    finally:
        holder.kill()
        holder.wait(timeout=10)
    # SIGKILL released the OS lock: a new instance starts.
    StateDB.open(state_dir).close()


def test_sigkill_inside_a_transaction_leaves_a_consistent_database(tmp_path: Path):
    state_dir = tmp_path / "s"
    with StateDB.open(state_dir) as state:
        for i in range(20):
            state.put_page(page(str(i), remote_version=1))
        state.set_watermark("before")
    child = _spawn(
        f"""
        import time
        from dataclasses import replace
        from syncd.sync.state import StateDB
        db = StateDB.open({str(state_dir)!r})
        with db.transaction():
            for rec in list(db.pages().values()):
                db.put_page(replace(rec, remote_version=2, base_markdown="x" * 100_000))
            db.delete_page("0")
            db.set_watermark("after")
            print("inside", flush=True)
            time.sleep(60)
        """
    )
    try:
        _wait_line(child, "inside")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    with StateDB.open(state_dir) as state:
        assert state.integrity_check() == "ok"
        pages = state.pages()
        assert len(pages) == 20
        assert {p.remote_version for p in pages.values()} == {1}
        assert state.get_watermark() == "before"


def test_committed_transaction_survives_sigkill(tmp_path: Path):
    state_dir = tmp_path / "s"
    child = _spawn(
        f"""
        import time
        from syncd.sync.state import StateDB
        from syncd.sync.records import PageRecord
        db = StateDB.open({str(state_dir)!r})
        with db.transaction():
            db.put_page(PageRecord("7", "A.md", "A", None, 5, "a\\n", "h"))
        print("committed", flush=True)
        time.sleep(60)
        """
    )
    try:
        _wait_line(child, "committed")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    with StateDB.open(state_dir) as state:
        assert state.get_page("7").remote_version == 5


def test_corrupt_database_gives_a_clear_error_and_releases_the_lock(tmp_path: Path):
    state_dir = tmp_path / "s"
    state_dir.mkdir()
    (state_dir / "state.db").write_bytes(b"this is not sqlite, just some bytes" * 100)
    with pytest.raises(StateCorrupt, match="not a usable state database"):
        StateDB.open(state_dir)
    (state_dir / "state.db").unlink()
    StateDB.open(state_dir).close()  # the failed open did not keep the lock


def test_update_of_a_missing_page_raises_key_error(db: StateDB):
    with pytest.raises(KeyError):
        db.update_page("nope", title="x")


def test_page_summaries_leave_the_bases_out(tmp_path):
    from syncd.sync.records import PageRecord as Rec
    from syncd.sync.state import StateDB as DB

    with DB.open(tmp_path) as db:
        db.put_page(
            Rec("1", "A.md", "A", None, 3, "body " * 1000, "sha256:x", base_sidecar='{"big": 1}')
        )
        light = db.page_summaries()["1"]
        assert light.base_markdown == "" and light.base_sidecar is None
        full = db.get_page("1")
        assert light == Rec(**{**full.__dict__, "base_markdown": "", "base_sidecar": None})


def test_containers_round_trip_count_and_rebase(tmp_path: Path):
    from syncd.sync.records import ContainerRecord

    with StateDB.open(tmp_path / "s") as state:
        state.put_container(ContainerRecord("9", "folder", "Notes", "1", "Guide/Notes", 2, 5.0))
        state.put_container(ContainerRecord("8", "whiteboard", "Board", "1", "Board", 1, 5.0))
        state.put_container(
            ContainerRecord("7", "folder", "Old", "1", "Old", 1, 5.0, deleted="remote")
        )
        state.put_page(page("101", local_path="Guide/Notes/A.md", parent_id="9"))
        assert state.count_containers() == {"folder": 1, "whiteboard": 1}
        assert state.find_container_by_path("Guide/Notes").container_id == "9"
        assert state.find_container_by_path("Old") is None  # deleted: not a live directory
        assert state.rebase_paths("Guide", "Manual") == [("101", "Manual/Notes/A.md")]
        assert state.get_container("9").local_path == "Manual/Notes"
    with StateDB.open(tmp_path / "s") as state:  # durable
        assert state.get_page("101").local_path == "Manual/Notes/A.md"
        assert state.get_container("7").deleted == "remote"
        assert state.delete_container("7") and state.get_container("7") is None


def test_a_database_from_before_containers_is_migrated(tmp_path: Path):
    """A state written before the containers table gains it, pages intact."""
    before = next(
        i
        for i, steps in enumerate(state_mod.MIGRATIONS)
        if any("CREATE TABLE containers" in sql for sql in steps)
    )
    assert before == len(state_mod.MIGRATIONS) - 1  # the newest step (later ones: adapt)
    with StateDB.open(tmp_path / "s") as state:
        state.put_page(page("101"))
    conn = sqlite3.connect(tmp_path / "s" / "state.db")
    conn.execute("DROP TABLE containers")
    conn.execute(f"PRAGMA user_version = {before}")
    conn.commit()
    conn.close()
    with StateDB.open(tmp_path / "s") as state:
        assert state.schema_version == len(state_mod.MIGRATIONS)
        assert state.count_containers() == {}
        assert state.get_page("101") is not None
