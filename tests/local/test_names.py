"""Titles -> safe names: hostile titles never escape the folder and are deterministic."""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.local.ignore import is_ignored_name, is_page_path
from syncd.local.names import (
    MAX_STEM_BYTES,
    assign_stems,
    check_relative,
    claimed_names,
    fold,
    is_within,
    safe_stem,
    strip_suffix_id,
    title_from_stem,
    truncate_utf8,
)

HOSTILE = [
    "../../x",
    "..",
    ".",
    "...",
    "/etc/passwd",
    "a/b",
    "a\\b",
    "C:\\Windows\\system32",
    "CON",
    "con.txt",
    "Lpt9.md",
    "nul ",
    "COM1.tar.gz",
    "x" * 300,
    "é" * 300,
    "😀" * 300,
    "Title...",
    "Title   ",
    " .hidden",
    ".bashrc",
    "a\x00b\x1fc\x7f",
    'what<>:"|?*',
    "~$budget",
    "",
    "   ",
    "emoji 🚀 launch",
]


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_are_single_safe_components(title: str, tmp_path: Path) -> None:
    stem = safe_stem(title)
    assert stem == safe_stem(title)  # deterministic
    assert stem and stem not in (".", "..")
    assert "/" not in stem and "\\" not in stem and "\x00" not in stem
    assert not any(c in stem for c in '<>:"|?*')
    assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in stem)
    assert not stem.startswith(".") and not stem.endswith((".", " "))
    assert len((stem + " (123456789012345678).attachments").encode()) < 255
    assert stem.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT9"}
    assert not is_ignored_name(stem + ".md")
    assert is_page_path(stem + ".md")
    # and it really stays inside the folder, checked on the resolved path
    target = tmp_path / (stem + ".md")
    assert is_within(tmp_path, target)
    target.write_text("x")
    assert target.parent == tmp_path


def test_reserved_names() -> None:
    assert safe_stem("CON") == "CON_"
    assert safe_stem("con.txt") == "con_.txt"
    assert safe_stem("Aux.Notes") == "Aux_.Notes"
    assert safe_stem("CONSOLE") == "CONSOLE"
    assert safe_stem("COM1") == "COM1_"


def test_separators_and_traversal() -> None:
    assert safe_stem("../../x") == "／..／x"
    assert safe_stem("a/b") == "a／b"
    assert safe_stem("a\\b") == "a＼b"
    assert safe_stem("..") == "Untitled"
    assert safe_stem("a\x00b\x1fc") == "a_b_c"


@pytest.mark.parametrize(
    ("title", "stem"),
    [
        ("Onboarding: Your First Week", "Onboarding： Your First Week"),
        ("CI/CD", "CI／CD"),
        ('Why "done"? Now | later <a> *b*', "Why ＂done＂？ Now ｜ later ＜a＞ ＊b＊"),
        ("C:\\Windows", "C：＼Windows"),
    ],
)
def test_forbidden_characters_become_look_alikes_that_map_back(title: str, stem: str) -> None:
    """Issue 16: a name that reads like the title (no ``Onboarding_ Your First Week``) and a
    new file named so gets that title back."""
    assert safe_stem(title) == stem
    assert title_from_stem(stem) == title


def test_full_width_punctuation_of_cjk_text_is_the_text() -> None:
    assert safe_stem("会议：纪要") == "会议：纪要"
    assert title_from_stem("会议：纪要") == "会议：纪要"
    assert title_from_stem("Plain_ name") == "Plain_ name"  # earlier versions' names


def test_names_the_scanner_would_misread() -> None:
    assert safe_stem("Foo.attachments") == "Foo.attachments_"
    assert safe_stem("Foo.ATTACHMENTS") == "Foo.ATTACHMENTS_"
    assert safe_stem("X.conflict-20240101-120000") == "X.conflict-20240101-120000_"
    assert safe_stem("~$budget") == "_~$budget"


def test_trailing_dots_and_spaces() -> None:
    assert safe_stem("Title...") == "Title"
    assert safe_stem("  Title . ") == "Title"


