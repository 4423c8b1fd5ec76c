"""Client behaviour on canned responses: detection, safe write retries, redaction, webhooks,
the CQL change feed and multipart uploads."""

from __future__ import annotations

import datetime as dt
import json
import logging

import httpx
import pytest
from confluence_testkit import TOKEN, json_response

from syncd.confluence import (
    AuthFailed,
    ConfluenceClient,
    ConnectionSettings,
    DeploymentUnknown,
    ServerError,
    VersionConflict,
    WebhookPermissionDenied,
    WebhooksNotSupported,
    WebhooksUnavailable,
)

SPACE = {"results": [{"id": "42", "key": "ENG", "name": "Eng", "homepageId": "1"}]}


# -- deployment detection --------------------------------------------------------------------


async def open_auto(handler, base_url: str, clock, **kw) -> ConfluenceClient:
    settings = ConnectionSettings(
        base_url=base_url, token=TOKEN, email="me@example.com", max_attempts=1, **kw
    )
    return await ConfluenceClient.open(
        settings, transport=httpx.MockTransport(handler), sleep=clock.sleep, clock=clock.monotonic
    )


async def test_detects_cloud_by_v2_probe_and_uses_basic_auth(clock):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/wiki/api/v2/spaces":
            return json_response(200, {"results": []})
        return json_response(404, {})

    client = await open_auto(handler, "http://host.test", clock)
    try:
        assert client.deployment == "cloud"
        assert client.base_url == "http://host.test/wiki"
        assert seen[-1].headers["Authorization"].startswith("Basic ")
    finally:
        await client.aclose()


async def test_detects_datacenter_and_uses_bearer(clock):
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/confluence/rest/api/space":
            return json_response(200, {"results": []})
        return json_response(404, {})

    client = await open_auto(handler, "http://dc.test/confluence", clock)
    try:
        assert client.deployment == "datacenter"
        assert client.base_url == "http://dc.test/confluence"
        assert seen[-1].headers["Authorization"] == f"Bearer {TOKEN}"
        # after detection the DC backend keeps using bearer
        seen.clear()

        def after(request: httpx.Request) -> httpx.Response:
            return json_response(200, {"id": 1, "key": "ENG", "name": "E"})

        client._transport._clients[0]._transport = httpx.MockTransport(after)
        await client.get_space("ENG")
    finally:
        await client.aclose()


async def test_atlassian_net_host_is_cloud_without_probing(clock):
    def handler(request: httpx.Request) -> httpx.Response:
        raise AssertionError("no probe expected")

    client = await open_auto(handler, "https://acme.atlassian.net", clock)
    try:
        assert client.deployment == "cloud"
        assert client.base_url == "https://acme.atlassian.net/wiki"
    finally:
        await client.aclose()


async def test_detection_reports_refused_credentials(clock):
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(401, {"message": "no"})

    with pytest.raises(AuthFailed):
        await open_auto(handler, "http://host.test", clock)


async def test_detection_is_not_fooled_by_a_proxy_answering_html_everywhere(clock):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/rest/api/space":
            return json_response(200, {"results": [], "start": 0, "limit": 1, "size": 0})
        return httpx.Response(
            200, content=b"<html>Log in</html>", headers={"Content-Type": "text/html"}
        )

    client = await open_auto(handler, "http://dc.test", clock)
    try:
        assert client.deployment == "datacenter"
    finally:
        await client.aclose()


async def test_detection_reports_nothing_there(clock):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, content=b"not here")

    with pytest.raises(DeploymentUnknown):
        await open_auto(handler, "http://host.test", clock)


# -- writes retried only when safe -----------------------------------------------------------


