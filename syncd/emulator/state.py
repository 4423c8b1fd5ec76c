"""What every route handler needs: the store, the flavor and the site's URLs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from syncd.emulator.store import Store

if TYPE_CHECKING:
    from syncd.emulator.deliveries import Deliverer
    from syncd.emulator.faults import Faults


@dataclass
class EmulatorState:
    store: Store
    flavor: str  # "cloud" | "dc"
    user: str
    token: str
    root_url: str = ""
    webhook_secret: str | None = None
    deliverer: Deliverer | None = None
    faults: Faults | None = None
    #: The site's cloud id (``/_edge/tenant_info``; the API gateway's ``/ex/confluence/{id}``).
    cloud_id: str = "00000000-0000-4000-8000-000000000000"
    #: Whether ``/_edge/tenant_info`` answers (real Cloud sites do). Off, it is a 404: tools
    #: that find a cloud id there route themselves through api.atlassian.com, which a
    #: benchmark on loopback cannot reach (bench/exporter_side_by_side.py turns it off).
    tenant_info: bool = True
    #: Scoped API tokens the gateway accepts (for ``user``), with the scopes each grants.
    scoped_tokens: dict[str, frozenset[str]] = field(default_factory=dict)
    request_counts: dict[str, int] = field(default_factory=dict)
    #: Requests being served now, and the most served at once since the last reset, by route
    #: (latency faults included): how many requests a client keeps in flight.
    in_flight: dict[str, int] = field(default_factory=dict)
    peak_in_flight: dict[str, int] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        """Cloud: ``http://host:port/wiki``; DC: ``http://host:port``."""
        return self.root_url + self.context

    @property
    def context(self) -> str:
        return "/wiki" if self.flavor == "cloud" else ""

    @property
    def api_prefix(self) -> str:
        """The v1/DC REST API path: ``/wiki/rest/api`` or ``/rest/api``."""
        return f"{self.context}/rest/api"


STATE_KEY: web.AppKey[EmulatorState] = web.AppKey("syncd_emulator_state", EmulatorState)


def state_of(request: web.Request) -> EmulatorState:
    return request.app[STATE_KEY]
