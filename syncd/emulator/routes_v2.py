"""Cloud REST v2 under ``/wiki/api/v2``: spaces, pages, blog posts, children, ancestors,
attachments, labels, versions. Cursor pagination; ids are strings; errors use the ``errors[]``
envelope (see shared/docs/confluence-api.md §3)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from aiohttp import web

from syncd.emulator import shapes_v2
from syncd.emulator.errors import ApiError, BadRequest, NotFound, content_not_found
from syncd.emulator.model import CONTAINER_TYPES, Content, Label
from syncd.emulator.pagination import (
    decode_cursor,
    encode_cursor,
    json_response,
    parse_limit,
    take,
    v2_page,
)
from syncd.emulator.requests_util import flag, int_param, multi, path_id, read_json, site_base
from syncd.emulator.state import state_of
from syncd.emulator.store import Store

PREFIX = "/wiki/api/v2"
MAX_LIMIT = 250
BODY_FORMATS = (
    "storage",
    "atlas_doc_format",
    "view",
    "export_view",
    "anonymous_export_view",
    "styled_view",
    "editor",
)
PAGE_SORTS = {
    "id": lambda c: int(c.id),
    "created-date": lambda c: (c.created, int(c.id)),
    "modified-date": lambda c: (c.modified, int(c.id)),
    "title": lambda c: (c.title.lower(), int(c.id)),
}

routes = web.RouteTableDef()


def _base(request: web.Request) -> str:
    return site_base(request, "/wiki")


def _body_format(request: web.Request) -> str | None:
    fmt = request.query.get("body-format")
    if fmt is None or fmt == "" or fmt == "none":  # "none": sent by common clients for no body
        return None
    if fmt not in BODY_FORMATS:
        raise BadRequest(f"Invalid body-format: {fmt}")
    if fmt == "atlas_doc_format":
        # better a clear refusal than storage XML labelled as ADF
        raise BadRequest("body-format=atlas_doc_format is not supported by the emulator")
    # the emulator stores storage format only; the HTML views echo it
    return fmt


def _statuses(request: web.Request, default: Iterable[str]) -> set[str]:
    values = multi(request, "status")
    return set(values) if values else set(default)


def _paged_content(
    request: web.Request,
    items: Iterator[Content] | None,
    *,
    store: Store,
    space_keys: list[str],
    type: str,
    statuses: set[str],
    title: str | None,
    ids: set[str] | None = None,
    extra_filter=None,
) -> tuple[list[Content], str | None]:
    """One page of content in the requested sort, plus the next cursor."""
    limit = parse_limit(request, 25, MAX_LIMIT)
    sort = request.query.get("sort") or "id"
    desc = sort.startswith("-")
    key_name = sort.lstrip("-")
    if key_name not in PAGE_SORTS:
        raise BadRequest(f"Invalid sort: {sort}")
    cursor = decode_cursor(request.query.get("cursor"))

    def keep(c: Content) -> bool:
        return (
            c.status in statuses
            and (title is None or c.title == title)
            and (ids is None or c.id in ids)
            and (extra_filter is None or extra_filter(c))
        )

    if key_name == "id" and not desc and items is None:
        after = int(cursor.get("after", 0))

        def stream() -> Iterator[Content]:
            for key in space_keys:
                for c in store.listing(key, type, after):
                    if keep(c):
                        yield c

        # several spaces: listing is per space, so sort the (bounded) union by id
        if len(space_keys) > 1:
            merged = sorted(
                (c for key in space_keys for c in store.listing(key, type, after) if keep(c)),
                key=lambda c: int(c.id),
            )
            page, more = take(iter(merged), limit)
        else:
            page, more = take(stream(), limit)
        nxt = encode_cursor({"after": int(page[-1].id)}) if more and page else None
        return page, nxt

    source = (
        items if items is not None else (c for key in space_keys for c in store.listing(key, type))
    )
    ordered = sorted((c for c in source if keep(c)), key=PAGE_SORTS[key_name], reverse=desc)
    offset = int(cursor.get("offset", 0))
    page = ordered[offset : offset + limit]
    more = offset + limit < len(ordered)
    return page, encode_cursor({"offset": offset + limit}) if more else None


# ---- spaces -------------------------------------------------------------------------


@routes.post(PREFIX + "/users-bulk")
async def users_bulk(request: web.Request) -> web.Response:
    """Bulk user lookup (OpenAPI v2 ``POST /users-bulk``): body ``{"accountIds": [...]}``
    (1 to 250 ids), answer ``{"results": [User...], "_links": {}}``; unknown ids are left
    out ("results may be empty if no account IDs were found")."""
    st = state_of(request)
    body = await read_json(request)
    ids = body.get("accountIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not 1 <= len(ids) <= 250:
        raise BadRequest("accountIds must list 1 to 250 account ids")
    found = [st.store.users[i] for i in ids if isinstance(i, str) and i in st.store.users]
    return json_response({"results": [shapes_v2.user(u) for u in found], "_links": {}})


@routes.get(PREFIX + "/spaces")
async def list_spaces(request: web.Request) -> web.Response:
    st = state_of(request)
    keys = set(multi(request, "keys"))
    ids = set(multi(request, "ids"))
    limit = parse_limit(request, 25, MAX_LIMIT)
    after = int(decode_cursor(request.query.get("cursor")).get("after", 0))
    spaces = sorted(st.store.spaces.values(), key=lambda s: s.id)
    matching = [
        s
        for s in spaces
        if s.id > after and (not keys or s.key in keys) and (not ids or str(s.id) in ids)
    ]
    page, more = take(iter(matching), limit)
    nxt = encode_cursor({"after": page[-1].id}) if more and page else None
    return v2_page(request, [shapes_v2.space(s) for s in page], nxt, _base(request))


@routes.get(PREFIX + "/spaces/{id}")
async def get_space(request: web.Request) -> web.Response:
    st = state_of(request)
    space = st.store.space_by_id(path_id(request))
    return _json(
        shapes_v2.space(space)
        | {"_links": {"webui": f"/spaces/{space.key}", "base": _base(request)}}
    )


async def _space_content(request: web.Request, type: str) -> web.Response:
    st = state_of(request)
    space = st.store.space_by_id(path_id(request))
    depth = request.query.get("depth", "all")
    extra = None
    if depth == "root":
        extra = lambda c: c.parent_id is None  # noqa: E731
    elif depth != "all":
        raise BadRequest(f"Invalid depth: {depth}")
    page, nxt = _paged_content(
        request,
        None,
        store=st.store,
        space_keys=[space.key],
        type=type,
        statuses=_statuses(request, ["current"]),
        title=request.query.get("title"),
        extra_filter=extra if type == "page" else None,
    )
    fmt = _body_format(request)
    results = [shapes_v2.content(st.store, c, body_format=fmt) for c in page]
    return v2_page(request, results, nxt, _base(request))


@routes.get(PREFIX + "/spaces/{id}/pages")
async def space_pages(request: web.Request) -> web.Response:
    return await _space_content(request, "page")


@routes.get(PREFIX + "/spaces/{id}/blogposts")
async def space_blogposts(request: web.Request) -> web.Response:
    return await _space_content(request, "blogpost")


# ---- pages and blog posts -----------------------------------------------------------


def _space_keys(store: Store, space_ids: list[str]) -> list[str]:
    """Keys of the spaces a ``space-id`` filter names (unknown ids are skipped); all by id."""
    if not space_ids:
        return sorted(store.spaces, key=lambda k: store.spaces[k].id)
    keys = []
    for sid in space_ids:
        try:
            keys.append(store.space_by_id(sid).key)
        except NotFound:
            continue
    return keys


async def _list_content(request: web.Request, type: str) -> web.Response:
    st = state_of(request)
    space_ids = multi(request, "space-id")
    ids = multi(request, "id")
    if len(ids) > 250 or len(space_ids) > 100:
        raise BadRequest("Too many ids")
    keys = _space_keys(st.store, space_ids)
    page, nxt = _paged_content(
        request,
        None,
        store=st.store,
        space_keys=keys,
        type=type,
        statuses=_statuses(request, ["current"]),
        title=request.query.get("title"),
        ids=set(ids) if ids else None,
    )
    fmt = _body_format(request)
    results = [shapes_v2.content(st.store, c, body_format=fmt) for c in page]
    return v2_page(request, results, nxt, _base(request))


@routes.get(PREFIX + "/pages")
async def list_pages(request: web.Request) -> web.Response:
    return await _list_content(request, "page")


@routes.get(PREFIX + "/blogposts")
async def list_blogposts(request: web.Request) -> web.Response:
    return await _list_content(request, "blogpost")


def _get_typed(store: Store, content_id: str, type: str) -> Content:
    c = store.find(content_id)
    if c is None or c.type != type:
        raise content_not_found(content_id)
    return c


async def _get_content(request: web.Request, type: str) -> web.Response:
    st = state_of(request)
    cid = path_id(request)
    c = _get_typed(st.store, cid, type)
    statuses = multi(request, "status")
    if statuses and c.status not in statuses and "historical" not in statuses:
        raise content_not_found(cid)
    at = None
    number = int_param(request, "version")
    if number is not None and number != c.version.number:
        at = c.version_at(number)
        if at is None:
            raise content_not_found(cid)
    out = shapes_v2.content(st.store, c, body_format=_body_format(request), single=True, at=at)
    if not flag(request, "include-version", True):
        out.pop("version", None)
    kind = "pages" if type == "page" else "blogposts"
    if flag(request, "include-labels"):
        out["labels"] = shapes_v2.labels_field(c, path=f"{PREFIX}/{kind}/{cid}/labels")
    if flag(request, "include-versions"):
        out["versions"] = shapes_v2.versions_field(c, path=f"{PREFIX}/{kind}/{cid}/versions")
    if type == "page" and flag(request, "include-direct-children"):
        out["directChildren"] = _direct_children_field(st.store, c)
    out["_links"]["base"] = _base(request)
    return _json(out)


@routes.get(PREFIX + "/pages/{id}")
async def get_page(request: web.Request) -> web.Response:
    return await _get_content(request, "page")


@routes.get(PREFIX + "/blogposts/{id}")
async def get_blogpost(request: web.Request) -> web.Response:
    return await _get_content(request, "blogpost")


def _body_value(data: dict) -> str | None:
    body = data.get("body")
    if body is None:
        return None
    if not isinstance(body, dict):
        raise BadRequest("body must be an object")
    if "storage" in body and isinstance(body["storage"], dict):
        body = body["storage"]
    representation = body.get("representation", "storage")
    if representation != "storage":
        raise BadRequest(
            f"Unsupported representation: {representation} (the emulator stores "
            "storage format only)"
        )
    value = body.get("value")
    if not isinstance(value, str):
        raise BadRequest("body.value must be a string")
    return value


async def _create_content(request: web.Request, type: str) -> web.Response:
    st = state_of(request)
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest("Request body must be an object")
    space = st.store.space_by_id(data.get("spaceId", ""))
    status = data.get("status", "current")
    if status != "current":
        raise BadRequest(f"Unsupported status for create: {status}")
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        raise BadRequest("Title is required")
    body = _body_value(data) or ""
    parent_id = data.get("parentId")
    c = st.store.create_page(
        space.key,
        title,
        body,
        parent_id=str(parent_id) if parent_id else None,
        root_level=flag(request, "root-level"),
        type=type,
    )
    out = shapes_v2.content(st.store, c, body_format="storage", single=True)
    out["_links"]["base"] = _base(request)
    return _json(out)


@routes.post(PREFIX + "/pages")
async def create_page(request: web.Request) -> web.Response:
    return await _create_content(request, "page")


@routes.post(PREFIX + "/blogposts")
async def create_blogpost(request: web.Request) -> web.Response:
    return await _create_content(request, "blogpost")


async def _update_content(request: web.Request, type: str) -> web.Response:
    st = state_of(request)
    cid = path_id(request)
    c = _get_typed(st.store, cid, type)
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest("Request body must be an object")
    if "id" in data and str(data["id"]) != cid:
        raise BadRequest(f"Id in the body ({data['id']}) does not match the path ({cid})")
    status = data.get("status")
    if status is None or (not data.get("title") and status == "current" and c.status == "current"):
        raise BadRequest("status and title are required")
    version = data.get("version") or {}
    number = version.get("number") if isinstance(version, dict) else None
    if not isinstance(number, int):
        raise BadRequest("version.number is required")
    if status == "current" and c.status == "trashed":
        # a restore: "page contents will not be updated and only the page status will be changed"
        st.store.restore(cid)
    elif status == "current":
        space_id = data.get("spaceId")
        if space_id is not None and str(space_id) != str(st.store.spaces[c.space_key].id):
            raise BadRequest("Moving a page to another space is not supported")
        parent_id = data.get("parentId")
        st.store.update_content(
            cid,
            version=number,
            title=data.get("title"),
            body=_body_value(data),
            parent_id=str(parent_id) if parent_id and type == "page" else None,
            message=str(version.get("message") or ""),
            minor_edit=bool(version.get("minorEdit", False)),
            kind="page" if type == "page" else "blog post",
        )
    else:
        raise BadRequest(f"Unsupported status for update: {status}")
    out = shapes_v2.content(st.store, c, body_format="storage", single=True)
    # A real PUT answer has no position, no lastOwnerId and no version.message/minorEdit
    # (tests/data/realapi/cloud_v2_page_update_answer.json and its SOURCES.md note).
    out.pop("position", None)
    out.pop("lastOwnerId", None)
    out["version"].pop("message", None)
    out["version"].pop("minorEdit", None)
    out["version"].pop("ncsStepVersion", None)
    out["_links"]["base"] = _base(request)
    return _json(out)


@routes.put(PREFIX + "/pages/{id}")
async def update_page(request: web.Request) -> web.Response:
    return await _update_content(request, "page")


@routes.put(PREFIX + "/blogposts/{id}")
async def update_blogpost(request: web.Request) -> web.Response:
    return await _update_content(request, "blogpost")


async def _delete_content(request: web.Request, type: str) -> web.Response:
    st = state_of(request)
    cid = path_id(request)
    c = _get_typed(st.store, cid, type)
    if flag(request, "purge"):
        if c.status != "trashed":
            raise BadRequest("Only trashed content can be purged: delete it first, then purge it")
        st.store.purge(cid)
    elif flag(request, "draft"):
        raise content_not_found(cid)  # the emulator keeps no drafts
    elif c.status == "current":
        st.store.trash(cid)
    return web.Response(status=204)


@routes.delete(PREFIX + "/pages/{id}")
async def delete_page(request: web.Request) -> web.Response:
    return await _delete_content(request, "page")


@routes.delete(PREFIX + "/blogposts/{id}")
async def delete_blogpost(request: web.Request) -> web.Response:
    return await _delete_content(request, "blogpost")


# ---- tree ---------------------------------------------------------------------------

CHILD_SORTS = {
    "child-position": lambda c: c.position,
    "id": lambda c: int(c.id),
    "created-date": lambda c: (c.created, int(c.id)),
    "modified-date": lambda c: (c.modified, int(c.id)),
}


@routes.get(PREFIX + "/pages/{id}/children")
async def page_children(request: web.Request) -> web.Response:
    st = state_of(request)
    c = _get_typed(st.store, path_id(request), "page")
    limit = parse_limit(request, 25, MAX_LIMIT)
    sort = request.query.get("sort") or "child-position"
    if sort.lstrip("-") not in CHILD_SORTS:
        raise BadRequest(f"Invalid sort: {sort}")
    # pages only: "children listings omit folders unless asked" (pchuri/confluence-cli PR
    # #224, sooperset/mcp-atlassian PR #787 in shared/realapi/SOURCES.md); ChildPage schema
    kids = [k for k in st.store.children(c.id) if k.status == "current" and k.type == "page"]
    kids.sort(key=CHILD_SORTS[sort.lstrip("-")], reverse=sort.startswith("-"))
    offset = int(decode_cursor(request.query.get("cursor")).get("offset", 0))
    page = kids[offset : offset + limit]
    nxt = encode_cursor({"offset": offset + limit}) if offset + limit < len(kids) else None
    space_id = str(st.store.spaces[c.space_key].id)
    results = [shapes_v2.child(k) | {"spaceId": space_id} for k in page]
    return v2_page(request, results, nxt, _base(request))


def _direct_kids(store: Store, parent_id: str) -> list[Content]:
    return [k for k in store.children(parent_id) if k.status == "current"]


def _direct_children_field(store: Store, c: Content) -> dict:
    """``include-direct-children=true`` on a page (realapi/cloud_v2_page_home_null_parent
    .json): the first 50, every tree type, items without ``spaceId``."""
    kids = _direct_kids(store, c.id)
    return {
        "_links": {"self": f"/api/v2/pages/{c.id}/direct-children"},
        "meta": {"hasMore": len(kids) > 50},
        "results": [shapes_v2.direct_child(k) for k in kids[:50]],
    }


async def _direct_children(request: web.Request, type: str) -> web.Response:
    """``GET /{pages|folders|whiteboards|databases|embeds}/{id}/direct-children``: a newer
    v2 endpoint (not in the 2025-02 spec copy): children of every tree type in child
    position order, each with its ``type`` (atlcli's FolderChild: pages, folders,
    whiteboards, databases, embeds; realapi/cloud_v2_page_home_null_parent.json for the
    item keys). ``spaceId`` is added as the existing page route did; not verified."""
    st = state_of(request)
    c = _get_typed(st.store, path_id(request), type)
    limit = parse_limit(request, 25, MAX_LIMIT)
    kids = _direct_kids(st.store, c.id)
    offset = int(decode_cursor(request.query.get("cursor")).get("offset", 0))
    page = kids[offset : offset + limit]
    nxt = encode_cursor({"offset": offset + limit}) if offset + limit < len(kids) else None
    space_id = str(st.store.spaces[c.space_key].id)
    results = [shapes_v2.direct_child(k) | {"spaceId": space_id} for k in page]
    return v2_page(request, results, nxt, _base(request))


@routes.get(PREFIX + "/pages/{id}/direct-children")
async def page_direct_children(request: web.Request) -> web.Response:
    return await _direct_children(request, "page")


#: ``depth`` of the descendants endpoints: default 2, at most 10 (the published v2
#: document's ``DescendantsResponse`` operations; api-evangelist/confluence
#: openapi/confluence-descendants-api-openapi.yml). A larger value is served as 10.
DESCENDANTS_DEPTH = (2, 10)


async def _descendants(request: web.Request, type: str) -> web.Response:
    """``GET /{pages|folders|whiteboards|databases|embeds}/{id}/descendants``: a v2
    endpoint newer than the 2025-02 spec copy. Per the published document: content of
    every tree type (database, embed, folder, page, whiteboard) "in top-to-bottom order",
    each ``DescendantsResponse`` {id, status, title, type, parentId, depth, childPosition},
    ``depth`` relative to the requested content, at most ``depth`` levels (default 2, max
    10); deeper content is read from the deepest descendant's own endpoint. Status is
    current (the emulator models no archived content). Served depth-first."""
    st = state_of(request)
    c = _get_typed(st.store, path_id(request), type)
    limit = parse_limit(request, 25, MAX_LIMIT)
    default, maximum = DESCENDANTS_DEPTH
    max_depth = int_param(request, "depth") or default
    if max_depth < 1:
        raise BadRequest(f"depth must be at least 1, got {max_depth}")
    max_depth = min(max_depth, maximum)
    out: list[dict] = []

    def walk(parent_id: str, depth: int) -> None:
        if depth > max_depth:
            return
        for k in st.store.children(parent_id):
            if k.status != "current":
                continue
            out.append(
                {
                    "id": k.id,
                    "status": k.status,
                    "title": k.title,
                    "type": k.type,
                    "parentId": parent_id,
                    "depth": depth,
                    "childPosition": k.position,
                }
            )
            walk(k.id, depth + 1)

    walk(c.id, 1)
    offset = int(decode_cursor(request.query.get("cursor")).get("offset", 0))
    page = out[offset : offset + limit]
    nxt = encode_cursor({"offset": offset + limit}) if offset + limit < len(out) else None
    return v2_page(request, page, nxt, _base(request))


@routes.get(PREFIX + "/pages/{id}/descendants")
async def page_descendants(request: web.Request) -> web.Response:
    return await _descendants(request, "page")


@routes.get(PREFIX + "/pages/{id}/ancestors")
async def page_ancestors(request: web.Request) -> web.Response:
    return await _ancestors(request, "page")


# ---- folders, whiteboards, databases, embeds -----------------------------------------

#: URL segment -> content type of the tree containers the v2 spec serves.
CONTAINER_ROUTES = {
    "folders": "folder",
    "whiteboards": "whiteboard",
    "databases": "database",
    "embeds": "embed",
}
assert set(CONTAINER_ROUTES.values()) == set(CONTAINER_TYPES)


def _container_type(request: web.Request) -> str:
    """The container type from the path's first segment after the prefix."""
    return CONTAINER_ROUTES[request.path.removeprefix(PREFIX + "/").split("/", 1)[0]]


