"""Parsing webhook payloads of both flavors into RemoteHint."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from syncd.daemon.events import (
    Flavor,
    HintKind,
    MalformedPayload,
    cloud_callback_url,
    delivery_key,
    parse_delivery,
)


def raw(doc: object) -> bytes:
    return json.dumps(doc).encode()


# Verbatim Data Center captures (docs/confluence-api.md §5.1.3).
DC_PAGE_CREATED = b'{"timestamp":1768241233603,"event":"page_created","userKey":"ff8081819ba46873019ba46aefbb0000","page":{"id":1015810}}'
DC_PAGE_UPDATED = b'{"timestamp":1768246501113,"event":"page_updated","userKey":"ff8081819ba46873019ba46aefbb0000","page":{"id":1015809},"updateTrigger":"edit_page"}'
DC_BLOG_CREATED = b'{"timestamp":1768245776689,"event":"blog_created","userKey":"ff8081819ba46873019ba46aefbb0000","blog":{"id":1015813}}'
# Verbatim Cloud capture (§5.2.2).
CLOUD_PAGE_UPDATED = b'{"page":{"idAsString":"10000001","creatorAccountId":"712020:actor","spaceKey":"ENG","spaceId":20000001,"modificationDate":1788716539150,"lastModifierAccountId":"712020:actor","self":"https://example.atlassian.net/wiki/spaces/ENG/pages/10000001/x","id":"10000001","title":"crewlet webhook variants","creationDate":1788716535483,"contentType":"page","version":2},"userAccountId":"712020:actor","timestamp":1788716539192,"accountType":"customer","updateTrigger":"edit_page","suppressNotifications":false}'
CLOUD_COMMENT_CREATED = b'{"comment":{"idAsString":"10000002","creatorAccountId":"712020:actor","spaceKey":"ENG","spaceId":20000001,"parent":{"idAsString":"10000001","creatorAccountId":"712020:actor","spaceKey":"ENG","spaceId":20000001,"modificationDate":1788716539150,"lastModifierAccountId":"712020:actor","self":"https://example.atlassian.net/wiki/spaces/ENG/pages/10000001/x","id":"10000001","title":"crewlet webhook variants","creationDate":1788716535483,"contentType":"page","version":2},"modificationDate":1788716577732,"lastModifierAccountId":"712020:actor","self":"https://example.atlassian.net/wiki/spaces/ENG/pages/10000001/x?focusedCommentId=10000002","id":"10000002","creationDate":1788716577732,"contentType":"comment","version":1},"accountType":"customer","timestamp":1788716577732,"userAccountId":"712020:actor"}'


def test_dc_page_created_capture():
    hint = parse_delivery(DC_PAGE_CREATED, flavor="dc")
    assert hint is not None
    assert hint.kind is HintKind.PAGE
    assert hint.event == "page_created"
    assert hint.page_id == "1015810"
    assert hint.version is None
    assert hint.timestamp_ms == 1768241233603
    assert hint.flavor is Flavor.DC
    assert hint.delivery_key == delivery_key(DC_PAGE_CREATED, "page_created")


def test_dc_page_updated_keeps_trigger_as_extra():
    hint = parse_delivery(DC_PAGE_UPDATED, flavor=Flavor.DC)
    assert hint is not None and hint.page_id == "1015809"
    assert hint.extra["update_trigger"] == "edit_page"


def test_dc_blog_is_blogpost_kind():
    hint = parse_delivery(DC_BLOG_CREATED, flavor="dc")
    assert hint is not None
    assert hint.kind is HintKind.BLOGPOST and hint.page_id == "1015813"


def test_dc_page_moved_carries_parents():
    body = raw(
        {
            "timestamp": 1,
            "event": "page_moved",
            "userKey": "u",
            "page": {"id": 5},
            "oldParent": {"id": 1},
            "newParent": {"id": 2},
        }
    )
    hint = parse_delivery(body, flavor="dc")
    assert hint is not None
    assert (hint.page_id, hint.old_parent_id, hint.new_parent_id) == ("5", "1", "2")


@pytest.mark.parametrize("event", ["page_trashed", "page_removed", "page_restored"])
def test_dc_trash_purge_restore_are_page_hints(event):
    hint = parse_delivery(raw({"timestamp": 1, "event": event, "page": {"id": 9}}), flavor="dc")
    assert hint is not None and hint.kind is HintKind.PAGE and hint.event == event
    assert not hint.version_is_content


def test_dc_attachment_hint_targets_the_container():
    body = raw(
        {
            "timestamp": 1,
            "event": "attachment_created",
            "userKey": "u",
            "attachedTo": {"id": 77},
            "attachments": [{"id": 1001}, {"id": 1002}],
        }
    )
    hint = parse_delivery(body, flavor="dc")
    assert hint is not None
    assert hint.kind is HintKind.ATTACHMENT
    assert hint.page_id == "77"
    assert hint.attachment_ids == ("1001", "1002")


@pytest.mark.parametrize("event", ["attachment_trashed", "attachment_removed"])
@pytest.mark.parametrize("flavor", ["dc", "cloud"])
def test_attachment_deletions_hint_the_container(event, flavor):
    body = raw(
        {
            "timestamp": 1,
            "event": event,
            "userKey": "u",
            "attachedTo": {"id": 77},
            "attachments": [{"id": 1001}],
        }
    )
    hint = parse_delivery(body, flavor=flavor, event=event if flavor == "cloud" else None)
    assert hint is not None and hint.kind is HintKind.ATTACHMENT
    assert hint.page_id == "77" and hint.attachment_ids == ("1001",)
    assert hint.event == event and not hint.version_is_content


def test_dc_label_added_targets_labeled_content():
    body = raw(
        {
            "timestamp": 1,
            "event": "label_added",
            "label": {"name": "howto"},
            "labeled": {"id": 42, "labels": [{"name": "howto"}, {"name": "ops"}]},
        }
    )
    hint = parse_delivery(body, flavor="dc")
    assert hint is not None
    assert hint.kind is HintKind.LABEL and hint.page_id == "42"
    assert hint.labels == ("howto", "ops")


def test_dc_label_without_labeled_content_is_ignored():
    body = raw({"timestamp": 1, "event": "label_added", "label": {"name": "x"}})
    assert parse_delivery(body, flavor="dc") is None


def test_dc_id_only_comment_has_no_page_but_keeps_comment_id():
    body = raw({"timestamp": 1, "event": "comment_created", "comment": {"id": 314}})
    hint = parse_delivery(body, flavor="dc")
    assert hint is not None
    assert hint.kind is HintKind.COMMENT and hint.page_id is None and hint.entity_id == "314"


def test_dc_space_removed_for_our_space_by_id():
    body = raw(
        {
            "timestamp": 1,
            "event": "space_removed",
            "space": {"id": 98305, "homePage": {"id": 1}, "creatorKey": "u"},
        }
    )
    hint = parse_delivery(body, flavor="dc", space_key="DEMO", space_id="98305")
    assert hint is not None and hint.is_space_removed and hint.space_id == "98305"
    assert parse_delivery(body, flavor="dc", space_key="DEMO", space_id="1") is None


@pytest.mark.parametrize(
    "doc",
    [
        {"timestamp": 1, "event": "user_created", "userProfile": {"userKey": "u"}},
        {"timestamp": 1, "event": "group_created", "group": "g"},
        {"timestamp": 1, "event": "theme_enabled", "global": True},
        {"timestamp": 1, "event": "label_created", "label": {"name": "x"}},
        {"timestamp": 1, "event": "page_viewed", "page": {"id": 1}},
        {"timestamp": 1, "event": "space_created", "space": {"id": 1}},
        {"timestamp": 1, "event": "Robert'); DROP", "page": {"id": 1}},
        {"timestamp": 1, "event": "page_updated"},
        {"timestamp": 1, "event": "page_updated", "page": {"id": "../../etc"}},
        {"timestamp": 1, "event": "page_updated", "page": {"id": True}},
        {"timestamp": 1, "event": "page_updated", "page": "1"},
    ],
)
def test_irrelevant_or_unusable_events_are_ignored(doc):
    assert parse_delivery(raw(doc), flavor="dc") is None


def test_cloud_capture_with_event_from_url():
    hint = parse_delivery(CLOUD_PAGE_UPDATED, flavor="cloud", event="page_updated", space_key="ENG")
    assert hint is not None
    assert hint.kind is HintKind.PAGE and hint.event == "page_updated"
    assert hint.page_id == "10000001"
    assert hint.version == 2 and hint.version_is_content
    assert hint.space_key == "ENG" and hint.space_id == "20000001"
    assert hint.extra["title"] == "crewlet webhook variants"


def test_cloud_numeric_id_is_normalised_to_string():
    body = raw({"page": {"id": 13139970, "spaceKey": "K", "version": 3}, "timestamp": 5})
    hint = parse_delivery(body, flavor="cloud", event="page_updated")
    assert hint is not None and hint.page_id == "13139970" and hint.version == 3


def test_cloud_without_event_falls_back_to_entity_key():
    hint = parse_delivery(CLOUD_PAGE_UPDATED, flavor="cloud")
    assert hint is not None
    assert hint.kind is HintKind.PAGE and hint.event is None
    assert hint.version_is_content  # an unnamed page event still orders by version


def test_cloud_comment_walks_parent_chain_to_the_page():
    hint = parse_delivery(CLOUD_COMMENT_CREATED, flavor="cloud", event="comment_created")
    assert hint is not None
    assert hint.kind is HintKind.COMMENT
    assert hint.page_id == "10000001" and hint.entity_id == "10000002"
    assert hint.version is None  # the comment's own version is not the page's


def test_other_space_is_ignored_case_insensitively():
    assert (
        parse_delivery(CLOUD_PAGE_UPDATED, flavor="cloud", event="page_updated", space_key="OPS")
        is None
    )
    assert (
        parse_delivery(CLOUD_PAGE_UPDATED, flavor="cloud", event="page_updated", space_key="eng")
        is not None
    )


def test_payload_without_space_is_kept_when_space_configured():
    assert parse_delivery(DC_PAGE_CREATED, flavor="dc", space_key="DEMO") is not None


def test_dc_body_event_wins_over_url_event():
    hint = parse_delivery(DC_PAGE_CREATED, flavor="dc", event="page_removed")
    assert hint is not None and hint.event == "page_created"


def test_delivery_key_depends_on_event_and_bytes():
    a = parse_delivery(CLOUD_PAGE_UPDATED, flavor="cloud", event="page_updated")
    b = parse_delivery(CLOUD_PAGE_UPDATED, flavor="cloud", event="page_moved")
    c = parse_delivery(CLOUD_PAGE_UPDATED + b" ", flavor="cloud", event="page_updated")
    assert a and b and c
    assert len({a.delivery_key, b.delivery_key, c.delivery_key}) == 3


def test_dc_full_mode_version_object_or_number():
    body = raw({"event": "page_updated", "page": {"id": 1, "version": {"number": 4}}})
    hint = parse_delivery(body, flavor="dc")
    assert hint is not None and hint.version == 4


@pytest.mark.parametrize("body", [b"", b"{", b"[1,2]", b"\xff\xfe", b"null", b'"x"'])
def test_malformed_bodies_raise(body):
    with pytest.raises(MalformedPayload):
        parse_delivery(body, flavor="dc")


def test_cloud_callback_url_shape():
    url = cloud_callback_url(
        "https://sync.example.com/hooks/syncd?x=1&token=old", "page_updated", "t0k"
    )
    parts = urlsplit(url)
    assert parts.path == "/hooks/syncd"
    assert parse_qs(parts.query) == {"x": ["1"], "token": ["t0k"], "event": ["page_updated"]}
    with pytest.raises(ValueError):
        cloud_callback_url("https://x/y", "../admin", "t")


def test_cloud_space_removed_by_key_or_space_id():
    body = raw({"space": {"spaceKey": "ENG", "key": "ENG", "spaceId": 20000001}, "timestamp": 1})
    hint = parse_delivery(body, flavor="cloud", event="space_removed", space_key="ENG")
    assert hint is not None and hint.is_space_removed and hint.space_id == "20000001"
    assert parse_delivery(body, flavor="cloud", event="space_removed", space_key="OPS") is None


def test_describe_never_contains_payload_details():
    hint = parse_delivery(CLOUD_PAGE_UPDATED, flavor="cloud", event="page_updated")
    assert hint is not None
    assert hint.describe() == "page_updated page=10000001 v2 space=ENG"


def test_space_event_must_positively_name_our_space():
    body = raw(
        {"timestamp": 1, "event": "space_removed", "space": {"id": 5, "homePage": {"id": 1}}}
    )
    # ID-only payload, only the key configured: cannot tell it is ours, so not acted upon
    assert parse_delivery(body, flavor="dc", space_key="DEMO") is None
    assert parse_delivery(body, flavor="dc", space_key="DEMO", space_id="5") is not None
    # nothing configured: passed on (the caller confirms with a GET)
    assert parse_delivery(body, flavor="dc") is not None
