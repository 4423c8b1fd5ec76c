"""Webhook payloads of both Confluence flavors, parsed into one typed hint.

A delivery is only ever a *hint* that something changed: the sync engine re-reads the
page by id and decides what to do. This module therefore keeps just what is needed to
mark the right page dirty (its id, the version when the payload says it, the event) and
drops everything else.

Data Center bodies name their event (``{"timestamp", "event", "userKey", "page": {"id"}}``)
and are "ID only" by default. Cloud bodies carry no event name at all: the event comes
from the callback URL registered for it (see :func:`cloud_callback_url`), and the
entity key (``page``, ``blog``, ``comment``, ...) tells the type. Cloud ids may be numbers
or strings (``idAsString``); Cloud payloads carry ``version`` and ``spaceKey``.

Events that cannot affect a synced folder (users, groups, themes, views, ...) parse to
``None``: the receiver acknowledges and ignores them.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


class Flavor(StrEnum):
    CLOUD = "cloud"
    DC = "dc"


class HintKind(StrEnum):
    PAGE = "page"
    BLOGPOST = "blogpost"
    ATTACHMENT = "attachment"
    LABEL = "label"
    COMMENT = "comment"
    SPACE = "space"


class MalformedPayload(ValueError):
    """The body is not a JSON object; the receiver answers 400."""


# The page-level events syncd reacts to, by kind. Anything else is acknowledged and ignored.
PAGE_EVENTS = frozenset(
    {
        "page_created",
        "page_updated",
        "page_restored",
        "page_trashed",
        "page_removed",
        "page_moved",
        "page_children_reordered",
        "page_archived",
        "page_unarchived",
        "page_copied",
        "blueprint_page_created",
        "content_permissions_updated",
    }
)
BLOG_EVENTS = frozenset(
    {"blog_created", "blog_updated", "blog_restored", "blog_trashed", "blog_removed", "blog_moved"}
)
ATTACHMENT_EVENTS = frozenset(
    {
        "attachment_created",
        "attachment_updated",
        "attachment_removed",
        "attachment_restored",
        "attachment_trashed",
        "attachment_archived",
    }
)
# label_created / label_deleted are about the label itself (first / last use site-wide);
# the content-level label_added / label_removed always accompany them.
LABEL_EVENTS = frozenset({"label_added", "label_removed"})
COMMENT_EVENTS = frozenset({"comment_created", "comment_updated", "comment_removed"})
SPACE_EVENTS = frozenset({"space_removed", "space_updated", "space_permissions_updated"})

KNOWN_EVENTS = (
    PAGE_EVENTS | BLOG_EVENTS | ATTACHMENT_EVENTS | LABEL_EVENTS | COMMENT_EVENTS | SPACE_EVENTS
)

# Events whose version number is a content version: an older or equal one is stale.
# Trash, purge, move and restore may repeat the current version, so they are never "stale".
CONTENT_VERSION_EVENTS = frozenset(
    {"page_created", "page_updated", "blog_created", "blog_updated", "blueprint_page_created"}
)

_EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True, slots=True)
class RemoteHint:
    """Something may have changed remotely; re-read ``page_id`` (or the space) to find out.

    ``page_id`` is the page or blog post whose state should be refreshed: for attachments
    and labels it is the content they belong to, for comments the page they are on when the
    payload says so (Data Center's ID-only comments do not: ``page_id`` is ``None`` and
    ``entity_id`` holds the comment id). ``version`` is the content version the payload
    announces, when it announces one (Cloud always, Data Center only in "full" mode).
    ``delivery_key`` identifies this exact delivery (a hash of the event name and raw body)
    and is what duplicate detection uses.
    """

    kind: HintKind
    event: str | None
    page_id: str | None
    version: int | None
    space_key: str | None
    delivery_key: str
    flavor: Flavor
    timestamp_ms: int | None = None
    entity_id: str | None = None
    space_id: str | None = None
    attachment_ids: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    old_parent_id: str | None = None
    new_parent_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def version_is_content(self) -> bool:
        """True when ``version`` is a content version that an older delivery can't exceed."""
        return self.version is not None and (
            self.event in CONTENT_VERSION_EVENTS or (self.event is None and self.kind in _CONTENT)
        )

    @property
    def is_space_removed(self) -> bool:
        return self.kind is HintKind.SPACE and self.event == "space_removed"

    def describe(self) -> str:
        """A short, log-friendly summary (never the payload itself)."""
        parts = [self.event or f"{self.kind.value}(event unknown)"]
        if self.page_id:
            parts.append(f"page={self.page_id}")
        if self.version is not None:
            parts.append(f"v{self.version}")
        if self.entity_id and self.entity_id != self.page_id:
            parts.append(f"{self.kind.value}={self.entity_id}")
        if self.space_key:
            parts.append(f"space={self.space_key}")
        return " ".join(parts)


