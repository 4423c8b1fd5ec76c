"""``confluence.root_page`` on Cloud: the subtree from the v2 descendants endpoints.

Sources (the 2025-02 spec copy in tests/data/specs predates these endpoints): Atlassian's
published v2 document, operations getPageDescendants, getFolderDescendants,
getWhiteboardDescendants, getDatabaseDescendants, getSmartLinkDescendants
(developer.atlassian.com/cloud/confluence/rest/v2/api-group-descendants; a copy of that
document is api-evangelist/confluence openapi/confluence-descendants-api-openapi.yml):

* "Returns descendants in the content tree ... in top-to-bottom order"; the types returned
  are database, embed, folder, page and whiteboard;
* ``DescendantsResponse``: id, status (current or archived), title, type, parentId, depth
  ("relative to the content specified in the request"), childPosition;
* ``depth``: default 2, minimum 1, maximum 10; "If more results are required, use the
  endpoint corresponding to the content type of the deepest descendant";
* ``limit``: default 25, maximum 250; scope ``read:hierarchical-content:confluence``.

Not verified: what a real site answers for ``depth`` above 10 (the emulator serves 10).
"""

from __future__ import annotations

import httpx
import pytest

from syncd.confluence import ConfluenceClient, ConnectionSettings, NotFound
from syncd.confluence.scopes import requirement_for, scopes_for_features
from syncd.emulator.server import EmulatorServer

SPACE = "DEMO"


def _count(emu: EmulatorServer, needle: str) -> int:
    return sum(
        n for route, n in emu.requests.items() if route.startswith("GET") and needle in route
    )


def _chain(emu: EmulatorServer, root: str, levels: int) -> list[str]:
    """`levels` levels below `root`, alternating folders and pages; the page ids."""
    store = emu.store
    parent, pages = root, []
    for level in range(levels):
        if level % 2 == 0:
            parent = store.create_container(SPACE, "folder", f"F{level}", parent_id=parent).id
        else:
            parent = store.create_page(SPACE, f"P{level}", "<p/>", parent_id=parent).id
            pages.append(str(parent))
    return pages


async def test_emulator_descendants_follow_the_documented_depth_and_types(emulator):
    store = emulator.store
    root = store.create_page(SPACE, "Root", "<p/>").id
    deep = _chain(emulator, root, 12)
    board = store.create_container(SPACE, "whiteboard", "Board", parent_id=root)
    async with httpx.AsyncClient(
        base_url=emulator.base_url, auth=(emulator.user, emulator.token), timeout=10
    ) as http:
        r = await http.get(f"/api/v2/pages/{root}/descendants", params={"limit": 250})
        items = r.json()["results"]
        assert max(i["depth"] for i in items) == 2  # the default depth
        assert {i["type"] for i in items} == {"folder", "page", "whiteboard"}
        first = next(i for i in items if i["depth"] == 1 and i["type"] == "folder")
        assert set(first) >= {"id", "status", "title", "type", "parentId", "depth"}
        assert first["parentId"] == str(root)
        r = await http.get(f"/api/v2/pages/{root}/descendants", params={"depth": 50})
        assert max(i["depth"] for i in r.json()["results"]) == 10  # the documented maximum
        assert str(deep[-1]) not in {i["id"] for i in r.json()["results"]}
        r = await http.get(f"/api/v2/whiteboards/{board.id}/descendants")
        assert r.status_code == 200 and r.json()["results"] == []
        folder = first["id"]
        r = await http.get(f"/api/v2/folders/{folder}/descendants", params={"depth": 1})
        assert [i["parentId"] for i in r.json()["results"]] == [folder]


