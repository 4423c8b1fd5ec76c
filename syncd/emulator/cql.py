"""A small CQL evaluator for ``content/search``: enough for sync clients and common tools.

Fields: ``space`` (``space.key``), ``type``, ``id`` (``content``), ``title``, ``ancestor``,
``parent``, ``label``, ``lastmodified``/``lastModified``, ``created``, ``creator``, ``text``.
Operators: ``=``, ``!=``, ``~`` (contains), ``!~``, ``>``, ``>=``, ``<``, ``<=``, ``in (...)``,
``not in (...)``; ``and``/``or``/``not`` with parentheses; ``order by f [asc|desc], ...``.

Attachments are content too (``type = attachment``): their ``lastmodified`` is the time of
their latest version, ``parent``/``ancestor`` reach their container, and only current
attachments of current containers are found, as on Confluence (a trashed attachment is
not searchable).

Dates accept ``"yyyy-MM-dd HH:mm"``, ``"yyyy/MM/dd HH:mm"``, ``"yyyy-MM-dd"``, ``"yyyy/MM/dd"``,
read as UTC (the emulated user's zone). As on Confluence, precision is **minutes**: a
modification time is truncated to its minute before comparing, so ``lastmodified > "10:00"``
does not match a page edited at 10:00:30. Clients must search with an overlap.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from syncd.emulator.errors import BadRequest
from syncd.emulator.model import CONTAINER_TYPES, Attachment, Content
from syncd.emulator.store import Store

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|~|>|<|\(|\)|,)
      | (?P<word>[A-Za-z0-9_.\-:/]+)
    )""",
    re.X,
)
DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
Predicate = Callable[[Content], bool]


@dataclass(frozen=True)
class AttachmentView:
    """An attachment seen through the fields a CQL clause reads (like a Content)."""

    attachment: Attachment
    space_key: str
    id: str
    type: str
    title: str
    parent_id: str
    modified: int
    created: int
    author: str
    labels: tuple[str, ...] = ()
    body: str = ""


def _view(a: Attachment, container: Content) -> AttachmentView:
    return AttachmentView(
        attachment=a,
        space_key=container.space_key,
        id=a.id,
        type="attachment",
        title=a.filename,
        parent_id=container.id,
        modified=a.version.when,
        created=a.created,
        author=a.version.author,
    )


def _numeric_id(c: Content) -> int:
    return int(str(c.id).removeprefix("att"))


class CqlError(BadRequest):
    def __init__(self, cql: str, detail: str) -> None:
        # The message as a server sends it (atlassian-api/atlassian-python-api#104);
        # the parser's detail goes only into the v2-style title.
        super().__init__(f"Could not parse cql : {cql}", title=f"Could not parse cql: {detail}")


