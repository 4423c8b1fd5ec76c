"""The page tree -> relative paths, deterministic, collision-safe, contained."""

from __future__ import annotations

import random
from pathlib import Path

from syncd.local.layout import (
    HOME_FILE,
    PageRecord,
    attachments_dir_of,
    children_dir_of,
    compute_layout,
)
from syncd.local.names import is_within

TREE = [
    PageRecord("1", "Space Home", None, 0),
    PageRecord("10", "Guide", "1", 0),
    PageRecord("11", "Install", "10", 0),
    PageRecord("12", "Configure", "10", 1),
    PageRecord("13", "Linux", "11", 0),
    PageRecord("20", "FAQ", "1", 1),
]


def test_tree_maps_to_folders() -> None:
    layout = compute_layout(TREE, "1")
    assert dict(layout.paths) == {
        "1": "README.md",
        "10": "Guide.md",
        "20": "FAQ.md",
        "11": "Guide/Install.md",
        "12": "Guide/Configure.md",
        "13": "Guide/Install/Linux.md",
    }
    assert layout.unplaced == ()
    assert layout.children_dir("10") == "Guide"
    assert layout.children_dir("1") == ""
    assert layout.attachments_dir("11") == "Guide/Install.attachments"
    assert layout.attachments_dir("1") == "README.attachments"


def test_deterministic_whatever_the_order() -> None:
    expected = compute_layout(TREE, "1").paths
    for seed in range(5):
        shuffled = TREE[:]
        random.Random(seed).shuffle(shuffled)
        assert compute_layout(shuffled, "1").paths == expected


def test_sibling_collisions_get_id_suffixes_but_cousins_do_not() -> None:
    records = [
        PageRecord("1", "Home"),
        PageRecord("5", "Notes", "1"),
        PageRecord("6", "notes", "1"),
        PageRecord("7", "NOTES", "5"),  # a child of Notes: a different folder, no clash
        PageRecord("8", "Readme", "1"),  # clashes with the home page's README.md
    ]
    paths = compute_layout(records, "1").paths
    assert paths["5"] == "Notes.md"
    assert paths["6"] == "notes (6).md"
    assert paths["7"] == "Notes/NOTES.md"
    assert paths["8"] == "Readme (8).md"
    assert len({p.lower() for p in paths.values()}) == len(paths)


def test_hostile_titles_stay_inside(tmp_path: Path) -> None:
    titles = ["../../x", "CON", "con.txt", "a/b", "a\\b", "😀" * 300, "..", "/abs", "x" * 300]
    records = [PageRecord("1", "Home")]
    parent = "1"
    for i, title in enumerate(titles, start=2):
        records.append(PageRecord(str(i), title, parent))
        parent = str(i)  # nest them: each is the child of the previous
    layout = compute_layout(records, "1")
    assert len(layout.paths) == len(records)
    for rel in layout.paths.values():
        assert not rel.startswith("/") and ".." not in rel.split("/")
        target = tmp_path / rel
        assert is_within(tmp_path, target)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x")
        assert target.resolve().is_relative_to(tmp_path.resolve())


def test_unknown_parents_and_cycles_are_unplaced() -> None:
    records = [
        PageRecord("1", "Home"),
        PageRecord("2", "Orphan", "999"),
        PageRecord("3", "A", "4"),
        PageRecord("4", "B", "3"),
        PageRecord("5", "Top level", None),
    ]
    layout = compute_layout(records, "1")
    assert layout.unplaced == ("2", "3", "4")
    assert layout.paths["5"] == "Top level.md"  # other top-level pages join the root
    subtree = compute_layout(records, "1", top_level_at_root=False)
    assert "5" in subtree.unplaced


def test_inverse_helpers() -> None:
    layout = compute_layout(TREE, "1")
    assert layout.page_at("Guide/Install.md") == "11"
    assert layout.page_at("guide/install.md") == "11"  # case-insensitive file systems
    assert layout.parent_for_path("New.md") == "1"
    assert layout.parent_for_path("Guide/New.md") == "10"
    assert layout.parent_for_path("Guide/Install/New.md") == "11"
    assert layout.parent_for_path("Unknown/New.md") is None
    assert layout.page_for_attachment("Guide/Install.attachments/shot.png") == "11"
    assert layout.page_for_attachment("README.attachments/logo.png") == "1"
    assert layout.page_for_attachment("Guide/shot.png") is None
    assert children_dir_of("A/B.md") == "A/B"
    assert attachments_dir_of("A/B.md") == "A/B.attachments"


def test_prefix_for_blog_posts_and_reserved_root_names() -> None:
    pages = compute_layout(
        [PageRecord("1", "Home"), PageRecord("2", "blog", "1")], "1", reserved_root_names=["blog"]
    )
    assert pages.paths["2"] == "blog (2).md"
    blog = compute_layout(
        [PageRecord("b0", "Blog"), PageRecord("b1", "Post", None)], "b0", prefix="blog"
    )
    assert blog.paths == {"b0": "blog/" + HOME_FILE, "b1": "blog/Post.md"}
    assert blog.parent_for_path("blog/New.md") == "b0"
    assert blog.parent_for_path("Elsewhere.md") is None


def test_position_orders_output_not_names() -> None:
    a = compute_layout(
        [PageRecord("1", "H"), PageRecord("3", "X", "1", 0), PageRecord("2", "x", "1", 1)], "1"
    )
    b = compute_layout(
        [PageRecord("1", "H"), PageRecord("3", "X", "1", 1), PageRecord("2", "x", "1", 0)], "1"
    )
    assert a.paths == b.paths == {"1": "README.md", "2": "x.md", "3": "X (3).md"}


def test_children_of_a_page_titled_like_an_attachments_folder_are_pages() -> None:
    from syncd.local.ignore import is_page_path

    layout = compute_layout(
        [
            PageRecord("1", "Home"),
            PageRecord("2", "Foo.attachments", "1"),
            PageRecord("3", "Kid", "2"),
        ],
        "1",
    )
    assert layout.paths["3"] == "Foo.attachments_/Kid.md"
    assert is_page_path(layout.paths["3"])
