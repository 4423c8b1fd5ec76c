"""The v1 REST API, shared by Cloud (``/wiki/rest/api``) and DC (``/rest/api``).

Flavor differences kept here: DC ``DELETE content`` answers 200 on trash and 204 on purge
(Cloud: 204 both); Cloud CQL search pages with a ``cursor`` (DC: ``start``); the page move
endpoint exists on Cloud only; users are ``accountId`` on Cloud and ``userKey`` on DC.
Pagination is start/limit with ``_links.next`` relative to ``_links.base`` and absent on the
last page; limits are capped (``MAX_LIMIT``) and the capped value is echoed in ``limit``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar
from urllib.parse import urlencode

from aiohttp import web

from syncd.emulator import cql, shapes_v1
from syncd.emulator.errors import ApiError, BadRequest, Forbidden, NotFound, content_not_found
from syncd.emulator.model import CONTAINER_TYPES, TREE_TYPES, Attachment, Content
from syncd.emulator.pagination import (
    decode_cursor,
    encode_cursor,
    json_response,
    parse_limit,
    parse_start,
    v1_links,
)
from syncd.emulator.requests_util import flag, int_param, multi, read_json, site_base
from syncd.emulator.shapes_v1 import Ctx, parse_expand
from syncd.emulator.state import state_of

T = TypeVar("T")

MAX_LIMIT = 200
SEARCH_MAX_LIMIT = 100
#: Data Center's hard-coded caps on ``content/search`` by what is expanded (Atlassian KB
#: "Searching for content with the REST API and CQL always limits results to 50",
#: confkb 1032258424): a body expanded -> 50, other expansions -> 200, none -> 1,000.
DC_SEARCH_CAP_BODY = 50
DC_SEARCH_CAP_EXPANDED = 200
DC_SEARCH_CAP_PLAIN = 1000


def search_cap(flavor: str, expand: str | None) -> int:
    """The most results one ``content/search`` page returns for this flavor and expansion.
    Cloud's v1 search documents no expansion-dependent cap: ``SEARCH_MAX_LIMIT`` there."""
    if flavor != "dc":
        return SEARCH_MAX_LIMIT
    names = [n.strip() for n in (expand or "").split(",") if n.strip()]
    if any(n == "body" or n.startswith("body.") for n in names):
        return DC_SEARCH_CAP_BODY
    return DC_SEARCH_CAP_EXPANDED if names else DC_SEARCH_CAP_PLAIN


XSRF_VALUES = ("nocheck", "no-check")
UPDATE_EXPAND = {"space", "history", "version", "ancestors", "body", "body.storage"}


def _ctx(request: web.Request) -> Ctx:
    st = state_of(request)
    return Ctx(
        store=st.store, flavor=st.flavor, base=site_base(request, st.context), context=st.context
    )


def _content_id(request: web.Request, name: str = "id") -> str:
    """A numeric content id; attachments may also be addressed as ``att<digits>``."""
    raw = request.match_info[name]
    digits = raw[3:] if raw.startswith("att") else raw
    if not digits.isdigit():
        raise content_not_found(raw)
    return str(int(digits))


def _visible(c: Content, request: web.Request) -> bool:
    """GET content defaults to status=current; trashed content needs ?status=trashed|any."""
    wanted = multi(request, "status") or ["current"]
    return (
        "any" in wanted or c.status in wanted or ("historical" in wanted and c.status == "current")
    )


def _array(
    ctx: Ctx, request: web.Request, results: list[dict], start: int, limit: int, more: bool
) -> web.Response:
    return json_response(
        {
            "results": results,
            "start": start,
            "limit": limit,
            "size": len(results),
            "_links": v1_links(
                request, base=ctx.base, context=ctx.context, start=start, limit=limit, more=more
            ),
        }
    )


def _slice(
    ctx: Ctx,
    request: web.Request,
    items: Sequence[T],
    shape: Callable[[T], dict],
    start: int,
    limit: int,
) -> web.Response:
    """One start/limit page of ``items``, shaped, in the v1 envelope with its next link."""
    window = items[start : start + limit]
    more = start + limit < len(items)
    return _array(ctx, request, [shape(x) for x in window], start, limit, more)