async def create_container(request: web.Request) -> web.Response:
    """``POST /folders`` (FolderCreateRequest), ``/whiteboards``, ``/databases``, ``/embeds``
    (SmartLinkCreateRequest, with ``embedUrl``): 200 with the ``*Single`` shape. A missing
    title becomes "Untitled <type>" (not verified); ``templateKey``/``locale`` are ignored."""
    st = state_of(request)
    type = _container_type(request)
    data = await read_json(request)
    if not isinstance(data, dict):
        raise BadRequest("Request body must be an object")
    if not data.get("spaceId"):
        raise BadRequest("spaceId is required")
    space = st.store.space_by_id(data["spaceId"])
    title = data.get("title")
    if title is None or title == "":
        title = f"Untitled {type}"
    if not isinstance(title, str) or not title.strip():
        raise BadRequest("title must be a non-blank string")
    parent_id = data.get("parentId")
    embed_url = data.get("embedUrl") if type == "embed" else ""
    c = st.store.create_container(
        space.key,
        type,
        title,
        parent_id=str(parent_id) if parent_id else None,
        embed_url=str(embed_url or ""),
    )
    out = shapes_v2.container(st.store, c)
    out["_links"]["base"] = _base(request)
    return _json(out)


async def get_container(request: web.Request) -> web.Response:
    st = state_of(request)
    c = _get_typed(st.store, path_id(request), _container_type(request))
    out = shapes_v2.container(st.store, c)
    out["_links"]["base"] = _base(request)
    return _json(out)


