"""Hostile content through the sync engine against the emulator: titles built to escape
the folder, symbolic links inside it pointing outside, and front matter built to attack
the YAML loader. Every case ends with a walk of the whole temporary root: nothing is
written outside the folder and the state directory.

The unit tests of the pieces (syncd.local.names, layout, atomic, frontmatter) are in
tests/local; these go through ``SyncEngine.run_once`` as ``syncd sync`` and the daemon do.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from syncd.config import Config, parse_config
from syncd.local import frontmatter
from syncd.sync.engine import SyncEngine, SyncRequest

from .support import files_outside, snapshot_tree

server = pytest.importorskip("syncd.emulator.server", reason="emulator not available")

pytestmark = [pytest.mark.timeout(120)]

HOSTILE_TITLES = [
    "../../x",
    "..",
    "../..",
    "/etc/passwd",
    "CON",
    "nul.txt",
    "Aux.md",
    "COM1",
    "a\\b",
    "..\\..\\windows\\system32",
    "C:\\evil",
    "tab\tand\nnewline",
    "bell\x07escape\x1b[31mred",
    "nul\x00byte",
    "del\x7fc1\x85",
    "~$owner",
    ".hidden",
    ".syncd",
    "README",
    "readme.md",
    "x.attachments",
    "trailing dots...",
    "wide " + "界" * 120,
    "ä decomposed: a\u0308",
]
WINDOWS_DEVICES = re.compile(r"^(CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9])$", re.IGNORECASE)


def make_config(root: Path, emu: Any, **sync: Any) -> Config:
    lines = "".join(f"  {k}: {v}\n" for k, v in sync.items())
    text = (
        "confluence:\n"
        f"  base_url: {emu.base_url}\n"
        f"  space: {emu.space_key}\n"
        f"  token: {emu.token}\n"
        f"  email: {emu.user}\n"
        f"local:\n  path: {root / 'docs'}\n"
        f"state_dir: {root / 'state'}\n" + (f"sync:\n{lines}" if lines else "")
    )
    path = root / "config.yaml"
    path.write_text(text)
    path.chmod(0o600)
    return parse_config(text, path=path)


async def sync(config: Config, **kwargs: Any):
    engine = await SyncEngine.open(config)
    try:
        return await engine.run_once(**kwargs)
    finally:
        await engine.close()


def writes(emu: Any) -> int:
    """Requests that change Confluence (webhook registration aside)."""
    return sum(
        n
        for route, n in emu.requests.items()
        if route.split(" ")[0] in ("POST", "PUT", "DELETE") and "webhook" not in route
    )


def page_files(folder: Path) -> dict[str, tuple[Path, frontmatter.Document]]:
    """page id -> (file, parsed document) for every page file (links not followed)."""
    out = {}
    for path in folder.rglob("*.md"):
        if ".syncd" in path.relative_to(folder).parts or path.is_symlink():
            continue
        doc = frontmatter.parse(path.read_text(encoding="utf-8"))
        if doc.meta.page_id:
            out[str(doc.meta.page_id)] = (path, doc)
    return out


def contained(root: Path, config: Config) -> list[str]:
    return files_outside(root, [config.local.path, config.state_dir, root / "config.yaml"])


@pytest.fixture(params=["cloud", "dc"])
async def emu(request, emulator_factory):
    return await emulator_factory(flavor=request.param, pages=0)


# ---- titles -----------------------------------------------------------------------------------


async def test_hostile_titles_stay_inside_the_folder_and_round_trip(emu, tmp_path: Path) -> None:
    store, space = emu.store, emu.space_key
    created: dict[str, str] = {}
    for title in HOSTILE_TITLES:
        created[store.create_page(space, title, f"<p>body of page {len(created)}</p>").id] = title
    # children under the worst parents, so their folders are built from hostile names too
    for parent in ("../../x", "..", "/etc/passwd", "CON"):
        pid = next(i for i, t in created.items() if t == parent)
        child = f"../{parent}/child"
        created[store.create_page(space, child, "<p>child</p>", parent_id=pid).id] = child

    config = make_config(tmp_path, emu)
    report = await sync(config)
    assert report.in_sync and not report.errors, report.errors
    assert contained(tmp_path, config) == []
    folder = config.local.path
    files = page_files(folder)
    home = str(store.space(space).homepage_id)
    assert set(files) == set(created) | {home}
    assert files[home][0] == folder / "README.md"  # "README" and "readme.md" did not take it
    for page_id, title in created.items():
        path, doc = files[page_id]
        assert doc.meta.title == title  # the title itself is kept, only the name is safe
        rel = path.relative_to(folder)
        for part in rel.parts:
            stem = part.split(".")[0]
            assert part not in ("", ".", "..") and not part.startswith(".")
            assert not any(unicodedata.category(ch) == "Cc" for ch in part), rel
            assert not set(part) & set('<>:"\\|?*'), rel
            assert not WINDOWS_DEVICES.match(stem), rel
            assert len(part.encode()) <= 255
        assert folder in path.resolve().parents

    # Nothing changed: a second run writes nothing on either side.
    before, tree = writes(emu), snapshot_tree(folder)
    report = await sync(config)
    assert report.in_sync and not report.plan.actions
    assert writes(emu) == before and snapshot_tree(folder) == tree

    # A local edit of a hostile-titled page reaches that page and keeps its title.
    target = next(i for i, t in created.items() if t == "../../x")
    path, doc = files[target]
    path.write_text(frontmatter.render(doc.meta, doc.body + "\nedited locally\n"))
    report = await sync(config)
    assert report.in_sync, report.errors
    page = store.get(target)
    assert "edited locally" in page.body and page.title == "../../x"

    # Remote renames to hostile titles move files within the folder only.
    for i, title in enumerate(["../../../escaped", "/tmp/abs", "..\\..\\up", "NUL"]):
        store.edit(list(created)[i], f"<p>renamed {i}</p>", title=title)
    report = await sync(config)
    assert report.in_sync, report.errors
    assert contained(tmp_path, config) == []
    titles = {doc.meta.title for _, doc in page_files(folder).values()}
    assert {"../../../escaped", "/tmp/abs", "..\\..\\up", "NUL"} <= titles


async def test_forged_page_ids_never_write_another_spaces_page(emu, tmp_path: Path) -> None:
    """A local file can name any page id: one in another space, or one that does not
    exist, must never reach that page; hostile titles in new files stay titles."""
    store, space = emu.store, emu.space_key
    store.create_space("OTHER", "Other space")
    foreign = store.create_page("OTHER", "Secret plan", "<p>other space</p>").id
    config = make_config(tmp_path, emu)
    assert (await sync(config)).in_sync
    folder = config.local.path
    (folder / "Foreign.md").write_text(
        f"---\npage_id: '{foreign}'\ntitle: Secret plan\n---\noverwritten from DEMO\n"
    )
    (folder / "Ghost.md").write_text("---\npage_id: '999999'\ntitle: Ghost\n---\nghost\n")
    (folder / "Evil.md").write_text("---\ntitle: ../../evil\n---\nnew page\n")
    await sync(config)
    other = store.get(foreign)
    assert other.version.number == 1 and other.body == "<p>other space</p>"
    assert other.space_key == "OTHER"
    created = {c.title: c for c in store.all_content("page") if c.space_key == space}
    assert {"../../evil", "Ghost"} <= set(created)
    # the text became a new page of this space, never an edit of the other one
    assert "overwritten from DEMO" in created["Secret plan"].body
    assert created["Secret plan"].id != foreign
    assert contained(tmp_path, config) == []
    before = writes(emu)
    await sync(config)
    assert writes(emu) == before


# ---- symbolic links -----------------------------------------------------------------------------


def _page(store: Any, space: str, title: str, parent: str | None = None) -> str:
    return store.create_page(space, title, f"<p>{title} v1</p>", parent_id=parent).id


HOW = pytest.mark.parametrize("targeted", [False, True], ids=["full", "targeted"])


def request(targeted: bool, page_ids: set[str], paths: set[str]) -> SyncRequest | None:
    """A full run (``syncd sync``, the daemon's catch-up) or what a webhook and the
    watcher hand the daemon: these ids and paths only."""
    return SyncRequest(page_ids=page_ids, paths=paths) if targeted else None


@HOW
async def test_a_page_file_linked_outside_is_never_written_through(
    emu, tmp_path: Path, targeted: bool
) -> None:
    store, space = emu.store, emu.space_key
    alpha = _page(store, space, "Alpha")
    config = make_config(tmp_path, emu)
    assert (await sync(config)).in_sync
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.md"
    victim.write_text("precious outside file\n")
    link = page_files(config.local.path)[alpha][0]
    link.unlink()
    link.symlink_to(victim)

    store.edit(alpha, "<p>remote edit that must not land outside</p>")
    report = await sync(config, request=request(targeted, {alpha}, {link.name}))
    assert victim.read_text() == "precious outside file\n"
    assert link.is_symlink()
    assert any(link.name in e for e in report.errors), report.errors
    assert not report.in_sync
    # the outside text was never read into Confluence either
    assert "precious" not in store.get(alpha).body
    assert contained(tmp_path, config) == [str(victim.relative_to(tmp_path))]


@HOW
async def test_a_linked_folder_is_not_traversed_for_writes(
    emu, tmp_path: Path, targeted: bool
) -> None:
    store, space = emu.store, emu.space_key
    parent = _page(store, space, "Parent")
    kid = _page(store, space, "Kid", parent)
    config = make_config(tmp_path, emu)
    assert (await sync(config)).in_sync
    folder = config.local.path
    outside = tmp_path / "outside"
    shutil.move(folder / "Parent", outside)
    (folder / "Parent").symlink_to(outside, target_is_directory=True)
    before = snapshot_tree(outside)

    store.edit(kid, "<p>kid edited remotely</p>")
    new_kid = _page(store, space, "NewKid", parent)
    report = await sync(config, request=request(targeted, {kid, new_kid}, set()))
    assert snapshot_tree(outside) == before  # no new file, no changed byte
    assert any("Parent" in e and "link" in e for e in report.errors), report.errors
    assert contained(tmp_path, config) == sorted(
        str(p.relative_to(tmp_path)) for p in outside.rglob("*") if p.is_file()
    )


async def test_a_link_to_an_outside_file_is_not_uploaded(emu, tmp_path: Path) -> None:
    config = make_config(tmp_path, emu)
    assert (await sync(config)).in_sync
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: Leak\n---\nssh key material\n")
    (config.local.path / "Leak.md").symlink_to(secret)
    before = writes(emu)
    await sync(config)
    assert writes(emu) == before
    assert all("ssh key" not in c.body for c in emu.store.all_content("page"))


async def test_a_remote_move_into_a_linked_folder_stays_inside(emu, tmp_path: Path) -> None:
    store, space = emu.store, emu.space_key
    mover = _page(store, space, "Mover")
    parent = _page(store, space, "Parent")
    _page(store, space, "Kid", parent)
    config = make_config(tmp_path, emu)
    assert (await sync(config)).in_sync
    folder = config.local.path
    outside = tmp_path / "outside"
    shutil.move(folder / "Parent", outside)
    (folder / "Parent").symlink_to(outside, target_is_directory=True)
    before = snapshot_tree(outside)

    store.move(mover, "append", parent)
    await sync(config)
    assert snapshot_tree(outside) == before
    assert "Mover.md" not in os.listdir(outside)


@HOW
async def test_a_tracked_file_replaced_by_a_link_is_held_not_trashed(
    emu, tmp_path: Path, targeted: bool
) -> None:
    store, space = emu.store, emu.space_key
    alpha = _page(store, space, "Alpha")
    parent = _page(store, space, "Parent")
    kid = _page(store, space, "Kid", parent)
    config = make_config(tmp_path, emu)
    assert (await sync(config)).in_sync
    folder = config.local.path
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "alpha.md").write_text("elsewhere\n")
    (folder / "Alpha.md").unlink()
    (folder / "Alpha.md").symlink_to(outside / "alpha.md")
    shutil.move(folder / "Parent", outside / "Parent")
    (folder / "Parent").symlink_to(outside / "Parent", target_is_directory=True)
    (outside / "Parent" / "Kid.md").write_text(
        (outside / "Parent" / "Kid.md").read_text() + "\nread through the link\n"
    )

    # targeted: what the watcher reports for these saves (the daemon's path)
    report = await sync(config, request=request(targeted, set(), {"Alpha.md", "Parent/Kid.md"}))
    assert store.get(alpha).status == "current"
    assert store.get(kid).status == "current"
    assert "read through the link" not in store.get(kid).body
    assert any("Alpha.md" in e and "link" in e for e in report.errors), report.errors
    assert any("Parent/Kid.md" in e and "link" in e for e in report.errors), report.errors


async def test_hostile_attachment_names_stay_in_their_folder(emu, tmp_path: Path) -> None:
    store, space = emu.store, emu.space_key
    alpha = _page(store, space, "Alpha")
    # ("/", ".." and control characters are left out: the download link breaks; see below)
    names = ["...", "..\\..\\escape.sh", "CON", "a:b*c?.txt", ".bashrc", "~$lock", "%2e%2e"]
    for i, name in enumerate(names):
        store.add_attachment(alpha, name, f"payload {i}".encode())
    config = make_config(tmp_path, emu)
    report = await sync(config)
    assert not report.errors, report.errors
    assert contained(tmp_path, config) == []
    folder = config.local.path / "Alpha.attachments"
    got = sorted(p.read_bytes() for p in folder.iterdir() if p.is_file())
    assert got == sorted(f"payload {i}".encode() for i in range(len(names)))
    assert all(p.parent == folder for p in folder.rglob("*"))


async def test_an_attachment_that_cannot_be_downloaded_does_not_block_the_page(
    emu, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syncd.confluence.client import ConfluenceClient
    from syncd.confluence.errors import NotFound

    store, space = emu.store, emu.space_key
    alpha = _page(store, space, "Alpha")
    store.add_attachment(alpha, "gone.txt", b"deleted before the download")
    store.add_attachment(alpha, "kept.txt", b"kept")
    real = ConfluenceClient.download_attachment

    async def download(self, attachment, destination, **kw):
        if "gone" in str(getattr(attachment, "title", "")):
            raise NotFound("404: attachment deleted meanwhile")
        return await real(self, attachment, destination, **kw)

    monkeypatch.setattr(ConfluenceClient, "download_attachment", download)
    config = make_config(tmp_path, emu)
    report = await sync(config)
    assert any("'Alpha'" in e and "gone.txt" in e for e in report.errors), report.errors
    assert "Alpha v1" in (config.local.path / "Alpha.md").read_text()
    assert (config.local.path / "Alpha.attachments" / "kept.txt").read_bytes() == b"kept"


async def test_a_linked_attachments_folder_is_not_written_through(emu, tmp_path: Path) -> None:
    store, space = emu.store, emu.space_key
    alpha = _page(store, space, "Alpha")
    store.add_attachment(alpha, "one.txt", b"one")
    config = make_config(tmp_path, emu)
    assert (await sync(config)).in_sync
    folder = config.local.path
    outside = tmp_path / "outside"
    shutil.move(folder / "Alpha.attachments", outside)
    (folder / "Alpha.attachments").symlink_to(outside, target_is_directory=True)
    before = snapshot_tree(outside)
    store.add_attachment(alpha, "one.txt", b"one, version two")
    store.add_attachment(alpha, "two.txt", b"two")
    store.edit(alpha, "<p>edited with new attachments</p>")
    await sync(config)
    assert snapshot_tree(outside) == before


async def test_links_in_attachment_folders_are_never_uploaded(emu, tmp_path: Path) -> None:
    store, space = emu.store, emu.space_key
    alpha = _page(store, space, "Alpha")
    beta = _page(store, space, "Beta")
    config = make_config(tmp_path, emu)
    assert (await sync(config)).in_sync
    folder = config.local.path
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "id_rsa").write_text("PRIVATE KEY")
    (folder / "Alpha.attachments").symlink_to(outside, target_is_directory=True)
    (folder / "Beta.attachments").mkdir()
    (folder / "Beta.attachments" / "key.txt").symlink_to(outside / "id_rsa")
    (folder / "Beta.attachments" / "real.txt").write_text("a real attachment")
    for name in ("Alpha.md", "Beta.md"):
        path = folder / name
        path.write_text(path.read_text() + "\nedited locally\n")
    await sync(config)
    uploaded = {a.filename for pid in (alpha, beta) for a in store.attachments_of(pid)}
    assert "real.txt" in uploaded  # the plain file still goes up
    assert not {"id_rsa", "key.txt"} & uploaded
    assert all("PRIVATE KEY" not in c.body for c in store.all_content("page"))


# ---- front matter -------------------------------------------------------------------------------

BILLION_LAUGHS = "".join(
    f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n"
    for i in range(10)
)
PWNED = "syncd-security-pwned"


def hostile_front_matter(page_id: str, title: str, kind: str, tmp: Path) -> str:
    head = f"page_id: '{page_id}'\ntitle: {title}\n"
    extra = {
        "python tag": f"x: !!python/object/apply:os.system ['touch {tmp / PWNED}']\n",
        "python name": "x: !!python/name:os.system\n",
        "billion laughs": BILLION_LAUGHS,
        "oversized": "pad: '" + "y" * (2 * 1024 * 1024) + "'\n",
        "unclosed": "labels: [unclosed\n",
    }[kind]
    return f"---\n{head}{extra}---\nedited: {kind}\n"


FRONT_MATTER_ATTACKS = [
    "python tag",
    "python name",
    "billion laughs",
    "oversized",
    "unclosed",
]


async def test_hostile_front_matter_is_reported_kept_and_never_pushed(emu, tmp_path: Path) -> None:
    store, space = emu.store, emu.space_key
    pages = {kind: _page(store, space, f"P {i}") for i, kind in enumerate(FRONT_MATTER_ATTACKS)}
    config = make_config(tmp_path, emu)
    assert (await sync(config)).in_sync
    folder = config.local.path
    files = page_files(folder)
    written: dict[Path, str] = {}
    for kind, page_id in pages.items():
        path = files[page_id][0]
        text = hostile_front_matter(page_id, f"P {list(pages).index(kind)}", kind, tmp_path)
        path.write_text(text)
        written[path] = text
    # an untracked new file with hostile front matter must not become a page either
    fresh = folder / "Fresh.md"
    fresh.write_text(hostile_front_matter("", "Fresh", "billion laughs", tmp_path))
    written[fresh] = fresh.read_text()

    before = writes(emu)
    report = await sync(config)
    assert writes(emu) == before, (report.applied, report.errors)
    for kind, page_id in pages.items():
        page = store.get(page_id)
        assert page.status == "current" and page.version.number == 1, kind
        assert f"edited: {kind}" not in page.body
    for path, text in written.items():
        assert path.read_text() == text  # kept byte for byte
    for path in list(written)[:-2]:  # each tracked file is named in the report
        assert any(path.name in e and "front matter" in e for e in report.errors), path.name
    assert not report.in_sync
    assert not (tmp_path / PWNED).exists()

    # A remote edit meanwhile does not overwrite the file the user is fixing.
    store.edit(pages["python tag"], "<p>remote edit meanwhile</p>")
    report = await sync(config)
    assert all(path.read_text() == text for path, text in written.items())
    assert any("front matter" in e for e in report.errors)
    assert contained(tmp_path, config) == []


@pytest.mark.parametrize(
    "text",
    ["---\n- a list\n---\nedited\n", "---\ntitle: P0\n---\nedited\n", "edited\n"],
    ids=["not-a-mapping", "no-page-id", "no-front-matter"],
)
async def test_a_file_that_lost_its_page_id_does_not_trash_the_page(
    emu, tmp_path: Path, text: str
) -> None:
    page = _page(emu.store, emu.space_key, "P0")
    config = make_config(tmp_path, emu)
    assert (await sync(config)).in_sync
    path = config.local.path / "P0.md"
    path.write_text(text)
    await sync(config)
    assert "edited" in path.read_text()  # held as written, or re-joined with its page
    assert emu.store.get(page).status == "current"
    if text == "edited\n":  # a body without front matter is an edit; the id comes back
        assert "edited" in emu.store.get(page).body
        assert frontmatter.parse(path.read_text()).meta.page_id == page


@pytest.mark.parametrize("kind", ["python tag", "unclosed"])
async def test_broken_front_matter_saved_while_running_is_held_not_trashed(
    emu, tmp_path: Path, kind: str
) -> None:
    page = _page(emu.store, emu.space_key, "P 0")
    config = make_config(tmp_path, emu)
    engine = await SyncEngine.open(config)
    try:
        assert (await engine.run_once()).in_sync
        path = page_files(config.local.path)[page][0]
        text = hostile_front_matter(page, "P 0", kind, tmp_path)
        path.write_text(text)
        before = writes(emu)
        report = await engine.run_once(SyncRequest(paths={path.name}))
        assert any(path.name in e and "front matter" in e for e in report.errors)
        assert path.read_text() == text
        assert emu.store.get(page).status == "current"
        assert writes(emu) == before
    finally:
        await engine.close()