def test_nfc_normalisation() -> None:
    nfd = unicodedata.normalize("NFD", "Café résumé")
    nfc = unicodedata.normalize("NFC", "Café résumé")
    assert nfd != nfc
    assert safe_stem(nfd) == safe_stem(nfc) == nfc


def test_length_cap_in_bytes_never_splits_a_character() -> None:
    for title in ("x" * 300, "é" * 300, "😀" * 300, "e\u0301" * 200):
        stem = safe_stem(title)
        assert len(stem.encode("utf-8")) <= MAX_STEM_BYTES
        stem.encode("utf-8").decode("utf-8")
        assert not unicodedata.combining(stem[-1])
    # a combining sequence is never cut between base and mark
    assert truncate_utf8("ab" + "e\u0301", 3) == "ab"


def test_collisions_after_sanitising_and_case() -> None:
    # "a／b" is a title holding the full-width look-alike itself; "a_b" no longer collides
    entries = [("300", "a/b"), ("200", "a／b"), ("100", "A/B"), ("50", "a_b")]
    stems = assign_stems(entries)
    assert stems["100"] == "A／B"  # the oldest page keeps the plain name
    assert stems["200"] == "a／b (200)"
    assert stems["300"] == "a／b (300)"
    assert stems["50"] == "a_b"
    assert len({fold(s) for s in stems.values()}) == 4
    # order of the listing never matters
    assert assign_stems(list(reversed(entries))) == stems
    # a newer page appearing does not rename the existing one
    assert assign_stems([*entries, ("400", "a/b")])["100"] == "A／B"


def test_collision_with_a_title_that_looks_like_a_suffix() -> None:
    stems = assign_stems([("123", "Foo"), ("100", "Foo"), ("200", "Foo (123)")])
    assert stems == {"100": "Foo", "123": "Foo (123-2)", "200": "Foo (123)"}


def test_children_and_attachments_folder_names_collide_too() -> None:
    stems = assign_stems([("1", "Foo"), ("2", "Foo.attachments"), ("3", "foo.md")])
    # "foo.md" (3) would have a children folder "foo.md/" clashing with the file Foo.md
    assert stems == {"1": "Foo", "2": "Foo.attachments_", "3": "foo.md (3)"}
    claimed = [set(claimed_names(s)) for s in stems.values()]
    assert all(a.isdisjoint(b) for i, a in enumerate(claimed) for b in claimed[i + 1 :])
    # a page whose file name equals another page's children folder name is told apart
    assert assign_stems([("1", "A"), ("2", "a")]) == {"1": "A", "2": "a (2)"}


def test_reserved_root_names() -> None:
    stems = assign_stems([("7", "readme")], reserved=["README.md"])
    assert stems["7"] == "readme (7)"


def test_strip_suffix_id() -> None:
    assert strip_suffix_id("a_b (200)", "200") == "a_b"
    assert strip_suffix_id("Foo (123-2)", "123") == "Foo"
    assert strip_suffix_id("Foo (123)", "999") == "Foo (123)"


def test_check_relative() -> None:
    assert check_relative("a/b.md") == "a/b.md"
    for bad in ("", "/a", "a/../b", "a//b", "./a", "a\\b"):
        with pytest.raises(ValueError):
            check_relative(bad)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_title_gives_a_contained_single_component(title: str) -> None:
    stem = safe_stem(title)
    assert stem == safe_stem(title)
    assert "/" not in stem and "\\" not in stem and stem not in (".", "..")
    assert 0 < len(stem.encode("utf-8")) <= MAX_STEM_BYTES
    assert os.path.normpath(os.path.join("/root/x", stem + ".md")).startswith("/root/x/")
    assert is_page_path(stem + ".md")
    assert not is_page_path(stem + "/" + "x.md") or not stem.lower().endswith(".attachments")
    assert not stem.lower().endswith(".attachments")
    assert unicodedata.is_normalized("NFC", stem)