async def delete_container(request: web.Request) -> web.Response:
    """204; to the trash ("Deleting a folder moves the folder to the trash, where it can be
    restored later", v2 spec DELETE /folders/{id}). What goes with it: ``Store.trash``."""
    st = state_of(request)
    c = _get_typed(st.store, path_id(request), _container_type(request))
    if c.status == "current":
        st.store.trash(c.id)
    return web.Response(status=204)


async def _ancestors(request: web.Request, type: str) -> web.Response:
    """``MultiEntityResult<Ancestor>``: top-to-bottom, every tree type with its ``type``
    (AncestorType = page|whiteboard|database|embed|folder); with a limit, the nearest."""
    st = state_of(request)
    c = _get_typed(st.store, path_id(request), type)
    limit = parse_limit(request, 25, MAX_LIMIT)
    chain = st.store.ancestors(c.id)[-limit:]
    return _json(
        {"results": [shapes_v2.ancestor(a) for a in chain], "_links": {"base": _base(request)}}
    )


async def container_ancestors(request: web.Request) -> web.Response:
    return await _ancestors(request, _container_type(request))


async def container_direct_children(request: web.Request) -> web.Response:
    return await _direct_children(request, _container_type(request))


async def container_descendants(request: web.Request) -> web.Response:
    return await _descendants(request, _container_type(request))