class FakeCloudPage:
    """A one-page Cloud v2 server whose first PUT is applied but answered with a 503."""

    def __init__(self, *, fail_first_put: bool) -> None:
        self.version = 5
        self.title = "T"
        self.body = "<p>old</p>"
        self.puts = 0
        self.fail_first_put = fail_first_put

    def page(self) -> dict:
        return {
            "id": "9",
            "title": self.title,
            "status": "current",
            "spaceId": "42",
            "parentId": "1",
            "version": {"number": self.version},
            "body": {"storage": {"representation": "storage", "value": self.body}},
            "labels": {"results": [], "meta": {"hasMore": False}},
        }

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return json_response(200, self.page())
        payload = json.loads(request.content)
        self.puts += 1
        if payload["version"]["number"] != self.version + 1:
            title = f"Version must be incremented when updating a page. Current Version: [{self.version}]. Provided version: [{payload['version']['number']}]"
            return json_response(
                409, {"errors": [{"status": 409, "code": "CONFLICT", "title": title}]}
            )
        self.version += 1
        self.title = payload["title"]
        self.body = payload["body"]["value"]
        if self.fail_first_put and self.puts == 1:
            return json_response(503, {"message": "gateway hiccup"})
        return json_response(200, self.page())


async def test_update_applied_by_an_attempt_whose_answer_was_lost_is_a_success(make_client):
    server = FakeCloudPage(fail_first_put=True)
    client = await make_client(server)
    page = await client.update_page("9", title="T", body="<p>new</p>", base_version=5)
    assert server.puts == 2
    assert page.version == 6
    assert page.body == "<p>new</p>"


async def test_genuine_conflict_is_not_masked_by_the_retry_logic(make_client):
    server = FakeCloudPage(fail_first_put=False)
    server.version = 7  # someone else edited since our base
    client = await make_client(server)
    with pytest.raises(VersionConflict) as info:
        await client.update_page("9", title="T", body="<p>new</p>", base_version=5)
    assert info.value.current_version == 7
    assert server.body == "<p>old</p>"


async def test_retried_update_meeting_someone_elses_version_is_a_conflict(make_client):
    """After a retry, 409 with a different body at our version number is not ours."""
    server = FakeCloudPage(fail_first_put=True)
    client = await make_client(server)
    original = server.__call__

    def handler(request: httpx.Request) -> httpx.Response:
        response = original(request)
        if request.method == "PUT" and server.puts == 1:
            server.body = "<p>someone else</p>"  # a concurrent editor overwrote at v6
        return response

    client._transport._clients[0]._transport = httpx.MockTransport(handler)
    with pytest.raises(VersionConflict):
        await client.update_page("9", title="T", body="<p>new</p>", base_version=5)


async def test_create_applied_by_a_lost_attempt_is_found_not_duplicated(make_client):
    state = {"posts": 0, "created": None}

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/wiki/api/v2/spaces":
            return json_response(200, SPACE)
        if request.method == "POST":
            state["posts"] += 1
            if state["created"] is None:
                payload = json.loads(request.content)
                state["created"] = {
                    "id": "77",
                    "title": payload["title"],
                    "status": "current",
                    "spaceId": "42",
                    "parentId": payload.get("parentId"),
                    "version": {"number": 1},
                    "body": {"storage": {"value": payload["body"]["value"]}},
                    "labels": {"results": [], "meta": {"hasMore": False}},
                }
                return json_response(502, {})
            return json_response(
                400, {"errors": [{"status": 400, "title": "A page with this title already exists"}]}
            )
        if path == "/wiki/api/v2/spaces/42/pages":
            return json_response(200, {"results": [state["created"]]})
        if path == "/wiki/api/v2/pages/77":
            return json_response(200, state["created"])
        return json_response(404, {})

    client = await make_client(handler)
    page = await client.create_page("ENG", "New", "<p>hi</p>", parent_id="1")
    assert page.id == "77"
    assert state["posts"] == 2


# -- redaction -------------------------------------------------------------------------------


