"""Contract, part (a): the client parses every real sample of tests/data/realapi.

Each test parses one recorded answer or delivery with the function syncd uses for that route
(``syncd.confluence.models``, ``pagination``, ``transport``; the daemon's
``parse_delivery`` for webhooks) and asserts the values it must get out of it. The input is
the recording's full shape (``real_shapes``) with the real values the test checks written
inline (the recordings are not redistributable: tests/data/README.md). Each names its
recording; the source is in the manifest (``sample(...).source``) and realapi/SOURCES.md.
"""

from __future__ import annotations

import json

import httpx
import pytest

from syncd.confluence.errors import NotFound
from syncd.confluence.models import (
    parse_attachment_v1,
    parse_attachment_v2,
    parse_page_v1,
    parse_page_v2,
    parse_ref_v1,
    parse_ref_v2,
    parse_space_v2,
)
from syncd.confluence.pagination import link_header_next, next_url, resolve_next
from syncd.confluence.transport import Reply, error_for
from syncd.daemon.events import HintKind, parse_delivery
from tests.contract.real_shapes import SHAPES
from tests.contract.samples import manifest, real, sample

MARSELLE = "public doc 'aai-cli Confluence Skill', real answers of marsellewing.atlassian.net"


def test_every_sample_has_a_source_a_shape_and_a_parse_test():
    """Every recording of the manifest has its source and its shape, and is claimed by a test
    of this module (``PARSED``) or excused (``NOT_PARSED``)."""
    listed = set(manifest())
    assert set(SHAPES) == listed
    assert all(s.source for s in manifest().values())
    assert set(PARSED) | set(NOT_PARSED) == listed and not set(PARSED) & set(NOT_PARSED)


def test_v2_space():
    s = sample("cloud_v2_space_get.json")
    assert s.source.startswith(MARSELLE)
    data = {"id": "98309", "key": "SD", "homepageId": "98422", "name": "Software Development"}
    space = parse_space_v2(real(s.file, data | {"type": "onboarding", "status": "current"}))
    assert (space.id, space.key, space.homepage_id) == ("98309", "SD", "98422")
    assert (space.name, space.type, space.status) == (
        "Software Development",
        "onboarding",
        "current",
    )


def test_v2_pages_listing_home_has_null_parent():
    """Home page: parentId/parentType explicit null (the sample's note)."""
    s = sample("cloud_v2_pages_listing_trimmed.json")
    assert s.source.startswith(MARSELLE)
    items = [
        {"id": "98422", "parentId": None, "parentType": None},
        {"id": "98462", "parentId": "98422", "parentType": "page"},
        {"id": "98475", "parentId": "98422", "parentType": "page"},
    ]
    items = [i | {"spaceId": "98309", "version": {"number": 1}} for i in items]
    refs = [parse_ref_v2(item) for item in real(s.file, {"results": items})["results"]]
    assert [(r.id, r.parent_id, r.version) for r in refs] == [
        ("98422", None, 1),
        ("98462", "98422", 1),
        ("98475", "98422", 1),
    ]
    assert [r.parent_type for r in refs] == [None, "page", "page"]
    assert all(r.space_id == "98309" and r.position is None for r in refs)


def test_v2_page_with_storage_body():
    s = sample("cloud_v2_page_get_storage.json")
    assert s.source.startswith(MARSELLE)
    data = real(
        s.file,
        {
            "id": "3964929",
            "parentId": "98422",
            "parentType": "page",
            "position": 2500,
            "spaceId": "98309",
            "title": "aai-cli skill doc test page (updated)",
            "body": {"storage": {"value": "Updated body content for skill documentation."}},
            "version": {"number": 2, "createdAt": "2026-05-27T07:13:32.034Z"},
        },
    )
    page = parse_page_v2(data)
    assert (page.id, page.parent_id, page.version, page.position) == ("3964929", "98422", 2, 2500)
    assert page.parent_type == "page"
    assert page.body == "Updated body content for skill documentation."
    assert page.title == "aai-cli skill doc test page (updated)"
    assert page.modified_at == "2026-05-27T07:13:32.034Z" and page.space_id == "98309"


