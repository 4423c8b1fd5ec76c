"""The verifying TLS context is built once per process and shared by every client."""

from __future__ import annotations

import ssl

from syncd.confluence import ConnectionSettings
from syncd.confluence.tls import verify_setting, verifying_context
from syncd.confluence.transport import Transport


def test_clients_share_one_verifying_context_and_verification_off_stays_off() -> None:
    ctx = verify_setting(True)
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx is verifying_context() is verify_setting(True)
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert verify_setting(False) is False


async def test_each_transport_uses_the_shared_context() -> None:
    settings = ConnectionSettings(base_url="https://example.atlassian.net", token="t")
    a, b = Transport(settings, None), Transport(settings, None)
    try:
        # httpx's connection pools: every client of every transport (pool shards included)
        pools = [c._transport._pool for t in (a, b) for c in t._clients]
        assert len(pools) >= 2
        assert all(pool._ssl_context is verifying_context() for pool in pools)
    finally:
        await a.aclose()
        await b.aclose()
