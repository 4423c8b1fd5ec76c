"""The emulator's data model: plain records the store indexes and the routes render.

Times are epoch milliseconds (ints) from the store's monotonic clock; the routes format
them for each API. Content ids are numeric strings shared by pages, blog posts and comments,
as in Confluence; attachments use the same counter with an ``att`` prefix.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime


class Clock:
    """Wall-clock milliseconds that never repeat or go backwards.

    ``advance`` shifts the clock forward so tests can make time pass (for example to cross a
    CQL ``lastmodified`` minute boundary) without sleeping.
    """

    def __init__(self) -> None:
        self._offset_ms = 0
        self._last = 0

    def now_ms(self) -> int:
        now = int(time.time() * 1000) + self._offset_ms
        if now <= self._last:
            now = self._last + 1
        self._last = now
        return now

    def peek_ms(self) -> int:
        """The current time without consuming a tick."""
        return max(int(time.time() * 1000) + self._offset_ms, self._last)

    def advance(self, seconds: float) -> None:
        self._offset_ms += int(seconds * 1000)


def iso_ms(ms: int) -> str:
    """``2025-01-05T10:00:00.000Z``: the format both Cloud APIs use."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


@dataclass
class User:
    """The one account the emulator serves (the user whose token the client holds)."""

    email: str
    account_id: str
    user_key: str
    username: str
    display_name: str


@dataclass
class Version:
    """One published version of a page or blog post (a full snapshot)."""

    number: int
    when: int
    title: str
    body: str
    message: str = ""
    minor_edit: bool = False
    author: str = ""


@dataclass
class Label:
    id: str
    name: str
    prefix: str = "global"


#: Cloud content that lives in a space's tree beside pages and can be the parent of pages
#: (v2 spec ``ParentContentType``/``AncestorType``: page, whiteboard, database, embed, folder).
CONTAINER_TYPES = ("folder", "whiteboard", "database", "embed")
#: Everything with a place in the page tree.
TREE_TYPES = ("page", *CONTAINER_TYPES)


@dataclass
class Content:
    """A page, blog post, comment or tree container (folder, whiteboard, database, embed).

    ``versions[-1]`` is the current version; a container's versions carry its title and an
    empty body.
    """

    id: str
    type: str  # page | blogpost | comment | folder | whiteboard | database | embed
    space_key: str
    status: str  # current | trashed | draft
    versions: list[Version]
    created: int
    author: str
    parent_id: str | None = None  # tree content: its parent; comments: their container
    position: int = 0
    labels: dict[str, Label] = field(default_factory=dict)
    attachment_ids: list[str] = field(default_factory=list)
    comment_ids: list[str] = field(default_factory=list)
    #: Set on content that went to the trash because its folder did: restoring the folder
    #: brings back exactly these.
    trashed_with: str | None = None
    embed_url: str = ""  # embeds (Smart Links in the content tree) only

    @property
    def version(self) -> Version:
        return self.versions[-1]

    @property
    def title(self) -> str:
        return self.versions[-1].title

    @property
    def body(self) -> str:
        return self.versions[-1].body

    @property
    def modified(self) -> int:
        return self.versions[-1].when

    def version_at(self, number: int) -> Version | None:
        if 1 <= number <= len(self.versions) and self.versions[number - 1].number == number:
            return self.versions[number - 1]
        for v in self.versions:
            if v.number == number:
                return v
        return None


@dataclass
class AttachmentVersion:
    number: int
    when: int
    data: bytes
    comment: str = ""
    minor_edit: bool = False
    author: str = ""


@dataclass
class Attachment:
    id: str  # "att12345"
    container_id: str
    filename: str
    media_type: str
    status: str  # current | trashed
    created: int
    versions: list[AttachmentVersion]
    file_id: str = ""

    @property
    def version(self) -> AttachmentVersion:
        return self.versions[-1]

    @property
    def size(self) -> int:
        return len(self.versions[-1].data)

    @property
    def comment(self) -> str:
        return self.versions[-1].comment


@dataclass
class Space:
    id: int
    key: str
    name: str
    description: str
    homepage_id: str | None
    created: int
    author: str
    type: str = "global"
    status: str = "current"
    modified: int = 0


@dataclass
class Webhook:
    """A webhook registration (DC ``/rest/api/webhooks`` or Cloud ``/rest/webhooks/1.0``)."""

    id: int
    name: str
    url: str
    events: list[str]
    secret: str = ""
    active: bool = True
    created: int = 0
    updated: int = 0
    description: str = ""
    exclude_body: bool = False
    filters: dict = field(default_factory=dict)
    ssl_verification_required: bool = True
    credentials: dict = field(default_factory=dict)  # DC: basic auth sent to the receiver


@dataclass
class Event:
    """Something happened that webhooks report. ``data`` holds snapshots taken at the time,
    since a purged page is gone by the time the delivery is built."""

    name: str
    timestamp: int
    space_key: str
    data: dict
    user: User | None = None  # who acted; None means the token's owner