_CONTENT = (HintKind.PAGE, HintKind.BLOGPOST)


def delivery_key(raw: bytes, event: str | None = None) -> str:
    """Identity of one delivery: the event name (Cloud bodies lack it) plus the raw body."""
    digest = hashlib.sha256()
    digest.update((event or "").encode())
    digest.update(b"\0")
    digest.update(raw)
    return digest.hexdigest()


def cloud_callback_url(public_url: str, event: str, token: str) -> str:
    """The callback URL to register on Cloud for one event.

    Cloud payloads carry no event name and no signature, so each event is registered at
    its own URL and an unguessable token authenticates the delivery:
    ``<public_url>?token=<token>&event=<event>`` (the query string is delivered verbatim).
    Any query the public URL already has is kept. This is the form
    ``syncd.confluence.webhooks.url_for_event`` produces from ``<public_url>?token=<token>``.
    The receiver also accepts the event as a last path segment: ``<public_url>/<event>``.
    """
    if not _EVENT_NAME.match(event):
        raise ValueError(f"not a webhook event name: {event!r}")
    parts = urlsplit(public_url)
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k not in ("token", "event")
    ]
    query += [("token", token), ("event", event)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def is_event_name(value: str) -> bool:
    return bool(_EVENT_NAME.match(value))


def load_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a delivery body; anything but a UTF-8 JSON object is :class:`MalformedPayload`."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise MalformedPayload(f"body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise MalformedPayload("body is not a JSON object")
    return doc


def parse_delivery(
    raw: bytes,
    *,
    flavor: Flavor | str,
    event: str | None = None,
    space_key: str | None = None,
    space_id: str | None = None,
    doc: dict[str, Any] | None = None,
) -> RemoteHint | None:
    """Parse one delivery into a hint, or ``None`` when it is irrelevant to this space.

    ``event`` is the event named by the callback URL (Cloud); a Data Center body names its
    own and that wins. ``space_key`` / ``space_id`` are the synced space: a delivery that
    names another space is ignored (one that names none is kept, except space events,
    which must name ours by key or id). ``doc`` is the already
    decoded body, if the caller has it. Raises :class:`MalformedPayload` for non-objects.
    """
    flavor = Flavor(flavor)
    if doc is None:
        doc = load_json_object(raw)
    body_event = doc.get("event")
    if isinstance(body_event, str) and body_event:
        event = body_event
    if event is not None:
        event = event.strip().lower()
        if not _EVENT_NAME.match(event):
            return None
        if event not in KNOWN_EVENTS:
            return None
    hint = _parse(doc, flavor=flavor, event=event, key=delivery_key(raw, event))
    if hint is None:
        return None
    same_key = _same_space_key(hint.space_key, space_key)
    same_id = None if not (space_id and hint.space_id) else hint.space_id == str(space_id)
    if same_key is False or same_id is False:
        return None
    if hint.kind is HintKind.SPACE and (space_key or space_id) and not (same_key or same_id):
        # Space events act on the whole space (space_removed stops syncing), so they must
        # positively name ours. Data Center's ID-only space payloads carry only the id:
        # pass ``space_id`` to receive them.
        return None
    return hint


def _same_space_key(found: str | None, wanted: str | None) -> bool | None:
    if not found or not wanted:
        return None
    return found.casefold() == wanted.casefold()


def _parse(
    doc: dict[str, Any], *, flavor: Flavor, event: str | None, key: str
) -> RemoteHint | None:
    timestamp = _int(doc.get("timestamp"))
    common: dict[str, Any] = {"event": event, "delivery_key": key, "flavor": flavor}
    common["timestamp_ms"] = timestamp

    if event is None:
        kind = _kind_from_entity(doc)
        if kind is None:
            return None
    else:
        kind = _kind_from_event(event)

    if kind in _CONTENT:
        entity = _first_dict(doc, ("page", "blog", "blogpost", "content"))
        if entity is None:
            return None
        page_id = _id(entity)
        if page_id is None:
            return None
        return RemoteHint(
            kind=kind,
            page_id=page_id,
            entity_id=page_id,
            version=_version(entity),
            space_key=_space_key(entity),
            space_id=_space_id(entity),
            old_parent_id=_id(doc.get("oldParent")),
            new_parent_id=_id(doc.get("newParent")),
            extra=_extra(doc, entity),
            **common,
        )

    if kind is HintKind.ATTACHMENT:
        container = _first_dict(doc, ("attachedTo", "container"))
        attachments = doc.get("attachments")
        if not isinstance(attachments, list):
            single = doc.get("attachment")
            attachments = [single] if isinstance(single, dict) else []
        if container is None:
            for item in attachments:
                if isinstance(item, dict):
                    container = _first_dict(item, ("container", "attachedTo", "parent"))
                    if container is not None:
                        break
        page_id = _id(container)
        if page_id is None:
            return None
        ids = tuple(i for i in (_id(a) for a in attachments) if i)
        return RemoteHint(
            kind=kind,
            page_id=page_id,
            entity_id=ids[0] if ids else None,
            attachment_ids=ids,
            version=None,
            space_key=_space_key(container) or _first_space_key(attachments),
            space_id=_space_id(container),
            **common,
        )

    if kind is HintKind.LABEL:
        labeled = _first_dict(doc, ("labeled", "content", "page", "blog"))
        page_id = _id(labeled)
        if page_id is None:
            return None
        names: list[str] = []
        label = doc.get("label")
        if isinstance(label, dict) and isinstance(label.get("name"), str):
            names.append(label["name"])
        if isinstance(labeled, dict) and isinstance(labeled.get("labels"), list):
            names.extend(
                x["name"]
                for x in labeled["labels"]
                if isinstance(x, dict) and isinstance(x.get("name"), str)
            )
        return RemoteHint(
            kind=kind,
            page_id=page_id,
            entity_id=page_id,
            labels=tuple(dict.fromkeys(names)),
            version=None,
            space_key=_space_key(labeled),
            space_id=_space_id(labeled),
            **common,
        )

    if kind is HintKind.COMMENT:
        comment = doc.get("comment")
        if not isinstance(comment, dict):
            return None
        comment_id = _id(comment)
        if comment_id is None:
            return None
        container = _comment_container(comment)
        return RemoteHint(
            kind=kind,
            page_id=_id(container),
            entity_id=comment_id,
            version=None,
            space_key=_space_key(comment) or _space_key(container),
            space_id=_space_id(comment) or _space_id(container),
            **common,
        )

    # HintKind.SPACE
    space = doc.get("space")
    if not isinstance(space, dict):
        return None
    key_value = space.get("key") or space.get("spaceKey")
    space_id = _id(space) or _space_id(space)  # DC: id; Cloud: spaceId
    return RemoteHint(
        kind=kind,
        page_id=None,
        entity_id=space_id,
        version=None,
        space_key=key_value if isinstance(key_value, str) and key_value else None,
        space_id=space_id,
        **common,
    )


def _kind_from_event(event: str) -> HintKind:
    if event in PAGE_EVENTS:
        return HintKind.PAGE
    if event in BLOG_EVENTS:
        return HintKind.BLOGPOST
    if event in ATTACHMENT_EVENTS:
        return HintKind.ATTACHMENT
    if event in LABEL_EVENTS:
        return HintKind.LABEL
    if event in COMMENT_EVENTS:
        return HintKind.COMMENT
    return HintKind.SPACE


def _kind_from_entity(doc: dict[str, Any]) -> HintKind | None:
    """Cloud delivery whose event is unknown: the entity key is all we have."""
    if isinstance(doc.get("comment"), dict):
        return HintKind.COMMENT
    if isinstance(doc.get("attachedTo"), dict) or isinstance(doc.get("attachments"), list):
        return HintKind.ATTACHMENT
    if isinstance(doc.get("attachment"), dict):
        return HintKind.ATTACHMENT
    if isinstance(doc.get("label"), dict):
        return HintKind.LABEL
    if isinstance(doc.get("page"), dict):
        return HintKind.PAGE
    if isinstance(doc.get("blog"), dict) or isinstance(doc.get("blogpost"), dict):
        return HintKind.BLOGPOST
    # A bare "space" body without an event could be any space event; the poller's full
    # scan is the authority on spaces, so it is not acted upon.
    return None


def _first_dict(doc: Any, keys: tuple[str, ...]) -> dict[str, Any] | None:
    if not isinstance(doc, dict):
        return None
    for k in keys:
        value = doc.get(k)
        if isinstance(value, dict):
            return value
    return None


def _id(entity: Any) -> str | None:
    """An entity's id as a string; Cloud sends ``id`` as number or string and ``idAsString``."""
    if not isinstance(entity, dict):
        return None
    for k in ("idAsString", "id"):
        value = entity.get(k)
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and value >= 0:
            return str(value)
        if isinstance(value, str) and _ID.match(value):
            return value
    return None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def _version(entity: dict[str, Any]) -> int | None:
    value = entity.get("version")
    if isinstance(value, dict):
        value = value.get("number")
    number = _int(value)
    return number if number is not None and number > 0 else None


def _space_key(entity: Any) -> str | None:
    if not isinstance(entity, dict):
        return None
    value = entity.get("spaceKey")
    if isinstance(value, str) and value:
        return value
    space = entity.get("space")
    if isinstance(space, dict) and isinstance(space.get("key"), str) and space["key"]:
        return space["key"]
    return None


def _space_id(entity: Any) -> str | None:
    if not isinstance(entity, dict):
        return None
    value = entity.get("spaceId")
    if isinstance(value, bool):
        return None
    if isinstance(value, int | str) and str(value):
        return str(value)
    return None


def _first_space_key(items: list[Any]) -> str | None:
    for item in items:
        key = _space_key(item)
        if key:
            return key
    return None


def _comment_container(comment: dict[str, Any]) -> dict[str, Any] | None:
    """Walk a Cloud comment's ``parent`` chain up to the page or blog post it is on."""
    node: Any = comment
    for _ in range(16):
        parent = node.get("parent") if isinstance(node, dict) else None
        if not isinstance(parent, dict):
            container = node.get("container") if isinstance(node, dict) else None
            return container if isinstance(container, dict) else None
        if parent.get("contentType") in ("page", "blogpost", "blog"):
            return parent
        node = parent
    return None


def _extra(doc: dict[str, Any], entity: dict[str, Any]) -> dict[str, Any]:
    """Small, non-authoritative details worth logging (never trusted as content)."""
    extra: dict[str, Any] = {}
    trigger = doc.get("updateTrigger")
    if isinstance(trigger, str):
        extra["update_trigger"] = trigger[:64]
    title = entity.get("title")
    if isinstance(title, str):
        extra["title"] = title[:200]
    return extra