def test_v2_create_answer():
    s = sample("cloud_v2_page_create_answer.json")
    assert s.source.startswith(MARSELLE)
    data = {"id": "4096001", "parentId": "3964929", "parentType": "page"}
    data |= {"body": {"storage": {"value": "Child page body."}}, "version": {"number": 1}}
    page = parse_page_v2(real(s.file, data))
    assert (page.id, page.parent_id, page.version, page.body) == (
        "4096001",
        "3964929",
        1,
        "Child page body.",
    )


def test_v2_update_answer_without_position():
    """No position and no version.message/minorEdit in a real PUT answer (sample note)."""
    s = sample("cloud_v2_page_update_answer.json")
    assert "version" in s.shape() and "position" not in s.shape()
    assert set(s.shape()["version"]) == {"authorId", "createdAt", "number"}
    data = {"id": "3964929", "parentId": "98422", "parentType": "page", "version": {"number": 2}}
    data["body"] = {"storage": {"value": "Updated body content for skill documentation."}}
    page = parse_page_v2(real(s.file, data))
    assert (page.id, page.version, page.parent_id) == ("3964929", 2, "98422")
    assert page.position is None and page.version_message == "" and page.minor_edit is False
    assert page.body == "Updated body content for skill documentation."


def test_v2_attachments_listing_without_page_id():
    """The CLI stripped pageId: the client falls back to the page it asked about."""
    s = sample("cloud_v2_attachments_listing_trimmed.json")
    item = {
        "id": "att3997705",
        "title": "skill_doc_test.txt",
        "mediaType": "text/plain",
        "comment": "Uploaded for skill doc test",
        "fileSize": 30,
        "version": {"number": 1},
        "downloadLink": "/download/attachments/3964929/skill_doc_test.txt?version=1&api=v2",
    }
    assert "pageId" not in s.shape()["results"][0]
    data = real(s.file, {"results": [item]})
    [att] = [parse_attachment_v2(a, "3964929") for a in data["results"]]
    assert (att.id, att.page_id, att.version, att.size) == ("att3997705", "3964929", 1, 30)
    assert (att.title, att.media_type, att.comment) == (
        "skill_doc_test.txt",
        "text/plain",
        "Uploaded for skill doc test",
    )
    assert att.download_link.startswith("/download/attachments/3964929/skill_doc_test.txt?")


def test_v1_attachment_upload_answer():
    s = sample("cloud_v1_attachment_upload_answer.json")
    item = {
        "id": "att3997705",
        "extensions": {
            "mediaType": "text/plain",
            "fileSize": 30,
            "comment": "Uploaded for skill doc test",
        },
        "version": {"number": 1},
    }
    data = real(s.file, {"results": [item]})
    [att] = [parse_attachment_v1(a, "3964929") for a in data["results"]]
    assert (att.id, att.page_id, att.version, att.size) == ("att3997705", "3964929", 1, 30)
    assert (att.media_type, att.comment) == ("text/plain", "Uploaded for skill doc test")


def test_v2_home_page_explicit_null_parent():
    s = sample("cloud_v2_page_home_null_parent.json")
    assert "acli confluence page view" in s.source
    data = {"id": "18753552796", "parentId": None, "parentType": None, "position": 729}
    page = parse_page_v2(real(s.file, data | {"version": {"number": 1}}))
    assert (page.id, page.parent_id, page.position) == ("18753552796", None, 729)
    assert page.parent_type is None
    assert page.body == "" and page.version == 1


