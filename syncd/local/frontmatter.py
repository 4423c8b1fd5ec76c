"""YAML front matter: the page id and the user-editable title and labels.

A synced file looks like::

    ---
    title: Install guide
    page_id: '123456'
    labels: [howto, setup]
    ---

    # Install ...

Nothing that changes on every pull (versions, timestamps) is stored, so a pull that did not
change the page produces the same bytes. Keys other tools put in front matter are kept and
written back after syncd's keys, sorted.

Reading is defensive: the block is limited to :data:`MAX_FRONT_MATTER_BYTES`, anchors and
aliases are refused (no "billion laughs"), and only plain YAML types are built (safe loader;
any tag such as ``!!python/object`` is an error). A file without front matter is a new local
file: its whole text is the body.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

MAX_FRONT_MATTER_BYTES = 64 * 1024
KEY_ORDER = ("title", "page_id", "labels")
_OPEN = re.compile(r"\A\ufeff?---[ \t]*\r?\n")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.MULTILINE)


class FrontMatterError(ValueError):
    """The front matter cannot be used; the file must be held, never pushed as is."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"front matter, line {line}: {message}" if line else message)


@dataclass(frozen=True)
class FrontMatter:
    page_id: str | None = None
    title: str | None = None
    labels: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.title is not None:
            out["title"] = self.title
        if self.page_id is not None:
            out["page_id"] = self.page_id
        if self.labels:
            out["labels"] = sorted(set(self.labels))
        for key in sorted(self.extra, key=str):
            if key not in KEY_ORDER:
                out[key] = self.extra[key]
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> FrontMatter:
        data = dict(data or {})
        page_id = data.pop("page_id", None)
        if isinstance(page_id, bool) or not isinstance(page_id, str | int | type(None)):
            raise FrontMatterError(None, f"page_id must be a page id, got {page_id!r}")
        title = data.pop("title", None)
        if title is not None and not isinstance(title, str | int | float):
            raise FrontMatterError(None, f"title must be text, got {type(title).__name__}")
        labels = data.pop("labels", None) or []
        if isinstance(labels, str):
            labels = [s for s in re.split(r"[,\s]+", labels) if s]
        if not isinstance(labels, list) or not all(isinstance(x, str | int) for x in labels):
            raise FrontMatterError(None, "labels must be a list of words")
        return cls(
            page_id=None if page_id is None else str(page_id).strip(),
            title=None if title is None else str(title),
            labels=tuple(sorted({str(x).strip() for x in labels if str(x).strip()})),
            extra=data,
        )


@dataclass(frozen=True)
class Document:
    meta: FrontMatter
    body: str
    body_line: int = 1  # 1-based line of the file where the body starts
    has_front_matter: bool = False


def split(text: str) -> tuple[dict[str, Any] | None, str, int]:
    """File text -> (front matter dict or None, body, 1-based line where the body starts).

    One blank line after the closing ``---`` belongs to the front matter (``join`` writes it).
    """
    opening = _OPEN.match(text)
    if not opening:
        return None, text.removeprefix("\ufeff"), 1
    closing = _CLOSE.search(text, opening.end())
    if closing is None:
        return None, text.removeprefix("\ufeff"), 1  # a thematic break, not front matter
    raw = text[opening.end() : closing.start()]
    if len(raw.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        raise FrontMatterError(2, f"front matter larger than {MAX_FRONT_MATTER_BYTES} bytes")
    data = _safe_parse(raw)
    if data is not None and not isinstance(data, dict):
        return None, text.removeprefix("\ufeff"), 1  # "---\nprose\n---": body, not metadata
    rest_start = closing.end()
    if text.startswith("\r\n", rest_start):
        rest_start += 2
    elif text.startswith("\n", rest_start):
        rest_start += 1
    body = text[rest_start:]
    body_line = text.count("\n", 0, rest_start) + 1
    if body.startswith("\r\n"):
        body, body_line = body[2:], body_line + 1
    elif body.startswith("\n"):
        body, body_line = body[1:], body_line + 1
    return (data or {}), body, body_line


#: libyaml's parser when PyYAML was built with it: the same constructor and resolver, about
#: eight times faster to parse a front matter block (every file syncd writes or reads anew).
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)