async def test_the_token_never_shows_in_reprs_errors_or_logs(make_client, caplog):
    caplog.set_level(logging.DEBUG)

    def handler(request: httpx.Request) -> httpx.Response:
        # A hostile or buggy server echoes the credentials back.
        return json_response(
            500, {"message": f"bad token {TOKEN} / {request.headers['Authorization']}"}
        )

    client = await make_client(handler, max_attempts=2)
    settings = client._transport.settings
    with pytest.raises(ServerError) as info:
        await client.get_space("ENG")
    texts = [
        repr(settings),
        str(settings),
        repr(client),
        repr(client._transport),
        repr(client._transport.auth),
        str(info.value),
        repr(info.value),
        info.value.message,
        caplog.text,
    ]
    basic = httpx.BasicAuth("me@example.com", TOKEN)._auth_header.split(" ", 1)[1]
    for text in texts:
        assert TOKEN not in text
        assert basic not in text
    assert "***" in repr(settings)


# -- webhooks --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deployment", "status", "error"),
    [
        ("cloud", 403, WebhookPermissionDenied),
        ("cloud", 404, WebhooksNotSupported),
        ("datacenter", 403, WebhookPermissionDenied),
        ("datacenter", 404, WebhooksNotSupported),
    ],
)
async def test_webhook_refusals_are_typed_for_the_polling_fallback(
    make_client, deployment, status, error
):
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(status, {"message": "no"})

    client = await make_client(handler, deployment=deployment)
    with pytest.raises(error) as info:
        await client.list_webhooks()
    assert isinstance(info.value, WebhooksUnavailable)
    with pytest.raises(WebhooksUnavailable):
        await client.create_webhook("syncd", "http://me/hook", ["page_updated"])


async def test_dc_401_for_a_non_admin_is_permission_not_bad_token(make_client):
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/rest/api/user/current":
            return json_response(200, {"username": "me"})
        return json_response(401, {"message": "admin only"})

    client = await make_client(handler, deployment="datacenter")
    with pytest.raises(WebhookPermissionDenied):
        await client.list_webhooks()


async def test_dc_401_with_a_bad_token_stays_auth_failed(make_client):
    def handler(request: httpx.Request) -> httpx.Response:
        return json_response(401, {"message": "who are you"})

    client = await make_client(handler, deployment="datacenter")
    with pytest.raises(AuthFailed):
        await client.list_webhooks()


# -- change feed -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("deployment", "zone", "expected"),
    [
        ("cloud", "UTC", '"2026-01-05 09:58"'),
        ("datacenter", "UTC", '"2026/01/05 09:58"'),
        ("cloud", "Europe/Paris", '"2026-01-05 10:58"'),
        ("cloud", None, '"2026-01-04 19:58"'),  # unknown zone: widened by 14 h
    ],
)
async def test_changes_since_uses_overlap_zone_and_date_format(
    make_client, deployment, zone, expected
):
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/user/current"):
            return json_response(200, {"timeZone": zone} if zone else {})
        queries.append(request.url.params["cql"])
        results = [
            {"id": "5", "type": "page", "title": "A", "version": {"number": 3}},
            {"id": "6", "type": "blogpost", "title": "B", "version": {"number": 1}},
            {"id": "5", "type": "page", "title": "A", "version": {"number": 4}},
        ]
        return json_response(200, {"results": results, "size": 3, "_links": {}})

    client = await make_client(handler, deployment=deployment)
    since = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
    changes = await client.changes_since("ENG", since)
    assert expected in queries[0]
    assert 'space = "ENG"' in queries[0]
    assert "lastmodified >=" in queries[0]
    assert sorted((c.id, c.version, c.kind) for c in changes) == [
        ("5", 4, "page"),
        ("6", 1, "blogpost"),
    ]


