"""Deterministic seeding of a space.

``pages=N, seed=S`` adds N pages under the home page as a tree (fan-out up to 6, so a
10,000-page space is five or six levels deep), with labels and some attachments. Bodies come
from the realistic page set in ``syncd/emulator/seed/*.xml``; seeded page *i* uses template
``(i - 1) % T``. Templates may hold two placeholders:

- ``{{page_title:K}}``: the title of the K-th seeded page (1-based, modulo N), XML-escaped;
- ``{{attachment:NAME}}``: replaced by NAME, and a small deterministic file of that name is
  attached to the page (a real tiny PNG for ``.png``, a minimal PDF for ``.pdf``...).

``corpus=DIR`` instead adds one page per ``*.xml`` file in DIR (sorted), titled after the file
name, flat under the home page.

Seeding writes through the store's internal insert (no webhook events, no per-page locking
overhead), so 10,000 pages take a second or two.
"""

from __future__ import annotations

import json
import random
import re
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from syncd.emulator.store import Store

TEMPLATE_DIR = Path(__file__).with_name("seed")
FANOUT = 6
LABELS = ["docs", "runbook", "design", "howto", "meeting-notes", "release", "draft", "team"]
_PLACEHOLDER = re.compile(r"\{\{(page_title|attachment):([^}]*)\}\}")

FALLBACK_TEMPLATES = [
    (
        "Overview",
        "<h1>Overview</h1><p>This page describes the service and links to "
        '<ac:link><ri:page ri:content-title="{{page_title:2}}" /></ac:link>.</p>'
        "<ul><li><p>First point</p><ul><li><p>Nested point</p></li></ul></li></ul>",
    ),
    (
        "Checklist",
        "<h2>Checklist</h2><ac:task-list><ac:task><ac:task-status>incomplete</ac:task-status>"
        "<ac:task-body>Review the plan</ac:task-body></ac:task></ac:task-list>"
        '<ac:structured-macro ac:name="info"><ac:rich-text-body><p>Keep this current.</p>'
        "</ac:rich-text-body></ac:structured-macro>",
    ),
]


@dataclass
class Template:
    title: str
    body: str
    labels: list[str] = field(default_factory=list)
    media_types: dict[str, str] = field(default_factory=dict)


def load_templates(directory: Path = TEMPLATE_DIR) -> list[Template]:
    """The page set in file-name order. ``pages.json`` (when present) gives each file its
    display title, labels and attachment media types; otherwise titles come from file names.
    Falls back to two simple bodies when the folder is empty."""
    files = sorted(directory.glob("*.xml")) if directory.is_dir() else []
    index: dict[str, dict] = {}
    index_path = directory / "pages.json"
    if index_path.is_file():
        try:
            pages = json.loads(index_path.read_text(encoding="utf-8")).get("pages", [])
            index = {p["file"]: p for p in pages if isinstance(p, dict) and "file" in p}
        except (ValueError, TypeError, KeyError):
            index = {}
    templates = []
    for f in files:
        meta = index.get(f.name, {})
        templates.append(
            Template(
                title=meta.get("title") or title_from_filename(f.name),
                body=f.read_text(encoding="utf-8"),
                labels=[str(x) for x in meta.get("labels", [])],
                media_types={
                    a["name"]: a.get("media_type", "")
                    for a in meta.get("attachments", [])
                    if isinstance(a, dict) and "name" in a
                },
            )
        )
    return templates or [Template(t, b) for t, b in FALLBACK_TEMPLATES]


def title_from_filename(name: str) -> str:
    """``04-runbook-ingest-lag.xml`` -> ``Runbook ingest lag``."""
    stem = name.rsplit(".", 1)[0]
    stem = re.sub(r"^\d+[-_ ]+", "", stem)
    words = re.sub(r"[-_]+", " ", stem).strip()
    return (words[:1].upper() + words[1:]) if words else name


