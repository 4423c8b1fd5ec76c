"""The engine's side of containers: when a run must be full, what exists locally, and the
hand-over of a removed folder's page deletions to the folder's own deletion.

Kept out of `syncd.sync.engine` so the engine reads as one run; the decisions themselves
are `syncd.sync.containers` (pure) and their effects `syncd.sync.container_apply`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path, PurePosixPath

from syncd.sync.container_apply import ContainerSteps
from syncd.sync.containers import ContainerMap, ContainerPlan, TrashContainerRemote
from syncd.sync.model import Action, LocalEntry, Plan, RemoteEntry, TrashRemote
from syncd.sync.records import ContainerRecord, PageRecord


def container_dir_gone(
    root: Path, records: Mapping[str, ContainerRecord], paths: Iterable[str]
) -> bool:
    """Does a targeted run name a path in (or at) a recorded container's directory that is
    no longer there (renamed, moved or removed)? Only a full run can tell which."""
    named = list(paths)
    for record in records.values():
        directory = record.local_path
        if record.deleted is not None:
            continue
        if any(p == directory or p.startswith(directory + "/") for p in named):
            if not (root / directory).is_dir():
                return True
    return False


def in_unknown_container(remotes: Mapping[str, RemoteEntry], cmap: ContainerMap) -> bool:
    """Is a current page under a container this run does not know (a targeted run)?"""
    return any(
        e.in_container and e.parent_id not in cmap.status and e.status == "current"
        for e in remotes.values()
    )


def present_dirs(
    root: Path, entries: Iterable[LocalEntry], records: Mapping[str, ContainerRecord]
) -> set[str]:
    """The directories holding scanned files, and the recorded container directories
    that exist (an empty folder is a directory too)."""
    present: set[str] = set()
    for entry in entries:
        parent = PurePosixPath(entry.path).parent
        while str(parent) not in (".", ""):
            present.add(parent.as_posix())
            parent = parent.parent
    present |= {r.local_path for r in records.values() if (root / r.local_path).is_dir()}
    return present


def hand_over_folder_pages(
    summaries: Mapping[str, PageRecord],
    containers: ContainerPlan,
    plan: Plan,
    steps: ContainerSteps,
) -> Plan:
    """Pages of a folder whose directory was removed are trashed with the folder (one
    DELETE, and a restore of the folder in Confluence brings them all back), not one by
    one: their TrashRemote actions (counted by the guard) move to the folder step, each
    to the outermost folder removed that holds it."""
    folders = {
        a.container_id: a.path
        for a in containers.after_pages
        if isinstance(a, TrashContainerRemote)
    }
    kept: list[Action] = []
    for action in plan.actions:
        if isinstance(action, TrashRemote):
            record = summaries.get(action.page_id)
            owner = next(
                (
                    cid
                    for cid, path in folders.items()
                    if record is not None and record.local_path.startswith(path + "/")
                ),
                None,
            )
            if owner is not None:
                steps.handed.setdefault(owner, []).append(action.page_id)
                continue
        kept.append(action)
    return replace(plan, actions=tuple(kept))