async def test_root_page_subtree_reaches_below_folders_and_depth_ten(emulator):
    """Every page below the root, through folders and past the 10 levels one request
    serves, read from the subtree alone: the space's page listing is never asked."""
    store = emulator.store
    root = str(store.create_page(SPACE, "Root", "<p/>").id)
    deep = _chain(emulator, root, 13)
    elsewhere = store.create_container(SPACE, "folder", "Elsewhere")
    store.create_page(SPACE, "Not below", "<p/>", parent_id=elsewhere.id)
    settings = ConnectionSettings(
        base_url=emulator.base_url, token=emulator.token, email=emulator.user
    )
    emulator.requests.clear()
    async with await ConfluenceClient.open(settings) as client:
        refs = [r async for r in client.iter_page_tree(SPACE, root_page=root)]
        ids = [r.id for r in refs]
        assert ids == [root, *deep]  # parents first
        assert [r.parent_type for r in refs[1:3]] == ["folder", "folder"]
        assert all(r.version >= 1 for r in refs)
        assert _count(emulator, "/spaces/{id}/pages") == 0
        # one descendants request, plus one from the content at depth 10 onwards
        assert _count(emulator, "/descendants") == 2
        with pytest.raises(NotFound):
            [r async for r in client.iter_page_tree(SPACE, root_page=str(elsewhere.id))]


def test_descendants_need_the_hierarchical_content_scope():
    need = requirement_for("GET", "/wiki/api/v2/folders/12/descendants")
    assert need is not None and need.scope == "read:hierarchical-content:confluence"
    scopes = {r.scope for r in scopes_for_features(attachments=False, root_page=True)}
    assert "read:hierarchical-content:confluence" in scopes
    assert "read:hierarchical-content:confluence" not in {
        r.scope for r in scopes_for_features(attachments=False)
    }


async def test_a_token_without_the_scope_falls_back_to_the_space_listing(emulator, caplog):
    """A scoped token made before root_page needed read:hierarchical-content keeps
    syncing the pages whose parents are pages, and says what it misses."""
    store = emulator.store
    root = str(store.create_page(SPACE, "Root", "<p/>").id)
    child = str(store.create_page(SPACE, "Child", "<p/>", parent_id=root).id)
    folder = store.create_container(SPACE, "folder", "F", parent_id=root)
    store.create_page(SPACE, "In folder", "<p/>", parent_id=folder.id)
    emulator.add_scoped_token("tok", ["read:space:confluence", "read:page:confluence"])
    settings = ConnectionSettings(
        base_url=emulator.gateway_url, token="tok", email=emulator.user, deployment="cloud"
    )
    async with await ConfluenceClient.open(settings) as client:
        refs = [r async for r in client.iter_page_tree(SPACE, root_page=root)]
    assert [r.id for r in refs] == [root, child]
    assert "read:hierarchical-content:confluence" in caplog.text


async def test_subtree_labels_cost_the_cheaper_of_sweep_and_per_page(emulator):
    """A full run's labels: the space's label sweep costs one request per label, so a
    subtree with fewer pages than the space has labels reads each page's labels."""
    store = emulator.store
    root = str(store.create_page(SPACE, "Root", "<p/>").id)
    folder = store.create_container(SPACE, "folder", "F", parent_id=root)
    page = str(store.create_page(SPACE, "In folder", "<p/>", parent_id=folder.id).id)
    store.add_label(page, "runbook")
    elsewhere = store.create_page(SPACE, "Elsewhere", "<p/>").id
    for i in range(5):
        store.add_label(elsewhere, f"other-{i}")
    settings = ConnectionSettings(
        base_url=emulator.base_url, token=emulator.token, email=emulator.user
    )
    async with await ConfluenceClient.open(settings) as client:
        await client.get_space(SPACE)
        emulator.requests.clear()
        tree = client.iter_page_tree(SPACE, root_page=root, with_labels=True)
        labels = {r.id: r.labels async for r in tree}
    assert labels == {root: (), page: ("runbook",)}
    assert _count(emulator, "/labels/{id}/pages") == 0
    assert _count(emulator, "/pages/{id}/labels") == 2