@routes.get(PREFIX + "/folders")
async def list_folders(request: web.Request) -> web.Response:
    """The v2 spec has no folder listing and real sites answer it unreliably: a 500 is
    recorded in public design notes (shared/realapi/SOURCES.md, 'ADR 0018/0023'), and atlcli
    documents the listing as unreliable. Answered with that 500 so clients find folders
    from the pages' parentId instead."""
    raise ApiError("Internal server error", status=500, title="Internal Server Error")


for _kind in CONTAINER_ROUTES:
    routes.post(f"{PREFIX}/{_kind}")(create_container)
    routes.get(f"{PREFIX}/{_kind}/{{id}}")(get_container)
    routes.delete(f"{PREFIX}/{_kind}/{{id}}")(delete_container)
    routes.get(f"{PREFIX}/{_kind}/{{id}}/ancestors")(container_ancestors)
    routes.get(f"{PREFIX}/{_kind}/{{id}}/direct-children")(container_direct_children)
    routes.get(f"{PREFIX}/{_kind}/{{id}}/descendants")(container_descendants)


# ---- versions -----------------------------------------------------------------------


async def _versions(request: web.Request, type: str) -> web.Response:
    st = state_of(request)
    c = _get_typed(st.store, path_id(request), type)
    limit = parse_limit(request, 25, MAX_LIMIT)
    sort = request.query.get("sort") or "-modified-date"
    versions = list(c.versions)
    if sort.startswith("-"):
        versions.reverse()
    offset = int(decode_cursor(request.query.get("cursor")).get("offset", 0))
    page = versions[offset : offset + limit]
    nxt = encode_cursor({"offset": offset + limit}) if offset + limit < len(versions) else None
    fmt = _body_format(request)
    results = []
    for v in page:
        item = shapes_v2.version(v)
        item[type if type == "page" else "post"] = {"id": c.id, "title": v.title}
        if fmt:
            item[type if type == "page" else "post"]["body"] = {
                fmt: {"representation": fmt, "value": v.body}
            }
        results.append(item)
    return v2_page(request, results, nxt, _base(request))