def test_v2_page_created_in_a_folder():
    """The parent is the folder (parentType folder); ArcadeAI/arcade-ai capture."""
    s = sample("cloud_v2_page_in_folder_create_answer.json")
    assert s.source.startswith("ArcadeAI/arcade-ai")
    data = real(
        s.file,
        {
            "id": "5439489",
            "parentId": "4653064",
            "parentType": "folder",
            "position": 1675,
            "spaceId": "98308",
        },
    )
    page = parse_page_v2(data)
    assert (page.id, page.parent_id, data["parentType"]) == ("5439489", "4653064", "folder")
    assert page.parent_type == "folder" and parse_ref_v2(data).parent_type == "folder"
    assert page.position == 1675 and page.space_id == "98308"


def test_v2_link_header():
    s = sample("cloud_v2_link_header.json")
    assert s.shape() == {"Link": ""}
    link = (  # the header as quoted by the source (cursor shortened)
        '</wiki/api/v2/spaces/163856/pages?cursor=eyJpZCI6IjM5OTc2OTcifQ==>; rel="next", '
        '<https://starsavior.atlassian.net/wiki>; rel="base"'
    )
    nxt = link_header_next(link)
    assert nxt is not None and nxt.startswith("/wiki/api/v2/spaces/163856/pages?cursor=")
    url = resolve_next(nxt, "https://starsavior.atlassian.net/wiki")
    assert url == "https://starsavior.atlassian.net" + nxt
    reply = Reply(200, httpx.Headers({"Link": link}), b"{}", "x")
    assert next_url(reply, {"results": []}, "https://starsavior.atlassian.net/wiki") == url


def test_v1_content_create_answer():
    s = sample("cloud_v1_content_create_answer.json")
    assert "Kore.ai" in s.source
    data = real(
        s.file,
        {
            "id": "21004299",
            "space": {"id": 196612, "key": "SFPWP"},
            "version": {"number": 1, "when": "2023-07-11T11:29:38.860Z"},
            "ancestors": [{"id": "196695", "type": "page", "extensions": {"position": 435}}],
            "body": {"storage": {"value": "Here is the value of this body"}},
            "extensions": {"position": 3472},
        },
    )
    page = parse_page_v1(data)
    assert (page.id, page.parent_id, page.ancestors, page.version) == (
        "21004299",
        "196695",
        ("196695",),
        1,
    )
    assert page.parent_type == "page"  # the type of the last v1 ancestor
    assert (page.space_key, page.space_id, page.position) == ("SFPWP", "196612", 3472)
    assert page.body == "Here is the value of this body"
    assert page.modified_at == "2023-07-11T11:29:38.860Z"


def test_v1_cql_next_links():
    """Both sites' next links resolve under the configured /wiki base."""
    s = sample("cloud_v1_cql_next_links.json")
    recorded = {  # the links as quoted by the sources (cursors and queries shortened)
        "docshound": {
            "base": "https://docshound.atlassian.net/wiki",
            "context": "/wiki",
            "next": "/rest/api/content/search?next=true&cursor=_sa_WzE2NDQyMDI1MDUwMDAsIl0%3D"
            "&limit=5&start=5&cql=lastmodified+%3E%3D+2014-09-01",
        },
        "nnexai": {
            "base": "https://nnexai.atlassian.net/wiki",
            "next": "/rest/api/content/search?next=true&cursor=_t_WyJcdDE5MzMzMTMiXQ%3D%3D_h_W10%3D"
            "&limit=25&start=25&cql=space%3D%22SD%22+and+type%3Dpage",
        },
    }
    assert set(recorded) == set(s.shape())
    for site, links in real(s.file, recorded).items():
        base = links["base"]
        url = resolve_next(links["next"], base, links["base"])
        assert url.startswith(base + "/rest/api/content/search?next=true&cursor="), site
        reply = Reply(200, httpx.Headers(), b"{}", "x")
        assert next_url(reply, {"_links": links}, base) == url


