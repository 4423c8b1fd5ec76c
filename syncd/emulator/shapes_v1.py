"""JSON shapes of the v1 REST API (Cloud ``/wiki/rest/api``) and DC ``/rest/api``: ``Content``
with ``expand``, ``Space``, ``Version``, ``Label``, users. Field names follow swagger.v3.json
(Cloud) and confluence-dc-10.0.3-openapi.json (DC); the two differ mainly in how users are
identified (``accountId`` on Cloud, ``userKey``/``username`` on DC)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from syncd.emulator.model import (
    CONTAINER_TYPES,
    TREE_TYPES,
    Attachment,
    Content,
    Label,
    Space,
    User,
    Version,
    iso_ms,
)
from syncd.emulator.shapes_v2 import MEDIA_DESCRIPTIONS
from syncd.emulator.store import Store

DEFAULT_SINGLE_EXPAND = frozenset({"space", "history", "version"})


@dataclass
class Ctx:
    """How to render for one request: flavor, site base and API path."""

    store: Store
    flavor: str
    base: str  # http://host:port/wiki (cloud) or http://host:port (dc)
    context: str  # "/wiki" or ""

    @property
    def api(self) -> str:
        """API path relative to base: always ``/rest/api``."""
        return "/rest/api"


def parse_expand(raw: str | None) -> set[str]:
    """``body.storage,version`` -> {"body", "body.storage", "version"} (parents included)."""
    out: set[str] = set()
    for item in (raw or "").split(","):
        item = item.strip()
        if not item:
            continue
        parts = item.split(".")
        for i in range(1, len(parts) + 1):
            out.add(".".join(parts[:i]))
    return out


def user(ctx: Ctx, u: User) -> dict:
    picture = {
        "path": "/images/icons/profilepics/default.svg",
        "width": 48,
        "height": 48,
        "isDefault": True,
    }
    if ctx.flavor == "cloud":
        return {
            "type": "known",
            "accountId": u.account_id,
            "accountType": "atlassian",
            "email": u.email,
            "publicName": u.display_name,
            "profilePicture": picture,
            "displayName": u.display_name,
            "isExternalCollaborator": False,
            # Cloud's User documents the zone (the tenant's when privacy hides the
            # user's); CQL dates are read in it, and the emulator reads them as UTC.
            "timeZone": "UTC",
            "_expandable": {"operations": "", "personalSpace": ""},
            "_links": {"self": f"{ctx.base}/rest/api/user?accountId={u.account_id}"},
        }
    return {
        "type": "known",
        "username": u.username,
        "userKey": u.user_key,
        "profilePicture": picture,
        "displayName": u.display_name,
        "_links": {"self": f"{ctx.base}/rest/api/user?key={u.user_key}"},
        "_expandable": {"status": ""},
    }


def space(ctx: Ctx, s: Space, expand: set[str] | None = None) -> dict:
    expand = expand or set()
    out: dict = {
        "id": s.id,
        "key": s.key,
        "name": s.name,
        "type": s.type,
        "status": s.status,
    }
    expandable = {
        "settings": f"/rest/api/space/{s.key}/settings",
        "metadata": "",
        "operations": "",
        "lookAndFeel": f"/rest/api/settings/lookandfeel?spaceKey={s.key}",
        "identifiers": "",
        "permissions": "",
        "icon": "",
        "description": "",
        "theme": f"/rest/api/space/{s.key}/theme",
        "history": "",
        "homepage": f"/rest/api/content/{s.homepage_id}",
    }
    if "description" in expand:
        out["description"] = {
            "plain": {
                "value": s.description,
                "representation": "plain",
                "embeddedContent": [],
                "_expandable": {},
            },
            "_expandable": {"view": ""},
        }
        expandable.pop("description")
    if "homepage" in expand and s.homepage_id:
        home = ctx.store.find(s.homepage_id)
        if home is not None:
            out["homepage"] = content(ctx, home, set())
            expandable.pop("homepage")
    out["_expandable"] = expandable
    out["_links"] = {"webui": f"/spaces/{s.key}", "self": f"{ctx.base}/rest/api/space/{s.key}"}
    return out


def version(ctx: Ctx, c: Content, v: Version) -> dict:
    out = {
        "by": user(ctx, ctx.store.user_by_account(v.author)),
        "when": iso_ms(v.when),
        "friendlyWhen": "just a moment ago",
        "message": v.message,
        "number": v.number,
        "minorEdit": v.minor_edit,
        "_expandable": {"collaborators": "", "content": f"/rest/api/content/{c.id}"},
        "_links": {"self": f"{ctx.base}/rest/api/content/{c.id}/version/{v.number}"},
    }
    if ctx.flavor == "cloud":
        out["contentTypeModified"] = False
        out["confRev"] = f"confluence${c.id}.{v.number}"
        if c.type == "page":  # realapi/cloud_v1_content_create_answer.json
            out["ncsStepVersion"] = str(v.number)
            out["ncsStepVersionSource"] = "ncs-ack"
    else:
        out["hidden"] = False
    return out


def _webui(c: Content, title: str) -> str:
    if c.type == "blogpost":
        return f"/spaces/{c.space_key}/blog/{c.id}"
    if c.type in CONTAINER_TYPES:
        return f"/spaces/{c.space_key}/{c.type}/{c.id}"  # not verified
    return f"/spaces/{c.space_key}/pages/{c.id}/{quote(title.replace(' ', '+'), safe='+')}"


def label(lb: Label) -> dict:
    return {"prefix": lb.prefix, "name": lb.name, "id": lb.id, "label": lb.name}


def content(
    ctx: Ctx, c: Content, expand: set[str], *, at: Version | None = None, nested: bool = False
) -> dict:
    """A page, blog post or comment as v1 renders it, expanding what was asked for.

    ``nested``: an object inside another answer (an ancestor), whose ``_links`` on Cloud
    are only self/tinyui/editui/webui (realapi/cloud_v1_content_create_answer.json).
    """
    v = at or c.version
    historical = at is not None and at is not c.version
    cloud = ctx.flavor == "cloud"
    out: dict = {
        "id": c.id,
        "type": c.type,
        "status": "historical" if historical else c.status,
        "title": v.title,
    }
    if cloud:
        out["macroRenderedOutput"] = {}
    expandable = {
        "container": f"/rest/api/space/{c.space_key}",
        "metadata": "",
        "operations": "",
        "children": f"/rest/api/content/{c.id}/child",
        "restrictions": f"/rest/api/content/{c.id}/restriction/byOperation",
        "history": f"/rest/api/content/{c.id}/history",
        "ancestors": "",
        "body": "",
        "version": "",
        "descendants": f"/rest/api/content/{c.id}/descendant",
        "space": f"/rest/api/space/{c.space_key}",
    }
    s = ctx.store.spaces[c.space_key]
    if "space" in expand:
        out["space"] = space(ctx, s)
        expandable.pop("space")
    if "history" in expand:
        history: dict = {
            "latest": not historical,
            "createdBy": user(ctx, ctx.store.user_by_account(c.author)),
            "createdDate": iso_ms(c.created),
            "_expandable": {
                "lastUpdated": "",
                "previousVersion": "",
                "contributors": "",
                "nextVersion": "",
                **({"lastOwnedBy": "", "ownedBy": ""} if cloud else {}),
            },
            "_links": {"self": f"{ctx.base}/rest/api/content/{c.id}/history"},
        }
        if "history.lastUpdated" in expand:
            history["lastUpdated"] = version(ctx, c, c.version)
            history["_expandable"].pop("lastUpdated")
        out["history"] = history
        expandable.pop("history")
    if "version" in expand:
        out["version"] = version(ctx, c, v)
        expandable.pop("version")
    if cloud:
        expandable.update(childTypes="", schedulePublishDate="", schedulePublishInfo="")
    if "ancestors" in expand:
        # Containers (folders...) are listed with their own ``type``, like pages: the v1
        # content endpoint serves folders as content (omar16100/atlassian-cli issue #49:
        # "/wiki/rest/api/content/{id} returns both pages and folders uniformly"); that v1
        # ``ancestors`` of a page in a folder include the folder is assumed, not verified.
        out["ancestors"] = [content(ctx, a, set(), nested=True) for a in ctx.store.ancestors(c.id)]
        expandable.pop("ancestors")
    if "container" in expand:
        parent = ctx.store.find(c.parent_id) if c.type == "comment" and c.parent_id else None
        out["container"] = content(ctx, parent, set()) if parent else space(ctx, s)
        expandable.pop("container")
    if "body" in expand:
        body: dict = {}
        for rep in (
            "storage",
            "view",
            "export_view",
            "styled_view",
            "editor",
            "editor2",
            "anonymous_export_view",
        ):
            if f"body.{rep}" in expand:
                body[rep] = {
                    "value": v.body,
                    "representation": rep,
                    "embeddedContent": [],
                    "_expandable": {"content": f"/rest/api/content/{c.id}"},
                }
        body["_expandable"] = {
            rep: ""
            for rep in (
                "editor",
                "view",
                "export_view",
                "styled_view",
                "storage",
                "editor2",
                "anonymous_export_view",
                *(("atlas_doc_format", "dynamic") if cloud else ()),
            )
            if rep not in body
        }
        out["body"] = body
        expandable.pop("body")
    if "children" in expand:
        children: dict = {
            "_expandable": {
                "attachment": f"/rest/api/content/{c.id}/child/attachment",
                "comment": f"/rest/api/content/{c.id}/child/comment",
                "page": f"/rest/api/content/{c.id}/child/page",
            }
        }
        if "children.page" in expand:
            kids = [
                k for k in ctx.store.children(c.id) if k.status == "current" and k.type == "page"
            ]
            children["page"] = _inline_array(
                [content(ctx, k, set()) for k in kids[:25]],
                f"{ctx.base}/rest/api/content/{c.id}/child/page",
            )
            children["_expandable"].pop("page")
        if "children.attachment" in expand:
            atts = [a for a in ctx.store.attachments_of(c.id) if a.status == "current"]
            children["attachment"] = _inline_array(
                [attachment(ctx, a, set()) for a in atts[:25]],
                f"{ctx.base}/rest/api/content/{c.id}/child/attachment",
            )
            children["_expandable"].pop("attachment")
        out["children"] = children
        expandable.pop("children")
    if "metadata" in expand:
        metadata: dict = {
            "_expandable": {
                "currentuser": "",
                "comments": "",
                "simple": "",
                "properties": "",
                "frontend": "",
                "likes": "",
            }
        }
        if "metadata.labels" in expand:
            labels = [label(lb) for lb in c.labels.values()]
            metadata["labels"] = {
                "results": labels,
                "start": 0,
                "limit": 200,
                "size": len(labels),
                "_links": {"self": f"{ctx.base}/rest/api/content/{c.id}/label"},
            }
        out["metadata"] = metadata
        expandable.pop("metadata")
    if c.type in TREE_TYPES:
        out["extensions"] = {"position": c.position}
    out["_expandable"] = expandable
    edit = f"/pages/resumedraft.action?draftId={c.id}"
    if cloud and nested:
        out["_links"] = {
            "self": f"{ctx.base}/rest/api/content/{c.id}",
            "tinyui": f"/x/{c.id}",
            "editui": edit,
            "webui": _webui(c, v.title),
        }
        return out
    out["_links"] = {
        "webui": _webui(c, v.title),
        # Cloud names the editor link editui (realapi/cloud_v1_content_create_answer.json)
        ("editui" if cloud else "edit"): edit,
        "tinyui": f"/x/{c.id}",
        "self": f"{ctx.base}/rest/api/content/{c.id}",
        "collection": "/rest/api/content",
        "base": ctx.base,
        "context": ctx.context,
    }
    return out


def attachment(ctx: Ctx, a: Attachment, expand: set[str]) -> dict:
    parent = ctx.store.find(a.container_id)
    download = (
        f"/download/attachments/{a.container_id}/{quote(a.filename)}"
        f"?version={a.version.number}&modificationDate={a.version.when}&api=v2"
    )
    out: dict = {
        "id": a.id,
        "type": "attachment",
        "status": a.status,
        "title": a.filename,
        "macroRenderedOutput": {},
        "metadata": {
            "comment": a.comment,
            "mediaType": a.media_type,
            "_expandable": {"currentuser": "", "properties": "", "frontend": "", "labels": ""},
        },
        "extensions": {
            "mediaType": a.media_type,
            "fileSize": a.size,
            "comment": a.comment,
            "fileId": a.file_id,
            # as in realapi/cloud_v1_attachment_upload_answer.json
            **(
                {
                    "mediaTypeDescription": MEDIA_DESCRIPTIONS.get(a.media_type, "File"),
                    "collectionName": f"contentId-{a.container_id}",
                }
                if ctx.flavor == "cloud"
                else {}
            ),
        },
    }
    v = a.version
    if "version" in expand:
        out["version"] = {
            "by": user(ctx, ctx.store.user_by_account(v.author)),
            "when": iso_ms(v.when),
            "friendlyWhen": "just a moment ago",
            "message": v.comment,
            "number": v.number,
            "minorEdit": v.minor_edit,
            **({"contentTypeModified": False} if ctx.flavor == "cloud" else {}),
            "_expandable": {"collaborators": "", "content": f"/rest/api/content/{a.id}"},
            "_links": {"self": f"{ctx.base}/rest/api/content/{a.id}/version/{v.number}"},
        }
    if "container" in expand and parent is not None:
        out["container"] = content(ctx, parent, set())
    if "space" in expand and parent is not None:
        out["space"] = space(ctx, ctx.store.spaces[parent.space_key])
    out["_expandable"] = {
        k: ""
        for k in (
            "childTypes",
            "operations",
            "schedulePublishDate",
            "children",
            "restrictions",
            "history",
            "ancestors",
            "body",
            "descendants",
        )
    }
    out["_expandable"].update(
        {k: f"/rest/api/content/{a.id}" for k in ("container", "version") if k not in out}
    )
    if "space" not in out and parent is not None:
        out["_expandable"]["space"] = f"/rest/api/space/{parent.space_key}"
    out["_links"] = {
        "webui": f"/pages/viewpageattachments.action?pageId={a.container_id}&preview=%2F"
        f"{a.container_id}%2F{a.id[3:]}%2F{quote(a.filename)}",
        "download": download,
        "thumbnail": download,
        "self": f"{ctx.base}/rest/api/content/{a.id}",
    }
    return out


def _inline_array(results: list[dict], self_link: str) -> dict:
    return {
        "results": results,
        "start": 0,
        "limit": 25,
        "size": len(results),
        "_links": {"self": self_link},
    }