@routes.get(PREFIX + "/pages/{id}/versions")
async def page_versions(request: web.Request) -> web.Response:
    return await _versions(request, "page")


@routes.get(PREFIX + "/blogposts/{id}/versions")
async def blogpost_versions(request: web.Request) -> web.Response:
    return await _versions(request, "blogpost")


# ---- attachments --------------------------------------------------------------------


async def _content_attachments(request: web.Request, type: str) -> web.Response:
    st = state_of(request)
    c = _get_typed(st.store, path_id(request), type)
    limit = parse_limit(request, 50, MAX_LIMIT)
    statuses = _statuses(request, ["current"])
    filename = request.query.get("filename")
    media_type = request.query.get("mediaType")
    atts = [
        a
        for a in st.store.attachments_of(c.id)
        if a.status in statuses
        and (filename is None or a.filename == filename)
        and (media_type is None or a.media_type == media_type)
    ]
    sort = request.query.get("sort") or ""
    if sort.lstrip("-") == "created-date":
        atts.sort(key=lambda a: a.created, reverse=sort.startswith("-"))
    elif sort.lstrip("-") == "modified-date":
        atts.sort(key=lambda a: a.version.when, reverse=sort.startswith("-"))
    offset = int(decode_cursor(request.query.get("cursor")).get("offset", 0))
    page = atts[offset : offset + limit]
    nxt = encode_cursor({"offset": offset + limit}) if offset + limit < len(atts) else None
    results = [shapes_v2.attachment(st.store, a) for a in page]
    return v2_page(request, results, nxt, _base(request))