def seed_space(store: Store, space_key: str, pages: int, seed: int) -> list[str]:
    """Add ``pages`` pages under the space's home page; returns their ids in seeding order."""
    if pages <= 0:
        return []
    templates = load_templates()
    rng = random.Random(seed)
    titles = _titles(templates, pages)
    home = store.space(space_key).homepage_id
    ids: list[str] = []
    with store.lock:
        start = store.clock.now_ms()
        for i in range(pages):
            template = templates[i % len(templates)]
            attachments: list[str] = []
            body = _fill(template.body, titles, attachments)
            parent = home if i < FANOUT else ids[(i - FANOUT) // FANOUT]
            c = store._insert(
                "page", space_key, titles[i], body, parent, emit=False, created=start + i
            )
            ids.append(c.id)
            for name in attachments:
                store.add_attachment(
                    c.id,
                    name,
                    sample_file(name, seed),
                    media_type=template.media_types.get(name) or None,
                    emit=False,
                )
            if rng.random() < 0.1:
                store.add_attachment(
                    c.id, f"notes-{i + 1}.txt", f"Notes for {titles[i]}\n".encode(), emit=False
                )
            names = template.labels or rng.sample(LABELS, rng.randint(0, 2))
            for name in names:
                c.labels[name] = _label(store, name)
    store._changed()
    return ids


def seed_corpus(store: Store, space_key: str, directory: Path) -> list[str]:
    """One page per ``*.xml`` file in ``directory``, titled after the file."""
    home = store.space(space_key).homepage_id
    ids = []
    with store.lock:
        for path in sorted(Path(directory).glob("*.xml")):
            title = path.stem
            n = 2
            while store.by_title(space_key, title) is not None:
                title = f"{path.stem} ({n})"
                n += 1
            body = path.read_text(encoding="utf-8", errors="replace")
            ids.append(store._insert("page", space_key, title, body, home, emit=False).id)
    store._changed()
    return ids


def _titles(templates: list[Template], pages: int) -> list[str]:
    titles = []
    for i in range(pages):
        base = templates[i % len(templates)].title
        cycle = i // len(templates)
        titles.append(base if cycle == 0 else f"{base} {cycle + 1}")
    return titles


def _fill(body: str, titles: list[str], attachments: list[str]) -> str:
    def replace(m: re.Match[str]) -> str:
        kind, arg = m.group(1), m.group(2).strip()
        if kind == "page_title":
            try:
                k = int(arg)
            except ValueError:
                return m.group(0)
            return escape(titles[(k - 1) % len(titles)], {'"': "&quot;"})
        if arg not in attachments:
            attachments.append(arg)
        return escape(arg, {'"': "&quot;"})

    return _PLACEHOLDER.sub(replace, body) if "{{" in body else body


def _label(store: Store, name: str):
    from syncd.emulator.model import Label

    label_id = store._labels_by_name.get(("global", name))
    if label_id is None:
        store._next_label_id += 1
        label_id = str(store._next_label_id)
        store._labels_by_name[("global", name)] = label_id
    return Label(label_id, name, "global")


def sample_file(name: str, seed: int = 0) -> bytes:
    """A small, valid, deterministic file for ``name``'s extension."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext == "png":
        return tiny_png(seed + sum(map(ord, name)))
    if ext == "pdf":
        return (
            b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
        )
    if ext == "svg":
        return b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>'
    if ext == "json":
        return b'{"name": "' + name.encode() + b'"}\n'
    return f"Sample attachment {name}\n".encode()


def tiny_png(variant: int = 0) -> bytes:
    """A valid 2x2 RGB PNG whose colour depends on ``variant``."""
    r, g, b = (variant * 47) % 256, (variant * 89) % 256, (variant * 151) % 256
    row = b"\x00" + bytes([r, g, b]) * 2
    raw = row * 2

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# ---- a Cloud content tree with folders -----------------------------------------------

#: The tree ``seed_folders`` adds under the home page, shaped like a real Cloud space whose
#: top level holds a database, folders with pages inside and a whiteboard
#: (shared/realapi/cloud_space_tree_arcade.json). Each node: (type, title, children); pages
#: get a short body. Titles do not collide with the page templates of ``seed_space``.
FOLDER_TREE: list[tuple[str, str, list]] = [
    ("database", "Service catalog", []),
    (
        "folder",
        "Daily notes",
        [
            ("page", "Standup 2026-12-01", []),
            ("page", "Standup 2026-12-02", []),
            ("folder", "Archive", [("page", "Standup 2026-11-24", [])]),
        ],
    ),
    (
        "folder",
        "Handbooks",
        [
            ("page", "Support handbook", [("page", "Escalation matrix", [])]),
            ("page", "Security handbook", []),
        ],
    ),
    ("whiteboard", "Architecture sketches", [("page", "Sketch notes", [])]),
    ("embed", "Status dashboard", []),
]


def seed_folders(store: Store, space_key: str) -> list[str]:
    """Add ``FOLDER_TREE`` under the home page (Cloud only: Data Center has no folders).

    Returns the new ids in creation order. Like ``seed_space``, no webhook events are sent.
    """
    ids: list[str] = []
    home = store.space(space_key).homepage_id

    def add(nodes: list, parent: str | None) -> None:
        for type, title, children in nodes:
            if type == "page":
                body = f"<p>{escape(title)}: seeded inside the space tree.</p>"
                c = store._insert("page", space_key, title, body, parent, emit=False)
            else:
                url = "https://status.example.com/" if type == "embed" else ""
                c = store.create_container(space_key, type, title, parent_id=parent, embed_url=url)
            ids.append(c.id)
            add(children, c.id)

    with store.lock:
        add(FOLDER_TREE, home)
    store._changed()
    return ids
