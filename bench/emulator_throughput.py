"""Page GETs per second the emulator serves on a 10,000-page space.

The emulator runs as its own process (``syncd emulator``), as a user runs it; this script is
the client, with aiohttp and a fixed number of concurrent connections, fetching random pages
with their storage bodies over Cloud REST v2 (``GET /wiki/api/v2/pages/{id}?body-format=storage``)
for a fixed duration after a warm-up. It prints the figure on the last line.

    .venv/bin/python bench/emulator_throughput.py [--pages 10000] [--seconds 10]
        [--concurrency 16] [--flavor cloud|dc]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import time

import aiohttp


async def fetch_ids(session: aiohttp.ClientSession, base: str, flavor: str) -> list[str]:
    ids: list[str] = []
    if flavor == "cloud":
        async with session.get(f"{base}/api/v2/spaces", params={"keys": "DEMO"}) as r:
            space_id = (await r.json())["results"][0]["id"]
        url: str | None = f"{base}/api/v2/spaces/{space_id}/pages?limit=250"
        root = base.removesuffix("/wiki")
        while url:
            async with session.get(url) as r:
                body = await r.json()
            ids.extend(p["id"] for p in body["results"])
            nxt = body["_links"].get("next")
            url = root + nxt if nxt else None
    else:
        url = f"{base}/rest/api/content?spaceKey=DEMO&limit=200"
        while url:
            async with session.get(url) as r:
                body = await r.json()
            ids.extend(p["id"] for p in body["results"])
            nxt = body["_links"].get("next")
            url = body["_links"]["base"] + nxt if nxt else None
    return ids


async def hammer(
    base: str, flavor: str, auth: dict, seconds: float, concurrency: int
) -> tuple[int, int, int]:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, **auth) as session:
        ids = await fetch_ids(session, base, flavor)
        rng = random.Random(1)
        if flavor == "cloud":
            template = base + "/api/v2/pages/{}?body-format=storage"
        else:
            template = base + "/rest/api/content/{}?expand=body.storage,version"
        done = 0
        errors = 0
        stop_at = 0.0

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < stop_at:
                async with session.get(template.format(rng.choice(ids))) as r:
                    await r.read()
                    if r.status == 200:
                        done += 1
                    else:
                        errors += 1

        stop_at = time.perf_counter() + 1.0  # warm-up
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        done = errors = 0
        stop_at = time.perf_counter() + seconds
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done, errors, len(ids)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--flavor", choices=("cloud", "dc"), default="cloud")
    args = parser.parse_args()

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "syncd",
            "emulator",
            "--flavor",
            args.flavor,
            "--port",
            "0",
            "--pages",
            str(args.pages),
            "--seed",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        base = None
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            m = re.search(r"base URL:\s+(\S+)", line)
            if m:
                base = m.group(1)
                break
        if base is None:
            print("emulator did not start", file=sys.stderr)
            return 1
        if args.flavor == "cloud":
            auth = {"auth": aiohttp.BasicAuth("demo@example.com", "demo-token")}
        else:
            auth = {"headers": {"Authorization": "Bearer demo-token"}}
        done, errors, n = asyncio.run(
            hammer(base, args.flavor, auth, args.seconds, args.concurrency)
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    rate = done / args.seconds
    print(
        f"flavor={args.flavor} pages={n} seconds={args.seconds:g} "
        f"concurrency={args.concurrency} ok={done} errors={errors}"
    )
    print(f"page GETs per second: {rate:.0f}")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