def _tokens(cql: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(cql):
        if cql[pos:].strip() == "":
            break
        m = _TOKEN.match(cql, pos)
        if not m or m.end() == pos:
            raise CqlError(cql, f"unexpected character at {pos}")
        pos = m.end()
        if m.group("str") is not None:
            raw = m.group("str")[1:-1]
            out.append(("str", re.sub(r"\\(.)", r"\1", raw)))
        elif m.group("op") is not None:
            out.append(("op", m.group("op")))
        else:
            out.append(("word", m.group("word")))
    return out


def parse_date(value: str, cql: str) -> int:
    for fmt in DATE_FORMATS:
        try:
            dt = datetime.strptime(value.strip(), fmt).replace(tzinfo=UTC)
            return int(dt.timestamp() * 1000)
        except ValueError:
            continue
    raise CqlError(cql, f"invalid date {value!r}")


class Query:
    """A parsed CQL query: ``matches(content)`` and ``sort(list)``."""

    def __init__(self, store: Store, cql: str) -> None:
        self.store = store
        self.cql = cql
        self.toks = _tokens(cql)
        self.i = 0
        self.order: list[tuple[str, bool]] = []
        if not self.toks:
            raise CqlError(cql, "empty query")
        if self._peek_word("order"):
            self.predicate: Predicate = lambda c: True
        else:
            self.predicate = self._or()
        if self._peek_word("order"):
            self._order_by()
        if self.i != len(self.toks):
            raise CqlError(cql, f"unexpected {self.toks[self.i][1]!r}")

    # ---- parsing --------------------------------------------------------------------

    def _peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _peek_word(self, word: str) -> bool:
        t = self._peek()
        return t is not None and t[0] == "word" and t[1].lower() == word

    def _next(self) -> tuple[str, str]:
        t = self._peek()
        if t is None:
            raise CqlError(self.cql, "unexpected end of query")
        self.i += 1
        return t

    def _or(self) -> Predicate:
        left = self._and()
        while self._peek_word("or"):
            self.i += 1
            right = self._and()
            left = (lambda a, b: lambda c: a(c) or b(c))(left, right)
        return left

    def _and(self) -> Predicate:
        left = self._not()
        while self._peek_word("and"):
            self.i += 1
            right = self._not()
            left = (lambda a, b: lambda c: a(c) and b(c))(left, right)
        return left

    def _not(self) -> Predicate:
        if self._peek_word("not"):
            self.i += 1
            inner = self._not()
            return lambda c: not inner(c)
        return self._atom()

    def _atom(self) -> Predicate:
        t = self._peek()
        if t == ("op", "("):
            self.i += 1
            inner = self._or()
            if self._next() != ("op", ")"):
                raise CqlError(self.cql, "missing )")
            return inner
        kind, field = self._next()
        if kind != "word":
            raise CqlError(self.cql, f"expected a field, got {field!r}")
        op_kind, op = self._next()
        if op_kind == "word" and op.lower() == "in":
            return self._clause(field.lower(), "in", self._list())
        if op_kind == "word" and op.lower() == "not" and self._peek_word("in"):
            self.i += 1
            return self._clause(field.lower(), "not in", self._list())
        if op_kind != "op" or op in ("(", ")", ","):
            raise CqlError(self.cql, f"expected an operator after {field}")
        vkind, value = self._next()
        if vkind == "op":
            raise CqlError(self.cql, f"expected a value after {field} {op}")
        return self._clause(field.lower(), op, [value])

    def _list(self) -> list[str]:
        if self._next() != ("op", "("):
            raise CqlError(self.cql, "expected ( after in")
        values = []
        while True:
            kind, value = self._next()
            if kind == "op":
                raise CqlError(self.cql, "expected a value in list")
            values.append(value)
            sep = self._next()
            if sep == ("op", ")"):
                return values
            if sep != ("op", ","):
                raise CqlError(self.cql, "expected , or ) in list")

    def _order_by(self) -> None:
        self.i += 1
        if not self._peek_word("by"):
            raise CqlError(self.cql, "expected 'by' after 'order'")
        self.i += 1
        while True:
            kind, field = self._next()
            if kind != "word":
                raise CqlError(self.cql, "expected a field to order by")
            desc = False
            if self._peek_word("asc") or self._peek_word("desc"):
                desc = self._next()[1].lower() == "desc"
            self.order.append((field.lower(), desc))
            if self._peek() == ("op", ","):
                self.i += 1
                continue
            break

    # ---- clauses --------------------------------------------------------------------

    def _clause(self, field: str, op: str, values: list[str]) -> Predicate:
        store = self.store
        if field in ("lastmodified", "created"):
            if op not in ("=", "!=", ">", ">=", "<", "<="):
                raise CqlError(self.cql, f"operator {op} not supported for {field}")
            bound = parse_date(values[0], self.cql)
            get = (lambda c: c.modified) if field == "lastmodified" else (lambda c: c.created)

            def compare(c: Content) -> bool:
                t = get(c) // 60000 * 60000  # minute precision
                return {
                    "=": t == bound,
                    "!=": t != bound,
                    ">": t > bound,
                    ">=": t >= bound,
                    "<": t < bound,
                    "<=": t <= bound,
                }[op]

            return compare
        getters: dict[str, Callable[[Content], list[str]]] = {
            "space": lambda c: [c.space_key],
            "space.key": lambda c: [c.space_key],
            "type": lambda c: [c.type],
            "id": lambda c: [c.id],
            "content": lambda c: [c.id],
            "title": lambda c: [c.title],
            "parent": lambda c: [c.parent_id or ""],
            "ancestor": lambda c: [
                a.id
                for a in (
                    [*store.ancestors(c.parent_id), store.get(c.parent_id)]
                    if isinstance(c, AttachmentView)
                    else store.ancestors(c.id)
                )
            ],
            "label": lambda c: list(c.labels),
            "creator": lambda c: [
                c.author,
                store.user_by_account(c.author).username,
                store.user_by_account(c.author).user_key,
            ],
            "text": lambda c: [c.title + " " + c.body],
        }
        if field not in getters:
            raise CqlError(self.cql, f"unsupported field {field}")
        get_values = getters[field]
        wanted = [v.lower() for v in values]
        if op in ("=", "in"):
            return lambda c: any(v.lower() in wanted for v in get_values(c))
        if op in ("!=", "not in"):
            return lambda c: not any(v.lower() in wanted for v in get_values(c))
        if op in ("~", "!~"):
            needle = wanted[0].strip("*")
            hit = lambda c: any(needle in v.lower() for v in get_values(c))  # noqa: E731
            return hit if op == "~" else (lambda c: not hit(c))
        raise CqlError(self.cql, f"operator {op} not supported for {field}")

    # ---- ordering -------------------------------------------------------------------

    def sort(self, items: list[Content]) -> list[Content]:
        keys = {
            "lastmodified": lambda c: c.modified,
            "created": lambda c: c.created,
            "title": lambda c: c.title.lower(),
            "id": _numeric_id,
            "content": _numeric_id,
        }
        out = sorted(items, key=_numeric_id)
        for field, desc in reversed(self.order):
            if field not in keys:
                raise CqlError(self.cql, f"cannot order by {field}")
            out.sort(key=keys[field], reverse=desc)
        return out

    def matches(self, c: Content) -> bool:
        return self.predicate(c)


#: Folders and the other tree containers are found by CQL (``type = folder``:
#: omar16100/atlassian-cli issue #49, "works for discovery").
SEARCHED_TYPES = ("page", "blogpost", *CONTAINER_TYPES)


def search(store: Store, cql: str) -> list[Content | Attachment]:
    """Current pages, blog posts and attachments matching ``cql``, in its order (id order
    by default)."""
    query = Query(store, cql)
    with store.lock:
        found: list = [
            c
            for c in list(store.content.values())
            if c.type in SEARCHED_TYPES and c.status == "current" and query.matches(c)
        ]
        for a in list(store.attachments.values()):
            container = store.content.get(a.container_id)
            if a.status != "current" or container is None or container.status != "current":
                continue
            view = _view(a, container)
            if query.matches(view):  # type: ignore[arg-type]
                found.append(view)
    return [c.attachment if isinstance(c, AttachmentView) else c for c in query.sort(found)]