@pytest.mark.parametrize(
    ("file", "kind", "page_id", "version", "space_key"),
    [
        ("cloud_webhook_page_updated_dalston.json", HintKind.PAGE, "1188560897", 2, "~323528440"),
        ("cloud_webhook_page_trashed_dalston.json", HintKind.PAGE, "1188560897", 2, "~323528440"),
        ("cloud_webhook_page_removed_dalston.json", HintKind.PAGE, "1183744007", 1, "~323528440"),
        ("cloud_webhook_page_restored_dalston.json", HintKind.PAGE, "1188560897", 2, "~323528440"),
        (
            "cloud_webhook_page_moved_from_archive_dalston.json",
            HintKind.PAGE,
            "1188560897",
            2,
            "~323528440",
        ),
        ("cloud_webhook_page_updated_crewlet.json", HintKind.PAGE, "10000001", 2, "ENG"),
        ("cloud_webhook_comment_created_crewlet.json", HintKind.COMMENT, "10000001", None, "ENG"),
        ("cloud_webhook_page_updated_kzkitchen.json", HintKind.PAGE, "13139970", 2, "IT"),
        ("dc_webhook_page_created.json", HintKind.PAGE, "1015810", None, None),
        ("dc_webhook_page_updated.json", HintKind.PAGE, "1015809", None, None),
        ("dc_webhook_blog_created.json", HintKind.BLOGPOST, "1015813", None, None),
        ("dc_webhook_blog_updated.json", HintKind.BLOGPOST, "1015811", None, None),
    ],
)
def test_webhook_delivery(file, kind, page_id, version, space_key):
    """Cloud bodies name no event: it comes from the callback URL (the manifest's event);
    Data Center bodies name their own. A comment's hint points at the page it is on."""
    s = sample(file)
    event = s.event if s.flavor == "cloud" else None
    hint = parse_delivery(
        json.dumps(real(file, DELIVERY_VALUES[file])).encode(), flavor=s.flavor, event=event
    )
    assert hint is not None
    assert (hint.kind, hint.event, hint.page_id) == (kind, s.event, page_id)
    assert (hint.version, hint.space_key) == (version, space_key)


def _cloud_entity(cid: int | str, space: str, version: int | None) -> dict:
    out: dict = {"id": cid, "spaceKey": space, "contentType": "page"}
    return out | ({"version": version} if version is not None else {})


DALSTON = "~323528440"
#: The values the webhook test checks, as recorded (ids, versions, space keys).
DELIVERY_VALUES = {
    "cloud_webhook_page_updated_dalston.json": {"page": _cloud_entity(1188560897, DALSTON, 2)},
    "cloud_webhook_page_trashed_dalston.json": {"page": _cloud_entity(1188560897, DALSTON, 2)},
    "cloud_webhook_page_removed_dalston.json": {"page": _cloud_entity(1183744007, DALSTON, 1)},
    "cloud_webhook_page_restored_dalston.json": {"page": _cloud_entity(1188560897, DALSTON, 2)},
    "cloud_webhook_page_moved_from_archive_dalston.json": {
        "page": _cloud_entity(1188560897, DALSTON, 2)
    },
    "cloud_webhook_page_updated_crewlet.json": {
        "page": _cloud_entity("10000001", "ENG", 2) | {"idAsString": "10000001"}
    },
    "cloud_webhook_comment_created_crewlet.json": {
        "comment": {
            "id": "10000002",
            "idAsString": "10000002",
            "spaceKey": "ENG",
            "contentType": "comment",
            "version": 1,
            "parent": _cloud_entity("10000001", "ENG", 2) | {"idAsString": "10000001"},
        }
    },
    "cloud_webhook_page_updated_kzkitchen.json": {
        "page": _cloud_entity(13139970, "IT", 2) | {"idAsString": "13139970"}
    },
    "dc_webhook_page_created.json": {"event": "page_created", "page": {"id": 1015810}},
    "dc_webhook_page_updated.json": {"event": "page_updated", "page": {"id": 1015809}},
    "dc_webhook_blog_created.json": {"event": "blog_created", "blog": {"id": 1015813}},
    "dc_webhook_blog_updated.json": {"event": "blog_updated", "blog": {"id": 1015811}},
}