@pytest.mark.parametrize(
    ("deployment", "zone", "expected"),
    [
        ("cloud", "UTC", '"2026-01-05 09:58"'),
        ("datacenter", "Europe/Paris", '"2026/01/05 10:58"'),
        ("datacenter", None, '"2026/01/04 19:58"'),  # unknown zone: widened by 14 h
    ],
)
async def test_attachment_changes_since_names_containers_with_the_same_window(
    make_client, deployment, zone, expected
):
    queries: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/user/current"):
            return json_response(200, {"timeZone": zone} if zone else {})
        queries.append(request)
        page = {"id": "5", "type": "page", "title": "A"}
        results = [
            {"id": "att7", "type": "attachment", "version": {"number": 2}, "container": page},
            {"id": "att7", "type": "attachment", "version": {"number": 3}, "container": page},
            {
                "id": "att8",
                "type": "attachment",
                "version": {"number": 1},
                "container": {"id": "6", "type": "blogpost"},
            },
            {"id": "att9", "type": "attachment", "version": {"number": 1}},  # no container
        ]
        return json_response(200, {"results": results, "size": 4, "_links": {}})

    client = await make_client(handler, deployment=deployment)
    since = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)
    changes = await client.attachment_changes_since("ENG", since)
    cql = queries[0].url.params["cql"]
    assert expected in cql and 'space = "ENG"' in cql and "type = attachment" in cql
    assert "container" in queries[0].url.params["expand"].split(",")
    assert sorted((c.id, c.version, c.page_id, c.page_kind) for c in changes) == [
        ("att7", 3, "5", "page"),
        ("att8", 1, "6", "blogpost"),
    ]


# -- attachments -----------------------------------------------------------------------------


async def test_upload_is_multipart_with_nocheck_and_new_version_when_name_exists(
    make_client, tmp_path
):
    posts: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return json_response(
                200,
                {
                    "results": [
                        {"id": "att3", "title": "a.txt", "pageId": "9", "version": {"number": 1}}
                    ]
                },
            )
        posts.append(request)
        return json_response(
            200,
            {
                "id": "att3",
                "title": "a.txt",
                "version": {"number": 2},
                "extensions": {"fileSize": 5},
            },
        )

    file = tmp_path / "a.txt"
    file.write_bytes(b"hello")
    client = await make_client(handler)
    attachment = await client.upload_attachment("9", file, comment="why")
    request = posts[0]
    assert request.url.path == "/wiki/rest/api/content/9/child/attachment/att3/data"
    assert request.headers["X-Atlassian-Token"] == "nocheck"
    assert request.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="file"; filename="a.txt"' in request.content
    assert b"hello" in request.content
    assert attachment.version == 2


async def test_download_streams_atomically(make_client, tmp_path):
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/wiki/download/attachments/9/a.bin"
        return httpx.Response(200, content=b"x" * 200_000)

    from syncd.confluence import Attachment

    client = await make_client(handler)
    target = tmp_path / "deep" / "a.bin"
    size = await client.download_attachment(
        Attachment(
            id="att1",
            title="a.bin",
            page_id="9",
            version=1,
            download_link="/download/attachments/9/a.bin",
        ),
        target,
    )
    assert size == 200_000
    assert target.read_bytes() == b"x" * 200_000
    assert [p.name for p in target.parent.iterdir()] == ["a.bin"]


async def test_configured_cql_timezone_skips_the_profile_lookup(make_client):
    queries: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert not request.url.path.endswith("/user/current")
        queries.append(request.url.params["cql"])
        return json_response(200, {"results": [], "_links": {}})

    client = await make_client(handler, deployment="datacenter", cql_timezone="Asia/Tokyo")
    await client.changes_since("ENG", dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC))
    assert '"2026/01/05 18:58"' in queries[0]


def test_settings_validate():
    with pytest.raises(ValueError):
        ConnectionSettings(base_url="ftp://x")
    with pytest.raises(ValueError):
        ConnectionSettings(base_url="http://x", deployment="server")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ConnectionSettings(base_url="http://x", cql_timezone="Mars/Olympus")
    assert ConnectionSettings(base_url="http://x/").base_url == "http://x"
