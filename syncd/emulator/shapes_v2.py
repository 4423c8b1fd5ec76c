"""JSON shapes of Cloud REST v2 (``PageBulk``/``PageSingle``, ``SpaceBulk``, ``ChildPage``,
``AttachmentBulk``, ``Label``, ``Version``, ``FolderSingle``, ``WhiteboardSingle``,
``DatabaseSingle``, ``SmartLinkSingle``, ``Ancestor``), field names as in openapi-v2.v3.json.

Every id is a string. A page without a parent (the home page) says ``"parentId": null,
"parentType": null``, as real answers do (shared/realapi/cloud_v2_page_home_null_parent.json,
cloud_v2_pages_listing_trimmed.json), though the spec types ``parentId`` as a plain string.
"""

from __future__ import annotations

from urllib.parse import quote

from syncd.emulator.model import TREE_TYPES, Attachment, Content, Label, Space, Version, iso_ms
from syncd.emulator.store import Store


def version(v: Version) -> dict:
    return {
        "createdAt": iso_ms(v.when),
        "message": v.message,
        "number": v.number,
        "minorEdit": v.minor_edit,
        "authorId": v.author,
    }


def page_links(c: Content, space_key: str, title: str) -> dict:
    kind = "pages" if c.type == "page" else "blog"
    out = {
        "webui": f"/spaces/{space_key}/{kind}/{c.id}/{quote(title.replace(' ', '+'), safe='+')}",
        "editui": f"/pages/resumedraft.action?draftId={c.id}",
        "tinyui": f"/x/{c.id}",
    }
    if c.type == "page":  # realapi/cloud_v2_page_get_storage.json and the create answer
        out["edituiv2"] = f"/spaces/{space_key}/pages/edit-v2/{c.id}"
    return out


def content(
    store: Store,
    c: Content,
    *,
    body_format: str | None = None,
    single: bool = False,
    at: Version | None = None,
) -> dict:
    """A page or blog post (``at``: a historical version to render instead of the current)."""
    v = at or c.version
    space = store.spaces[c.space_key]
    out: dict = {
        "id": c.id,
        "status": "historical" if at is not None and at is not c.version else c.status,
        "title": v.title,
        "spaceId": str(space.id),
    }
    if c.type == "page":
        out.update(parent_fields(store, c))
        out["position"] = c.position
    out["authorId"] = c.author
    if c.type == "page":
        out["ownerId"] = c.author
        out["lastOwnerId"] = None
    out["createdAt"] = iso_ms(c.created)
    out["version"] = version(v)
    if c.type == "page" and single:
        # real page versions carry the editor's step as a string ("1", "10" in
        # realapi/cloud_v2_page_create_answer.json, cloud_v2_page_get_storage.json); the
        # emulator has no collaborative editor and says the version number. Single answers
        # only: the recorded listing (cloud_v2_pages_listing_trimmed.json) has none
        out["version"]["ncsStepVersion"] = str(v.number)
    if body_format:
        out["body"] = {body_format: {"representation": body_format, "value": v.body}}
    elif single:
        out["body"] = {}
    out["_links"] = page_links(c, c.space_key, v.title)
    return out


def parent_fields(store: Store, c: Content) -> dict:
    """``parentId``/``parentType``: the parent's own type (``ParentContentType``), so a page
    in a folder says ``"parentType": "folder"`` (realapi/cloud_v2_page_in_folder_create_answer
    .json)."""
    parent = store.content.get(c.parent_id) if c.parent_id else None
    if parent is None or parent.type not in TREE_TYPES:
        return {"parentId": None, "parentType": None}
    return {"parentId": parent.id, "parentType": parent.type}


#: Where each container type lives in the web UI (not verified against a live site).
CONTAINER_WEBUI = {
    "folder": "folder",
    "whiteboard": "whiteboard",
    "database": "database",
    "embed": "embed",
}


