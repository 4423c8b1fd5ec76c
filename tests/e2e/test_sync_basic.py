"""`syncd sync` end to end: first sync into an empty folder, pushes, no-change cost."""

from __future__ import annotations

import pytest

from syncd.sync.state import StateDB

from .daemon_support import use_gateway
from .sync_kit import (
    diff_counts,
    file_for,
    make_config,
    md_files,
    read_doc,
    request_counts,
    run_sync,
    set_body,
    syncd_cli,
    write_config,
)

FLAVORS = ["cloud", "dc", "gateway"]


@pytest.fixture(params=FLAVORS)
async def emu(request, emulator_factory):
    """Cloud, Data Center, and Cloud through the API gateway with a scoped token."""
    flavor = "cloud" if request.param == "gateway" else request.param
    server = await emulator_factory(flavor=flavor, pages=12, seed=1)
    return use_gateway(server) if request.param == "gateway" else server


async def test_first_sync_pulls_the_space_into_an_empty_folder(emu, tmp_path):
    config = make_config(tmp_path, emu)
    report = await run_sync(config)
    assert report.in_sync, report.errors
    docs = tmp_path / "docs"
    files = md_files(docs)
    store_pages = [c for c in emu.store.all_content("page") if c.status == "current"]
    assert len(files) == len(store_pages)
    home = read_doc(docs / "README.md")
    space = emu.store.space(emu.space_key)
    assert home.meta.page_id == str(space.homepage_id)
    # Every page's file carries its id and title; children live in their parent's folder.
    for page in store_pages:
        path = file_for(docs, str(page.id))
        assert path is not None, page.title
        assert read_doc(path).meta.title == page.title
        parent = page.parent_id
        if parent is not None and str(parent) != str(space.homepage_id):
            parent_file = file_for(docs, str(parent))
            assert path.parent == parent_file.with_suffix("")
    with StateDB.open(config.state_dir) as db:
        assert db.count_pages() == len(store_pages)


async def test_local_edit_is_pushed_and_the_next_run_does_nothing(emu, tmp_path):
    config = make_config(tmp_path, emu)
    await run_sync(config)
    docs = tmp_path / "docs"
    target = next(p for rel, p in md_files(docs).items() if rel != "README.md")
    doc = read_doc(target)
    set_body(target, doc.body + "\nA paragraph written locally.\n")
    report = await run_sync(config)
    assert [c.event_type for c in report.applied] == ["pushed"], report.plan.describe()
    page = emu.store.get(doc.meta.page_id)
    assert "A paragraph written locally." in page.body
    assert page.version.number == 2 if hasattr(page.version, "number") else True

    before = request_counts(emu)
    text_before = target.read_bytes()
    report = await run_sync(config)
    assert report.in_sync and not report.applied and not report.plan.actions
    delta = diff_counts(before, request_counts(emu))
    writes = {k: v for k, v in delta.items() if not k.startswith("GET")}
    assert writes == {}, delta
    # listing only: no single-page body fetch
    assert not any(
        "{id}" in k and "pages" in k and k.startswith("GET") and "children" not in k
        for k in delta
        if not k.endswith("/pages")
    ), delta
    assert target.read_bytes() == text_before


async def test_remote_edit_is_pulled(emu, tmp_path):
    config = make_config(tmp_path, emu)
    await run_sync(config)
    docs = tmp_path / "docs"
    target = next(p for rel, p in md_files(docs).items() if rel != "README.md")
    pid = read_doc(target).meta.page_id
    emu.store.edit(pid, "<p>Rewritten in Confluence.</p>")
    report = await run_sync(config)
    assert [c.event_type for c in report.applied] == ["pulled"]
    assert read_doc(target).body.strip() == "Rewritten in Confluence."


def test_syncd_sync_command_first_sync_push_and_dry_run(tmp_path):
    from syncd.emulator.server import ThreadedEmulator

    with ThreadedEmulator(flavor="cloud", pages=5, seed=2) as emu:
        cfg = write_config(tmp_path, emu)
        first = syncd_cli("sync", "--config", str(cfg))
        assert first.returncode == 0, first.stderr
        docs = tmp_path / "docs"
        files = md_files(docs)
        assert "README.md" in files and len(files) == 6
        target = next(p for rel, p in files.items() if rel != "README.md")
        set_body(target, read_doc(target).body + "\nEdited from the shell.\n")
        # A conflict copy left from an earlier conflict: a dry run lists it with its page
        # and what ends it, and exits 1 like a real run (it waits for the user).
        copy = target.with_name(target.stem + ".conflict-20261205-004756.md")
        copy.write_text("my text\n")
        dry = syncd_cli("sync", "--config", str(cfg), "--dry-run")
        assert dry.returncode == 1, dry.stderr
        assert "push " in dry.stdout and target.name in dry.stdout
        pid = read_doc(target).meta.page_id
        rel, copy_rel = target.relative_to(docs).as_posix(), copy.relative_to(docs).as_posix()
        todo = f"{rel}: your text is in {copy_rel}; copy what you need, then delete it"
        page = f"page {pid} '{read_doc(target).meta.title}'"
        assert f"open conflict ({page}): {todo}" in dry.stdout.splitlines()
        assert "1 push, 1 open conflict (dry run" in dry.stdout
        assert f"syncd: conflict: {page}: {todo}" in dry.stderr.splitlines()
        copy.unlink()
        assert "Edited from the shell." not in emu.store.get(pid).body
        second = syncd_cli("sync", "--config", str(cfg))
        assert second.returncode == 0, second.stderr
        assert "Edited from the shell." in emu.store.get(pid).body
        before = request_counts(emu)
        third = syncd_cli("sync", "--config", str(cfg))
        assert third.returncode == 0 and "in sync" in third.stdout
        delta = diff_counts(before, request_counts(emu))
        assert all(k.startswith("GET") for k in delta), delta


