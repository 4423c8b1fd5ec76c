"""The user's wording is kept after a sync where the page means the same (issue 14): syncd
must not rewrite a file whose text Confluence did not change in meaning, and when it must,
it changes only the blocks whose meaning changed."""

from __future__ import annotations

from syncd.convert import keep_wording, markdown_to_storage, storage_to_markdown
from syncd.convert.wording import in_pulled_wording

USER = """# Notes

* a bullet the user wrote with a star
* and another

Some _emphasis_ in a paragraph
wrapped by the editor.



Spacing   the user chose.
"""


def _pushed(md: str):
    """What a new page with this Markdown reads back as."""
    return storage_to_markdown(markdown_to_storage(md, sidecar=None).storage)


def test_a_page_that_reads_back_the_same_keeps_the_file_as_typed():
    pulled = _pushed(USER)
    assert pulled.markdown != USER  # "-" bullets, "*emphasis*", one space
    assert keep_wording(USER, pulled.markdown) == USER


def test_a_block_whose_meaning_changed_is_the_only_one_rewritten():
    storage = markdown_to_storage(USER, sidecar=None).storage
    # Confluence changed one block (as a normalisation or an edit would).
    pulled = storage_to_markdown(storage.replace("and another", "and another one")).markdown
    kept = keep_wording(USER, pulled)
    assert kept == USER.replace(
        "* a bullet the user wrote with a star\n* and another",
        "- a bullet the user wrote with a star\n- and another one",
    )


def test_blocks_added_or_removed_remotely_come_in_and_the_rest_stays():
    storage = markdown_to_storage(USER, sidecar=None).storage
    pulled = storage_to_markdown(storage.replace("<h1>Notes</h1>", "")).markdown
    assert keep_wording(USER, pulled) == USER.replace("# Notes\n\n", "")
    pulled = storage_to_markdown(storage + "<p>new remote paragraph</p>").markdown
    assert keep_wording(USER, pulled) == USER + "\nnew remote paragraph\n"


def test_next_push_of_a_kept_file_sends_nothing_and_an_edit_only_its_block():
    first = markdown_to_storage(USER, sidecar=None).storage
    pulled = storage_to_markdown(first)
    pulled.sidecar.markdown = keep_wording(USER, pulled.markdown)
    assert markdown_to_storage(USER, sidecar=pulled.sidecar).storage is None
    edited = USER.replace("wrapped by the editor.", "wrapped by the editor, edited.")
    out = markdown_to_storage(edited, sidecar=pulled.sidecar).storage
    assert out == first.replace("wrapped by the editor.", "wrapped by the editor, edited.")


def test_in_pulled_wording_swaps_only_blocks_left_as_synced():
    pulled = _pushed(USER).markdown
    md = USER.replace("Spacing   the user chose.", "Spacing edited.")
    # (the blank lines between blocks are the file's own)
    assert in_pulled_wording(md, USER, pulled) == pulled.replace(
        "editor.\n\nSpacing the user chose.", "editor.\n\n\n\nSpacing edited."
    )
    # Blocks that no longer correspond one to one: left alone.
    assert in_pulled_wording(md, USER, "# Notes\n") == md