def container(store: Store, c: Content) -> dict:
    """A folder (``FolderSingle``), whiteboard, database or embed (``SmartLinkSingle``).

    Folders' ``createdAt`` is an int of epoch milliseconds, unlike every other v2
    ``createdAt`` and unlike the spec's ``date-time`` string (hunyadi/md2conf PR #290, a
    maintainer's observation against live Cloud, see shared/realapi/SOURCES.md). The other
    containers keep the spec's ISO string (nothing recorded says otherwise).
    """
    space = store.spaces[c.space_key]
    out: dict = {
        "id": c.id,
        "type": c.type,
        "status": c.status,
        "title": c.title,
    }
    out.update(parent_fields(store, c))
    out["position"] = c.position
    out["authorId"] = c.author
    out["ownerId"] = c.author
    out["createdAt"] = c.created if c.type == "folder" else iso_ms(c.created)
    if c.type == "embed" and c.embed_url:
        out["embedUrl"] = c.embed_url
    out["version"] = version(c.version)
    webui = f"/spaces/{space.key}/{CONTAINER_WEBUI[c.type]}/{c.id}"
    links = {"webui": webui}
    if c.type == "whiteboard":
        links["editui"] = webui
    out["_links"] = links
    return out


def direct_child(c: Content) -> dict:
    """An item of ``directChildren`` / ``direct-children``: any tree type, with ``type``
    (realapi/cloud_v2_page_home_null_parent.json: childPosition, id, status, title, type)."""
    return {
        "childPosition": c.position,
        "id": c.id,
        "status": c.status,
        "title": c.title,
        "type": c.type,
    }


def labels_field(c: Content, *, path: str) -> dict:
    items = [label(lb) for lb in c.labels.values()]
    return {
        "results": items[:50],
        "meta": {"hasMore": len(items) > 50, "cursor": ""},
        "_links": {"self": path},
    }


def versions_field(c: Content, *, path: str) -> dict:
    items = [version(v) for v in reversed(c.versions)]
    return {
        "results": items[:50],
        "meta": {"hasMore": len(items) > 50, "cursor": ""},
        "_links": {"self": path},
    }


def space(s: Space) -> dict:
    return {
        "id": str(s.id),
        "key": s.key,
        "name": s.name,
        "type": s.type,
        "status": s.status,
        "authorId": s.author,
        "createdAt": iso_ms(s.created),
        "homepageId": s.homepage_id,
        # as in realapi/cloud_v2_space_get.json: the owner, the key alias, and null
        # description/icon unless asked for (description-format, include-icon)
        "spaceOwnerId": s.author,
        "currentActiveAlias": s.key,
        "description": None,
        "icon": None,
        "_links": {"webui": f"/spaces/{s.key}"},
    }


def child(c: Content) -> dict:
    return {
        "id": c.id,
        "status": c.status,
        "title": c.title,
        "spaceId": "",  # filled by the caller, which knows the space
        "childPosition": c.position,
    }


def ancestor(c: Content) -> dict:
    return {"id": c.id, "type": c.type}


def label(lb: Label) -> dict:
    return {"id": lb.id, "name": lb.name, "prefix": lb.prefix}


MEDIA_DESCRIPTIONS = {
    "image/png": "PNG Image",
    "image/jpeg": "JPEG Image",
    "image/gif": "GIF Image",
    "application/pdf": "PDF Document",
    "text/plain": "Text File",
}


def attachment(store: Store, a: Attachment) -> dict:
    c = store.content.get(a.container_id)
    space_key = c.space_key if c else ""
    download = f"/download/attachments/{a.container_id}/{quote(a.filename)}?version={a.version.number}&api=v2"
    webui = f"/spaces/{space_key}/pages/{a.container_id}?preview=/{a.container_id}/{a.id}/{quote(a.filename)}"
    out: dict = {
        "id": a.id,
        "status": a.status,
        "title": a.filename,
        "createdAt": iso_ms(a.created),
    }
    if c is not None and c.type == "blogpost":
        out["blogPostId"] = a.container_id
    else:
        out["pageId"] = a.container_id
    out.update(
        {
            "mediaType": a.media_type,
            "mediaTypeDescription": MEDIA_DESCRIPTIONS.get(a.media_type, "File"),
            "comment": a.comment,
            "fileId": a.file_id,
            "fileSize": a.size,
            "webuiLink": webui,
            "downloadLink": download,
            "version": {
                "createdAt": iso_ms(a.version.when),
                "message": a.comment,
                "number": a.version.number,
                "minorEdit": a.version.minor_edit,
                "authorId": a.version.author,
            },
            "_links": {"webui": webui, "download": download},
        }
    )
    return out
