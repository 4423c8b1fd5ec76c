"""A 429 storm with Retry-After during a first sync: it completes, waiting as told.

The site allows 12 requests a second: still a storm (the client's first burst alone is
over it, on loopback), in half the time 6 a second took."""

import time


def count_429s(ctx):
    faults = ctx.emu.faults
    real = faults.take_token
    ctx.captured["429"] = 0

    def counting():
        headers = real()
        if headers is not None:
            ctx.captured["429"] += 1
            assert headers["Retry-After"].isdigit()
        return headers

    faults.take_token = counting


async def first_sync(ctx):
    start = time.monotonic()
    report = await ctx.sync()
    ctx.captured["took"] = time.monotonic() - start
    assert report.in_sync, report.errors
    assert not report.errors


def storm_happened(ctx):
    assert ctx.captured["429"] > 0, "no 429 was answered: the storm did not happen"
    # Retry-After is at least 1 s: a client honouring it cannot finish instantly
    assert ctx.captured["took"] >= 1.0, ctx.captured["took"]
    # no hot loop: at most a few requests per 429
    total = sum(ctx.emu.requests.values())
    assert total < 6 * 14 + ctx.captured["429"] * 2, total


SCENARIO = {
    "covers": ["F5"],
    "space": {"seeded": 12},
    "steps": [
        {"op": "call", "fn": count_429s},
        {"op": "faults", "set": {"rate_limit_per_s": 12}},
        {"op": "call", "fn": first_sync},
        {"op": "call", "fn": storm_happened},
        {"op": "faults", "set": {"rate_limit_per_s": 0}},
    ],
    "expect": {"page_count": 13},
}
