"""Front matter: round trips, stable bytes, hostile YAML refused."""

from __future__ import annotations

import pytest

from syncd.local import frontmatter
from syncd.local.frontmatter import (
    MAX_FRONT_MATTER_BYTES,
    FrontMatter,
    FrontMatterError,
    join,
    parse,
    render,
    split,
)

BODY = "# Heading\n\nSome *text*.\n"


def test_round_trip_and_stable_bytes() -> None:
    meta = FrontMatter(page_id="123456", title="Install: the guide", labels=("setup", "howto"))
    text = render(meta, BODY)
    assert text == (
        "---\ntitle: 'Install: the guide'\npage_id: '123456'\nlabels: [howto, setup]\n---\n\n"
        + BODY
    )
    doc = parse(text)
    assert doc.meta == FrontMatter(
        page_id="123456", title="Install: the guide", labels=("howto", "setup")
    )
    assert doc.body == BODY
    assert doc.body_line == 7
    assert render(doc.meta, doc.body) == text  # unchanged page, unchanged bytes
    # label order and duplicates don't matter
    assert (
        render(FrontMatter("123456", "Install: the guide", ("setup", "howto", "setup")), BODY)
        == text
    )


def test_unicode_and_awkward_titles_round_trip() -> None:
    for title in [
        "Café ☕",
        "yes",
        "123",
        "null",
        "- dash",
        "a: b",
        "# hash",
        "'quoted'",
        "x" * 300,
    ]:
        meta = FrontMatter(page_id="1", title=title)
        doc = parse(render(meta, BODY))
        assert doc.meta.title == title
        assert render(doc.meta, doc.body) == render(meta, BODY)


def test_other_keys_are_kept_sorted_after_ours() -> None:
    text = "---\nzeta: 1\npage_id: 9\nalpha: [x]\ntitle: T\n---\n\nbody\n"
    doc = parse(text)
    assert doc.meta.page_id == "9"
    assert dict(doc.meta.extra) == {"zeta": 1, "alpha": ["x"]}
    assert (
        render(doc.meta, doc.body)
        == "---\ntitle: T\npage_id: '9'\nalpha: [x]\nzeta: 1\n---\n\nbody\n"
    )


def test_file_without_front_matter_is_all_body() -> None:
    for text in ["# New page\n", "", "---\n", "---\nno closing line\n", "text\n---\nmore\n"]:
        doc = parse(text)
        assert doc.meta == FrontMatter()
        assert doc.body == text
        assert not doc.has_front_matter


def test_thematic_break_with_prose_is_body() -> None:
    text = "---\nJust prose.\n---\nMore.\n"
    assert parse(text).body == text


def test_split_join_inverse_and_crlf() -> None:
    meta, body, line = split(join({"title": "T"}, "\nstarts blank\n"))
    assert meta == {"title": "T"} and body == "\nstarts blank\n" and line == 5
    meta, body, _ = split("---\r\ntitle: T\r\n---\r\n\r\nbody\r\n")
    assert meta == {"title": "T"} and body == "body\r\n"
    assert join(None, "x") == "x"


@pytest.mark.parametrize(
    "yaml_text",
    [
        "a: &x [1, 2]\nb: *x\n",
        'a: &a ["lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n',
        "title: !!python/object/apply:os.system ['echo hi']\n",
        "title: !custom x\n",
        "title: [unclosed\n",
    ],
)
def test_hostile_yaml_is_refused(yaml_text: str) -> None:
    with pytest.raises(FrontMatterError) as info:
        parse(f"---\n{yaml_text}---\n\nbody\n")
    assert info.value.line is None or info.value.line >= 2


def test_huge_front_matter_is_refused() -> None:
    big = "title: T\nnotes: '" + "x" * (MAX_FRONT_MATTER_BYTES + 10) + "'\n"
    with pytest.raises(FrontMatterError, match="larger than"):
        parse(f"---\n{big}---\n\nbody\n")


def test_bad_field_types() -> None:
    with pytest.raises(FrontMatterError):
        parse("---\npage_id: [1]\n---\n")
    with pytest.raises(FrontMatterError):
        parse("---\nlabels: {a: 1}\n---\n")
    assert parse("---\nlabels: a, b c\n---\n").meta.labels == ("a", "b", "c")


