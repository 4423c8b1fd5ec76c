"""Webhook registration.

Cloud: the undocumented ``/wiki/rest/webhooks/1.0/webhook`` (GET array, POST 201, GET/PUT one,
DELETE 204). As measured on real sites (shared/docs/confluence-api.md §5.2.1), the ``secret``
is accepted but ignored (deliveries are unsigned), event names are not validated, and the
payload will carry no event name.

DC: ``/rest/api/webhooks`` (list/get/create/update/delete and ``test``), shapes per the DC spec:
``Webhook`` on create (events as ``{id, i18nKey}``), ``RestWebhook`` on read (events as
strings). The secret (``configuration.secret``) is never echoed.
"""

from __future__ import annotations

import json

import aiohttp
from aiohttp import web

from syncd.emulator.errors import ApiError, BadRequest, NotFound
from syncd.emulator.model import Webhook, iso_ms
from syncd.emulator.pagination import json_response, parse_limit, parse_start, v1_links
from syncd.emulator.requests_util import read_json, site_base
from syncd.emulator.state import state_of

DC_EVENTS = frozenset(
    """attachment_created attachment_removed attachment_restored attachment_trashed
    attachment_updated blog_created blog_removed blog_restored blog_trashed blog_updated
    blueprint_page_created comment_created comment_removed comment_updated content_created
    content_restored content_trashed content_updated content_permissions_updated group_created
    group_removed label_added label_created label_deleted label_removed page_children_reordered
    page_created page_moved page_removed page_restored page_trashed page_updated space_created
    space_logo_updated space_permissions_updated space_removed space_updated theme_enabled
    user_created user_deactivated user_followed user_reactivated user_removed""".split()
)


def _hook_id(request: web.Request) -> int:
    raw = request.match_info["hookId"]
    if not raw.isdigit():
        raise NotFound(f"No webhook with id {raw}")
    return int(raw)


def _events(value: object, *, validate: bool) -> list[str]:
    if not isinstance(value, list) or not value:
        raise BadRequest("events must be a non-empty list")
    events = []
    for item in value:
        name = item.get("id") if isinstance(item, dict) else item
        if not isinstance(name, str):
            raise BadRequest("each event must be a string")
        if validate and name not in DC_EVENTS:
            raise BadRequest(f"Unknown webhook event: {name}")
        events.append(name)
    return events


def _url(value: object) -> str:
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise BadRequest("url must be an absolute http(s) URL")
    return value


# ---- Cloud --------------------------------------------------------------------------


def _cloud_shape(request: web.Request, hook: Webhook) -> dict:
    st = state_of(request)
    base = site_base(request, "/wiki")
    return {
        "self": f"{base}/rest/webhooks/1.0/webhook/{hook.id}",
        "name": hook.name,
        "url": hook.url,
        "excludeBody": hook.exclude_body,
        "filters": hook.filters,
        "events": hook.events,
        "enabled": hook.active,
        "lastUpdated": hook.updated,
        "lastUpdatedUser": st.store.user.account_id,
        "lastUpdatedDisplayName": st.store.user.display_name,
        "description": hook.description,
    }


async def cloud_list(request: web.Request) -> web.Response:
    st = state_of(request)
    hooks = sorted(st.store.webhooks.values(), key=lambda h: h.id)
    return json_response([_cloud_shape(request, h) for h in hooks])


async def cloud_get(request: web.Request) -> web.Response:
    st = state_of(request)
    hook = st.store.webhooks.get(_hook_id(request))
    if hook is None:
        raise NotFound("Webhook not found")
    return json_response(_cloud_shape(request, hook))


def _cloud_fields(data: dict, partial: bool) -> dict:
    fields: dict = {}
    if "name" in data or not partial:
        fields["name"] = str(data.get("name") or "webhook")
    if "url" in data or not partial:
        fields["url"] = _url(data.get("url"))
    if "events" in data or not partial:
        fields["events"] = _events(data.get("events"), validate=False)
    if "excludeBody" in data:
        fields["exclude_body"] = bool(data["excludeBody"])  # accepted, ignored
    if "filters" in data and isinstance(data["filters"], dict):
        fields["filters"] = data["filters"]
    if "description" in data:
        fields["description"] = str(data["description"] or "")
    if "enabled" in data:
        fields["active"] = bool(data["enabled"])
    # "secret" is accepted and silently ignored, as on Cloud: deliveries are unsigned
    return fields


async def cloud_create(request: web.Request) -> web.Response:
    st = state_of(request)
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest("Request body must be an object")
    hook = st.store.add_webhook(**_cloud_fields(data, partial=False))
    return json_response(_cloud_shape(request, hook), status=201)


async def cloud_update(request: web.Request) -> web.Response:
    st = state_of(request)
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest("Request body must be an object")
    hook = st.store.update_webhook(_hook_id(request), **_cloud_fields(data, partial=True))
    return json_response(_cloud_shape(request, hook))


async def cloud_delete(request: web.Request) -> web.Response:
    st = state_of(request)
    st.store.delete_webhook(_hook_id(request))
    return web.Response(status=204)


# ---- Data Center --------------------------------------------------------------------


