"""The emulator's in-memory Confluence: spaces, content trees, versions, attachments, labels,
webhook registrations.

Every mutation goes through a method here, which enforces Confluence's rules (version must be
current+1, titles unique per space including the trash, no parent loops) and emits the same
webhook event whether the change came over REST or from a test acting as a Confluence user.
Indexes by id, by parent and by (space, type, title) keep a 10,000-page space fast.

The store is thread-safe (one re-entrant lock): a ThreadedEmulator's tests may mutate it from
another thread while the server's loop reads it.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from syncd.emulator.errors import (
    BadRequest,
    NotFound,
    TitleExists,
    VersionConflict,
    content_not_found,
)
from syncd.emulator.model import (
    CONTAINER_TYPES,
    TREE_TYPES,
    Attachment,
    AttachmentVersion,
    Clock,
    Content,
    Event,
    Label,
    Space,
    User,
    Version,
    Webhook,
)
from syncd.emulator.normalize import normalize_storage

Listener = Callable[[Event], None]

MEDIA_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".json": "application/json",
    ".zip": "application/zip",
    ".xml": "application/xml",
    ".html": "text/html",
}


def guess_media_type(filename: str) -> str:
    dot = filename.rfind(".")
    return (
        MEDIA_TYPES.get(filename[dot:].lower(), "application/octet-stream")
        if dot >= 0
        else ("application/octet-stream")
    )


def title_key(space_key: str, type: str, title: str) -> tuple[str, str, str]:
    """Titles are unique per space without regard to case ("Runbook" blocks "runbook").

    Reported against both deployments: CONFSERVER-40303, iamjackg/md2cf#102 (a DC 400
    "A page with this title already exists" for a title differing only in case),
    sphinx-contrib/confluencebuilder#387.
    """
    return (space_key, type, title.casefold())


def make_user(email: str) -> User:
    digest = hashlib.sha256(email.encode()).hexdigest()
    return User(
        email=email,
        account_id=f"557058:{uuid.UUID(digest[:32])}",
        user_key=digest[:32],
        username=email.split("@")[0],
        display_name=email.split("@")[0].replace(".", " ").title(),
    )


class Store:
    """All state of one emulated Confluence site."""

    def __init__(self, user: User | None = None, *, seed: int = 0) -> None:
        self.lock = threading.RLock()
        self.clock = Clock()
        self.user = user or make_user("demo@example.com")
        self.users: dict[str, User] = {self.user.account_id: self.user}
        self._actor: User | None = None
        self.spaces: dict[str, Space] = {}
        self.spaces_by_id: dict[int, Space] = {}
        self.content: dict[str, Content] = {}
        self.attachments: dict[str, Attachment] = {}
        self.webhooks: dict[int, Webhook] = {}
        self._children: dict[str, list[str]] = {}  # parent id -> child ids in position order
        self._roots: dict[str, list[str]] = {}  # space key -> parentless page ids
        self._by_title: dict[tuple[str, str, str], str] = {}
        self._listing: dict[tuple[str, str], list[int]] = {}  # (space, type) -> sorted int ids
        self._labels_by_name: dict[tuple[str, str], str] = {}
        self._next_id = 98304
        self._next_label_id = 1000
        self._next_webhook_id = 1
        self._rng = random.Random(seed)
        self.listeners: list[Listener] = []
        self.change_listeners: list[Callable[[], None]] = []

    # ---- who acts -------------------------------------------------------------------

    @property
    def actor(self) -> User:
        """The user changes are attributed to: the token's owner unless inside ``act_as``."""
        return self._actor or self.user

    @contextmanager
    def act_as(self, email: str) -> Iterator[User]:
        """Make changes as another Confluence user (versions, webhook payloads name them):

        with emu.store.act_as("colleague@example.com"):
            emu.store.edit(page_id, "<p>their edit</p>")
        """
        with self.lock:
            other = make_user(email)
            other = self.users.setdefault(other.account_id, other)
            previous = self._actor
            self._actor = other
            try:
                yield other
            finally:
                self._actor = previous

    def user_by_account(self, account_id: str) -> User:
        return self.users.get(account_id, self.user)

    # ---- ids and events -------------------------------------------------------------

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def new_macro_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def normalize(self, body: str) -> str:
        return normalize_storage(body, self.new_macro_id)

    def _emit(self, name: str, space_key: str, **data: Any) -> None:
        event = Event(
            name=name,
            timestamp=self.clock.now_ms(),
            space_key=space_key,
            data=data,
            user=self.actor,
        )
        for listener in list(self.listeners):
            listener(event)
        self._changed()

    def _changed(self) -> None:
        for cb in list(self.change_listeners):
            cb()

    def snapshot(self, c: Content) -> dict:
        """What a webhook payload may say about a piece of content, frozen now."""
        space = self.spaces.get(c.space_key)
        return {
            "id": c.id,
            "type": c.type,
            "title": c.title,
            "space_key": c.space_key,
            "space_id": space.id if space else 0,
            "created": c.created,
            "modified": c.modified,
            "version": c.version.number,
            "status": c.status,
            "parent_id": c.parent_id,
            "creator": c.author,
            "modifier": c.version.author,
        }

    def attachment_snapshot(self, a: Attachment) -> dict:
        return {
            "id": a.id,
            "filename": a.filename,
            "media_type": a.media_type,
            "version": a.version.number,
            "comment": a.comment,
            "size": a.size,
            "created": a.created,
            "modified": a.version.when,
        }

    def space_snapshot(self, s: Space) -> dict:
        return {
            "id": s.id,
            "key": s.key,
            "name": s.name,
            "description": s.description,
            "homepage_id": s.homepage_id,
            "created": s.created,
            "modified": s.modified or s.created,
        }

    # ---- spaces ---------------------------------------------------------------------

    def create_space(
        self,
        key: str,
        name: str | None = None,
        *,
        home_title: str | None = None,
        home_body: str | None = None,
    ) -> Space:
        """A new space with its home page, as Confluence creates it."""
        with self.lock:
            if key in self.spaces:
                raise BadRequest(f"A space already exists with key {key}")
            now = self.clock.now_ms()
            space = Space(
                id=int(self._new_id()),
                key=key,
                name=name or key.title(),
                description="",
                homepage_id=None,
                created=now,
                author=self.actor.account_id,
            )
            self.spaces[key] = space
            self.spaces_by_id[space.id] = space
            self._roots[key] = []
            home = self._insert(
                "page",
                key,
                home_title or f"{space.name} Home",
                home_body
                if home_body is not None
                else f"<p>Welcome to the {space.name} space.</p>",
                None,
                emit=False,
            )
            space.homepage_id = home.id
            self._changed()
            return space

    def space(self, key: str) -> Space:
        with self.lock:
            space = self.spaces.get(key)
            if space is None:
                raise NotFound(f"No space found with key : {key}")
            return space

    def space_by_id(self, space_id: int | str) -> Space:
        try:
            sid = int(space_id)
        except (TypeError, ValueError):
            raise NotFound(f"No space found with id : {space_id}") from None
        space = self.spaces_by_id.get(sid)
        if space is None:
            raise NotFound(f"No space found with id : {space_id}")
        return space

    def update_space(
        self, key: str, *, name: str | None = None, description: str | None = None
    ) -> Space:
        with self.lock:
            space = self.space(key)
            if name is not None:
                space.name = name
            if description is not None:
                space.description = description
            space.modified = self.clock.now_ms()
            self._emit("space_updated", key, space=self.space_snapshot(space))
            return space

    # ---- reading content ------------------------------------------------------------

    def find(self, content_id: str | int) -> Content | None:
        return self.content.get(str(content_id))

    def get(self, content_id: str | int, *, types: Iterable[str] | None = None) -> Content:
        c = self.content.get(str(content_id))
        if c is None or (types is not None and c.type not in types):
            raise content_not_found(str(content_id))
        return c

    def by_title(self, space_key: str, title: str, type: str = "page") -> Content | None:
        cid = self._by_title.get(title_key(space_key, type, title))
        return self.content.get(cid) if cid else None

    def children(self, parent_id: str) -> list[Content]:
        with self.lock:
            return [self.content[i] for i in self._children.get(parent_id, ())]

    def root_pages(self, space_key: str) -> list[Content]:
        with self.lock:
            return [self.content[i] for i in self._roots.get(space_key, ())]

    def ancestors(self, content_id: str) -> list[Content]:
        """Root first, direct parent last; containers (folders...) included."""
        with self.lock:
            chain: list[Content] = []
            c = self.get(content_id)
            seen = {c.id}
            while c.type in TREE_TYPES and c.parent_id and c.parent_id not in seen:
                parent = self.content.get(c.parent_id)
                if parent is None:
                    break
                chain.append(parent)
                seen.add(parent.id)
                c = parent
            chain.reverse()
            return chain

    def descendants(self, content_id: str) -> list[Content]:
        with self.lock:
            out: list[Content] = []
            stack = list(reversed(self._children.get(content_id, [])))
            while stack:
                c = self.content[stack.pop()]
                out.append(c)
                stack.extend(reversed(self._children.get(c.id, [])))
            return out

    def listing(self, space_key: str, type: str = "page", after_id: int = 0) -> Iterator[Content]:
        """Content of one type in a space in id order, starting after ``after_id``."""
        ids = self._listing.get((space_key, type), [])
        start = bisect.bisect_right(ids, after_id)
        for i in range(start, len(ids)):
            if i >= len(ids):
                break
            c = self.content.get(str(ids[i]))
            if c is not None:
                yield c

    def all_content(self, type: str | None = None) -> Iterator[Content]:
        for key in list(self.spaces):
            for t in [type] if type else ["page", "blogpost"]:
                yield from self.listing(key, t)

    # ---- creating and updating content ----------------------------------------------

    def _insert(
        self,
        type: str,
        space_key: str,
        title: str,
        body: str,
        parent_id: str | None,
        *,
        emit: bool = True,
        normalize: bool = True,
        message: str = "",
        created: int | None = None,
    ) -> Content:
        if type in ("page", "blogpost"):
            if not title or not title.strip():
                raise BadRequest("Title cannot be empty", title="Title cannot be empty")
            if title_key(space_key, type, title) in self._by_title:
                raise TitleExists(title)
        now = created if created is not None else self.clock.now_ms()
        cid = self._new_id()
        if normalize:
            body = self.normalize(body)
        c = Content(
            id=cid,
            type=type,
            space_key=space_key,
            status="current",
            versions=[Version(1, now, title, body, message=message, author=self.actor.account_id)],
            created=now,
            author=self.actor.account_id,
            parent_id=parent_id,
        )
        self.content[cid] = c
        if type in ("page", "blogpost"):
            self._by_title[title_key(space_key, type, title)] = cid
        if type in ("page", "blogpost", *CONTAINER_TYPES):
            self._listing.setdefault((space_key, type), []).append(int(cid))
        if type in TREE_TYPES:
            siblings = (
                self._children.setdefault(parent_id, [])
                if parent_id
                else (self._roots.setdefault(space_key, []))
            )
            c.position = len(siblings)
            siblings.append(cid)
        if emit:
            if type == "page":
                self._emit("page_created", space_key, page=self.snapshot(c))
            elif type == "blogpost":
                self._emit("blog_created", space_key, blog=self.snapshot(c))
        return c

    def create_page(
        self,
        space_key: str,
        title: str,
        body: str = "",
        *,
        parent_id: str | None = None,
        root_level: bool = False,
        type: str = "page",
        message: str = "",
    ) -> Content:
        """Create a page (under the home page unless ``parent_id`` or ``root_level``)."""
        with self.lock:
            space = self.space(space_key)
            if type == "page":
                if parent_id is not None:
                    parent = self.get(parent_id)
                    if parent.type not in TREE_TYPES or parent.space_key != space_key:
                        raise BadRequest(
                            f"Parent page {parent_id} is not a page in space {space_key}"
                        )
                    parent_id = parent.id
                elif not root_level:
                    parent_id = space.homepage_id
            else:
                parent_id = None
            return self._insert(type, space_key, title, body, parent_id, message=message)

    def create_blogpost(self, space_key: str, title: str, body: str = "") -> Content:
        return self.create_page(space_key, title, body, type="blogpost")

    def create_container(
        self,
        space_key: str,
        type: str,
        title: str,
        *,
        parent_id: str | None = None,
        embed_url: str = "",
    ) -> Content:
        """A folder, whiteboard, database or embed, under ``parent_id`` (a page or another
        container; the home page when None, as in the real space tree of
        shared/realapi/cloud_space_tree_arcade.json, whose top-level folders, database and
        whiteboard have the home page as parent).

        Titles of containers are not checked for uniqueness (not verified either way).
        Confluence documents no webhook event for containers, so none is sent.
        """
        with self.lock:
            if type not in CONTAINER_TYPES:
                raise BadRequest(f"Not a container type: {type}")
            space = self.space(space_key)
            if not isinstance(title, str) or not title.strip():
                raise BadRequest("Title cannot be empty", title="Title cannot be empty")
            if parent_id is None:
                parent_id = space.homepage_id
            else:
                parent = self.get(parent_id)
                if parent.type not in TREE_TYPES or parent.space_key != space_key:
                    raise BadRequest(f"Parent {parent_id} is not in the tree of space {space_key}")
                if parent.status != "current":
                    raise content_not_found(parent_id)
            c = self._insert(type, space_key, title, "", parent_id, emit=False, normalize=False)
            c.embed_url = embed_url
            self._changed()
            return c

    def create_folder(self, space_key: str, title: str, *, parent_id: str | None = None) -> Content:
        return self.create_container(space_key, "folder", title, parent_id=parent_id)

    def rename(self, content_id: str, title: str) -> Content:
        """A new version with a new title (a folder rename goes through v1 PUT content)."""
        return self.update_content(content_id, title=title)

    def update_content(
        self,
        content_id: str,
        *,
        version: int | None = None,
        title: str | None = None,
        body: str | None = None,
        parent_id: str | None = None,
        message: str = "",
        minor_edit: bool = False,
        kind: str = "page",
    ) -> Content:
        """Publish a new version. ``version`` must be current+1 (None means "next")."""
        with self.lock:
            c = self.get(content_id)
            if c.status != "current":
                raise BadRequest(
                    f"Cannot update content with status {c.status}; restore it first",
                )
            current = c.version.number
            if version is None:
                version = current + 1
            if version != current + 1:
                raise VersionConflict(current, version, kind=kind)
            new_title = c.title if title is None else title
            if new_title != c.title and c.type in ("page", "blogpost"):
                if not new_title.strip():
                    raise BadRequest("Title cannot be empty", title="Title cannot be empty")
                taken = self._by_title.get(title_key(c.space_key, c.type, new_title))
                if taken is not None and taken != c.id:
                    raise TitleExists(new_title)
            new_body = c.body if body is None else self.normalize(body)
            old_parent = c.parent_id
            if parent_id is not None and parent_id != c.parent_id and c.type in TREE_TYPES:
                self._check_move(c, parent_id)
            if new_title != c.title and c.type in ("page", "blogpost"):
                del self._by_title[title_key(c.space_key, c.type, c.title)]
                self._by_title[title_key(c.space_key, c.type, new_title)] = c.id
            c.versions.append(
                Version(
                    version,
                    self.clock.now_ms(),
                    new_title,
                    new_body,
                    message=message,
                    minor_edit=minor_edit,
                    author=self.actor.account_id,
                )
            )
            if c.type == "page":
                self._emit(
                    "page_updated", c.space_key, page=self.snapshot(c), updateTrigger="edit_page"
                )
            elif c.type == "blogpost":
                self._emit(
                    "blog_updated", c.space_key, blog=self.snapshot(c), updateTrigger="edit_page"
                )
            elif c.type == "comment":
                self._emit("comment_updated", c.space_key, comment=self.snapshot(c))
            else:
                self._changed()  # containers: no documented event
            if parent_id is not None and parent_id != old_parent and c.type in TREE_TYPES:
                self._reparent(c, parent_id, None)
            return c

    def edit(self, content_id: str, body: str, *, title: str | None = None) -> Content:
        """Edit as a Confluence user would in the editor: next version, new body."""
        return self.update_content(content_id, body=body, title=title)

    # ---- moving ---------------------------------------------------------------------

    def _check_move(self, c: Content, new_parent_id: str) -> Content:
        parent = self.get(new_parent_id)
        if parent.type not in TREE_TYPES:
            raise BadRequest(f"Cannot move a page under a {parent.type}")
        if parent.space_key != c.space_key:
            raise BadRequest("Moving a page to another space is not supported")
        if parent.id == c.id or any(a.id == c.id for a in self.ancestors(parent.id)):
            raise BadRequest(
                "Cannot move a page to be a descendant of itself",
                title="Cannot move a page to be a descendant of itself",
            )
        return parent

    def _sibling_list(self, c: Content) -> list[str]:
        if c.parent_id:
            return self._children.setdefault(c.parent_id, [])
        return self._roots.setdefault(c.space_key, [])

    def _renumber(self, ids: list[str]) -> None:
        for i, cid in enumerate(ids):
            self.content[cid].position = i

    def _reparent(self, c: Content, new_parent_id: str | None, index: int | None) -> None:
        old_parent = c.parent_id
        old = self._sibling_list(c)
        if c.id in old:
            old.remove(c.id)
            self._renumber(old)
        c.parent_id = new_parent_id
        new = self._sibling_list(c)
        new.insert(len(new) if index is None else index, c.id)
        self._renumber(new)
        if c.type != "page":
            self._changed()  # a container moved: no documented event
            return
        data: dict[str, Any] = {"page": self.snapshot(c)}
        if old_parent and old_parent in self.content:
            data["oldParent"] = self.snapshot(self.content[old_parent])
        if new_parent_id and new_parent_id in self.content:
            data["newParent"] = self.snapshot(self.content[new_parent_id])
        self._emit("page_moved", c.space_key, **data)

    def move(self, content_id: str, position: str, target_id: str) -> Content:
        """Move a page ``before``/``after`` a sibling target or ``append`` it under the target.

        As in Confluence, a move changes the tree only; it does not publish a new version.
        """
        with self.lock:
            c = self.get(content_id, types=TREE_TYPES)
            target = self.get(target_id)
            if position == "append":
                self._check_move(c, target.id)
                self._reparent(c, target.id, None)
            elif position in ("before", "after"):
                if target.id == c.id:
                    raise BadRequest("Cannot move a page relative to itself")
                new_parent = target.parent_id
                if new_parent:
                    self._check_move(c, new_parent)
                siblings = (
                    self._children.get(new_parent, [])
                    if new_parent
                    else self._roots.get(target.space_key, [])
                )
                ordered = [i for i in siblings if i != c.id]
                index = ordered.index(target.id) + (1 if position == "after" else 0)
                self._reparent(c, new_parent, index)
            else:
                raise BadRequest(f"Invalid position: {position}")
            return c

    # ---- trash, purge, restore ------------------------------------------------------

    def trash(self, content_id: str) -> Content:
        """Move to the trash. The title stays taken.

        A page's children are not deleted: they move up to its parent (no event is sent for
        them; whether Confluence sends one is unverified, so clients must not count on it).
        The same holds for whiteboards, databases and embeds (content of their own, like a
        page; not verified). A folder goes to the trash *with* everything inside it, and
        restoring the folder brings that content back with it: the v2 spec says "Deleting a
        folder moves the folder to the trash, where it can be restored later" (DELETE
        /folders/{id}); that its content goes along is not verified against a live site.
        Each page trashed with its folder is reported as ``page_trashed`` (no folder event
        is documented; a page leaving the tree is a page_trashed in the real captures).
        """
        with self.lock:
            c = self.get(content_id)
            if c.status == "trashed":
                return c
            if c.type == "page" and self.spaces[c.space_key].homepage_id == c.id:
                raise BadRequest("The home page of a space cannot be deleted")
            c.status = "trashed"
            c.trashed_with = None
            if c.type == "folder":
                for d in self.descendants(c.id):
                    if d.status != "current":
                        continue
                    d.status = "trashed"
                    d.trashed_with = c.id
                    if d.type == "page":
                        self._emit("page_trashed", d.space_key, page=self.snapshot(d))
                self._changed()
            elif c.type in TREE_TYPES:
                self._lift_children(c)
            if c.type == "page":
                self._emit("page_trashed", c.space_key, page=self.snapshot(c))
            elif c.type == "blogpost":
                self._emit("blog_trashed", c.space_key, blog=self.snapshot(c))
            elif c.type == "comment":
                self._purge_comment(c)
            else:
                self._changed()
            return c

    def purge(self, content_id: str) -> None:
        """Delete permanently. Only trashed content can be purged; purging a folder purges
        what went to the trash with it."""
        with self.lock:
            c = self.get(content_id)
            if c.type == "comment":
                self._purge_comment(c)
                return
            if c.status != "trashed":
                raise BadRequest(
                    "Content must be trashed before it can be purged",
                    title="Content must be trashed before it can be purged",
                )
            if c.type == "folder":
                inside = [d for d in self.descendants(c.id) if d.trashed_with == c.id]
                for d in reversed(inside):  # deepest first
                    self._purge_one(d)
            self._purge_one(c)

    def _purge_one(self, c: Content) -> None:
        snap = self.snapshot(c)
        self._lift_children(c)
        self._children.pop(c.id, None)
        self._remove_from_siblings(c)
        del self.content[c.id]
        if c.type in ("page", "blogpost"):
            self._by_title.pop(title_key(c.space_key, c.type, c.title), None)
        ids = self._listing.get((c.space_key, c.type), [])
        i = bisect.bisect_left(ids, int(c.id))
        if i < len(ids) and ids[i] == int(c.id):
            del ids[i]
        for att_id in c.attachment_ids:
            self.attachments.pop(att_id, None)
        for cid in c.comment_ids:
            self.content.pop(cid, None)
        if c.type == "page":
            self._emit("page_removed", c.space_key, page=snap)
        elif c.type == "blogpost":
            self._emit("blog_removed", c.space_key, blog=snap)
        else:
            self._changed()

    def _lift_children(self, c: Content) -> None:
        for child_id in list(self._children.get(c.id, [])):
            child = self.content[child_id]
            self._remove_from_siblings(child)
            child.parent_id = c.parent_id
            sib = self._sibling_list(child)
            child.position = len(sib)
            sib.append(child.id)

    def _remove_from_siblings(self, c: Content) -> None:
        sib = self._sibling_list(c)
        if c.id in sib:
            sib.remove(c.id)
            self._renumber(sib)

    def restore(self, content_id: str) -> Content:
        """Restore from the trash: status only, no new version. The content goes back under
        its old parent, or under the home page when that parent is gone or trashed. A folder
        brings back what went to the trash with it (``page_restored`` for each page)."""
        with self.lock:
            c = self.get(content_id)
            if c.status == "current":
                return c
            c.status = "current"
            c.trashed_with = None
            if c.type in TREE_TYPES and c.parent_id:
                parent = self.content.get(c.parent_id)
                if parent is None or parent.status != "current":
                    self._remove_from_siblings(c)
                    c.parent_id = self.spaces[c.space_key].homepage_id
                    sib = self._sibling_list(c)
                    c.position = len(sib)
                    sib.append(c.id)
            if c.type == "folder":
                for d in self.descendants(c.id):
                    if d.trashed_with == c.id:
                        d.status = "current"
                        d.trashed_with = None
                        if d.type == "page":
                            self._emit("page_restored", d.space_key, page=self.snapshot(d))
            if c.type == "page":
                self._emit("page_restored", c.space_key, page=self.snapshot(c))
            elif c.type == "blogpost":
                self._emit("blog_restored", c.space_key, blog=self.snapshot(c))
            else:
                self._changed()
            return c

    # ---- comments -------------------------------------------------------------------

    def add_comment(self, container_id: str, body: str) -> Content:
        with self.lock:
            container = self.get(container_id)
            c = self._insert("comment", container.space_key, "", body, container.id, emit=False)
            c.versions[0].title = f"Re: {container.title}"
            container.comment_ids.append(c.id)
            self._emit(
                "comment_created",
                c.space_key,
                comment=self.snapshot(c),
                container=self.snapshot(container),
            )
            return c

    def _purge_comment(self, c: Content) -> None:
        container = self.content.get(c.parent_id or "")
        if container and c.id in container.comment_ids:
            container.comment_ids.remove(c.id)
        snap = self.snapshot(c)
        self.content.pop(c.id, None)
        self._emit("comment_removed", c.space_key, comment=snap)

    # ---- labels ---------------------------------------------------------------------

    def add_label(self, content_id: str, name: str, prefix: str = "global") -> Label:
        with self.lock:
            c = self.get(content_id)
            name = name.strip().lower()
            if not name or any(ch.isspace() for ch in name):
                raise BadRequest(f"Label name is invalid: '{name}'")
            existing = c.labels.get(name)
            if existing:
                return existing
            label_id = self._labels_by_name.get((prefix, name))
            created = label_id is None
            if label_id is None:
                self._next_label_id += 1
                label_id = str(self._next_label_id)
                self._labels_by_name[(prefix, name)] = label_id
            label = Label(label_id, name, prefix)
            c.labels[name] = label
            if created:
                self._emit("label_created", c.space_key, label=self._label_data(label))
            self._emit(
                "label_added", c.space_key, label=self._label_data(label), labeled=self._labeled(c)
            )
            return label

    def remove_label(self, content_id: str, name: str) -> None:
        with self.lock:
            c = self.get(content_id)
            label = c.labels.pop(name.strip().lower(), None)
            if label is None:
                raise NotFound(f"Label '{name}' is not on content {content_id}")
            self._emit(
                "label_removed",
                c.space_key,
                label=self._label_data(label),
                labeled=self._labeled(c),
            )

    def _label_data(self, label: Label) -> dict:
        return {"id": label.id, "name": label.name, "prefix": label.prefix}

    def _labeled(self, c: Content) -> dict:
        snap = self.snapshot(c)
        snap["labels"] = [self._label_data(lb) for lb in c.labels.values()]
        return snap

    # ---- attachments ----------------------------------------------------------------

    def get_attachment(self, attachment_id: str) -> Attachment:
        aid = str(attachment_id)
        if not aid.startswith("att"):
            aid = "att" + aid
        a = self.attachments.get(aid)
        if a is None:
            raise content_not_found(str(attachment_id))
        return a

    def attachment_by_name(self, content_id: str, filename: str) -> Attachment | None:
        c = self.get(content_id)
        for aid in c.attachment_ids:
            a = self.attachments.get(aid)
            if a is not None and a.filename == filename:
                return a
        return None

    def attachments_of(self, content_id: str) -> list[Attachment]:
        c = self.get(content_id)
        return [self.attachments[a] for a in c.attachment_ids if a in self.attachments]

    def add_attachment(
        self,
        content_id: str,
        filename: str,
        data: bytes,
        *,
        media_type: str | None = None,
        comment: str = "",
        minor_edit: bool = False,
        allow_update: bool = True,
        emit: bool = True,
    ) -> Attachment:
        """Attach a file, or add a new version when one of that name exists."""
        with self.lock:
            c = self.get(content_id)
            now = self.clock.now_ms()
            existing = self.attachment_by_name(content_id, filename)
            if existing is not None:
                if not allow_update:
                    raise BadRequest(
                        f"Cannot add a new attachment with same file name as an existing "
                        f"attachment: {filename}"
                    )
                return self.update_attachment_data(
                    existing.id,
                    data,
                    comment=comment,
                    minor_edit=minor_edit,
                    media_type=media_type,
                )
            aid = "att" + self._new_id()
            a = Attachment(
                id=aid,
                container_id=c.id,
                filename=filename,
                media_type=media_type or guess_media_type(filename),
                status="current",
                created=now,
                versions=[
                    AttachmentVersion(
                        1, now, bytes(data), comment, minor_edit, self.actor.account_id
                    )
                ],
                file_id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
            )
            self.attachments[aid] = a
            c.attachment_ids.append(aid)
            self._emit_attachment("attachment_created" if emit else None, c, a)
            return a

    def update_attachment_data(
        self,
        attachment_id: str,
        data: bytes,
        *,
        comment: str = "",
        minor_edit: bool = False,
        media_type: str | None = None,
    ) -> Attachment:
        with self.lock:
            a = self.get_attachment(attachment_id)
            c = self.get(a.container_id)
            a.versions.append(
                AttachmentVersion(
                    a.version.number + 1,
                    self.clock.now_ms(),
                    bytes(data),
                    comment,
                    minor_edit,
                    self.actor.account_id,
                )
            )
            if media_type:
                a.media_type = media_type
            a.status = "current"
            self._emit_attachment("attachment_updated", c, a)
            return a

    def _emit_attachment(self, event: str | None, c: Content | None, a: Attachment) -> None:
        """Send an attachment event naming its page; without a page (or event), only
        record the change."""
        if event is None or c is None:
            self._changed()
            return
        self._emit(
            event,
            c.space_key,
            attachedTo=self.snapshot(c),
            attachments=[self.attachment_snapshot(a)],
        )

    def delete_attachment(self, attachment_id: str, *, purge: bool = False) -> None:
        """Trash an attachment (``attachment_trashed``), or purge it (``attachment_removed``).

        Named like the page events (trash -> ``page_trashed``, purge -> ``page_removed``,
        from a real Cloud capture, confluence-api.md §5.1.2); the docs give attachments
        "the same pairing" and no capture of their own, so this mapping is inferred.
        """
        with self.lock:
            a = self.get_attachment(attachment_id)
            c = self.content.get(a.container_id)
            if purge:
                self.attachments.pop(a.id, None)
                if c is not None and a.id in c.attachment_ids:
                    c.attachment_ids.remove(a.id)
                event = "attachment_removed"
            else:
                if a.status != "current":
                    self._changed()
                    return
                a.status = "trashed"
                event = "attachment_trashed"
            self._emit_attachment(event, c, a)

    def restore_attachment(self, attachment_id: str) -> Attachment:
        """Bring a trashed attachment back (the space trash's "Restore")."""
        with self.lock:
            a = self.get_attachment(attachment_id)
            if a.status == "current":
                return a
            a.status = "current"
            c = self.content.get(a.container_id)
            self._emit_attachment("attachment_restored", c, a)
            return a

    # ---- webhooks -------------------------------------------------------------------

    def add_webhook(self, **fields: Any) -> Webhook:
        with self.lock:
            now = self.clock.now_ms()
            hook = Webhook(id=self._next_webhook_id, created=now, updated=now, **fields)
            self._next_webhook_id += 1
            self.webhooks[hook.id] = hook
            self._changed()
            return hook

    def update_webhook(self, hook_id: int, **fields: Any) -> Webhook:
        with self.lock:
            hook = self.webhooks.get(hook_id)
            if hook is None:
                raise NotFound(f"No webhook with id {hook_id}")
            for k, v in fields.items():
                setattr(hook, k, v)
            hook.updated = self.clock.now_ms()
            self._changed()
            return hook

    def delete_webhook(self, hook_id: int) -> None:
        with self.lock:
            if self.webhooks.pop(hook_id, None) is None:
                raise NotFound(f"No webhook with id {hook_id}")
            self._changed()