def test_syncd_sync_errors_exit_2_with_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("confluence: {space: X}\n")
    result = syncd_cli("sync", "--config", str(bad))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "confluence" in result.stderr
    # unreachable Confluence: one line, no traceback
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "confluence: {base_url: 'http://127.0.0.1:9', space: X, token: t, email: a@b.c, "
        "deployment: cloud}\n"
        f"local: {{path: {tmp_path / 'd'}}}\nstate_dir: {tmp_path / 's'}\n"
    )
    cfg.chmod(0o600)
    result = syncd_cli("sync", "--config", str(cfg))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_guard_exit_code_allow_delete_and_restore_command(tmp_path):
    from syncd.emulator.server import ThreadedEmulator

    with ThreadedEmulator(flavor="dc", pages=6, seed=4) as emu:
        cfg = write_config(tmp_path, emu, max_delete=2)
        assert syncd_cli("sync", "--config", str(cfg)).returncode == 0
        docs = tmp_path / "docs"
        victims = [p for rel, p in md_files(docs).items() if rel != "README.md" and "/" not in rel]
        victims = victims[:3]
        ids = [read_doc(p).meta.page_id for p in victims]
        for p in victims:
            p.unlink()
        blocked = syncd_cli("sync", "--config", str(cfg))
        assert blocked.returncode == 1
        assert "max_delete" in blocked.stderr and "--allow-delete" in blocked.stderr
        assert all(emu.store.get(i).status == "current" for i in ids)
        allowed = syncd_cli("sync", "--config", str(cfg), "--allow-delete")
        assert allowed.returncode == 0, allowed.stderr
        assert all(emu.store.get(i).status == "trashed" for i in ids)

        # trashed in Confluence -> local trash -> `syncd restore PATH` -> page restored
        keep = next(p for rel, p in md_files(docs).items() if rel != "README.md")
        rel = keep.relative_to(docs).as_posix()
        pid = read_doc(keep).meta.page_id
        emu.store.trash(pid)
        assert syncd_cli("sync", "--config", str(cfg)).returncode == 0
        assert not keep.exists()
        missing = syncd_cli("restore", "--config", str(cfg), "no/such.md")
        assert missing.returncode == 1 and "not in the local trash" in missing.stderr
        restored = syncd_cli("restore", "--config", str(cfg), rel)
        assert restored.returncode == 0, restored.stderr
        assert read_doc(keep).meta.page_id == pid
        assert syncd_cli("sync", "--config", str(cfg)).returncode == 0
        assert emu.store.get(pid).status == "current"


def test_progress_display_draws_one_line_and_clears_it():
    import io

    from syncd.sync.command import TerminalProgress

    out = io.StringIO()
    progress = TerminalProgress(out)
    progress(1, 3, "pull A.md")
    progress(3, 3, "pull " + "x" * 100)
    progress.finish()
    text = out.getvalue()
    assert "[1/3] pull A.md" in text and "[3/3]" in text
    assert "\n" not in text and text.endswith("\r\x1b[K")
    assert all(len(part) <= 70 for part in text.split("\r"))


def test_refused_credentials_exit_2_with_one_line(tmp_path):
    from syncd.emulator.server import ThreadedEmulator

    with ThreadedEmulator(flavor="cloud", pages=1, seed=1) as emu:
        cfg = write_config(tmp_path, emu)
        cfg.write_text(cfg.read_text().replace(f"token: {emu.token}", "token: wrong-token"))
        result = syncd_cli("sync", "--config", str(cfg))
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "credentials" in lines[0], result.stderr
        assert "wrong-token" not in result.stderr
        verbose = syncd_cli("sync", "--config", str(cfg), "-v")
        assert verbose.returncode == 2 and "Traceback" in verbose.stderr
