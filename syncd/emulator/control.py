"""The control API under ``/_emulator/`` (no auth, not counted, never faulted).

- ``POST /_emulator/faults`` with any of ``webhooks`` (deliver|drop|duplicate|reorder|delay),
  ``delay_ms``, ``error_rate``, ``error_status``, ``error_retry_after`` (the ``Retry-After``
  seconds of an injected 503, default 1; null sends none), ``latency_ms``, ``bandwidth_kib_s`` (each
  response body sent at that rate, after the latency), ``rate_limit_per_s``; answers
  the full fault settings. ``GET`` reads them.
- ``GET /_emulator/deliveries``: ``{"deliveries": [{id, event, url, status, status_code, time,
  webhook_id, outcome, duplicate, error, headers, payload}, ...]}``; ``?event=`` filters.
- ``GET /_emulator/requests``: ``{"total": N, "by_route": {"PUT /wiki/api/v2/pages/{id}": n},
  "peak_in_flight": {"PUT /wiki/api/v2/pages/{id}": k}}`` (the most requests of a route
  served at the same time).
- ``POST /_emulator/reset``: clears the request counters and the delivery log (``{"faults":
  true}`` in the body also clears the faults).
- ``POST /_emulator/clock`` ``{"advance_s": 90}``: move the emulated clock forward.
- ``GET /_emulator/health``: ``{"ok": true, "flavor": ..., "pages": N}``.
- ``POST /_emulator/tokens`` ``{"token": "...", "scopes": ["read:page:confluence", ...]}``:
  the API gateway (``/ex/confluence/{cloudId}``, Cloud) accepts this scoped token, for the
  user, with these scopes. ``DELETE /_emulator/tokens/{token}``: refuse a token (scoped or
  the site's own) from now on, as Confluence does once it expires.
- ``GET /_emulator/``: this list (the control URL ``syncd emulator`` prints).
"""

from __future__ import annotations

import json

from aiohttp import web

from syncd.emulator.pagination import json_response
from syncd.emulator.state import state_of

routes = web.RouteTableDef()


async def _body(request: web.Request) -> dict:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"invalid JSON: {exc}"}), content_type="application/json"
        ) from None
    if not isinstance(data, dict):
        raise web.HTTPBadRequest(
            text=json.dumps({"error": "body must be an object"}), content_type="application/json"
        )
    return data


INDEX = {
    "GET /_emulator/health": "liveness: flavor and page count",
    "GET /_emulator/faults": "the injected faults; POST to change them",
    "GET /_emulator/deliveries": "webhook deliveries sent (?event= filters)",
    "GET /_emulator/requests": "requests served, by route",
    "POST /_emulator/reset": "clear the counters and the delivery log",
    "POST /_emulator/clock": 'move the emulated clock forward ({"advance_s": 90})',
    "POST /_emulator/tokens": 'accept a scoped token at the API gateway ({"token": ..., '
    '"scopes": [...]})',
    "DELETE /_emulator/tokens/{token}": "refuse a token from now on (as once it expires)",
}


@routes.get("/_emulator")
@routes.get("/_emulator/")
async def index(request: web.Request) -> web.Response:
    """What ``syncd emulator`` prints as its control URL: the list of control routes."""
    st = state_of(request)
    return json_response({"emulator": st.flavor, "base_url": _base_url(request), "routes": INDEX})


def _base_url(request: web.Request) -> str:
    root = f"{request.scheme}://{request.host}"
    return root + ("/wiki" if state_of(request).flavor == "cloud" else "")


@routes.post("/_emulator/faults")
async def set_faults(request: web.Request) -> web.Response:
    st = state_of(request)
    assert st.faults is not None
    try:
        st.faults.configure(await _body(request))
    except (ValueError, TypeError) as exc:
        return json_response({"error": str(exc)}, status=400)
    return json_response(st.faults.as_dict())


@routes.get("/_emulator/faults")
async def get_faults(request: web.Request) -> web.Response:
    st = state_of(request)
    assert st.faults is not None
    return json_response(st.faults.as_dict())


@routes.get("/_emulator/deliveries")
async def deliveries(request: web.Request) -> web.Response:
    st = state_of(request)
    log = st.deliverer.log if st.deliverer is not None else []
    event = request.query.get("event")
    items = [d for d in log if event is None or d["event"] == event]
    return json_response({"deliveries": items})


@routes.get("/_emulator/requests")
async def request_counts(request: web.Request) -> web.Response:
    st = state_of(request)
    by_route = dict(sorted(st.request_counts.items()))
    peaks = dict(sorted(st.peak_in_flight.items()))
    return json_response(
        {"total": sum(by_route.values()), "by_route": by_route, "peak_in_flight": peaks}
    )


@routes.post("/_emulator/reset")
async def reset(request: web.Request) -> web.Response:
    st = state_of(request)
    body = await _body(request)
    st.request_counts.clear()
    st.peak_in_flight.clear()
    if st.deliverer is not None:
        st.deliverer.reset()
    if body.get("faults") and st.faults is not None:
        st.faults.reset()
    return json_response({"ok": True})


@routes.post("/_emulator/tokens")
async def set_token(request: web.Request) -> web.Response:
    """Accept a scoped token at the API gateway: ``{"token": "...", "scopes": [...]}``."""
    st = state_of(request)
    body = await _body(request)
    token, scopes = body.get("token"), body.get("scopes", [])
    if not isinstance(token, str) or not token or not isinstance(scopes, list):
        return json_response({"error": "token (string) and scopes (list) expected"}, status=400)
    st.scoped_tokens[token] = frozenset(str(s) for s in scopes)
    return json_response({"token": "***", "scopes": sorted(st.scoped_tokens[token])})


@routes.delete("/_emulator/tokens/{token}")
async def revoke_token(request: web.Request) -> web.Response:
    """Refuse a token from now on (scoped, or the site's own), as once it expires."""
    st = state_of(request)
    token = request.match_info["token"]
    known = st.scoped_tokens.pop(token, None) is not None or st.token == token
    if st.token == token:
        st.token = ""
    return json_response({"revoked": known}, status=200 if known else 404)


@routes.post("/_emulator/clock")
async def clock(request: web.Request) -> web.Response:
    st = state_of(request)
    body = await _body(request)
    try:
        st.store.clock.advance(float(body.get("advance_s", 0)))
    except (TypeError, ValueError):
        return json_response({"error": "advance_s must be a number"}, status=400)
    return json_response({"now_ms": st.store.clock.peek_ms()})


@routes.get("/_emulator/health")
async def health(request: web.Request) -> web.Response:
    st = state_of(request)
    pages = sum(1 for c in st.store.content.values() if c.type == "page")
    return json_response({"ok": True, "flavor": st.flavor, "pages": pages})