def _safe_parse(raw: str) -> Any:
    """safe_load with anchors, aliases and non-core tags refused up front."""
    if _FAST_LOADER is not None:
        try:
            return _load_checked(raw, _FAST_LOADER)
        except (FrontMatterError, yaml.YAMLError):
            pass  # the pure-Python parser below reports it, with its messages and lines
    return _load_checked(raw, yaml.SafeLoader)


def _load_checked(raw: str, loader: Any) -> Any:
    try:
        for event in yaml.parse(raw, Loader=loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise FrontMatterError(
                    event.start_mark.line + 2, "YAML anchors and aliases are not allowed"
                )
            tag = getattr(event, "tag", None)
            if tag and not tag.startswith("tag:yaml.org,2002:") and tag != "!":
                raise FrontMatterError(event.start_mark.line + 2, f"YAML tag {tag} not allowed")
        return yaml.load(raw, Loader=loader)  # a safe loader (checked events above)
    except FrontMatterError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise FrontMatterError(
            mark.line + 2 if mark else None, f"invalid YAML: {exc.problem or exc.context}"
        ) from None
    except yaml.YAMLError as exc:
        raise FrontMatterError(None, f"invalid YAML: {exc}") from None


def _dump(data: Mapping[str, Any]) -> str:
    """Block style for the keys (``title: X`` one per line, on every page, also when all
    values are scalars); a list of scalars stays on its key's line (``labels: [a, b]``)."""
    return "".join(_dump_item(key, value) for key, value in data.items())


#: A key and a string that PyYAML writes as they are (``key: value``): an ASCII letter
#: first, then only characters that mean nothing in a plain block scalar, no word YAML
#: reads as a bool or null. Anything else goes through PyYAML (the tests compare both).
_PLAIN_KEY = re.compile(r"[a-z_]{1,40}")
_PLAIN_VALUE = re.compile(r"[A-Za-z](?:[A-Za-z0-9._/()+'-]| (?! ))*")
_RESERVED_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "null", "y", "n"})
_DIGITS = re.compile(r"[1-9][0-9]{0,30}")


def _dump_item(key: str, value: Any) -> str:
    """One ``key: value`` line, as `_yaml_item` writes it, without PyYAML for the common
    cases a page file has (its title and its page id, written on every pull)."""
    if isinstance(key, str) and _PLAIN_KEY.fullmatch(key) and isinstance(value, str):
        if (
            len(value) <= 200
            and _PLAIN_VALUE.fullmatch(value)
            and not value.endswith(" ")
            and value.lower() not in _RESERVED_WORDS
        ):
            return f"{key}: {value}\n"
        if _DIGITS.fullmatch(value):  # a page id: a string YAML would read as a number
            return f"{key}: '{value}'\n"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return _yaml_list_item(key, tuple(value))
    return _yaml_item(key, value)


@functools.lru_cache(maxsize=1024)
def _yaml_list_item(key: str, value: tuple[str, ...]) -> str:
    """A list of strings (labels): the same few lists recur on every page."""
    return _yaml_item(key, list(value))


def _yaml_item(key: Any, value: Any) -> str:
    return yaml.safe_dump(
        {key: value},
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=None if isinstance(value, (list, dict)) else False,
        width=4096,
        indent=2,
    )


def join(meta: Mapping[str, Any] | None, body: str) -> str:
    """(front matter, body) -> file text; ``meta`` keys are written in the order given."""
    if not meta:
        return body
    return _joined(_dump(meta), body)


def _joined(dumped: str, body: str) -> str:
    return f"---\n{dumped}---\n\n{body}"


def parse(text: str) -> Document:
    data, body, body_line = split(text)
    try:
        meta = FrontMatter.from_dict(data)
    except FrontMatterError as exc:
        raise FrontMatterError(2, exc.message) from None
    return Document(meta=meta, body=body, body_line=body_line, has_front_matter=data is not None)


