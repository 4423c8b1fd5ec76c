"""The client through Atlassian's API gateway (scoped tokens): addressing, next links, the
scope-refusal 401 told apart from a refused token, and the scope table against the spec.

Sources: the gateway URL and basic auth, Atlassian "Manage API tokens for your Atlassian
account"; the missing-scope answer ``401 {"code": 401, "message": "Unauthorized; scope does
not match"}`` with ``X-Failure-Category: FAILURE_CLIENT_SCOPE_CHECK``, kovetskiy/mark#917;
v2 scopes, ``x-atlassian-oauth2-scopes`` in tests/data/specs/openapi-v2.v3.json.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from syncd.confluence import AuthFailed, ConfluenceClient, ConnectionSettings, ScopeMissing
from syncd.confluence.pagination import resolve_next
from syncd.confluence.scopes import gateway_root, requirement_for
from syncd.confluence.transport import error_for
from syncd.emulator.gateway import ROUTE_SCOPES

GW = "https://api.atlassian.com/ex/confluence/c0ffee"
SPEC = Path(__file__).resolve().parents[1] / "data" / "specs" / "openapi-v2.v3.json"
SCOPE_BODY = json.dumps({"code": 401, "message": "Unauthorized; scope does not match"}).encode()


def test_gateway_urls_are_recognised_with_or_without_wiki():
    assert gateway_root(GW) == GW
    assert gateway_root(GW + "/wiki/") == GW
    assert gateway_root("http://127.0.0.1:8080/ex/confluence/abc/wiki") == (
        "http://127.0.0.1:8080/ex/confluence/abc"
    )
    assert gateway_root("https://acme.atlassian.net/wiki") is None
    assert gateway_root("https://api.atlassian.com/ex/jira/abc") is None


@pytest.mark.parametrize(
    ("link", "links_base", "expected"),
    [
        # a site-relative v2 cursor link, as the site would give it
        ("/wiki/api/v2/spaces/1/pages?cursor=x", None, "/wiki/api/v2/spaces/1/pages?cursor=x"),
        # a v1 CQL link relative to _links.base, the site's /wiki
        (
            "/rest/api/content/search?cql=x&cursor=y",
            "https://acme.atlassian.net/wiki",
            "/wiki/rest/api/content/search?cql=x&cursor=y",
        ),
        # an absolute link to the site: re-rooted, never followed off the gateway
        (
            "https://acme.atlassian.net/wiki/api/v2/pages?cursor=z",
            None,
            "/wiki/api/v2/pages?cursor=z",
        ),
        # a link already on the gateway
        (GW + "/wiki/api/v2/pages?cursor=w", None, "/wiki/api/v2/pages?cursor=w"),
        ("/ex/confluence/c0ffee/wiki/api/v2/pages?cursor=v", None, "/wiki/api/v2/pages?cursor=v"),
    ],
)
def test_next_links_stay_on_the_gateway(link, links_base, expected):
    assert resolve_next(link, GW + "/wiki", links_base) == GW + expected


def test_scope_refusal_is_a_scope_error_naming_scope_and_operation():
    url = "/ex/confluence/c0ffee/wiki/api/v2/pages/42"
    headers = {"X-Failure-Category": "FAILURE_CLIENT_SCOPE_CHECK"}
    err = error_for(401, SCOPE_BODY, method="PUT", url=url, headers=headers)
    assert isinstance(err, ScopeMissing) and not isinstance(err, AuthFailed)
    assert err.scope == "write:page:confluence" and err.operation == "update pages"
    assert str(err).startswith("missing scope write:page:confluence: the API token may not update")
    # the body alone is enough (a proxy may drop the header); a plain 401 is a refused token
    upload = "/wiki/rest/api/content/7/child/attachment"
    err = error_for(401, SCOPE_BODY, method="POST", url=upload)
    assert err.scope == "write:attachment:confluence + read:content-details:confluence"
    plain = json.dumps({"code": 401, "message": "Unauthorized"}).encode()
    assert type(error_for(401, plain, method="GET", url=url)) is AuthFailed


def _v2_scopes() -> dict[tuple[str, str], set[str]]:
    spec = json.loads(SPEC.read_text())
    out = {}
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if isinstance(op, dict) and op.get("x-atlassian-oauth2-scopes"):
                scopes = op["x-atlassian-oauth2-scopes"][0]["scopes"]
                out[(method.upper(), path)] = set(scopes)
    return out


def test_scope_tables_agree_with_the_v2_spec():
    """The client's names and the emulator's checks, for every v2 route either knows."""
    spec = _v2_scopes()
    checked = 0
    for (method, template), alternatives in ROUTE_SCOPES.items():
        if not template.startswith("/wiki/api/v2"):
            continue
        path = template.removeprefix("/wiki/api/v2")
        if (method, path) not in spec:
            continue  # newer than the vendored spec (e.g. direct-children)
        assert [set(a) for a in alternatives] == [spec[(method, path)]], (method, path)
        concrete = re.sub(r"\{[^}]+\}", "123", template)
        need = requirement_for(method, concrete)
        if need is None:  # content kinds syncd never asks for
            assert path.split("/")[1] in ("whiteboards", "databases", "embeds"), (method, path)
            continue
        assert set(need.scopes) == spec[(method, path)], (method, path)
        checked += 1
    assert checked >= 25


async def test_a_gateway_base_url_is_cloud_with_no_detection(emulator):
    emulator.add_scoped_token("tok", ["read:space:confluence"])
    settings = ConnectionSettings(
        base_url=emulator.gateway_url, token="tok", email=emulator.user, deployment="auto"
    )
    client = await ConfluenceClient.open(settings)
    try:
        assert client.deployment == "cloud" and client.via_gateway
        assert client.base_url == emulator.gateway_url + "/wiki"
        space = await client.get_space("DEMO")
        assert space.key == "DEMO"
        assert sum(emulator.requests.values()) == 1  # no probing of the deployment
        with pytest.raises(ScopeMissing) as caught:
            await client.get_page(str(space.homepage_id), ancestors=False)
        assert caught.value.scope == "read:page:confluence"
    finally:
        await client.aclose()


async def test_api_url_keeps_the_site_for_messages_and_swaps_tokens_in_place(emulator):
    emulator.add_scoped_token("old", ["read:space:confluence"])
    settings = ConnectionSettings(
        base_url=emulator.base_url, api_url=emulator.gateway_url, token="old", email=emulator.user
    )
    client = await ConfluenceClient.open(settings)
    try:
        assert client.site_url == emulator.base_url
        await client.get_space("DEMO")
        emulator.revoke_token("old")
        client._spaces.clear()
        with pytest.raises(AuthFailed):
            await client.get_space("DEMO")
        emulator.add_scoped_token("new", ["read:space:confluence"])
        client.replace_credentials(emulator.user, "new")
        assert (await client.get_space("DEMO")).key == "DEMO"
    finally:
        await client.aclose()


async def test_emulator_gateway_refuses_what_the_real_one_refuses(emulator):
    emulator.add_scoped_token("tok", ["read:space:confluence"])
    async with httpx.AsyncClient() as http:
        info = await http.get(emulator.root_url + "/_edge/tenant_info")  # no credentials
        assert info.json() == {"cloudId": emulator.state.cloud_id}
        # the site refuses a scoped token; the gateway refuses the site's classic token
        site = await http.get(emulator.base_url + "/api/v2/spaces", auth=(emulator.user, "tok"))
        assert site.status_code == 401
        classic = await http.get(
            emulator.gateway_url + "/wiki/api/v2/spaces", auth=(emulator.user, emulator.token)
        )
        assert classic.status_code == 401
        wrong_id = emulator.root_url + "/ex/confluence/other/wiki/api/v2/spaces"
        assert (await http.get(wrong_id, auth=(emulator.user, "tok"))).status_code == 404
        hooks = await http.get(
            emulator.gateway_url + "/wiki/rest/webhooks/1.0/webhook", auth=(emulator.user, "tok")
        )
        assert hooks.status_code == 401
        assert hooks.json()["message"] == "Unauthorized; scope does not match"
        assert hooks.headers["X-Failure-Category"] == "FAILURE_CLIENT_SCOPE_CHECK"


async def test_scoped_tokens_are_managed_over_the_control_api(emulator):
    """What `syncd emulator` users (and other languages' tests) have instead of Python calls."""
    spaces = emulator.gateway_url + "/wiki/api/v2/spaces"
    async with httpx.AsyncClient() as http:
        added = await http.post(
            emulator.root_url + "/_emulator/tokens",
            json={"token": "svc", "scopes": ["read:space:confluence"]},
        )
        assert added.status_code == 200 and "svc" not in added.text
        assert (await http.get(spaces, auth=(emulator.user, "svc"))).status_code == 200
        gone = await http.delete(emulator.root_url + "/_emulator/tokens/svc")
        assert gone.json() == {"revoked": True}
        assert (await http.get(spaces, auth=(emulator.user, "svc"))).status_code == 401


async def test_emulator_without_tenant_info_answers_404_there(emulator):
    """`syncd emulator --no-tenant-info` (bench/exporter_side_by_side.py): a tool that finds a
    cloud id at /_edge/tenant_info goes to api.atlassian.com, out of reach on loopback."""
    emulator.state.tenant_info = False
    async with httpx.AsyncClient() as http:
        assert (await http.get(emulator.root_url + "/_edge/tenant_info")).status_code == 404
        space = await http.get(
            emulator.base_url + "/api/v2/spaces", auth=(emulator.user, emulator.token)
        )
        assert space.status_code == 200  # the site itself is served as before