FRONT_MATTERS = [
    "page_id: '12345'\ntitle: Runbook\nlabels: [ops, on-call]\n",
    'title: "Üñíçødé — 日本語 🎉"\nlabels: []\n',
    "title: 'it''s: a \"quote\"'\nextra:\n  nested: [1, 2.5, true, null, 2024-01-02]\n",
    "title: >\n  folded\n  text\nnumber: 0o17\nhex: 0x1F\nyes: yes\n",
    "title: |\n  literal\n   block\n\n",
    "page_id: 00123\ntitle: ~\nlabels:\n  - a\n  - b\n",
    "title: [unclosed\n",
    "key: &anchor value\nother: *anchor\n",
    "title: !custom tag\n",
    "\ttitle: tab\n",
]


@pytest.mark.parametrize("raw", FRONT_MATTERS)
def test_libyaml_and_the_python_parser_agree(raw):
    """The fast parser is only a speed-up: same data, and the same error when one fails."""
    import yaml

    if getattr(yaml, "CSafeLoader", None) is None:
        pytest.skip("PyYAML without libyaml")

    def outcome(loader):
        try:
            return ("ok", frontmatter._load_checked(raw, loader))
        except frontmatter.FrontMatterError as exc:
            return ("error", exc.line, exc.message)

    fast = outcome(yaml.CSafeLoader)
    slow = outcome(yaml.SafeLoader)
    assert fast[0] == slow[0]
    if slow[0] == "ok":
        assert fast == slow
    else:  # an error is always reported by the Python parser, as before
        with pytest.raises(frontmatter.FrontMatterError) as err:
            frontmatter._safe_parse(raw)
        assert (err.value.line, err.value.message) == slow[1:]


def test_front_matter_is_block_style_even_when_every_value_is_a_scalar():
    # The home page (title and id only) used to come out in flow style: {title: ..., ...}.
    text = join({"title": "Demo Home", "page_id": "98306"}, "Body\n")
    assert text.startswith("---\ntitle: Demo Home\npage_id: '98306'\n---\n")
    with_labels = join({"title": "T", "labels": ["a", "b"]}, "Body\n")
    assert "\ntitle: T\nlabels: [a, b]\n" in with_labels
    meta = parse(text).meta
    assert (meta.title, meta.page_id) == ("Demo Home", "98306")


# ---------------------------------------------------------------- the fast writer
# `_dump_item` writes the common lines (title, page id, labels) without PyYAML; every
# line it writes must be exactly what PyYAML writes, or a pull would rewrite front matter
# that did not change.

_TRICKY_VALUES = [
    "Glossary",
    "Release Checklist 4.2",
    "O'Brien's notes",
    "a - b",
    "a -b",
    "C++ (draft)",
    "path/to/page",
    "Two  spaces",
    "trailing ",
    "yes",
    "No",
    "ON",
    "null",
    "Null",
    "y",
    "N",
    "true",
    "e",
    "E1",
    "Infinity",
    "NaN",
    "a: b",
    "a #b",
    "a#b",
    "key: value",
    "-dash",
    "x" * 300,
    "98324",
    "0123",
    "0",
    "12e3",
    "1_000",
    "Onboarding： Your First Week",
    "tab\there",
    "x'",
    "a.b.c",
    "A+",
    "A(",
    "A)",
    "A/",
]


def _yaml_line(key, value) -> str:
    import yaml

    return yaml.safe_dump(
        {key: value},
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None if isinstance(value, list | dict) else False,
        width=4096,
        indent=2,
    )


@pytest.mark.parametrize("value", _TRICKY_VALUES)
def test_fast_front_matter_lines_are_what_yaml_writes(value: str) -> None:
    from syncd.local.frontmatter import _dump_item

    for key in ("title", "page_id"):
        assert _dump_item(key, value) == _yaml_line(key, value)


def test_fast_front_matter_lines_match_yaml_on_random_strings() -> None:
    import random

    from syncd.local.frontmatter import _dump_item

    rng = random.Random(7)
    alphabet = "aZ09 ._/()+'-:#yesnoTrue\t!&*?,[]{}|>%@`\"~=<"
    for _ in range(3000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        assert _dump_item("title", value) == _yaml_line("title", value), value
    for labels in ([], ["a"], ["b", "a"], ["x y"], ["yes"]):
        assert _dump_item("labels", labels) == _yaml_line("labels", labels)
