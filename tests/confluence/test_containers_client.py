"""The client reads Cloud's content tree: parentId/parentType of pages, and containers.

Sources cited per test: the recordings indexed in tests/data/realapi (SOURCES.md there; their
values are written inline, the recordings are not redistributable) and
the v2 spec tests/data/specs/openapi-v2.v3.json (``FolderSingle``, ``ParentContentType``,
``POST /folders``, ``DELETE /folders/{id}`` "moves the folder to the trash"). The v1 folder
rename (``PUT /content/{id}`` with ``type: folder``) and the move into a folder
(``move/append/{folderId}``) come from atlcli's folder notes listed in realapi/SOURCES.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from confluence_testkit import json_response

from syncd.confluence.models import parse_container_v2, parse_page_v2, parse_ref_v2

DATA = Path(__file__).resolve().parents[1] / "data"


def test_page_in_a_folder_carries_the_folder_as_parent() -> None:
    # Values of the recording cloud_v2_page_in_folder_create_answer.json (POST /pages with a
    # folder parentId; ArcadeAI/arcade-ai, ericconfluence.atlassian.net, 2025-05-16).
    data = {
        "id": "5439489",
        "title": "TODOs for Today",
        "parentId": "4653064",
        "parentType": "folder",
        "spaceId": "98308",
        "status": "current",
        "version": {"number": 1},
    }
    page = parse_page_v2(data)
    assert (page.parent_id, page.parent_type) == ("4653064", "folder")
    assert page.ref.parent_type == "folder"
    assert parse_ref_v2(data).parent_type == "folder"


def test_home_page_has_explicit_null_parent_and_type() -> None:
    # The recording cloud_v2_page_home_null_parent.json: parentId and parentType null.
    data = {"id": "18753552796", "title": "Home", "parentId": None, "parentType": None}
    page = parse_page_v2(data)
    assert (page.parent_id, page.parent_type) == (None, None)


def test_spec_parent_types_are_the_container_kinds_plus_page() -> None:
    from syncd.confluence.models import CONTAINER_KINDS

    spec = json.loads((DATA / "specs" / "openapi-v2.v3.json").read_text())
    enum = spec["components"]["schemas"]["ParentContentType"]["enum"]
    assert set(enum) == {"page", *CONTAINER_KINDS}
    folder = spec["components"]["schemas"]["FolderSingle"]["properties"]
    assert {"id", "title", "parentId", "parentType", "version", "status"} <= set(folder)


def test_parse_container_reads_the_folder_single_fields() -> None:
    # FolderSingle (v2 spec); createdAt is an int of epoch ms on real Cloud (md2conf #290):
    # not read by syncd.
    data = {
        "id": "4653064",
        "type": "folder",
        "status": "current",
        "title": "DailyNotes",
        "parentId": "98418",
        "parentType": "page",
        "createdAt": 1747434599969,
        "version": {"number": 2},
    }
    c = parse_container_v2(data, "folder")
    assert (c.id, c.kind, c.title, c.parent_id, c.parent_type, c.version, c.status) == (
        "4653064",
        "folder",
        "DailyNotes",
        "98418",
        "page",
        2,
        "current",
    )


async def test_folder_calls_use_the_documented_routes(make_client) -> None:
    seen: list[tuple[str, str, object]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        seen.append((request.method, request.url.path, body))
        path = request.url.path
        if path.endswith("/api/v2/spaces"):
            return json_response(200, {"results": [{"id": "98308", "key": "S", "name": "S"}]})
        if request.method == "POST" and path.endswith("/api/v2/folders"):
            return json_response(
                200,
                {
                    "id": "9",
                    "type": "folder",
                    "title": body["title"],
                    "parentId": "1",
                    "parentType": "page",
                    "version": {"number": 1},
                    "status": "current",
                },
            )
        if request.method == "GET" and path.endswith("/api/v2/whiteboards/7"):
            return json_response(200, {"id": "7", "type": "whiteboard", "title": "Drawings"})
        return json_response(200, {})

    client = await make_client(handler)
    assert client.supports_containers
    folder = await client.create_folder("S", "Ideas", parent_id="1")
    assert (folder.id, folder.title, folder.kind) == ("9", "Ideas", "folder")
    board = await client.get_container("whiteboard", "7")
    assert (board.kind, board.title) == ("whiteboard", "Drawings")
    await client.rename_folder("9", "Notes", base_version=1)
    await client.move_page("9", "5", "append")
    await client.trash_folder("9")
    calls = [(m, p.removeprefix("/wiki"), b) for m, p, b in seen]
    assert calls[1:] == [
        ("POST", "/api/v2/folders", {"spaceId": "98308", "title": "Ideas", "parentId": "1"}),
        ("GET", "/api/v2/whiteboards/7", None),
        (
            "PUT",
            "/rest/api/content/9",
            {"type": "folder", "title": "Notes", "version": {"number": 2}},
        ),
        ("PUT", "/rest/api/content/9/move/append/5", None),
        ("DELETE", "/api/v2/folders/9", None),
    ]


async def test_data_center_has_no_containers(make_client) -> None:
    client = await make_client(lambda r: json_response(200, {}), deployment="datacenter")
    assert not client.supports_containers
