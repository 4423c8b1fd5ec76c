"""What the executor reports: the changes it made, the pages it held, errors."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Applied:
    """One change made on either side (the engine turns these into AppliedChange)."""

    event_type: str
    direction: str
    page_id: str | None
    title: str
    version: int | None
    path: str


class Held(Exception):
    """This page cannot be synced now; the message names title, path and what to do."""


@dataclass
class ExecutionResult:
    applied: list[Applied] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)  # paths held during execution
