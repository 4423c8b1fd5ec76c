"""What the executor is told: its settings, and who is told of its writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class WriteObserver(Protocol):
    def expect_write(self, rel: str, sha256: str) -> None: ...
    def expect_delete(self, rel: str) -> None: ...


@dataclass
class ExecutorSettings:
    space_key: str
    root_id: str | None
    on_conflict: str = "merge"
    trash_dir: Path | None = None
    blog_posts: bool = False
    prefetch: int = 16
    #: Content actions (push, pull, merge) of different pages applied at the same time.
    concurrency: int = 8
