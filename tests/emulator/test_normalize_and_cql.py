"""Storage normalisation (macro and task ids, nothing else) and the CQL evaluator."""

from __future__ import annotations

import itertools
import re

import pytest

from syncd.emulator.cql import CqlError, Query, parse_date, search
from syncd.emulator.normalize import normalize_storage
from syncd.emulator.store import Store


def ids():
    counter = itertools.count(1)
    return lambda: f"m{next(counter)}"


def test_missing_macro_ids_are_added_and_nothing_else_changes():
    body = (
        '<p a="1">x &amp; y</p><ac:structured-macro ac:name="info" ac:schema-version="1">'
        "<ac:rich-text-body><p>i</p></ac:rich-text-body></ac:structured-macro>"
        "<ac:structured-macro ac:name='toc'/>"
    )
    out = normalize_storage(body, ids())
    assert out == (
        '<p a="1">x &amp; y</p><ac:structured-macro ac:name="info" ac:schema-version="1" '
        'ac:macro-id="m1"><ac:rich-text-body><p>i</p></ac:rich-text-body></ac:structured-macro>'
        "<ac:structured-macro ac:name='toc' ac:macro-id=\"m2\"/>"
    )
    assert re.sub(r' ac:macro-id="m\d"', "", out) == body


def test_existing_ids_are_kept_and_normalising_twice_is_stable():
    body = (
        '<ac:structured-macro ac:name="x" ac:macro-id="keep"><ac:parameter ac:name="a">1'
        "</ac:parameter></ac:structured-macro>"
    )
    assert normalize_storage(body, ids()) == body
    once = normalize_storage('<ac:structured-macro ac:name="x" />', ids())
    assert normalize_storage(once, ids()) == once


def test_tasks_get_ids_after_the_highest_existing():
    body = (
        "<ac:task-list><ac:task><ac:task-id>4</ac:task-id><ac:task-status>complete"
        "</ac:task-status></ac:task><ac:task><ac:task-status>incomplete</ac:task-status>"
        "<ac:task-body>b</ac:task-body></ac:task></ac:task-list>"
    )
    out = normalize_storage(body, ids())
    assert out.count("<ac:task-id>") == 2 and "<ac:task><ac:task-id>5</ac:task-id>" in out


def test_cdata_is_never_touched():
    body = (
        '<ac:structured-macro ac:name="code" ac:macro-id="c"><ac:plain-text-body><![CDATA['
        '<ac:structured-macro ac:name="info"><ac:task>]]></ac:plain-text-body>'
        "</ac:structured-macro>"
    )
    assert normalize_storage(body, ids()) == body


@pytest.fixture
def store() -> Store:
    s = Store()
    s.create_space("ENG")
    s.create_space("OPS")
    return s


def test_cql_fields_and_boolean_logic(store: Store):
    a = store.create_page("ENG", "Alpha guide")
    b = store.create_page("ENG", "Beta", parent_id=a.id)
    o = store.create_page("OPS", "Alpha ops")
    blog = store.create_blogpost("ENG", "Blog")
    found = lambda q: [c.id for c in search(store, q)]  # noqa: E731
    assert found(f"ancestor = {a.id}") == [b.id]
    assert found(f"parent = {a.id}") == [b.id]
    assert found('title ~ "alpha"') == [a.id, o.id]
    assert found('space = ENG and (title ~ alpha or title = "Beta") order by title desc') == [
        b.id,
        a.id,
    ]
    assert found("type = blogpost") == [blog.id]
    assert found(f"id not in ({a.id}, {b.id}) and space.key = ENG and type = page") == [
        store.space("ENG").homepage_id
    ]
    assert found('not space = "ENG" and type = page') == [store.space("OPS").homepage_id, o.id]
    store.trash(b.id)
    assert found(f"ancestor = {a.id}") == [], "search returns current content only"


def test_cql_lastmodified_has_minute_precision(store: Store):
    page = store.create_page("ENG", "Timed")
    minute = page.modified // 60000 * 60000
    from datetime import UTC, datetime

    text = datetime.fromtimestamp(minute / 1000, UTC).strftime("%Y-%m-%d %H:%M")
    slash = text.replace("-", "/")
    ids_for = lambda q: [c.id for c in search(store, q)]  # noqa: E731
    assert page.id not in ids_for(f'lastmodified > "{text}"'), "same minute is not later"
    assert page.id in ids_for(f'lastmodified >= "{text}"')
    assert page.id in ids_for(f'lastModified >= "{slash}"')
    store.clock.advance(61)
    store.edit(page.id, "<p>later</p>")
    assert page.id in ids_for(f'lastmodified > "{text}" order by lastmodified asc')
    assert parse_date("2025-01-05", "q") == parse_date("2025/01/05 00:00", "q")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "title =",
        "space = X and",
        "nonsense = 1",
        'lastmodified > "yesterday"',
        "id in (1, 2",
        "order title",
    ],
)
def test_bad_cql_is_a_400(store: Store, bad: str):
    with pytest.raises(CqlError) as info:
        Query(store, bad)
    assert info.value.status == 400
