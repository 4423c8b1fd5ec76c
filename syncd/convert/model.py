"""Public value types of the converter: results, sidecar, resolver protocol, errors."""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

SIDECAR_FORMAT = 1


class ConversionRefused(Exception):
    """Raised instead of producing a body that would lose or garble content.

    ``construct`` names what could not be converted (e.g. ``"marker"``, ``"table"``), ``line``
    is the 1-based Markdown line it starts on (0 when not tied to a line).
    """

    def __init__(self, construct: str, line: int, message: str) -> None:
        super().__init__(f"{construct} at line {line}: {message}")
        self.construct = construct
        self.line = line
        self.message = message


@runtime_checkable
class LinkResolver(Protocol):
    """What the converter needs to know about other pages and attachments.

    Every method may return ``None`` for "unknown"; the converter then keeps a readable
    fallback form that still round-trips.
    """

    def page_path(
        self, title: str | None, space_key: str | None = None, page_id: str | None = None
    ) -> str | None:
        """Relative Markdown path (from the current page's file) of a linked page."""

    def page_for_path(self, path: str) -> tuple[str, str | None] | None:
        """``(title, space_key)`` of the page whose Markdown file is ``path`` (relative)."""

    def attachment_path(self, filename: str, page_title: str | None = None) -> str | None:
        """Relative path of an attachment file of the current (or the named) page."""

    def attachment_for_path(self, path: str) -> str | None:
        """Attachment file name for a relative path produced by :meth:`attachment_path`."""

    # Optional (looked up with getattr, so older resolvers keep working):
    #   user_name(kind, value) -> display name of a user; kind is "account-id", "userkey"
    #     or "username".  Mentions read "@Display Name"; None gives a short fallback.
    #   jira_url(server_name, server_id) -> base URL of a Jira server, so an issue macro
    #     reads as a link to the issue; None leaves the issue key alone.


class DefaultResolver:
    """Resolver with no knowledge of other pages: attachments live in ``attachments/``.

    Page links keep the ``ac:`` fallback form; this is what tests and new pages use.
    """

    folder = "attachments"

    def page_path(self, title, space_key=None, page_id=None):
        return None

    def page_for_path(self, path):
        return None

    def attachment_path(self, filename, page_title=None):
        if page_title:
            return None
        return f"{self.folder}/{filename}"

    def user_name(self, kind, value):
        return None

    def jira_url(self, server_name, server_id):
        return None

    def attachment_for_path(self, path):
        norm = posixpath.normpath(path)
        head, name = posixpath.split(norm)
        if head == self.folder and name:
            return name
        return None


class RecordingResolver:
    """Wraps a resolver and remembers its answers (stored in the sidecar)."""

    def __init__(self, inner: LinkResolver | None) -> None:
        self.inner = inner or DefaultResolver()
        self.pages: dict[tuple[str | None, str | None], str] = {}
        self.attachments: dict[str, str] = {}
        self.users: dict[tuple[str, str], str] = {}
        self.jira: dict[tuple[str, str], str] = {}

    def user_name(self, kind, value):
        fn = getattr(self.inner, "user_name", None)
        name = fn(kind, value) if fn is not None else None
        if name:
            self.users[(kind, value)] = name
        return name

    def jira_url(self, server_name, server_id):
        fn = getattr(self.inner, "jira_url", None)
        url = fn(server_name, server_id) if fn is not None else None
        if url:
            self.jira[(server_name, server_id)] = url
        return url

    def page_path(self, title, space_key=None, page_id=None):
        path = self.inner.page_path(title, space_key, page_id)
        if path is not None:
            self.pages[(title, space_key)] = path
        return path

    def page_for_path(self, path):
        return self.inner.page_for_path(path)

    def attachment_path(self, filename, page_title=None):
        path = self.inner.attachment_path(filename, page_title)
        if path is not None and page_title is None:
            self.attachments[filename] = path
        return path

    def attachment_for_path(self, path):
        return self.inner.attachment_for_path(path)

    def links(self) -> dict[str, list[list[Any]]]:
        out = {
            "pages": [[t, s, p] for (t, s), p in sorted(self.pages.items(), key=str)],
            "attachments": [[f, p] for f, p in sorted(self.attachments.items())],
        }
        if self.users:
            out["users"] = [[k, v, n] for (k, v), n in sorted(self.users.items())]
        if self.jira:
            out["jira"] = [[n, i, u] for (n, i), u in sorted(self.jira.items())]
        return out


