"""Webhook payloads in each flavor's real shape (shared/docs/confluence-api.md §5).

DC: ``{timestamp, event, userKey, <entity>: {id}}``, ID-only as Confluence DC sends by default,
with the per-event extra keys of §5.1.3. Cloud: no event name; content entities carry ``id``
(a number), ``idAsString``, ``spaceKey``, ``spaceId``, ``version`` and friends, as in the
captures of §5.2.2.
"""

from __future__ import annotations

from urllib.parse import quote

from syncd.emulator.model import CONTAINER_TYPES, Event, User

CONTENT_KEYS = ("page", "blog", "comment", "attachedTo", "oldParent", "newParent", "container")


def _num(content_id: str) -> int:
    return int(content_id[3:] if content_id.startswith("att") else content_id)


# ---- Data Center --------------------------------------------------------------------


def dc_payload(event: Event, user: User) -> dict:
    d = event.data
    out: dict = {"timestamp": event.timestamp, "event": event.name, "userKey": user.user_key}
    for key in ("page", "blog", "comment"):
        if key in d:
            out[key] = {"id": _num(d[key]["id"])}
    if "updateTrigger" in d and event.name.startswith("page_"):
        # a real DC blog_updated has none, page_updated has (Pipedream captures, realapi)
        out["updateTrigger"] = d["updateTrigger"]
    for key in ("oldParent", "newParent"):
        if key in d:
            out[key] = {"id": _num(d[key]["id"])}
    if "attachedTo" in d:
        out["attachedTo"] = {"id": _num(d["attachedTo"]["id"])}
        out["attachments"] = [{"id": _num(a["id"])} for a in d.get("attachments", [])]
    if "label" in d:
        out["label"] = {"name": d["label"]["name"]}
        if "labeled" in d:
            out["labeled"] = {
                "labels": [{"name": lb["name"]} for lb in d["labeled"].get("labels", [])],
                "id": _num(d["labeled"]["id"]),
            }
    if "space" in d:
        s = d["space"]
        out["space"] = {
            "id": s["id"],
            "homePage": {"id": _num(s["homepage_id"])} if s.get("homepage_id") else None,
            "creatorKey": user.user_key,
            "creationDate": s["created"],
            "lastModifierKey": user.user_key,
            "modificationDate": s["modified"],
        }
    return out


# ---- Cloud --------------------------------------------------------------------------


def _cloud_content(snap: dict, user: User, base: str) -> dict:
    # a folder (a page's old or new parent) links to its own view; not verified
    kind = {"blogpost": "blog", **{t: t for t in CONTAINER_TYPES}}.get(snap["type"], "pages")
    title = quote(snap["title"].replace(" ", "+"), safe="+")
    return {
        "idAsString": snap["id"],
        "creatorAccountId": snap.get("creator") or user.account_id,
        "spaceKey": snap["space_key"],
        "spaceId": snap["space_id"],
        "modificationDate": snap["modified"],
        "lastModifierAccountId": snap.get("modifier") or user.account_id,
        "self": f"{base}/spaces/{snap['space_key']}/{kind}/{snap['id']}/{title}",
        "id": _num(snap["id"]),
        "title": snap["title"],
        "creationDate": snap["created"],
        "contentType": snap["type"],
        "version": snap["version"],
    }


def cloud_payload(event: Event, user: User, base: str) -> dict:
    d = event.data
    out: dict = {}
    for key in ("page", "blog", "oldParent", "newParent"):
        if key in d:
            out[key] = _cloud_content(d[key], user, base)
    if "comment" in d:
        comment = _cloud_content(d["comment"], user, base)
        comment.pop("title")  # a real comment_created has none (crewlet capture, realapi)
        if "container" in d:
            comment["parent"] = _cloud_content(d["container"], user, base)
            comment["self"] = comment["parent"]["self"] + f"?focusedCommentId={d['comment']['id']}"
        out["comment"] = comment
    if "attachedTo" in d:
        parent = _cloud_content(d["attachedTo"], user, base)
        out["attachedTo"] = parent
        out["attachments"] = [
            {
                "idAsString": a["id"],
                "id": _num(a["id"]),
                "fileName": a["filename"],
                "fileSize": a["size"],
                "comment": a["comment"],
                "version": a["version"],
                "contentType": "attachment",
                "creatorAccountId": user.account_id,
                "lastModifierAccountId": user.account_id,
                "creationDate": a["created"],
                "modificationDate": a["modified"],
                "spaceKey": parent["spaceKey"],
                "self": f"{base}/download/attachments/{parent['idAsString']}/{quote(a['filename'])}",
            }
            for a in d.get("attachments", [])
        ]
    if "label" in d:
        out["label"] = {
            "name": d["label"]["name"],
            "id": d["label"]["id"],
            "prefix": d["label"]["prefix"],
        }
        if "labeled" in d:
            out["labeled"] = _cloud_content(d["labeled"], user, base)
    if "space" in d:
        s = d["space"]
        out["space"] = {
            "spaceKey": s["key"],
            "key": s["key"],
            "title": s["name"],
            "spaceId": s["id"],
            "description": s["description"],
            "isPersonalSpace": False,
            "creatorAccountId": user.account_id,
            "lastModifierAccountId": user.account_id,
            "creationDate": s["created"],
            "modificationDate": s["modified"],
            "self": f"{base}/spaces/{s['key']}",
        }
    out["userAccountId"] = user.account_id
    out["accountType"] = "customer"
    out["timestamp"] = event.timestamp
    if "updateTrigger" in d:
        out["updateTrigger"] = d["updateTrigger"]
    if event.name.startswith(("page_", "blog_")):
        # page_updated has it, comment_created not (crewlet captures, tests/data/realapi)
        out["suppressNotifications"] = False
    return out
