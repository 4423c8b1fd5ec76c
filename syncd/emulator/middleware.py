"""Request pipeline shared by every REST route: counting, auth, injected faults, and error
bodies in the shape of the API the request went to."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging

from aiohttp import web

from syncd.emulator.errors import ApiError, error_response, style_for_path
from syncd.emulator.state import state_of

log = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator"
CLOUD_401_TEXT = "Client must be authenticated to access this resource."


def _route_key(request: web.Request) -> str:
    resource = request.match_info.route.resource
    template = resource.canonical if resource is not None else request.path
    return f"{request.method} {template}"


def _authorized(request: web.Request) -> bool:
    st = state_of(request)
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    scheme = scheme.lower()
    if scheme == "bearer" and st.flavor == "dc":
        return hmac.compare_digest(value.strip().encode(), st.token.encode())
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        user, _, secret = decoded.partition(":")
        return hmac.compare_digest(user.encode(), st.user.encode()) and hmac.compare_digest(
            secret.encode(), st.token.encode()
        )
    return False


def _unauthorized(request: web.Request) -> web.Response:
    st = state_of(request)
    if st.flavor == "cloud":
        return web.Response(
            status=401,
            text=CLOUD_401_TEXT,
            content_type="text/plain",
            headers={"WWW-Authenticate": 'Basic realm="Confluence"'},
        )
    err = ApiError("This resource requires authentication", status=401)
    resp = error_response(err, "v1")
    resp.headers["WWW-Authenticate"] = 'Bearer realm="Confluence", Basic realm="Confluence"'
    return resp


#: Served by ``gateway``: the API gateway authenticates itself, then calls ``serve``.
GATEWAY_PREFIXES = ("/ex/confluence/", "/_edge/")


@web.middleware
async def pipeline(request: web.Request, handler) -> web.StreamResponse:
    if request.path.startswith(CONTROL_PREFIX) or request.path.startswith(GATEWAY_PREFIXES):
        return await handler(request)
    return await serve(request, handler)


async def serve(request: web.Request, handler, *, authenticated: bool = False):
    """Count, then answer one REST request (``authenticated``: the gateway checked it)."""
    st = state_of(request)
    key = _route_key(request)
    st.request_counts[key] = st.request_counts.get(key, 0) + 1
    now = st.in_flight[key] = st.in_flight.get(key, 0) + 1
    if now > st.peak_in_flight.get(key, 0):
        st.peak_in_flight[key] = now
    try:
        return await _serve(request, handler, st, authenticated)
    finally:
        st.in_flight[key] -= 1


async def _serve(request: web.Request, handler, st, authenticated: bool) -> web.StreamResponse:
    style = style_for_path(request.path)
    faults = st.faults
    try:
        if faults is not None and faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        if not authenticated and not _authorized(request):
            return _unauthorized(request)
        if faults is not None:
            limited = faults.take_token()
            if limited is not None:
                raise ApiError("Rate limit exceeded", status=429, headers=limited)
            if faults.should_fail():
                status = faults.error_status
                wait = faults.error_retry_after
                headers = {"Retry-After": str(wait)} if status == 503 and wait is not None else None
                raise ApiError("Injected server error", status=status, headers=headers)
        response = await handler(request)
        if faults is not None and faults.bandwidth_kib_s:
            body = getattr(response, "body", None)
            size = len(body) if isinstance(body, bytes | bytearray) else response.content_length
            await asyncio.sleep(faults.transfer_seconds(size))
        if faults is not None and faults.rate_limit_per_s:
            for name, value in faults.rate_headers().items():
                response.headers.setdefault(name, value)
        return response
    except ApiError as err:
        return error_response(err, style)
    except web.HTTPException:
        raise
    except Exception:  # a bug in the emulator must still answer like a server
        log.exception("emulator error on %s %s", request.method, request.path)
        return error_response(ApiError("Internal server error", status=500), style)
