"""Display names of mentioned users, so that a mention reads ``@Ada Lovelace``.

Names are looked up once per user through the client (Cloud: bulk by account id; DC: by
user key or user name), kept in the state database (``meta`` key ``user_names``) and asked
again only when older than :data:`REFRESH_AFTER` (a rename shows up within a week; a user
the server did not know is asked again after a day).  The converter gets them through the
page resolver; a missing name only means the short ``@user-xxxxxx`` form.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable

log = logging.getLogger("syncd.sync")

REFRESH_AFTER = 7 * 86400.0
RETRY_UNKNOWN_AFTER = 86400.0
META_KEY = "user_names"

_MENTION = re.compile(r'<ri:user\s[^>]*?ri:(account-id|userkey|username)="([^"]+)"')


def mentioned_users(body: str) -> set[tuple[str, str]]:
    """``(kind, value)`` of every user a storage body mentions."""
    return {(m.group(1), m.group(2)) for m in _MENTION.finditer(body)}


class UserNames:
    """(kind, value) -> display name, persisted in the state's meta table."""

    def __init__(self, db, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock
        self._names: dict[tuple[str, str], tuple[str, float]] = {}
        #: Users being looked up now -> the lookup's end: a page read beside another that
        #: mentions the same user waits for that answer instead of asking again.
        self._asking: dict[tuple[str, str], asyncio.Future[None]] = {}
        raw = db.get_meta(META_KEY) if db is not None else None
        try:
            for kind, value, name, at in json.loads(raw or "[]"):
                self._names[(kind, value)] = (name, float(at))
        except (ValueError, TypeError):
            log.info("stored user names unreadable; they will be looked up again")

    def remember(self, kind: str, value: str, name: str) -> None:
        """A name known without a lookup (tests and tools that hold the truth)."""
        self._names[(kind, value)] = (name, self.clock())

    def name(self, kind: str, value: str) -> str | None:
        entry = self._names.get((kind, value))
        return entry[0] or None if entry else None

    def stale(self, users: set[tuple[str, str]]) -> set[tuple[str, str]]:
        now = self.clock()
        out = set()
        for key in users:
            entry = self._names.get(key)
            if entry is None:
                out.add(key)
            else:
                name, at = entry
                if now - at > (REFRESH_AFTER if name else RETRY_UNKNOWN_AFTER):
                    out.add(key)
        return out

    async def learn(self, client, body: str) -> None:
        """Look up the users ``body`` mentions that are unknown or stale (those another
        call is looking up already: wait for its answer; if it fails, they stay unknown
        here and the caller's later pull asks again)."""
        stale = self.stale(mentioned_users(body))
        under_way = {self._asking[key] for key in stale if key in self._asking}
        wanted = {key for key in stale if key not in self._asking}
        if wanted:
            done = asyncio.get_running_loop().create_future()
            for key in wanted:
                self._asking[key] = done
            try:
                now = self.clock()
                for kind in sorted({k for k, _ in wanted}):
                    values = sorted(v for k, v in wanted if k == kind)
                    found = await client.user_names(kind, values)
                    for value in values:
                        self._names[(kind, value)] = (found.get(value, ""), now)
                self._save()
            finally:
                for key in wanted:
                    del self._asking[key]
                done.set_result(None)
        if under_way:
            await asyncio.gather(*under_way)

    def _save(self) -> None:
        if self.db is None:
            return
        rows = [[k, v, n, at] for (k, v), (n, at) in sorted(self._names.items())]
        self.db.set_meta(META_KEY, json.dumps(rows, ensure_ascii=False))
