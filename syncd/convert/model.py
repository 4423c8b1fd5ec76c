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
        return {
            "pages": [[t, s, p] for (t, s), p in sorted(self.pages.items(), key=str)],
            "attachments": [[f, p] for f, p in sorted(self.attachments.items())],
        }


class ReplayResolver:
    """Answers as at pull time (from the sidecar), then asks the live resolver."""

    def __init__(self, links: dict[str, list[list[Any]]], live: LinkResolver | None) -> None:
        self.live = live or DefaultResolver()
        self.pages = {(t, s): p for t, s, p in links.get("pages", [])}
        self.by_path = {p: (t, s) for (t, s), p in self.pages.items()}
        self.attachments = {f: p for f, p in links.get("attachments", [])}
        self.by_file_path = {p: f for f, p in self.attachments.items()}

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