# ---- content ------------------------------------------------------------------------


async def list_content(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    store = ctx.store
    start = parse_start(request)
    limit = parse_limit(request, 25, MAX_LIMIT)
    type_ = request.query.get("type", "page")
    if type_ not in ("page", "blogpost"):
        raise BadRequest(f"Invalid content type: {type_}")
    statuses = set(multi(request, "status") or ["current"])
    space_keys = [k for k in request.query.get("spaceKey", "").split(",") if k]
    title = request.query.get("title")
    expand = parse_expand(request.query.get("expand"))
    if space_keys:
        for key in space_keys:
            store.space(key)  # 404 for an unknown space
    else:
        space_keys = sorted(store.spaces, key=lambda k: store.spaces[k].id)
    if title is not None:
        found = [store.by_title(k, title, type_) for k in space_keys]
        items = [c for c in found if c is not None and c.status in statuses]
        window, more = items[start : start + limit], start + limit < len(items)
    else:
        window, more = [], False
        skipped = 0
        for key in space_keys:
            for c in store.listing(key, type_):
                if c.status not in statuses and "any" not in statuses:
                    continue
                if skipped < start:
                    skipped += 1
                    continue
                if len(window) == limit:
                    more = True
                    break
                window.append(c)
            if more:
                break
    results = [shapes_v1.content(ctx, c, expand) for c in window]
    return _array(ctx, request, results, start, limit, more)


async def get_content(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    cid = _content_id(request)
    c = ctx.store.find(cid)
    if c is not None and c.type == "attachment":
        c = None
    if c is None:
        a = ctx.store.attachments.get("att" + cid)
        if a is not None:
            expand = parse_expand(request.query.get("expand")) | {"version", "container"}
            return json_response(shapes_v1.attachment(ctx, a, expand))
        raise content_not_found(cid)
    if not _visible(c, request):
        raise content_not_found(cid)
    at = None
    number = int_param(request, "version")
    if number is not None and number != c.version.number:
        at = c.version_at(number)
        if at is None:
            raise content_not_found(cid)
    raw_expand = request.query.get("expand")
    expand = parse_expand(raw_expand) if raw_expand else set(shapes_v1.DEFAULT_SINGLE_EXPAND)
    return json_response(shapes_v1.content(ctx, c, expand, at=at))


def _storage_value(data: dict) -> str | None:
    body = data.get("body")
    if body is None:
        return None
    if not isinstance(body, dict):
        raise BadRequest("body must be an object")
    storage = body.get("storage") or body.get("editor") or body.get("editor2")
    if storage is None:
        if "wiki" in body or "atlas_doc_format" in body:
            raise BadRequest("The emulator accepts storage representation only")
        return None
    if not isinstance(storage, dict) or not isinstance(storage.get("value"), str):
        raise BadRequest("body.storage.value must be a string")
    return storage["value"]


def _parent_from_ancestors(data: dict) -> str | None:
    ancestors = data.get("ancestors")
    if not ancestors:
        return None
    if not isinstance(ancestors, list) or not isinstance(ancestors[-1], dict):
        raise BadRequest("ancestors must be a list of objects with an id")
    parent = ancestors[-1].get("id")
    return str(parent) if parent is not None else None


async def create_content(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    store = ctx.store
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest("Request body must be an object")
    type_ = data.get("type", "page")
    body = _storage_value(data) or ""
    if type_ == "comment":
        container = data.get("container") or {}
        container_id = str(container.get("id", "")) if isinstance(container, dict) else ""
        if not container_id:
            raise BadRequest("A comment needs a container")
        c = store.add_comment(container_id, body)
        return json_response(shapes_v1.content(ctx, c, UPDATE_EXPAND | {"container"}))
    if type_ not in ("page", "blogpost"):
        raise BadRequest(f"Unsupported content type: {type_}")
    space = data.get("space") or {}
    key = space.get("key") if isinstance(space, dict) else None
    if not key:
        raise BadRequest("Content must have a space (space.key)")
    if data.get("status", "current") != "current":
        raise BadRequest(f"Unsupported status: {data.get('status')}")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise BadRequest("Content must have a title")
    c = store.create_page(key, title, body, parent_id=_parent_from_ancestors(data), type=type_)
    # Cloud's create answer also expands the container (the space): realapi/
    # cloud_v1_content_create_answer.json ("Cloud default expansions")
    expand = UPDATE_EXPAND | {"container"} if ctx.flavor == "cloud" else UPDATE_EXPAND
    return json_response(shapes_v1.content(ctx, c, expand))


async def update_content(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    store = ctx.store
    cid = _content_id(request)
    c = store.find(cid)
    if c is None:
        raise content_not_found(cid)
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest("Request body must be an object")
    version = data.get("version")
    number = version.get("number") if isinstance(version, dict) else None
    if not isinstance(number, int):
        raise BadRequest("Version number is required to update content (version.number)")
    status = data.get("status", "current")
    if c.status == "trashed" and status == "current":
        if number not in (c.version.number, c.version.number + 1):
            raise ApiError(
                f"Version must be incremented on update. Current version is: {c.version.number}",
                status=409,
            )
        store.restore(cid)
        return json_response(shapes_v1.content(ctx, c, UPDATE_EXPAND))
    if c.status != "current":
        raise content_not_found(cid)
    if status != "current":
        raise BadRequest(f"Unsupported status for update: {status}")
    if data.get("type") and data["type"] != c.type:
        raise BadRequest(f"Cannot change the type of content from {c.type} to {data['type']}")
    parent = _parent_from_ancestors(data) if c.type in TREE_TYPES else None
    store.update_content(
        cid,
        version=number,
        title=data.get("title"),
        body=_storage_value(data),
        parent_id=parent,
        message=str(version.get("message") or ""),
        minor_edit=bool(version.get("minorEdit", False)),
    )
    return json_response(shapes_v1.content(ctx, c, UPDATE_EXPAND))


async def delete_content(request: web.Request) -> web.Response:
    st = state_of(request)
    store = st.store
    cid = _content_id(request)
    c = store.find(cid)
    if c is None:
        a = store.attachments.get("att" + cid)
        if a is None:
            raise content_not_found(cid)
        return _delete_attachment(st.flavor, store, a, request.query.get("status", "current"))
    wanted = request.query.get("status", "current")
    if c.status == "trashed":
        if wanted != "trashed":
            raise content_not_found(cid)
        store.purge(cid)
        return web.Response(status=204)
    store.trash(cid)
    return web.Response(status=200 if st.flavor == "dc" else 204)


def _delete_attachment(flavor: str, store, a, wanted: str) -> web.Response:
    """DC trashes a current attachment (200) and purges a trashed one when asked with
    ``status=trashed`` (204), as for pages (DC spec, ``DELETE /content/{id}``: "if the
    content is trashable..."). Cloud v1 deletes attachments permanently (204; Cloud v1
    spec, same operation: "Comments and attachments are deleted permanently")."""
    if flavor != "dc":
        if a.status == "current":
            store.delete_attachment(a.id)
        store.delete_attachment(a.id, purge=True)
        return web.Response(status=204)
    if a.status == "trashed":
        if wanted != "trashed":
            raise content_not_found(a.id.removeprefix("att"))
        store.delete_attachment(a.id, purge=True)
        return web.Response(status=204)
    store.delete_attachment(a.id)
    return web.Response(status=200)


async def move_content(request: web.Request) -> web.Response:
    st = state_of(request)
    cid = _content_id(request, "pageId")
    position = request.match_info["position"]
    target = request.match_info["targetId"]
    if position not in ("before", "after", "append"):
        raise BadRequest(f"Invalid position: {position}")
    st.store.move(cid, position, target)
    return json_response({"pageId": cid})


# ---- children, descendants, versions, history ---------------------------------------


async def child_of_type(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    cid = _content_id(request)
    c = ctx.store.get(cid)
    kind = request.match_info.get("type", "page")
    start = parse_start(request)
    expand = parse_expand(request.query.get("expand"))
    if kind == "page" or kind in CONTAINER_TYPES:
        # one type per listing: folders only when asked for (child/folder), as real
        # children listings omit them (pchuri/confluence-cli PR #224, realapi/SOURCES.md)
        limit = parse_limit(request, 25, MAX_LIMIT)
        items = [k for k in ctx.store.children(c.id) if k.status == "current" and k.type == kind]
        window = items[start : start + limit]
        results = [shapes_v1.content(ctx, k, expand) for k in window]
    elif kind == "comment":
        limit = parse_limit(request, 25, MAX_LIMIT)
        items = [ctx.store.content[i] for i in c.comment_ids if i in ctx.store.content]
        window = items[start : start + limit]
        results = [shapes_v1.content(ctx, k, expand) for k in window]
    elif kind == "attachment":
        return await list_attachments(request)
    else:
        raise BadRequest(f"Unsupported child type: {kind}")
    return _array(ctx, request, results, start, limit, start + limit < len(items))


async def children_all(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    c = ctx.store.get(_content_id(request))
    expand = parse_expand(request.query.get("expand"))
    out: dict = {
        "_expandable": {},
        "_links": {
            "base": ctx.base,
            "context": ctx.context,
            "self": f"{ctx.base}/rest/api/content/{c.id}/child",
        },
    }
    for kind in ("page", "attachment", "comment"):
        if kind not in expand:
            out["_expandable"][kind] = f"/rest/api/content/{c.id}/child/{kind}"
            continue
        if kind == "page":
            items = [
                shapes_v1.content(ctx, k, set())
                for k in ctx.store.children(c.id)
                if k.status == "current" and k.type == "page"
            ]
        elif kind == "attachment":
            items = [
                shapes_v1.attachment(ctx, a, set())
                for a in ctx.store.attachments_of(c.id)
                if a.status == "current"
            ]
        else:
            items = [
                shapes_v1.content(ctx, ctx.store.content[i], set())
                for i in c.comment_ids
                if i in ctx.store.content
            ]
        out[kind] = {
            "results": items[:25],
            "start": 0,
            "limit": 25,
            "size": min(25, len(items)),
            "_links": {"self": f"{ctx.base}/rest/api/content/{c.id}/child/{kind}"},
        }
    return json_response(out)


async def descendant_pages(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    c = ctx.store.get(_content_id(request))
    start = parse_start(request)
    limit = parse_limit(request, 25, MAX_LIMIT)
    expand = parse_expand(request.query.get("expand"))
    items = [d for d in ctx.store.descendants(c.id) if d.status == "current" and d.type == "page"]
    return _slice(ctx, request, items, lambda d: shapes_v1.content(ctx, d, expand), start, limit)


async def list_versions(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    c = ctx.store.get(_content_id(request))
    start = parse_start(request)
    limit = parse_limit(request, 200, MAX_LIMIT)
    versions = list(reversed(c.versions))
    return _slice(ctx, request, versions, lambda v: shapes_v1.version(ctx, c, v), start, limit)


async def get_version(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    c = ctx.store.get(_content_id(request))
    raw = request.match_info["number"]
    v = c.version_at(int(raw)) if raw.isdigit() else None
    if v is None:
        raise NotFound(f"No version {raw} of content {c.id}")
    out = shapes_v1.version(ctx, c, v)
    out["content"] = shapes_v1.content(
        ctx, c, parse_expand(request.query.get("expand")) | {"body", "body.storage"}, at=v
    )
    return json_response(out)


async def get_history(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    c = ctx.store.get(_content_id(request))
    out = shapes_v1.content(ctx, c, {"history", "history.lastUpdated"})["history"]
    if len(c.versions) > 1:
        out["previousVersion"] = shapes_v1.version(ctx, c, c.versions[-2])
    return json_response(out)


# ---- attachments --------------------------------------------------------------------


def _check_xsrf(request: web.Request) -> None:
    if request.headers.get("X-Atlassian-Token", "").strip().lower() not in XSRF_VALUES:
        raise Forbidden("XSRF check failed")


async def _read_upload(request: web.Request) -> tuple[str, bytes, str | None, str, bool]:
    if not request.content_type.startswith("multipart/"):
        raise BadRequest("Attachments must be sent as multipart/form-data with a 'file' part")
    reader = await request.multipart()
    filename, data, media_type, comment, minor = None, b"", None, "", False
    async for part in reader:
        if part.name == "file":
            filename = part.filename
            data = await part.read(decode=False)
            ctype = part.headers.get("Content-Type")
            media_type = ctype.split(";")[0].strip() if ctype else None
        elif part.name == "comment":
            comment = (await part.text()).strip()
        elif part.name == "minorEdit":
            minor = (await part.text()).strip().strip('"').lower() == "true"
        else:
            await part.read()
    if not filename:
        raise BadRequest("No file part named 'file' in the request")
    if media_type in (None, "application/octet-stream"):
        media_type = None  # guess from the file name, as Confluence does
    return filename, bytes(data), media_type, comment, minor


async def upload_attachment(request: web.Request) -> web.Response:
    """POST creates (400 if the name exists); PUT creates or adds a version."""
    ctx = _ctx(request)
    cid = _content_id(request)
    try:
        _check_xsrf(request)
    except Forbidden as err:
        return web.Response(status=403, text=err.message, content_type="text/plain")
    c = ctx.store.get(cid)
    if c.status != "current":
        raise content_not_found(cid)
    filename, data, media_type, comment, minor = await _read_upload(request)
    allow_update = request.method == "PUT" or flag(request, "allowDuplicated")
    a = ctx.store.add_attachment(
        cid,
        filename,
        data,
        media_type=media_type,
        comment=comment,
        minor_edit=minor,
        allow_update=allow_update,
    )
    item = shapes_v1.attachment(ctx, a, {"version", "container"})
    return json_response(
        {"results": [item], "size": 1, "_links": {"base": ctx.base, "context": ctx.context}}
    )


async def update_attachment_data(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    cid = _content_id(request)
    try:
        _check_xsrf(request)
    except Forbidden as err:
        return web.Response(status=403, text=err.message, content_type="text/plain")
    a = ctx.store.get_attachment(request.match_info["attachmentId"])
    if a.container_id != cid:
        raise content_not_found(request.match_info["attachmentId"])
    _filename, data, media_type, comment, minor = await _read_upload(request)
    ctx.store.update_attachment_data(
        a.id, data, comment=comment, minor_edit=minor, media_type=media_type
    )
    return json_response(shapes_v1.attachment(ctx, a, {"version", "container"}))


async def list_attachments(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    c = ctx.store.get(_content_id(request))
    start = parse_start(request)
    limit = parse_limit(request, 50, MAX_LIMIT)
    expand = parse_expand(request.query.get("expand"))
    filename = request.query.get("filename")
    media_type = request.query.get("mediaType")
    items = [
        a
        for a in ctx.store.attachments_of(c.id)
        if a.status == "current"
        and (filename is None or a.filename == filename)
        and (media_type is None or a.media_type == media_type)
    ]
    return _slice(ctx, request, items, lambda a: shapes_v1.attachment(ctx, a, expand), start, limit)


async def attachment_download_redirect(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    a = ctx.store.get_attachment(request.match_info["attachmentId"])
    version = int_param(request, "version") or a.version.number
    raise web.HTTPFound(
        f"{ctx.base}/download/attachments/{a.container_id}/{a.filename}?version={version}"
    )


async def download(request: web.Request) -> web.Response:
    store = state_of(request).store
    cid = request.match_info["pageId"]
    name = request.match_info["filename"]
    a = store.attachment_by_name(cid, name) if store.find(cid) else None
    if a is None:
        raise NotFound(f"No attachment {name} on content {cid}")
    number = int_param(request, "version") or a.version.number
    match = [v for v in a.versions if v.number == number]
    if not match:
        raise NotFound(f"No version {number} of attachment {name}")
    return web.Response(
        body=match[0].data,
        content_type=a.media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# ---- labels -------------------------------------------------------------------------


async def list_labels(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    c = ctx.store.get(_content_id(request))
    start = parse_start(request)
    limit = parse_limit(request, 200, MAX_LIMIT)
    prefix = request.query.get("prefix")
    items = [lb for lb in c.labels.values() if prefix is None or lb.prefix == prefix]
    return _slice(ctx, request, items, lambda lb: shapes_v1.label(lb), start, limit)


async def add_labels(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    c = ctx.store.get(_content_id(request))
    data = await read_json(request)
    items = data if isinstance(data, list) else [data]
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise BadRequest("Each label needs a name (and a prefix)")
        ctx.store.add_label(c.id, item["name"], item.get("prefix") or "global")
    labels = [shapes_v1.label(lb) for lb in c.labels.values()]
    return json_response(
        {
            "results": labels,
            "start": 0,
            "limit": 200,
            "size": len(labels),
            "_links": {
                "base": ctx.base,
                "context": ctx.context,
                "self": f"{ctx.base}/rest/api/content/{c.id}/label",
            },
        }
    )


async def remove_label(request: web.Request) -> web.Response:
    store = state_of(request).store
    cid = _content_id(request)
    name = request.match_info.get("label") or request.query.get("name")
    if not name:
        raise BadRequest("A label name is required")
    store.remove_label(cid, name)
    return web.Response(status=204)


# ---- search -------------------------------------------------------------------------


def _search_response(request: web.Request, render) -> web.Response:
    """Run the request's CQL and answer one page: a ``cursor`` on Cloud, ``start`` on DC
    (Cloud also honours an explicit ``start``). ``render`` turns a Content into a result."""
    st = state_of(request)
    ctx = _ctx(request)
    raw = request.query.get("cql")
    if not raw:
        raise BadRequest("The cql parameter is required")
    limit = parse_limit(request, 25, search_cap(st.flavor, request.query.get("expand")))
    found = cql.search(ctx.store, raw)
    cursor_mode = st.flavor == "cloud" and "start" not in request.query
    if cursor_mode:
        start = int(decode_cursor(request.query.get("cursor")).get("offset", 0))
    else:
        start = parse_start(request)
    window = found[start : start + limit]
    more = start + limit < len(found)
    if cursor_mode:
        path = request.path.removeprefix(ctx.context)
        items = [(k, v) for k, v in request.query.items() if k not in ("cursor", "limit")]

        def url(offset: int) -> str:
            query = [*items, ("limit", str(limit))]
            if offset:
                query.append(("cursor", encode_cursor({"offset": offset})))
            return f"{path}?{urlencode(query)}"

        links = {"base": ctx.base, "context": ctx.context, "self": f"{ctx.base}{url(start)}"}
        if more:
            links["next"] = url(start + limit)
        if start:
            links["prev"] = url(max(0, start - limit))
    else:
        links = v1_links(
            request, base=ctx.base, context=ctx.context, start=start, limit=limit, more=more
        )
    return json_response(
        {
            "results": [render(ctx, c) for c in window],
            "start": start,
            "limit": limit,
            "size": len(window),
            "totalSize": len(found),
            "cqlQuery": raw,
            "searchDuration": 1,
            "_links": links,
        }
    )


async def search(request: web.Request) -> web.Response:
    """``content/search``: results are Content objects."""
    expand = parse_expand(request.query.get("expand"))

    def render(ctx: Ctx, c: Content | Attachment) -> dict:
        if isinstance(c, Attachment):
            return shapes_v1.attachment(ctx, c, expand)
        return shapes_v1.content(ctx, c, expand)

    return _search_response(request, render)


# ---- spaces and users ---------------------------------------------------------------


async def get_space(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    s = ctx.store.space(request.match_info["spaceKey"])
    return json_response(shapes_v1.space(ctx, s, parse_expand(request.query.get("expand"))))


async def list_spaces(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    start = parse_start(request)
    limit = parse_limit(request, 25, MAX_LIMIT)
    keys = set(request.query.getall("spaceKey", []))
    spaces = [
        s
        for s in sorted(ctx.store.spaces.values(), key=lambda s: s.id)
        if not keys or s.key in keys
    ]
    expand = parse_expand(request.query.get("expand"))
    return _slice(ctx, request, spaces, lambda s: shapes_v1.space(ctx, s, expand), start, limit)


async def update_space(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest("Request body must be an object")
    description = None
    desc = data.get("description")
    if isinstance(desc, dict):
        plain = desc.get("plain") or {}
        description = plain.get("value") if isinstance(plain, dict) else None
    s = ctx.store.update_space(
        request.match_info["spaceKey"], name=data.get("name"), description=description
    )
    return json_response(shapes_v1.space(ctx, s, {"description"}))


async def space_content(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    s = ctx.store.space(request.match_info["spaceKey"])
    type_ = request.match_info.get("type", "page")
    if type_ not in ("page", "blogpost"):
        raise BadRequest(f"Unsupported content type: {type_}")
    start = parse_start(request)
    limit = parse_limit(request, 25, MAX_LIMIT)
    expand = parse_expand(request.query.get("expand"))
    depth = request.query.get("depth", "all")
    items = [
        c
        for c in ctx.store.listing(s.key, type_)
        if c.status == "current" and (depth != "root" or c.parent_id is None)
    ]
    return _slice(ctx, request, items, lambda c: shapes_v1.content(ctx, c, expand), start, limit)


async def current_user(request: web.Request) -> web.Response:
    ctx = _ctx(request)
    return json_response(shapes_v1.user(ctx, ctx.store.user))


async def get_user(request: web.Request) -> web.Response:
    """DC ``GET /rest/api/user?key=K`` or ``?username=N`` (DC OpenAPI ``getUser``): the
    ``Person``; 404 when no such user."""
    ctx = _ctx(request)
    key = request.query.get("key")
    name = request.query.get("username")
    if not key and not name:
        raise BadRequest("Either the key or the username must be provided")
    for u in ctx.store.users.values():
        if (key and u.user_key == key) or (name and u.username == name):
            return json_response(shapes_v1.user(ctx, u))
    raise NotFound(f"No user found with key: {key}" if key else f"No user found: {name}")


async def unknown(request: web.Request) -> web.Response:
    raise ApiError(f"null for uri: {request.url}", status=404)


def add_routes(app: web.Application, flavor: str) -> None:
    ctx = "/wiki" if flavor == "cloud" else ""
    p = f"{ctx}/rest/api"
    r = app.router
    r.add_get(f"{p}/content", list_content)
    r.add_post(f"{p}/content", create_content)
    r.add_get(f"{p}/content/search", search)
    r.add_get(f"{p}/content/{{id}}", get_content)
    r.add_put(f"{p}/content/{{id}}", update_content)
    r.add_delete(f"{p}/content/{{id}}", delete_content)
    r.add_get(f"{p}/content/{{id}}/child", children_all)
    r.add_get(f"{p}/content/{{id}}/child/attachment", list_attachments)
    r.add_post(f"{p}/content/{{id}}/child/attachment", upload_attachment)
    r.add_put(f"{p}/content/{{id}}/child/attachment", upload_attachment)
    r.add_post(f"{p}/content/{{id}}/child/attachment/{{attachmentId}}/data", update_attachment_data)
    r.add_get(
        f"{p}/content/{{id}}/child/attachment/{{attachmentId}}/download",
        attachment_download_redirect,
    )
    r.add_get(f"{p}/content/{{id}}/child/{{type}}", child_of_type)
    r.add_get(f"{p}/content/{{id}}/descendant/page", descendant_pages)
    r.add_get(f"{p}/content/{{id}}/history", get_history)
    r.add_get(f"{p}/content/{{id}}/version", list_versions)
    r.add_get(f"{p}/content/{{id}}/version/{{number}}", get_version)
    r.add_get(f"{p}/content/{{id}}/label", list_labels)
    r.add_post(f"{p}/content/{{id}}/label", add_labels)
    r.add_delete(f"{p}/content/{{id}}/label", remove_label)
    r.add_delete(f"{p}/content/{{id}}/label/{{label}}", remove_label)
    if flavor == "cloud":
        r.add_put(f"{p}/content/{{pageId}}/move/{{position}}/{{targetId}}", move_content)
    r.add_get(f"{p}/space", list_spaces)
    r.add_get(f"{p}/space/{{spaceKey}}", get_space)
    r.add_put(f"{p}/space/{{spaceKey}}", update_space)
    r.add_get(f"{p}/space/{{spaceKey}}/content/{{type}}", space_content)
    r.add_get(f"{p}/user/current", current_user)
    if flavor != "cloud":
        r.add_get(f"{p}/user", get_user)
    r.add_get(f"{ctx}/download/attachments/{{pageId}}/{{filename}}", download)
    r.add_route("*", f"{p}/{{tail:.*}}", unknown)