def test_content_property_delivery_is_ignored():
    """A content_created for a content property (a v1 Content of a plugin type) cannot change
    a synced page: the receiver acknowledges and ignores it."""
    s = sample("cloud_webhook_content_created_property_dalston.json")
    data = real(
        s.file,
        {
            "id": "1188593679",
            "type": "com.atlassian.confluence.plugins."
            "confluence-content-property-storage:content-property",
            "title": "subject",
        },
    )
    assert parse_delivery(json.dumps(data).encode(), flavor="cloud", event=s.event) is None


def test_dc_empty_listing_has_no_next_page():
    s = sample("dc_content_listing_empty.json")
    data = real(s.file, {"results": [], "_links": {"base": "https://wiki.sei.cmu.edu/confluence"}})
    reply = Reply(200, httpx.Headers(), json.dumps(data).encode(), "x")
    assert next_url(reply, data, "https://wiki.sei.cmu.edu/confluence") is None
    assert reply.json()["results"] == []


def test_dc_404_for_a_missing_space():
    s = sample("dc_error_404_no_space.json")
    data = real(s.file, {"statusCode": 404, "message": "No space with key : x"})
    body = json.dumps(data).encode()
    err = error_for(404, body, method="GET", url="https://wiki.sei.cmu.edu/confluence/x")
    assert isinstance(err, NotFound) and "No space with key : x" in str(err)


def test_dc_search_result_content():
    """A /rest/api/search result wraps the content; page 2 of 70 with no _links.next (quoted
    as is by its source): the client must not invent a next page."""
    s = sample("dc_search_page2_halo.json")
    content = {"id": "7670", "type": "page", "title": "2.3 接口 - 接口"}
    data = real(s.file, {"results": [{"content": content}], "start": 20, "totalSize": 70})
    assert "next" not in data["_links"]
    ref = parse_ref_v1(data["results"][0]["content"])
    assert (ref.id, ref.kind, ref.title, ref.version) == ("7670", "page", "2.3 接口 - 接口", 0)
    reply = Reply(200, httpx.Headers(), json.dumps(data).encode(), "x")
    assert next_url(reply, data, "https://wiki.halo.run") is None


PARSED = [
    "cloud_v2_space_get.json",
    "cloud_v2_pages_listing_trimmed.json",
    "cloud_v2_page_get_storage.json",
    "cloud_v2_page_create_answer.json",
    "cloud_v2_page_update_answer.json",
    "cloud_v2_attachments_listing_trimmed.json",
    "cloud_v1_attachment_upload_answer.json",
    "cloud_v2_page_home_null_parent.json",
    "cloud_v2_page_in_folder_create_answer.json",
    "cloud_v2_link_header.json",
    "cloud_v1_content_create_answer.json",
    "cloud_v1_cql_next_links.json",
    "cloud_webhook_page_updated_dalston.json",
    "cloud_webhook_page_trashed_dalston.json",
    "cloud_webhook_page_removed_dalston.json",
    "cloud_webhook_page_restored_dalston.json",
    "cloud_webhook_page_moved_from_archive_dalston.json",
    "cloud_webhook_content_created_property_dalston.json",
    "cloud_webhook_page_updated_crewlet.json",
    "cloud_webhook_comment_created_crewlet.json",
    "cloud_webhook_page_updated_kzkitchen.json",
    "dc_webhook_page_created.json",
    "dc_webhook_page_updated.json",
    "dc_webhook_blog_created.json",
    "dc_webhook_blog_updated.json",
    "dc_content_listing_empty.json",
    "dc_error_404_no_space.json",
    "dc_search_page2_halo.json",
]
#: Samples the client has no parser for, with the reason.
NOT_PARSED = {
    "cloud_space_tree_arcade.json": "arcade's tool output built from v2 calls, not a REST "
    "answer; its shape is checked against the emulator's tree in test_emulator_shapes.py",
}