def _dc_rest_webhook(hook: Webhook) -> dict:
    return {
        "id": hook.id,
        "name": hook.name,
        "url": hook.url,
        "events": list(hook.events),
        "active": hook.active,
        "configuration": {},
        "scopeType": "global",
        "sslVerificationRequired": hook.ssl_verification_required,
        **({"credentials": {"username": hook.credentials["username"]}} if hook.credentials else {}),
    }


def _dc_webhook(hook: Webhook) -> dict:
    return {
        "id": hook.id,
        "name": hook.name,
        "scope": {"type": "global"},
        "active": hook.active,
        "configuration": {},
        "url": hook.url,
        **({"credentials": {"username": hook.credentials["username"]}} if hook.credentials else {}),
        "createdDate": iso_ms(hook.created),
        "updatedDate": iso_ms(hook.updated),
        "sslVerificationRequired": hook.ssl_verification_required,
        "events": [{"id": e, "i18nKey": f"confluence.webhooks.event.{e}"} for e in hook.events],
    }


def _dc_fields(data: dict, partial: bool) -> dict:
    fields: dict = {}
    if "name" in data or not partial:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BadRequest("name is required")
        fields["name"] = name
    if "url" in data or not partial:
        fields["url"] = _url(data.get("url"))
    if "events" in data or not partial:
        fields["events"] = _events(data.get("events"), validate=True)
    if "active" in data:
        fields["active"] = bool(data["active"])
    if "sslVerificationRequired" in data:
        fields["ssl_verification_required"] = bool(data["sslVerificationRequired"])
    creds = data.get("credentials")
    if isinstance(creds, dict) and creds.get("username"):
        fields["credentials"] = {
            "username": str(creds["username"]),
            "password": str(creds.get("password") or ""),
        }
    config = data.get("configuration")
    if isinstance(config, dict) and "secret" in config:
        secret = config.get("secret") or ""
        if not isinstance(secret, str) or len(secret) > 255:
            raise BadRequest("configuration.secret must be a string of at most 255 characters")
        fields["secret"] = secret
    return fields


async def dc_list(request: web.Request) -> web.Response:
    st = state_of(request)
    start = parse_start(request)
    limit = parse_limit(request, 100, 100)
    event = request.query.get("event")
    hooks = [
        h
        for h in sorted(st.store.webhooks.values(), key=lambda h: h.id)
        if event is None or event in h.events
    ]
    window = hooks[start : start + limit]
    more = start + limit < len(hooks)
    return json_response(
        {
            "results": [_dc_rest_webhook(h) for h in window],
            "totalCount": len(hooks),
            "start": start,
            "limit": limit,
            "size": len(window),
            "_links": v1_links(
                request,
                base=site_base(request, ""),
                context="",
                start=start,
                limit=limit,
                more=more,
            ),
        }
    )


async def dc_get(request: web.Request) -> web.Response:
    st = state_of(request)
    hook = st.store.webhooks.get(_hook_id(request))
    if hook is None:
        raise NotFound(f"No webhook with id {request.match_info['hookId']}")
    return json_response(_dc_rest_webhook(hook))


async def dc_create(request: web.Request) -> web.Response:
    st = state_of(request)
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest("Request body must be an object")
    fields = _dc_fields(data, partial=False)
    fields.setdefault("active", True)
    hook = st.store.add_webhook(**fields)
    return json_response(_dc_webhook(hook), status=201)


async def dc_update(request: web.Request) -> web.Response:
    st = state_of(request)
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest("Request body must be an object")
    hook = st.store.update_webhook(_hook_id(request), **_dc_fields(data, partial=True))
    return json_response(_dc_rest_webhook(hook))


async def dc_delete(request: web.Request) -> web.Response:
    st = state_of(request)
    st.store.delete_webhook(_hook_id(request))
    return web.Response(status=204)


async def dc_test(request: web.Request) -> web.Response:
    """POST a ping to ``?url=`` and report what the endpoint answered."""
    url = request.query.get("url")
    if not url:
        raise BadRequest("url is required")
    _url(url)
    body = json.dumps({"test": True}).encode()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            async with session.post(
                url, data=body, headers={"Content-Type": "application/json; charset=utf-8"}
            ) as resp:
                text = await resp.text()
                return json_response(
                    {"statusCode": resp.status, "body": text[:1000], "headers": dict(resp.headers)}
                )
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        raise ApiError(f"Could not connect to {url}: {exc}", status=400) from None


def add_routes(app: web.Application, flavor: str) -> None:
    r = app.router
    if flavor == "cloud":
        p = "/wiki/rest/webhooks/1.0/webhook"
        r.add_get(p, cloud_list)
        r.add_post(p, cloud_create)
        r.add_get(p + "/{hookId}", cloud_get)
        r.add_put(p + "/{hookId}", cloud_update)
        r.add_delete(p + "/{hookId}", cloud_delete)
    else:
        p = "/rest/api/webhooks"
        r.add_get(p, dc_list)
        r.add_post(p, dc_create)
        r.add_post(p + "/test", dc_test)
        r.add_get(p + "/{hookId}", dc_get)
        r.add_put(p + "/{hookId}", dc_update)
        r.add_delete(p + "/{hookId}", dc_delete)
