"""Typed records the client returns, and the parsers from the REST shapes.

IDs are always strings (v2 sends strings, DC sends numbers for some objects). Parsers accept
the Cloud v2 shapes (``parse_*_v2``) and the Cloud v1 / Data Center ``Content`` shapes
(``parse_*_v1``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

Kind = Literal["page", "blogpost"]
#: Content that can be the parent of a page without being a page (v2 ``ParentContentType``
#: minus ``page``: openapi-v2 ``ParentContentType`` = page|whiteboard|database|embed|folder).
ContainerKind = Literal["folder", "whiteboard", "database", "embed"]
CONTAINER_KINDS: tuple[str, ...] = ("folder", "whiteboard", "database", "embed")


@dataclass(frozen=True, slots=True)
class Space:
    id: str
    key: str
    name: str
    homepage_id: str | None = None
    type: str | None = None
    status: str | None = None


@dataclass(frozen=True, slots=True)
class PageRef:
    """A light record of a page in the tree: no body, cheap to list for a whole space.

    ``labels`` (global labels only, like ``Page.labels``) is ``None`` unless the listing
    was asked for them (``iter_page_tree(..., with_labels=True)``) and loaded them
    completely: a truncated or failed label load is reported as unknown, never as a
    shorter list.
    """

    id: str
    title: str
    parent_id: str | None
    version: int
    status: str = "current"
    position: int | None = None
    space_id: str | None = None
    kind: Kind = "page"
    labels: tuple[str, ...] | None = None
    #: ``parentType`` of v2 (``page``, ``folder``, ``whiteboard``, ``database``, ``embed``);
    #: None when the answer does not say (Data Center, v1, the home page).
    parent_type: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """A page (or blog post) with its storage-format body.

    ``labels`` and ``ancestors`` are ``None`` when the call that produced the record did not
    load them (create/update answers); ``ancestors`` runs root first, so the last one is the
    direct parent. Only ``global`` labels are kept (see ``is_managed_label``): they are the
    ones the front matter manages; personal (``my``) and ``team`` labels are left alone.
    ``body_stored`` is False when ``body`` is what the client sent, not what
    the server answered (a create/update answer without ``body.storage``).
    """

    id: str
    title: str
    parent_id: str | None
    version: int
    body: str
    status: str = "current"
    position: int | None = None
    space_id: str | None = None
    space_key: str | None = None
    kind: Kind = "page"
    labels: tuple[str, ...] | None = None
    ancestors: tuple[str, ...] | None = None
    version_message: str = ""
    minor_edit: bool = False
    modified_at: str | None = None
    body_stored: bool = True
    parent_type: str | None = None

    @property
    def ref(self) -> PageRef:
        return PageRef(
            id=self.id,
            title=self.title,
            parent_id=self.parent_id,
            version=self.version,
            status=self.status,
            position=self.position,
            space_id=self.space_id,
            kind=self.kind,
            parent_type=self.parent_type,
        )

    def with_labels(self, labels: tuple[str, ...]) -> Page:
        return replace(self, labels=labels)

    def with_ancestors(self, ancestors: tuple[str, ...]) -> Page:
        parent = ancestors[-1] if ancestors else self.parent_id
        return replace(self, ancestors=ancestors, parent_id=parent)


@dataclass(frozen=True, slots=True)
class Container:
    """Content that holds pages without being one: a Cloud folder, whiteboard, database
    or embed (v2 ``FolderSingle`` and its siblings). Only folders can be created, renamed,
    moved and trashed by syncd; the others are only mirrored as directories."""

    id: str
    kind: str
    title: str
    parent_id: str | None
    parent_type: str | None = None
    version: int = 0
    status: str = "current"


@dataclass(frozen=True, slots=True)
class Attachment:
    id: str
    title: str
    page_id: str
    version: int
    media_type: str | None = None
    size: int | None = None
    comment: str = ""
    download_link: str | None = None
    status: str = "current"


@dataclass(frozen=True, slots=True)
class Webhook:
    """A registered webhook. The secret is write-only: it is never read back or shown."""

    id: str
    name: str
    url: str
    events: tuple[str, ...]
    active: bool = True


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of a change feed: the poller refetches by id when ``version`` is new."""

    id: str
    version: int
    kind: Kind = "page"
    title: str | None = None


