"""The engine's link resolver and file parsing (no network)."""

from __future__ import annotations

from syncd.convert import markdown_to_storage, storage_to_markdown
from syncd.sync.attachments import safe_file_name
from syncd.sync.model import body_hash
from syncd.sync.resolver import PageIndex
from syncd.sync.snapshots import parse_file


def index() -> PageIndex:
    idx = PageIndex("DOCS")
    idx.set_pages(
        [
            ("1", "Home", "README.md"),
            ("2", "Guide", "Guide.md"),
            ("3", "Install", "Guide/Install.md"),
            ("4", "My Notes", "Guide/Install/My Notes.md"),
        ]
    )
    return idx


def test_page_links_are_relative_to_the_current_file_both_ways():
    r = index().for_page("Guide/Install/My Notes.md")
    assert r.page_path("Guide") == "../../Guide.md"
    assert r.page_path("Install") == "../Install.md"
    assert r.page_path("Guide", space_key="OTHER") is None
    assert r.page_path("Unknown") is None
    assert r.page_for_path("../../Guide.md") == ("Guide", None)
    assert r.page_for_path("../Install.md#setup") == ("Install", None)
    assert r.page_for_path("../../../outside.md") is None
    assert r.page_for_path("image.png") is None


def test_attachments_live_beside_the_page():
    r = index().for_page("Guide/Install.md")
    assert r.attachment_path("shot.png") == "Install.attachments/shot.png"
    assert r.attachment_for_path("Install.attachments/shot.png") == "shot.png"
    assert r.attachment_for_path("Other.attachments/shot.png") is None
    assert r.attachment_path("../evil") is None
    assert r.attachment_path("logo.png", page_title="Guide") == "../Guide.attachments/logo.png"


def test_a_moved_page_still_resolves_by_its_old_path():
    idx = index()
    idx.set_page("2", "Handbook", "Handbook.md")
    r = idx.for_page("README.md")
    assert r.page_path("Handbook") == "Handbook.md"
    assert r.page_for_path("Guide.md") == ("Handbook", None)


def test_round_trip_of_a_page_link_through_the_converter():
    idx = index()
    storage = '<p>See <ac:link><ri:page ri:content-title="Guide" /></ac:link>.</p>'
    pulled = storage_to_markdown(storage, resolver=idx.for_page("Guide/Install.md"))
    assert "../Guide.md" in pulled.markdown
    edited = pulled.markdown.replace("See", "Read")
    pushed = markdown_to_storage(
        edited, sidecar=pulled.sidecar, resolver=idx.for_page("Guide/Install.md")
    )
    assert 'ri:content-title="Guide"' in pushed.storage and "Read" in pushed.storage


def test_parse_file_reads_id_title_labels_and_body_hash():
    text = "---\ntitle: Guide\npage_id: '42'\nlabels: [b, a]\n---\n\nBody\n"
    parsed = parse_file(text, "Guide.md", "sha")
    assert (parsed.page_id, parsed.title, parsed.labels) == ("42", "Guide", ("a", "b"))
    assert parsed.body_hash == body_hash("Body\n") and not parsed.markers
    new = parse_file("just text\n", "Dir/New page.md", "sha")
    assert new.page_id is None and new.title == "New page" and new.labels is None
    suffixed = parse_file("---\npage_id: '7'\n---\n\nx\n", "Title (7).md", "sha")
    assert suffixed.title == "Title"
    broken = parse_file("---\ntitle: [x\n---\nbody\n", "B.md", "sha")
    assert broken.error and "line" in broken.error
    marked = parse_file("<<<<<<< local\na\n=======\nb\n>>>>>>> remote\n", "M.md", "sha")
    assert marked.markers


def test_attachment_file_names_cannot_escape():
    assert safe_file_name("../../etc/passwd", "att1") == "_.._etc_passwd"
    assert safe_file_name("..", "att2") == "attachment-att2"
    assert safe_file_name("report.pdf", "att3") == "report.pdf"
    assert "/" not in safe_file_name("a/b\\c", "att4")


def test_restore_paths_are_read_relative_to_the_folder(tmp_path):
    from syncd.sync.restore import relative_to_folder

    folder = tmp_path / "docs"
    (folder / "Guide").mkdir(parents=True)
    assert relative_to_folder("Guide/Install.md", folder, cwd=tmp_path) == "Guide/Install.md"
    assert relative_to_folder("Install.md", folder, cwd=folder / "Guide") == "Guide/Install.md"
    assert relative_to_folder(str(folder / "A.md"), folder) == "A.md"
    assert relative_to_folder("../x.md", folder, cwd=tmp_path) is None
    assert relative_to_folder("/etc/passwd", folder) is None
