"""The scan-cache row of a page file syncd renders and writes is made from the values it
rendered (`frontmatter.render_and_parse`), not by parsing the text again: it must be
exactly the row that parsing the file gives, and the shortcut must decline what it cannot
prove."""

from __future__ import annotations

import random

import pytest

from syncd.local import frontmatter
from syncd.local.atomic import WriteResult
from syncd.local.frontmatter import FrontMatter
from syncd.sync.snapshots import written_page_row

BODY = "# Heading\n\nSome *text*.\n"


def rows_agree(meta: FrontMatter, body: str) -> frontmatter.Document | None:
    """Render both ways; the rows (as stored) must be equal. Returns the known document."""
    text, doc = frontmatter.render_and_parse(meta, body)
    assert text == frontmatter.render(meta, body)
    if doc is not None:
        assert doc == frontmatter.parse(text), (meta, body)
    data = text.encode("utf-8", errors="surrogateescape")
    result = WriteResult("Space/Some page.md", len(data), 1_700_000_000_000_000_000, "ab" * 32, 9)
    assert written_page_row(result, text, doc) == written_page_row(result, text), (meta, body)
    return doc


# What pages are called: the emulator's seeded titles, and worse.
COMMON_TITLES = [
    "Tidewater Team Hub",
    "Onboarding: Your First Week",
    "Runbook: Ingest Lag Alerts",
    "Release Checklist 4.2",
    "2026-10-06 Platform Sync Meeting Notes",
    "Postmortem: Partition Stall on 2026-09-14",
    "On-call Handbook",
    "Roadmap 2027",
    "O'Brien's notes",
    "C++ (draft)",
    "Q&A",
    "Tips, tricks [and more]",
    "Café ünïcode",
    "日本語のページ",
    "Release 🎉 party",
    "Why? Because",
    "100% done",
    '"Quoted" title',
    "a - b",
    "98324",
]

TRICKY_TITLES = [
    *COMMON_TITLES,
    " leading space",
    "trailing space ",
    "two  spaces",
    "a: b",
    "a:b",
    "ends with colon:",
    "#hash",
    "a #b",
    "a#b",
    "- dash",
    "-dash",
    "-",
    "?",
    "? q",
    ":",
    "[draft]",
    "{x}",
    "a,b",
    "&anchor",
    "*alias",
    "!tag",
    "%x",
    "@x",
    "`x`",
    "|",
    ">",
    "'",
    "''",
    "x'",
    "yes",
    "No",
    "ON",
    "~",
    "null",
    "=",
    "<<",
    "2026-10-06",
    "2026-10-06 10:00:00",
    "0123",
    "1_000",
    "12e3",
    "1.5",
    ".inf",
    ".NaN",
    "0x1f",
    "1:20",
    "---",
    "...",
    "--- x",
    "tab\there",
    "line\nbreak",
    "crlf\r\nbreak",
    "next\x85line",
    "sep\u2028line",
    "para\u2029sep",
    "\ufeffbom",
    "nbsp\xa0here",
    "bell\x07",
    "del\x7f",
    "x" * 300,
    "word " * 60,
    "",
    " ",
    "0",
]

PAGE_IDS = ["98324", "1", "0", "0123", "123 ", " 1", "abc", "yes", "", None]

LABELS = [
    (),
    ("howto",),
    ("setup", "howto", "howto"),
    ("release-notes", "v1.2", "c++", "team_a"),
    ("x y",),
    ("yes",),
    ("2024",),
    ("2024-q1",),
    ("a,b",),
    ("a:b",),
    ("[x]",),
    ("?",),
    ("a?b",),
    ("é", "日本"),
    (" a",),
    ("",),
    ("-x",),
    ("a#b",),
    ("'q",),
    ("q'",),
    ("{x}",),
]

BODIES = [
    BODY,
    "",
    "\n",
    "\n\nstarts with blank lines\n",
    "---\ntitle: not mine\n---\nbody\n",
    "...\n",
    "text\n---\nmore\n",
    "\r\nCRLF body\r\n",
    "<<<<<<< local\nmine\n=======\ntheirs\n>>>>>>> remote\n",
    "\ufeffBOM first\n",
    "bad byte \udc80 here\n",
    "no newline at end",
]


def test_common_pages_take_the_shortcut() -> None:
    for title in COMMON_TITLES:
        for labels in [(), ("howto", "setup"), ("release-notes", "v1.2")]:
            meta = FrontMatter(page_id="98324", title=title, labels=labels)
            assert rows_agree(meta, BODY) is not None, title


@pytest.mark.parametrize("title", TRICKY_TITLES)
def test_rows_agree_on_tricky_titles_and_ids(title: str) -> None:
    for page_id in PAGE_IDS:
        rows_agree(FrontMatter(page_id=page_id, title=title, labels=("a",)), BODY)


def test_rows_agree_on_tricky_labels_and_bodies() -> None:
    for labels in LABELS:
        for body in BODIES:
            rows_agree(FrontMatter(page_id="98324", title="Glossary", labels=labels), body)
    for body in BODIES:
        rows_agree(FrontMatter(page_id=None, title=None), body)
        rows_agree(FrontMatter(page_id="7", title=None, labels=("a",)), body)


def test_rows_agree_on_random_strings() -> None:
    rng = random.Random(11)
    printable = "aZé日09 ._/()+'-:#!&*?,[]{}|>%@`\"~=<\\"
    breaking = printable + "\t\n\r\u2028\x85\ufeff\xa0"
    words = ["yes", "No", "null", "true", "2024-01-05", "1.5", "0x1f", "---", "~", "e"]

    def text(n: int) -> str:
        if rng.random() < 0.15:
            return rng.choice(words)
        alphabet = breaking if rng.random() < 0.2 else printable
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, n)))

    def label() -> str:
        return "".join(rng.choice("az09-_.+é") for _ in range(rng.randint(1, 6)))

    for _ in range(1500):
        meta = FrontMatter(
            page_id=rng.choice([None, str(rng.randint(1, 10**9)), text(4)]),
            title=rng.choice([None, text(14)]),
            labels=tuple(rng.choice([text(5), label()]) for _ in range(rng.randint(0, 3))),
        )
        rows_agree(meta, rng.choice([*BODIES, text(30)]))


def test_what_cannot_be_proven_is_parsed() -> None:
    # Other tools' keys: their YAML is PyYAML's business.
    other = FrontMatter(page_id="1", title="T", extra={"tags": ["x"], "draft": True})
    assert rows_agree(other, BODY) is None
    # No front matter at all: the body alone is the file and may hold anything.
    assert rows_agree(FrontMatter(), "---\ntitle: x\n---\n") is None
    # Values YAML writes double-quoted or over several lines.
    for title in ["tab\there", "line\nbreak", "sep\u2028line", "bell\x07"]:
        assert rows_agree(FrontMatter(page_id="1", title=title), BODY) is None, repr(title)
    assert rows_agree(FrontMatter(page_id="1", title="T", labels=("2024",)), BODY) is None
    # A front matter over the size limit is an error when read: never claimed readable.
    huge = FrontMatter(page_id="1", title="T", labels=tuple(f"l{i}" for i in range(9000)))
    assert rows_agree(huge, BODY) is None
