"""Next links are followed verbatim: v2 cursors, Link headers, v1 CQL paths, DC start/limit."""

from __future__ import annotations

import httpx
import pytest
from confluence_testkit import json_response

from syncd.confluence import ServerError
from syncd.confluence.pagination import link_header_next, resolve_next

SPACE = {"results": [{"id": "42", "key": "ENG", "name": "Eng", "homepageId": "1"}]}


def v2_page(i: int, parent: str | None = "1") -> dict:
    return {
        "id": str(i),
        "title": f"P{i}",
        "parentId": parent,
        "status": "current",
        "position": i,
        "spaceId": "42",
        "version": {"number": 1},
    }


def test_resolve_next_forms():
    base = "https://acme.atlassian.net/wiki"
    assert (
        resolve_next("/wiki/api/v2/spaces/1/pages?cursor=abc", base)
        == "https://acme.atlassian.net/wiki/api/v2/spaces/1/pages?cursor=abc"
    )
    # v1 CQL search links are relative to _links.base (which ends in /wiki)
    assert (
        resolve_next("/rest/api/content/search?cql=x&cursor=c", base, base)
        == "https://acme.atlassian.net/wiki/rest/api/content/search?cql=x&cursor=c"
    )
    assert (
        resolve_next("/rest/api/content/search?cursor=c", base)
        == "https://acme.atlassian.net/wiki/rest/api/content/search?cursor=c"
    )
    dc = "https://dc.example.com/confluence"
    assert (
        resolve_next("/confluence/rest/api/content?start=25", dc)
        == "https://dc.example.com/confluence/rest/api/content?start=25"
    )
    assert (
        resolve_next("/rest/api/content?start=25", dc)
        == "https://dc.example.com/confluence/rest/api/content?start=25"
    )
    assert resolve_next("http://other/x?start=2", dc) == "http://other/x?start=2"


def test_link_header_parsing():
    header = '</wiki/api/v2/attachments?cursor=abc>; rel="next", <https://s.atlassian.net/wiki>; rel="base"'
    assert link_header_next(header) == "/wiki/api/v2/attachments?cursor=abc"
    assert link_header_next('<https://s.atlassian.net/wiki>; rel="base"') is None
    assert link_header_next(None) is None


async def test_v2_cursor_links_are_followed_verbatim_to_the_end(make_client):
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/api/v2/spaces"):
            return json_response(200, SPACE)
        seen.append(str(request.url))
        cursor = request.url.params.get("cursor")
        page = int(cursor or 0)
        items = [v2_page(2 + page * 2), v2_page(3 + page * 2)]
        links = {"base": "http://confluence.test/wiki"}
        if page < 2:
            links["next"] = f"/wiki/api/v2/spaces/42/pages?cursor={page + 1}&limit=2&opaque=keep"
        return json_response(200, {"results": items, "_links": links})

    client = await make_client(handler)
    refs = [ref async for ref in client.iter_page_tree("ENG")]
    assert [r.id for r in refs] == ["2", "3", "4", "5", "6", "7"]
    assert "opaque=keep" in seen[1] and "cursor=1" in seen[1]
    assert len(seen) == 3


async def test_link_header_alone_is_enough(make_client):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/api/v2/spaces"):
            return json_response(200, SPACE)
        if request.url.params.get("cursor") == "z":
            return json_response(200, {"results": [v2_page(3)]})
        return json_response(
            200,
            {"results": [v2_page(2)]},
            {"Link": '</wiki/api/v2/spaces/42/pages?cursor=z>; rel="next"'},
        )

    client = await make_client(handler)
    assert [r.id async for r in client.iter_page_tree("ENG")] == ["2", "3"]