class ReplayResolver:
    """Answers as at pull time (from the sidecar), then asks the live resolver."""

    def __init__(self, links: dict[str, list[list[Any]]], live: LinkResolver | None) -> None:
        self.live = live or DefaultResolver()
        self.pages = {(t, s): p for t, s, p in links.get("pages", [])}
        self.by_path = {p: (t, s) for (t, s), p in self.pages.items()}
        self.attachments = {f: p for f, p in links.get("attachments", [])}
        self.by_file_path = {p: f for f, p in self.attachments.items()}
        # Names as at pull time: a user renamed since must not look like an edit.
        self.users = {(k, v): n for k, v, n in links.get("users", [])}
        self.jira = {(n, i): u for n, i, u in links.get("jira", [])}

    def user_name(self, kind, value):
        if (kind, value) in self.users:
            return self.users[(kind, value)]
        fn = getattr(self.live, "user_name", None)
        return fn(kind, value) if fn is not None else None

    def jira_url(self, server_name, server_id):
        if (server_name, server_id) in self.jira:
            return self.jira[(server_name, server_id)]
        fn = getattr(self.live, "jira_url", None)
        return fn(server_name, server_id) if fn is not None else None

    def page_path(self, title, space_key=None, page_id=None):
        if (title, space_key) in self.pages:
            return self.pages[(title, space_key)]
        return self.live.page_path(title, space_key, page_id)

    def page_for_path(self, path):
        return self.by_path.get(path) or self.live.page_for_path(path)

    def attachment_path(self, filename, page_title=None):
        if page_title is None and filename in self.attachments:
            return self.attachments[filename]
        return self.live.attachment_path(filename, page_title)

    def attachment_for_path(self, path):
        return self.by_file_path.get(path) or self.live.attachment_for_path(path)


@dataclass
class Sidecar:
    """What a push needs besides the Markdown: the pulled body and its block map.

    ``body`` is the storage exactly as pulled; ``markdown`` the projection written to disk;
    ``blocks`` maps each top-level block to its byte span and Markdown lines (informative:
    a push re-derives the map from ``body`` with the same converter).
    """

    body: str
    markdown: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    format: int = SIDECAR_FORMAT
    # How links were resolved at pull time: [title, space, path] and [filename, path].
    # A push resolves the same way, so a page renamed since does not turn into a plain link.
    links: dict[str, list[list[Any]]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": self.format,
                "body": self.body,
                "markdown": self.markdown,
                "blocks": self.blocks,
                "links": self.links,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Sidecar:
        data = json.loads(text)
        return cls(
            body=data["body"],
            markdown=data["markdown"],
            blocks=list(data.get("blocks", [])),
            format=int(data.get("format", SIDECAR_FORMAT)),
            links=dict(data.get("links", {})),
        )

    def reassemble(self) -> str:
        """The original body rebuilt from the block map and the separators between blocks."""
        out: list[str] = []
        pos = 0
        for block in self.blocks:
            out.append(self.body[pos : block["start"]])
            out.append(self.body[block["start"] : block["end"]])
            pos = block["end"]
        out.append(self.body[pos:])
        return "".join(out)


@dataclass
class PullResult:
    markdown: str
    sidecar: Sidecar


@dataclass
class PushResult:
    """``storage`` is None when the Markdown is unchanged and the page must not be updated."""

    storage: str | None
    changed_blocks: int = 0
    new_blocks: int = 0
    warnings: list[str] = field(default_factory=list)