@routes.get(PREFIX + "/pages/{id}/attachments")
async def page_attachments(request: web.Request) -> web.Response:
    return await _content_attachments(request, "page")


@routes.get(PREFIX + "/blogposts/{id}/attachments")
async def blogpost_attachments(request: web.Request) -> web.Response:
    return await _content_attachments(request, "blogpost")


def _attachment_id(request: web.Request) -> str:
    raw = request.match_info["id"]
    digits = raw[3:] if raw.startswith("att") else raw
    if not digits.isdigit():
        raise BadRequest(f"Invalid attachment id: {raw}")
    return "att" + digits


@routes.get(PREFIX + "/attachments/{id}")
async def get_attachment(request: web.Request) -> web.Response:
    st = state_of(request)
    a = st.store.get_attachment(_attachment_id(request))
    out = shapes_v2.attachment(st.store, a)
    out["_links"]["base"] = _base(request)
    return _json(out)


@routes.delete(PREFIX + "/attachments/{id}")
async def delete_attachment(request: web.Request) -> web.Response:
    st = state_of(request)
    a = st.store.get_attachment(_attachment_id(request))
    purge = flag(request, "purge")
    if purge and a.status != "trashed":
        raise BadRequest("Only trashed attachments can be purged")
    st.store.delete_attachment(a.id, purge=purge)
    return web.Response(status=204)


