"""Three-way Markdown merge and conflict-marker detection."""

from __future__ import annotations

import pytest

from syncd.sync.merge import (
    END_MARKER,
    START_MARKER,
    count_conflict_markers,
    has_conflict_markers,
    merge_markdown,
)

BASE = "# Title\n\nIntro line.\n\n- one\n- two\n- three\n\nClosing words.\n"


def test_non_overlapping_edits_merge_cleanly():
    local = BASE.replace("Intro line.", "Intro line, edited locally.")
    remote = BASE.replace("Closing words.", "Closing words, edited in Confluence.")
    result = merge_markdown(BASE, local, remote)
    assert result.clean and result.conflicts == 0
    assert "Intro line, edited locally." in result.text
    assert "Closing words, edited in Confluence." in result.text
    assert not has_conflict_markers(result.text)


def test_overlapping_edits_conflict_with_git_style_markers():
    local = BASE.replace("- two", "- TWO (local)")
    remote = BASE.replace("- two", "- deux (remote)")
    result = merge_markdown(BASE, local, remote)
    assert not result.clean
    assert result.conflicts == 1
    assert (
        f"- one\n{START_MARKER}\n- TWO (local)\n=======\n- deux (remote)\n{END_MARKER}\n- three\n"
        in result.text
    )
    assert has_conflict_markers(result.text)
    assert count_conflict_markers(result.text) == 1


def test_two_separate_conflicts_are_counted():
    local = BASE.replace("Intro line.", "L1").replace("Closing words.", "L2")
    remote = BASE.replace("Intro line.", "R1").replace("Closing words.", "R2")
    result = merge_markdown(BASE, local, remote)
    assert result.conflicts == 2
    assert count_conflict_markers(result.text) == 2


def test_identical_edits_on_both_sides_are_clean():
    edited = BASE.replace("- three", "- three\n- four")
    result = merge_markdown(BASE, edited, edited)
    assert result.clean and result.text == edited


def test_identical_change_inside_a_larger_conflicting_region_is_not_duplicated():
    local = BASE.replace("- one\n- two", "- uno\n- two (same)")
    remote = BASE.replace("- one\n- two", "- ein\n- two (same)")
    result = merge_markdown(BASE, local, remote)
    assert result.conflicts == 1
    assert result.text.count("- two (same)") == 1


@pytest.mark.parametrize(
    ("local", "remote", "expected"),
    [
        (BASE, BASE + "remote\n", BASE + "remote\n"),  # local unchanged -> remote
        (BASE + "local\n", BASE, BASE + "local\n"),  # remote unchanged -> local
        (BASE, BASE, BASE),
    ],
)
def test_trivial_cases_take_the_changed_side(local, remote, expected):
    result = merge_markdown(BASE, local, remote)
    assert result.clean and result.text == expected


def test_line_endings_are_normalised():
    local_crlf = BASE.replace("Intro line.", "Intro edited.").replace("\n", "\r\n")
    remote = BASE.replace("Closing words.", "Closing edited.")
    result = merge_markdown(BASE, local_crlf, remote)
    assert result.clean
    assert "\r" not in result.text
    assert "Intro edited." in result.text and "Closing edited." in result.text
    # A CRLF-only difference is no change at all.
    assert merge_markdown(BASE, BASE.replace("\n", "\r\n"), BASE).text == BASE


def test_missing_final_newline_keeps_markers_on_their_own_lines():
    result = merge_markdown("a\nb", "a\nlocal", "a\nremote")
    assert result.text == f"a\n{START_MARKER}\nlocal\n=======\nremote\n{END_MARKER}\n"


def test_no_base_merges_only_equal_texts():
    assert merge_markdown(None, "same\n", "same\n").clean
    result = merge_markdown(None, "mine\n", "theirs\n")
    assert not result.clean and result.conflicts == 1
    assert "mine" in result.text and "theirs" in result.text


def test_marker_detection_ignores_setext_headings_and_foreign_markers():
    assert not has_conflict_markers("Heading\n=======\n\nbody\n")
    assert not has_conflict_markers("```\n<<<<<<< HEAD\nx\n=======\ny\n>>>>>>> main\n```\n")
    assert not has_conflict_markers("text mentioning <<<<<<< local inline\n")
    assert has_conflict_markers("x\n<<<<<<< local\r\ny\n")
    # A half-resolved file (start marker removed by hand) is still held.
    assert has_conflict_markers("a\nb\n=======\nc\n>>>>>>> remote\n")