async def test_dc_start_limit_links(make_client):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/rest/api/space/ENG":
            return json_response(200, {"id": 42, "key": "ENG", "name": "Eng"})
        start = int(request.url.params.get("start", "0"))
        items = [
            {
                "id": str(10 + start + k),
                "type": "page",
                "title": f"P{start + k}",
                "status": "current",
                "version": {"number": 2},
                "ancestors": [],
            }
            for k in range(2)
        ]
        links = {"base": "http://confluence.test", "context": ""}
        if start < 4:
            links["next"] = f"/rest/api/content?spaceKey=ENG&type=page&limit=2&start={start + 2}"
        return json_response(
            200, {"results": items, "start": start, "limit": 2, "size": 2, "_links": links}
        )

    client = await make_client(handler, deployment="datacenter")
    refs = [r async for r in client.iter_page_tree("ENG")]
    assert [r.id for r in refs] == ["10", "11", "12", "13", "14", "15"]
    assert all(r.version == 2 and r.space_id == "42" for r in refs)


async def test_a_next_link_that_loops_is_an_error_not_an_endless_listing(make_client):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/api/v2/spaces"):
            return json_response(200, SPACE)
        return json_response(
            200,
            {
                "results": [v2_page(2)],
                "_links": {"next": "/wiki/api/v2/spaces/42/pages?cursor=same"},
            },
        )

    client = await make_client(handler)
    with pytest.raises(ServerError):
        async for _ in client.iter_page_tree("ENG"):
            pass


async def test_tree_is_parents_first_and_subtree_filters(make_client):
    # Listing order puts children before their parents.
    items = [
        v2_page(5, "4"),
        v2_page(4, "2"),
        v2_page(3, "1"),
        v2_page(2, "1"),
        v2_page(1, None),
        v2_page(9, "77"),  # orphan: parent is a folder, not a listed page
    ]

    def below(pid: str, depth: int = 1) -> list[dict]:
        out = []
        for item in items:
            if item["parentId"] == pid:
                out.append({"id": item["id"], "type": "page", "parentId": pid, "depth": depth})
                out += below(item["id"], depth + 1)
        return out

    by_id = {i["id"]: i for i in items}
    not_found = {"errors": [{"status": 404, "title": "Not Found"}]}
    descendants_served = True

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/api/v2/spaces"):
            return json_response(200, SPACE)
        if path.endswith("/descendants"):  # the root_page subtree (Cloud)
            pid = path.split("/")[-2]
            if pid not in by_id or not descendants_served:
                return json_response(404, not_found)
            return json_response(200, {"results": below(pid)})
        if path.endswith("/labels"):
            return json_response(200, {"results": []})
        if "/api/v2/pages/" in path:  # one page
            pid = path.rsplit("/", 1)[-1]
            return json_response(200, by_id[pid]) if pid in by_id else json_response(404, not_found)
        if path.endswith("/api/v2/pages"):  # ?id=...: the subtree's versions
            wanted = request.url.params["id"].split(",")
            return json_response(200, {"results": [i for i in items if i["id"] in wanted]})
        return json_response(200, {"results": items})

    client = await make_client(handler)
    refs = [r async for r in client.iter_page_tree("ENG")]
    order = [r.id for r in refs]
    assert sorted(order) == ["1", "2", "3", "4", "5", "9"]
    for ref in refs:
        if ref.parent_id in order:
            assert order.index(ref.parent_id) < order.index(ref.id)

    sub = [r.id async for r in client.iter_page_tree("ENG", root_page="2")]
    assert sub == ["2", "4", "5"]

    with pytest.raises(Exception) as info:
        async for _ in client.iter_page_tree("ENG", root_page="404"):
            pass
    assert type(info.value).__name__ == "NotFound"

    # A site without the descendants endpoint (404 for a root that exists): the space
    # listing is cut to the subtree, as on Data Center.
    descendants_served = False
    sub = [r.id async for r in client.iter_page_tree("ENG", root_page="2")]
    assert sub == ["2", "4", "5"]


