"""Property test of the planner (CanopyCheck style, reliability.md §1.9).

Random trees, random edits on both sides, then plan -> apply (with the
reference executor in `simulator.py`) -> re-plan until the plan is empty.
Asserted: it terminates within a few rounds, both sides end up equal (ids,
titles, bodies, parents, labels), and no line either side wrote is lost (it is
in a file, a conflict copy, the local trash or Confluence, trash included), nor
any label added on either side and not removed since.
"""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from syncd.sync.model import ReconcileOptions
from syncd.sync.reconcile import reconcile
from tests.sync.simulator import ROOT, LFile, RPage, World

OPTS = ReconcileOptions(root_page_id=ROOT, max_delete=1000, allow_delete=True)
MAX_ROUNDS = 6


def sync(world: World) -> None:
    for _ in range(MAX_ROUNDS):
        plan = reconcile(world.state, world.scan(), world.listing(), options=OPTS)
        if plan.in_sync:
            return
        # A page may be held for one run (e.g. its folder's title is freed by a
        # deletion in the same plan), never for good.
        assert plan.actions, "stuck:\n" + "\n".join(plan.describe())
        world.apply(plan)
    raise AssertionError("did not converge:\n" + "\n".join(world.log[-40:]))


def assert_equal_sides(world: World) -> None:
    current = {pid: r for pid, r in world.remote.items() if r.status == "current"}
    by_id = {f.page_id: (path, f) for path, f in world.local.items()}
    assert len(by_id) == len(world.local), "two files carry the same id"
    assert set(by_id) == set(current), (sorted(by_id), sorted(current))
    for pid, r in current.items():
        path, f = by_id[pid]
        assert (f.title, f.body, f.labels) == (r.title, r.body, r.labels), pid
        parent_file = path.rsplit("/", 1)[0] + ".md" if "/" in path else None
        parent_id = world.local[parent_file].page_id if parent_file else ROOT
        assert parent_id == r.parent, (path, r.parent)


def build(rng: random.Random, size: int) -> World:
    world = World()
    for i in range(size):
        parents = [ROOT] + [k for k in world.remote]
        world.remote[f"p{i}"] = RPage(f"T{i}", rng.choice(parents), 1, f"T{i}\nmiddle\nend\n")
    sync(world)  # the first sync pulls everything
    assert_equal_sides(world)
    return world


def mutate_local(world: World, rng: random.Random, tokens: set[str]) -> None:
    for path in rng.sample(sorted(world.local), k=min(len(world.local), rng.randint(0, 3))):
        if path not in world.local:
            continue
        f = world.local[path]
        token = f"local-{world.new_id()}"
        op = rng.choice(["edit_start", "edit_end", "delete", "rename", "move", "new", "label"])
        folder = path[:-3] + "/"
        leaf = not any(p.startswith(folder) for p in world.local)
        if op == "edit_start":
            f.body = token + "\n" + f.body
            tokens.add(token)
        elif op == "edit_end":
            f.body += token + "\n"
            tokens.add(token)
        elif op == "delete":  # what the user deletes is not "lost"
            tokens.difference_update(t for t in list(tokens) if t in f.body)
            tokens.difference_update(f.labels)
            del world.local[path]
        elif op == "rename":
            f.title = f"{f.title}-{token}"
        elif op == "move" and leaf:
            targets = [None] + [p for p in world.local if p != path]
            target = rng.choice(targets)
            world.local[world.free_path(f.title, target)] = world.local.pop(path)
        elif op == "label":
            f.labels = edit_labels(f.labels, rng, token, tokens)
        elif op == "new":
            target = rng.choice([None, path])
            world.local[world.free_path(f"New-{token}", target)] = LFile(
                None, f"New-{token}", token + "\n"
            )
            tokens.add(token)


def mutate_remote(world: World, rng: random.Random, tokens: set[str]) -> None:
    for pid in rng.sample(sorted(world.remote), k=min(len(world.remote), rng.randint(0, 3))):
        r = world.remote.get(pid)
        if r is None:
            continue
        token = f"remote-{world.new_id()}"
        if r.status == "trashed":
            if rng.random() < 0.6:
                r.status = "current"  # restored in Confluence
                parent = world.remote.get(r.parent)
                if r.parent != ROOT and (parent is None or parent.status != "current"):
                    r.parent = ROOT  # its parent is gone: it comes back at the top
            continue
        op = rng.choice(["edit", "trash", "purge", "rename", "move", "new", "label"])
        if op == "edit":
            r.body += token + "\n"
            r.version += 1
            tokens.add(token)
        elif op == "label":  # no new version, like Confluence
            r.labels = edit_labels(r.labels, rng, token, tokens)
        elif op == "trash":
            world._remote_delete(pid, "trashed")
        elif op == "purge":
            world._remote_delete(pid, "absent")
        elif op == "rename":
            r.title = f"{r.title}-{token}"
            r.version += 1
        elif op == "move":
            banned = world.descendants(pid) | {pid}
            options = [ROOT] + [
                k for k, o in world.remote.items() if o.status == "current" and k not in banned
            ]
            r.parent = rng.choice(options)
        elif op == "new":
            world.remote[token] = RPage(f"RNew-{token}", pid, 1, token + "\n")
            tokens.add(token)


def edit_labels(
    labels: frozenset[str], rng: random.Random, token: str, tokens: set[str]
) -> frozenset[str]:
    """Add a fresh label (a token that must survive) or remove one (no longer expected)."""
    if labels and rng.random() < 0.4:
        gone = rng.choice(sorted(labels))
        tokens.discard(gone)
        return labels - {gone}
    tokens.add(token)
    return labels | {token}


def everything_text(world: World) -> str:
    parts = [f.body for f in world.local.values()]
    parts += list(world.copies.values())
    parts += [f.body for _, f in world.trash]
    parts += [r.body for r in world.remote.values()]
    parts += world.purged_bodies
    labels = [*(f.labels for f in world.local.values()), *(f.labels for _, f in world.trash)]
    labels += [r.labels for r in world.remote.values()]
    parts += [" ".join(sorted(set_)) for set_ in labels]
    return "\n".join(parts)


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), size=st.integers(1, 8), rounds=st.integers(1, 3))
def test_plans_converge_and_lose_nothing(seed: int, size: int, rounds: int):
    rng = random.Random(seed)
    world = build(rng, size)
    tokens: set[str] = set()
    for _ in range(rounds):
        mutate_local(world, rng, tokens)
        mutate_remote(world, rng, tokens)
        sync(world)
        assert_equal_sides(world)
    text = everything_text(world)
    lost = sorted(t for t in tokens if t not in text)
    assert not lost, (lost, world.log)