@dataclass(frozen=True, slots=True)
class AttachmentChange:
    """An attachment the change feed reports (new, or a new version), with its container.

    Uploading a new version does not change the page's version, so the container is
    what a sync has to look at again.
    """

    id: str
    version: int
    page_id: str
    page_kind: Kind = "page"
    title: str | None = None


# -- helpers ------------------------------------------------------------------------------


def _str_or_none(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _kind(value: Any) -> Kind:
    return "blogpost" if str(value or "").lower() in ("blogpost", "blog_post", "blog") else "page"


def _storage(data: dict[str, Any]) -> str:
    body = data.get("body") or {}
    storage = body.get("storage") or {}
    value = storage.get("value")
    return value if isinstance(value, str) else ""


def is_managed_label(item: Any) -> bool:
    """A label the front matter manages: a ``global`` one (a missing prefix means global).

    syncd writes labels with the ``global`` prefix; ``my`` (personal) and ``team`` labels
    belong to people, not to the page text, and are neither shown nor removed.
    """
    if not isinstance(item, dict) or not item.get("name"):
        return False
    return item.get("prefix") in (None, "global")


def _label_names(container: Any) -> tuple[str, ...] | None:
    if not isinstance(container, dict) or "results" not in container:
        return None
    return tuple(item["name"] for item in container["results"] if is_managed_label(item))


# -- spaces -------------------------------------------------------------------------------


def parse_space_v2(data: dict[str, Any]) -> Space:
    return Space(
        id=str(data["id"]),
        key=data["key"],
        name=data.get("name") or data["key"],
        homepage_id=_str_or_none(data.get("homepageId")),
        type=data.get("type"),
        status=data.get("status"),
    )


def parse_space_v1(data: dict[str, Any]) -> Space:
    homepage = data.get("homepage")
    homepage_id = homepage.get("id") if isinstance(homepage, dict) else None
    return Space(
        id=str(data["id"]),
        key=data["key"],
        name=data.get("name") or data["key"],
        homepage_id=_str_or_none(homepage_id),
        type=data.get("type"),
        status=data.get("status"),
    )


# -- pages --------------------------------------------------------------------------------


def parse_ref_v2(data: dict[str, Any], kind: Kind = "page") -> PageRef:
    version = data.get("version") or {}
    return PageRef(
        id=str(data["id"]),
        title=data.get("title") or "",
        parent_id=_str_or_none(data.get("parentId")),
        version=int(version.get("number") or 0),
        status=data.get("status") or "current",
        position=_int_or_none(data.get("position")),
        space_id=_str_or_none(data.get("spaceId")),
        kind=kind,
        parent_type=_str_or_none(data.get("parentType")),
    )


def parse_page_v2(data: dict[str, Any], kind: Kind = "page") -> Page:
    version = data.get("version") or {}
    return Page(
        id=str(data["id"]),
        title=data.get("title") or "",
        parent_id=_str_or_none(data.get("parentId")),
        version=int(version.get("number") or 0),
        body=_storage(data),
        status=data.get("status") or "current",
        position=_int_or_none(data.get("position")),
        space_id=_str_or_none(data.get("spaceId")),
        kind=kind,
        labels=_label_names(data.get("labels")),
        version_message=version.get("message") or "",
        minor_edit=bool(version.get("minorEdit")),
        modified_at=version.get("createdAt"),
        parent_type=_str_or_none(data.get("parentType")),
    )


def parse_container_v2(data: dict[str, Any], kind: str) -> Container:
    """A v2 folder/whiteboard/database/embed answer (``FolderSingle`` in the v2 spec)."""
    version = data.get("version") or {}
    return Container(
        id=str(data["id"]),
        kind=str(data.get("type") or kind),
        title=data.get("title") or "",
        parent_id=_str_or_none(data.get("parentId")),
        parent_type=_str_or_none(data.get("parentType")),
        version=int(version.get("number") or 0) if isinstance(version, dict) else 0,
        status=data.get("status") or "current",
    )


def _v1_parent_type(data: dict[str, Any]) -> str | None:
    """The type of a v1 answer's direct parent (its last ancestor), when it says."""
    ancestors = data.get("ancestors")
    if not isinstance(ancestors, list) or not ancestors or not isinstance(ancestors[-1], dict):
        return None
    return _str_or_none(ancestors[-1].get("type"))


def _v1_position(data: dict[str, Any]) -> int | None:
    position = data.get("position")
    if position is None and isinstance(data.get("extensions"), dict):
        position = data["extensions"].get("position")
    value = _int_or_none(position)
    return None if value is not None and value < 0 else value


def _v1_ancestors(data: dict[str, Any]) -> tuple[str, ...] | None:
    ancestors = data.get("ancestors")
    if not isinstance(ancestors, list):
        return None
    return tuple(str(a["id"]) for a in ancestors if isinstance(a, dict) and "id" in a)


def parse_ref_v1(data: dict[str, Any]) -> PageRef:
    version = data.get("version") or {}
    ancestors = _v1_ancestors(data)
    space = data.get("space") if isinstance(data.get("space"), dict) else {}
    return PageRef(
        id=str(data["id"]),
        title=data.get("title") or "",
        parent_id=ancestors[-1] if ancestors else None,
        version=int(version.get("number") or 0),
        status=data.get("status") or "current",
        position=_v1_position(data),
        space_id=_str_or_none(space.get("id")),
        kind=_kind(data.get("type")),
        parent_type=_v1_parent_type(data),
    )


def parse_page_v1(data: dict[str, Any]) -> Page:
    version = data.get("version") or {}
    ancestors = _v1_ancestors(data)
    space = data.get("space") if isinstance(data.get("space"), dict) else {}
    metadata = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
    return Page(
        id=str(data["id"]),
        title=data.get("title") or "",
        parent_id=ancestors[-1] if ancestors else None,
        version=int(version.get("number") or 0),
        body=_storage(data),
        status=data.get("status") or "current",
        position=_v1_position(data),
        space_id=_str_or_none(space.get("id")),
        space_key=space.get("key"),
        kind=_kind(data.get("type")),
        labels=_label_names(metadata.get("labels")),
        ancestors=ancestors,
        version_message=version.get("message") or "",
        minor_edit=bool(version.get("minorEdit")),
        modified_at=version.get("when") or version.get("createdAt"),
        parent_type=_v1_parent_type(data),
    )


# -- attachments --------------------------------------------------------------------------


def parse_attachment_v2(data: dict[str, Any], page_id: str) -> Attachment:
    version = data.get("version") or {}
    links = data.get("_links") or {}
    return Attachment(
        id=str(data["id"]),
        title=data.get("title") or "",
        page_id=str(data.get("pageId") or data.get("blogPostId") or page_id),
        version=int(version.get("number") or 1),
        media_type=data.get("mediaType"),
        size=_int_or_none(data.get("fileSize")),
        comment=data.get("comment") or "",
        download_link=data.get("downloadLink") or links.get("download"),
        status=data.get("status") or "current",
    )


def parse_attachment_v1(data: dict[str, Any], page_id: str) -> Attachment:
    version = data.get("version") or {}
    links = data.get("_links") or {}
    extensions = data.get("extensions") or {}
    container = data.get("container") if isinstance(data.get("container"), dict) else {}
    return Attachment(
        id=str(data["id"]),
        title=data.get("title") or "",
        page_id=str(container.get("id") or page_id),
        version=int(version.get("number") or 1),
        media_type=extensions.get("mediaType") or (data.get("metadata") or {}).get("mediaType"),
        size=_int_or_none(extensions.get("fileSize")),
        comment=extensions.get("comment") or "",
        download_link=links.get("download"),
        status=data.get("status") or "current",
    )


# -- webhooks -----------------------------------------------------------------------------


def _event_names(events: Any) -> tuple[str, ...]:
    names: list[str] = []
    for event in events or []:
        if isinstance(event, str):
            names.append(event)
        elif isinstance(event, dict) and event.get("id"):
            names.append(str(event["id"]))
    return tuple(names)


def parse_webhook_dc(data: dict[str, Any]) -> Webhook:
    return Webhook(
        id=str(data["id"]),
        name=data.get("name") or "",
        url=data.get("url") or "",
        events=_event_names(data.get("events")),
        active=bool(data.get("active", True)),
    )


def parse_webhook_cloud(data: dict[str, Any]) -> Webhook:
    hook_id = data.get("id")
    if hook_id is None and data.get("self"):
        hook_id = str(data["self"]).rstrip("/").rsplit("/", 1)[-1]
    return Webhook(
        id=str(hook_id),
        name=data.get("name") or "",
        url=data.get("url") or "",
        events=_event_names(data.get("events")),
        active=bool(data.get("enabled", data.get("active", True))),
    )