def render(meta: FrontMatter, body: str) -> str:
    """Deterministic file text: syncd's keys in a fixed order, labels sorted."""
    return join(meta.to_dict(), body)


def render_and_parse(meta: FrontMatter, body: str) -> tuple[str, Document | None]:
    """`render`'s text, and the `Document` that `parse` returns for it where that is certain
    without parsing (None otherwise: then parse the text).

    Certain when the front matter holds only syncd's keys and every line is one whose YAML
    reading is known (`_reads_back`): the text is then ``---``, those lines, ``---``, a blank
    line and `body`, so `split` finds exactly these lines and `body`. The executor renders
    every page it writes; parsing its own text again cost more than rendering it.
    """
    data = meta.to_dict()
    if not data:
        return body, None
    lines = [_dump_item(key, value) for key, value in data.items()]
    dumped = "".join(lines)
    text = _joined(dumped, body)
    if len(dumped.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        return text, None
    for (key, value), line in zip(data.items(), lines, strict=True):
        if key not in KEY_ORDER or not _reads_back(key, value, line):
            return text, None
    try:
        known = FrontMatter.from_dict(data)
    except FrontMatterError:
        return text, None
    body_line = dumped.count("\n") + 4  # "---", the lines, "---", the blank line
    return text, Document(meta=known, body=body, body_line=body_line, has_front_matter=True)


def _reads_back(key: str, value: Any, line: str) -> bool:
    """True when YAML certainly reads `line` as ``{key: value}``: `value` a string written
    plain or single-quoted, or a list of strings written ``[a, b]``. The reading follows
    from the shape of the line (`_BLOCK_PLAIN`, `_SINGLE_QUOTED`, `_FLOW_PLAIN`) and, for a
    plain scalar, from YAML's own resolver (``2024-01-05`` is a date, ``No`` a bool)."""
    head = f"{key}: "
    if not (line.startswith(head) and line.endswith("\n")):
        return False
    written = line[len(head) : -1]
    if isinstance(value, str):
        if written == value:
            return _BLOCK_PLAIN.fullmatch(value) is not None and _is_str(value)
        return (
            _SINGLE_QUOTED.fullmatch(written) is not None
            and written[1:-1].replace("''", "'") == value
        )
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return written == f"[{', '.join(value)}]" and all(
            _FLOW_PLAIN.fullmatch(v) is not None and _is_str(v) for v in value
        )
    return False


# The characters `_reads_back` accepts: printable, no line break (``\x85``,
# ``\u2028``, ``\u2029`` are breaks to YAML), no BOM; and in a plain scalar, no ``:`` or
# ``#`` (``: `` and `` #`` end one). A plain scalar's first character is no indicator; in a
# flow list none of ``,?[]{}`` ends an item early. Single spaces only between characters:
# a plain scalar drops its trailing spaces.
_WIDE = "\xa1-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff"
_PLAIN_FIRST = rf"$()+./0-9;<=A-Z\\^_a-z~{_WIDE}"
_BLOCK_REST = rf"!\"$-9;-~{_WIDE}"
_FLOW_REST = rf"!\"$-+\--9;->@-Z\\^-z|~{_WIDE}"
_BLOCK_PLAIN = re.compile(rf"[{_PLAIN_FIRST}](?: ?[{_BLOCK_REST}])*")
_FLOW_PLAIN = re.compile(rf"[{_PLAIN_FIRST}](?: ?[{_FLOW_REST}])*")
_SINGLE_QUOTED = re.compile(f"'(?:[ !-&(-~{_WIDE}]|'')*'")  # a quote inside is doubled
#: The resolver of SafeLoader and CSafeLoader: which type a plain scalar is read as.
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"


def _is_str(plain: str) -> bool:
    return _RESOLVER.resolve(yaml.ScalarNode, plain, (True, False)) == _STR_TAG