# ---- labels -------------------------------------------------------------------------


async def _content_labels(request: web.Request, type: str) -> web.Response:
    st = state_of(request)
    c = _get_typed(st.store, path_id(request), type)
    return _label_page(request, list(c.labels.values()))


def _label_page(request: web.Request, labels: list[Label]) -> web.Response:
    """One cursor page of labels: ``prefix`` filter, ``sort``, ``limit``."""
    limit = parse_limit(request, 25, MAX_LIMIT)
    prefix = request.query.get("prefix")
    labels = [lb for lb in labels if prefix is None or lb.prefix == prefix]
    sort = request.query.get("sort") or ""
    if sort.lstrip("-") == "name":
        labels.sort(key=lambda lb: lb.name, reverse=sort.startswith("-"))
    elif sort.lstrip("-") in ("id", "created-date"):
        labels.sort(key=lambda lb: int(lb.id), reverse=sort.startswith("-"))
    offset = int(decode_cursor(request.query.get("cursor")).get("offset", 0))
    page = labels[offset : offset + limit]
    nxt = encode_cursor({"offset": offset + limit}) if offset + limit < len(labels) else None
    return v2_page(request, [shapes_v2.label(lb) for lb in page], nxt, _base(request))


@routes.get(PREFIX + "/pages/{id}/labels")
async def page_labels(request: web.Request) -> web.Response:
    return await _content_labels(request, "page")


