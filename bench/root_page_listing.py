"""Listing a ``confluence.root_page`` subtree on Cloud: the subtree's own listing (v2
descendants, then the pages' versions by id) against the space listing cut to the subtree
(what Data Center does, and what Cloud did before).

A Cloud emulator in this process with ``--pages`` seeded pages; one more page holds the
subtree: ``--subtree`` pages, a third of them in folders. Each run lists the subtree as a
full sync does (``with_labels=True``), once each way, on loopback and then with the
emulator's ``latency_ms``; requests are the emulator's counters.

    .venv/bin/python bench/root_page_listing.py --pages 5000 --subtree 60 --runs 3

Prints one line per run and the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syncd.confluence import ConfluenceClient, ConnectionSettings
from syncd.emulator.server import EmulatorServer


def build_subtree(emu: EmulatorServer, size: int) -> str:
    store, space = emu.store, emu.space_key
    root = store.create_page(space, "Subtree root", "<p>root</p>").id
    folder = None
    for i in range(size):
        if i % 10 == 0:
            folder = store.create_container(space, "folder", f"Folder {i}", parent_id=root).id
        parent = folder if i % 3 == 0 else root
        store.create_page(space, f"Sub {i}", f"<p>{i}</p>", parent_id=parent)
    return str(root)


async def list_once(emu: EmulatorServer, root: str, *, subtree: bool) -> tuple[float, int, int]:
    settings = ConnectionSettings(
        base_url=emu.base_url, token=emu.token, email=emu.user, deployment="cloud"
    )
    async with await ConfluenceClient.open(settings) as client:
        if not subtree:
            client._backend.lists_subtrees = False  # the space listing, cut (as before)
        await client.get_space(emu.space_key)
        emu.requests.clear()
        started = time.perf_counter()
        refs = [
            r async for r in client.iter_page_tree(emu.space_key, root_page=root, with_labels=True)
        ]
        took = time.perf_counter() - started
    return took, sum(emu.requests.values()), len(refs)


async def main(args: argparse.Namespace) -> None:
    async with EmulatorServer(flavor="cloud", pages=args.pages, seed=1) as emu:
        root = build_subtree(emu, args.subtree)
        for latency in (0, args.latency_ms):
            emu.faults.configure({"latency_ms": latency})
            rows: dict[str, list[tuple[float, int, int]]] = {"subtree": [], "space cut": []}
            for run in range(args.runs):
                for name, subtree in (("subtree", True), ("space cut", False)):
                    row = await list_once(emu, root, subtree=subtree)
                    rows[name].append(row)
                    print(
                        f"latency {latency} ms run {run + 1} {name}: {row[0] * 1000:.0f} ms, "
                        f"{row[1]} requests, {row[2]} pages"
                    )
            for name, got in rows.items():
                ms = statistics.median(r[0] for r in got) * 1000
                req = statistics.median(r[1] for r in got)
                found = {r[2] for r in got}
                print(
                    f"MEDIAN latency {latency} ms {name}: {ms:.0f} ms, {req:.0f} requests, "
                    f"pages listed {sorted(found)}"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--subtree", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=100)
    asyncio.run(main(parser.parse_args()))
