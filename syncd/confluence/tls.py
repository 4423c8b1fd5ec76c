"""One certificate-verifying TLS context per process, shared by every HTTP client.

Building a verifying context loads the whole CA bundle (50-100 ms of CPU). syncd opens a
client per sync run, per ``doctor`` check and per tenant lookup; loading the bundle once
keeps short runs short. An ``ssl.SSLContext`` is safe to share between clients and threads.
The bundle is read on first use (``SSL_CERT_FILE``/``SSL_CERT_DIR`` honoured as by httpx);
a change to it is seen by the next process.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def verifying_context() -> ssl.SSLContext:
    """httpx's default verifying context (certifi, or the environment's bundle), built once."""
    return httpx.create_ssl_context()


def verify_setting(verify_tls: bool) -> ssl.SSLContext | bool:
    """What to pass as httpx's ``verify``: the shared context, or ``False`` when the user
    turned verification off."""
    return verifying_context() if verify_tls else False