@routes.get(PREFIX + "/blogposts/{id}/labels")
async def blogpost_labels(request: web.Request) -> web.Response:
    return await _content_labels(request, "blogpost")


@routes.get(PREFIX + "/spaces/{id}/content/labels")
async def space_content_labels(request: web.Request) -> web.Response:
    """The labels on the space's current pages and blog posts, each once (by label id).

    The v2 spec's ``prefix`` enum lists only ``my`` and ``team`` (default both), yet the
    operation is documented as returning the labels of space content; the emulator
    returns every prefix unless ``prefix`` is given, and filters by any prefix named."""
    st = state_of(request)
    space = st.store.space_by_id(path_id(request))
    used: dict[str, Label] = {}
    for type in ("page", "blogpost"):
        for c in st.store.listing(space.key, type):
            if c.status == "current":
                for lb in c.labels.values():
                    used.setdefault(lb.id, lb)
    return _label_page(request, sorted(used.values(), key=lambda lb: int(lb.id)))


@routes.get(PREFIX + "/labels/{id}/pages")
async def label_pages(request: web.Request) -> web.Response:
    """The current pages carrying a label, optionally only in some spaces (``space-id``)."""
    st = state_of(request)
    label_id = path_id(request)
    space_ids = multi(request, "space-id")
    if len(space_ids) > 100:
        raise BadRequest("Too many space ids")
    keys = _space_keys(st.store, space_ids)
    page, nxt = _paged_content(
        request,
        None,
        store=st.store,
        space_keys=keys,
        type="page",
        statuses={"current"},
        title=None,
        extra_filter=lambda c: any(lb.id == label_id for lb in c.labels.values()),
    )
    fmt = _body_format(request)
    results = [shapes_v2.content(st.store, c, body_format=fmt) for c in page]
    return v2_page(request, results, nxt, _base(request))


def _json(data: dict) -> web.Response:
    return json_response(data)


@routes.route("*", PREFIX + "/{tail:.*}")
async def unknown(request: web.Request) -> web.Response:
    raise ApiError(f"No route for {request.method} {request.path}", status=404, title="Not Found")