def dc_listing(total: int, limit: int, requested: list[int], *, fail_from: int | None = None):
    """A DC content listing of `total` pages, `limit` per answer, next links as the DC
    spec shows them (relative, absent on the last page); records each `start` asked."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/rest/api/space/ENG":
            return json_response(200, {"id": 42, "key": "ENG", "name": "Eng"})
        start = int(request.url.params.get("start", "0"))
        requested.append(start)
        if fail_from is not None and start >= fail_from:
            return json_response(500, {"message": "boom"})
        items = [
            {
                "id": str(100 + i),
                "type": "page",
                "title": f"P{i}",
                "status": "current",
                "version": {"number": 1},
                "ancestors": [],
            }
            for i in range(start, min(total, start + limit))
        ]
        links = {"base": "http://confluence.test", "context": ""}
        if start + limit < total:
            links["next"] = (
                f"/rest/api/content?spaceKey=ENG&type=page&limit={limit}&start={start + limit}"
            )
        body = {"results": items, "start": start, "limit": limit, "size": len(items)}
        return json_response(200, {**body, "_links": links})

    return handler


async def test_dc_listing_asks_for_its_next_pages_ahead_and_yields_each_page_once(make_client):
    requested: list[int] = []
    client = await make_client(dc_listing(11, 2, requested), deployment="datacenter")
    refs = [r.id async for r in client.iter_page_tree("ENG")]
    assert refs == [str(100 + i) for i in range(11)]
    needed = set(range(0, 11, 2))
    assert needed <= set(requested) and len(requested) == len(set(requested))
    assert len(requested) <= len(needed) + 3  # at most `PAGES_AHEAD` asked past the end


async def test_dc_listing_of_a_known_size_asks_for_nothing_past_the_end(make_client):
    requested: list[int] = []
    client = await make_client(dc_listing(11, 2, requested), deployment="datacenter")
    refs = [r.id async for r in client.iter_page_tree("ENG", expected_pages=11)]
    assert len(refs) == 11
    assert sorted(requested) == list(range(0, 11, 2))


async def test_pages_asked_ahead_that_fail_past_the_end_harm_nothing(make_client):
    requested: list[int] = []
    handler = dc_listing(6, 2, requested, fail_from=6)
    client = await make_client(handler, deployment="datacenter", max_attempts=1)
    refs = [r.id async for r in client.iter_page_tree("ENG")]
    assert refs == [str(100 + i) for i in range(6)]
    assert any(s >= 6 for s in requested)  # asked ahead, failed, and nobody cared


async def test_an_answer_that_pages_differently_is_followed_link_by_link(make_client):
    """Only the server's links count: a page asked for ahead is used only at the exact
    link the server gave. Here the server's links change shape (parameter order) and
    step (a capped `limit`) midway."""
    requested: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/rest/api/space/ENG":
            return json_response(200, {"id": 42, "key": "ENG", "name": "Eng"})
        requested.append(str(request.url.query, "ascii"))
        start = int(request.url.params.get("start", "0"))
        limit = 3 if start < 3 else 2  # the server caps the page size after the first
        items = [
            {"id": str(100 + i), "type": "page", "title": f"P{i}", "status": "current"}
            | {"version": {"number": 1}, "ancestors": []}
            for i in range(start, min(9, start + limit))
        ]
        links = {"base": "http://confluence.test", "context": ""}
        if start + limit < 9:
            links["next"] = (
                f"/rest/api/content?spaceKey=ENG&limit={limit}&start={start + limit}"
                if start < 3
                else f"/rest/api/content?start={start + limit}&spaceKey=ENG&limit={limit}"
            )
        body = {"results": items, "start": start, "limit": limit, "size": len(items)}
        return json_response(200, {**body, "_links": links})

    client = await make_client(handler, deployment="datacenter")
    refs = [r.id async for r in client.iter_page_tree("ENG")]
    assert refs == [str(100 + i) for i in range(9)]  # each once, in order
