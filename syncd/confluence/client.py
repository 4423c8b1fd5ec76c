"""``ConfluenceClient``: the one object the rest of syncd uses to talk to Confluence.

Open it with ``await ConfluenceClient.open(settings)`` (or ``async with``). It picks the
backend for the deployment, and adds what is the same on Cloud and Data Center:

* the page tree streamed parents-first, optionally restricted to a ``root_page`` subtree;
* writes that are retried only when that is safe, with the reconciliation that makes a
  re-sent update or create idempotent (an update that meets 409 after a retry, and finds the
  page at our version with our body, succeeded);
* the CQL change feed with an overlap window and the deployment's date format;
* webhook registration that maps "not allowed" / "not available" to typed errors.

Deployment detection (``deployment="auto"``): a host under ``atlassian.net`` is Cloud.
Otherwise the client asks, with credentials, ``{base}/api/v2/spaces?limit=1`` (and
``{base}/wiki/api/v2/...`` when the base lacks ``/wiki``): only Cloud serves REST v2. Then
``{base}/rest/api/space?limit=1``: a 2xx there means Data Center. A 401/403 on both is
reported as ``AuthFailed`` / ``PermissionDenied``; nothing answering is ``DeploymentUnknown``.
A 404 never decides for Cloud, so a Data Center behind any path is not mistaken for Cloud.

Atlassian's API gateway (``settings.api_url``, or a ``base_url`` of the form
``https://api.atlassian.com/ex/confluence/{cloudId}``) is Cloud: requests go to
``{gateway}/wiki/...``, and the site URL is kept for messages (``site_url``). Webhook
registration is not available there (see ``scopes``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any, overload
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from .backend import Backend
from .cloud import CloudBackend
from .datacenter import DataCenterBackend
from .errors import (
    AuthFailed,
    ConfluenceError,
    DeploymentUnknown,
    NotFound,
    PermissionDenied,
    ScopeMissing,
    TitleExists,
    VersionConflict,
    WebhookPermissionDenied,
    WebhooksNotForScopedTokens,
    WebhooksNotSupported,
    stops_every_request,
)
from .models import (
    CONTAINER_KINDS,
    Attachment,
    AttachmentChange,
    Change,
    Container,
    Kind,
    Page,
    PageRef,
    Space,
    Webhook,
    parse_attachment_v1,
)
from .scopes import gateway_root
from .settings import ConnectionSettings
from .transport import Clock, Reply, SecretAuth, Sleep, Transport, TransportStats, make_auth

log = logging.getLogger("syncd.confluence")


class _NoSubtreeListing(ConfluenceError):
    """The subtree listing answered 404 for a root page that exists (an endpoint the
    site does not serve): the space listing is cut to the subtree instead."""


#: Widening of the CQL window when the searching user's time zone is unknown: CQL reads
#: date literals in that zone, and UTC offsets span -12..+14 hours.
_UNKNOWN_ZONE_MARGIN = dt.timedelta(hours=14)


def _same_text(a: str, b: str) -> bool:
    """Equal up to whitespace: servers may re-indent storage XHTML they store."""
    return a == b or " ".join(a.split()) == " ".join(b.split())


def _is_listing(reply: Reply) -> bool:
    """A JSON ``{"results": [...]}`` answer, not a proxy's login page or redirect."""
    if reply.status != 200:
        return False
    try:
        data = reply.json()
    except ConfluenceError:  # not JSON
        return False
    return isinstance(data, dict) and isinstance(data.get("results"), list)


def _answered_page(page: Page, data: Any, sent: str) -> Page:
    """The page a create/update answered; its body is the one sent when the answer has none.

    Both surfaces answer with the page (Cloud v2 `PageSingle`; v1/DC `Content`, where the
    client asks for `expand=body.storage`), but the spec does not promise the body in it:
    ``body_stored`` tells the caller whether ``body`` is what the server stored.
    """
    body = data.get("body") if isinstance(data, dict) else None
    storage = body.get("storage") if isinstance(body, dict) else None
    if isinstance(storage, dict) and isinstance(storage.get("value"), str):
        return page
    return replace(page, body=sent, body_stored=False)


def _cql_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ConfluenceClient:
    """Async client for one Confluence site (Cloud or Data Center). See module docs."""

    def __init__(self, backend: Backend, transport: Transport) -> None:
        self._backend = backend
        self._transport = transport
        self._spaces: dict[str, Space] = {}
        self._cql_zone: dt.tzinfo | bool | None = False  # False: not looked up yet

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        settings: ConnectionSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep | None = None,
        clock: Clock | None = None,
        wall_clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> ConfluenceClient:
        """Connect: build the shared transport, detect the deployment when ``auto``.

        ``transport``/``sleep``/``clock``/``wall_clock``/``rng`` exist for tests.
        """
        deployment = settings.deployment
        gateway = gateway_root(settings.api_url or settings.base_url)
        if gateway is not None:
            site = settings.base_url if settings.api_url else None
            settings = replace(
                settings, base_url=gateway + "/wiki", site_url=site, deployment="cloud"
            )
            deployment = "cloud"
        elif settings.api_url:
            settings = replace(settings, base_url=settings.api_url, site_url=settings.base_url)
        base = settings.base_url
        host = (urlsplit(base).hostname or "").lower()
        if deployment == "auto" and host.endswith(".atlassian.net"):
            deployment = "cloud"
        if deployment == "cloud" and host.endswith(".atlassian.net"):
            if urlsplit(base).path.rstrip("/") == "":
                settings = replace(settings, base_url=base + "/wiki")
        auth = make_auth(cls._scheme(settings, "cloud"), settings.email, settings.token)
        pipe = Transport(
            settings,
            auth,
            transport=transport,
            sleep=sleep,
            clock=clock,
            wall_clock=wall_clock,
            rng=rng,
        )
        try:
            if deployment == "auto":
                deployment, base = await cls._detect(pipe, settings)
                if base != settings.base_url:
                    pipe.settings = replace(settings, base_url=base)
            backend: Backend
            if deployment == "cloud":
                backend = CloudBackend(pipe)
            else:
                auth.replace_with(
                    make_auth(cls._scheme(settings, "datacenter"), settings.email, settings.token)
                )
                backend = DataCenterBackend(pipe)
        except BaseException:
            await pipe.aclose()
            raise
        if gateway is not None:
            log.info(
                "connected to Confluence cloud %s through the API gateway %s",
                settings.site_url or "",
                pipe.settings.base_url,
            )
        else:
            log.info("connected to Confluence %s at %s", deployment, pipe.settings.base_url)
        return cls(backend, pipe)

    @staticmethod
    def _scheme(settings: ConnectionSettings, deployment: str) -> str:
        if settings.auth != "auto":
            return settings.auth
        return "basic" if deployment == "cloud" else "bearer"

    @classmethod
    async def _detect(cls, pipe: Transport, settings: ConnectionSettings) -> tuple[str, str]:
        base = settings.base_url
        assert isinstance(pipe.auth, SecretAuth)
        refusals: list[ConfluenceError] = []
        cloud_missing = 0  # Cloud probes the host answered with 404 (with Cloud's auth)
        cloud_bases = [base] if base.endswith("/wiki") else [base, base + "/wiki"]
        for candidate in cloud_bases:
            try:
                reply = await pipe.request(
                    "GET", f"{candidate}/api/v2/spaces", params={"limit": "1"}
                )
                if _is_listing(reply):
                    return "cloud", candidate
            except (AuthFailed, PermissionDenied) as exc:
                refusals.append(exc)
            except (NotFound, DeploymentUnknown):
                cloud_missing += 1
            except ConfluenceError as exc:
                if exc.status is None:  # unreachable: no point in probing further
                    raise
        pipe.auth.replace_with(
            make_auth(cls._scheme(settings, "datacenter"), settings.email, settings.token)
        )
        try:
            reply = await pipe.request("GET", f"{base}/rest/api/space", params={"limit": "1"})
            if _is_listing(reply):
                return "datacenter", base
        except (AuthFailed, PermissionDenied) as exc:
            refusals.append(exc)
        except NotFound:
            pass
        finally:
            pipe.auth.replace_with(
                make_auth(cls._scheme(settings, "cloud"), settings.email, settings.token)
            )
        if cloud_missing == len(cloud_bases) and settings.email:
            # Cloud credentials (an email) and a host that answers 404 at every Cloud path:
            # the path of the URL is wrong. Data Center's probe sends a bearer token, which a
            # Cloud site refuses whatever the path, so its 401 says nothing about the token.
            raise DeploymentUnknown(
                f"no Confluence REST API at {base} (HTTP 404 at {base}/api/v2/spaces)", url=base
            )
        for refusal in refusals:
            if isinstance(refusal, AuthFailed):
                raise AuthFailed(
                    "Confluence refused the credentials (check email/token and auth scheme)",
                    status=401,
                )
        if refusals:
            raise refusals[0]
        raise DeploymentUnknown(
            f"no Confluence Cloud or Data Center REST API found at {base}", url=base
        )

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def __aenter__(self) -> ConfluenceClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"ConfluenceClient({self.deployment}, {self.base_url!r})"

    @property
    def deployment(self) -> str:
        """``"cloud"`` or ``"datacenter"``."""
        return self._backend.deployment

    @property
    def base_url(self) -> str:
        """Where requests go (the site, or the API gateway's ``.../wiki``)."""
        return self._transport.settings.base_url

    @property
    def site_url(self) -> str:
        """The site as people know it (the request base when that is unknown)."""
        return self._transport.settings.site_url or self.base_url

    @property
    def via_gateway(self) -> bool:
        """Requests go through Atlassian's API gateway (a scoped API token)."""
        return gateway_root(self.base_url) is not None

    def replace_credentials(self, email: str | None, token: str) -> None:
        """Use another token from now on (a renewed one), keeping connections and state."""
        settings = replace(self._transport.settings, email=email, token=token)
        self._transport.settings = settings
        auth = self._transport.auth
        assert isinstance(auth, SecretAuth)
        auth.replace_with(make_auth(self._scheme(settings, self.deployment), email, token))

    @property
    def stats(self) -> TransportStats:
        """Request, retry and throttle counters since the client was opened."""
        return self._transport.stats

    # -- users --------------------------------------------------------------------------------

    async def user_names(self, kind: str, values: list[str]) -> dict[str, str]:
        """Display names of mentioned users (Cloud: account ids; DC: user keys, user names).
        Unknown users are left out; names are for reading only, so a failed lookup is too."""
        if not values:
            return {}
        try:
            return await self._backend.user_names(kind, sorted(set(values)))
        except ConfluenceError as exc:
            if stops_every_request(exc):
                raise
            log.info("user names not available (%s)", type(exc).__name__)
            return {}

    async def signed_in_user(self) -> dict[str, Any]:
        """The user the credentials sign in as (``/rest/api/user/current``): the one request
        that proves them. ``AuthFailed`` when refused, also for an anonymous answer (a site
        open to anonymous readers may answer without checking); ``NotFound`` when no REST API
        lives at the base URL."""
        user = await self._backend.current_user()
        if user.get("type") == "anonymous":
            raise AuthFailed("Confluence answered as the anonymous user", status=401)
        return user

    # -- spaces and the page tree ------------------------------------------------------------

    async def get_space(self, key: str) -> Space:
        """The space with this key (cached for the client's lifetime).

        Keys are case-sensitive: ``NotFound`` for ``docs`` names ``DOCS`` when that exists
        (``exc.suggestion``), since a key typed in lower case is the usual slip."""
        if key not in self._spaces:
            try:
                self._spaces[key] = await self._backend.get_space(key)
            except NotFound as exc:
                raise await self._with_suggestion(key, exc) from None
        return self._spaces[key]

    async def _with_suggestion(self, key: str, exc: NotFound) -> NotFound:
        upper = key.upper()
        if upper == key:
            return exc
        try:
            space = await self._backend.get_space(upper)
        except ConfluenceError:
            return exc
        found = NotFound(
            f"space {key} not found; space keys are case-sensitive: did you mean {space.key}?",
            status=exc.status,
            method=exc.method,
            url=exc.url,
        )
        found.suggestion = space.key  # type: ignore[attr-defined]
        return found

    async def iter_page_tree(
        self,
        space_key: str,
        *,
        root_page: str | None = None,
        include_blogposts: bool = False,
        with_labels: bool = False,
        expected_pages: int | None = None,
    ) -> AsyncIterator[PageRef]:
        """Stream the current pages of a space as light records (no bodies).

        ``with_labels`` also loads each record's global labels (``PageRef.labels``; None
        where they could not be loaded completely). It costs requests (an expansion on
        Data Center, a sweep of the space's labels on Cloud), so only full syncs ask.

        Records arrive as the server's pages arrive, with every parent before its children
        (out-of-order ones are held back until their parent shows up). With ``root_page``
        only that page and its descendants are yielded (``NotFound`` if it is not a current
        page of the space): on Cloud from the subtree's own listing, so pages below folders
        (whiteboards, databases, embeds) count and the cost follows the subtree; on Data
        Center (no folders) cut out of the space listing. Blog posts (no parents) follow
        the pages when asked for. ``expected_pages``: the pages the space had last time, if
        known (an offset listing asks for its next pages ahead, up to that many).
        """
        space = await self.get_space(space_key)
        if root_page is not None and self._backend.lists_subtrees:
            yielded = False
            try:
                async for ref in self._subtree(space, root_page, with_labels=with_labels):
                    yielded = True
                    yield ref
            except (ScopeMissing, _NoSubtreeListing) as exc:
                if yielded:
                    raise
                # A scoped token without read:hierarchical-content, or a site without the
                # descendants endpoint: the space listing still finds the pages whose
                # parents are pages.
                log.warning("%s; pages below folders under page %s are not listed", exc, root_page)
            else:
                if include_blogposts:
                    async for ref in self._backend.iter_refs(
                        space, "blogpost", with_labels=with_labels
                    ):
                        yield ref
                return
        emitted: set[str] = set()
        outside: set[str] = set()
        pending: dict[str, list[PageRef]] = {}

        def release(ref: PageRef) -> list[PageRef]:
            out: list[PageRef] = []
            queue = [ref]
            while queue:
                item = queue.pop(0)
                out.append(item)
                emitted.add(item.id)
                queue.extend(pending.pop(item.id, ()))
            return out

        def exclude(ref: PageRef) -> None:
            stack = [ref]
            while stack:
                item = stack.pop()
                outside.add(item.id)
                stack.extend(pending.pop(item.id, ()))

        async for ref in self._backend.iter_refs(
            space, "page", with_labels=with_labels, expected=expected_pages
        ):
            if root_page is None:
                if ref.parent_id is None or ref.parent_id in emitted:
                    for item in release(ref):
                        yield item
                else:
                    pending.setdefault(ref.parent_id, []).append(ref)
            elif ref.id == root_page or ref.parent_id in emitted:
                for item in release(ref):
                    yield item
            elif ref.parent_id is None or ref.parent_id in outside:
                exclude(ref)
            else:
                pending.setdefault(ref.parent_id, []).append(ref)

        if root_page is None:
            # Orphans: their parent is not a listed page (a folder, a trashed page).
            while pending:
                waiting = {r.id for refs in pending.values() for r in refs}
                tops = [key for key in pending if key not in waiting] or [next(iter(pending))]
                for key in tops:
                    for ref in pending.pop(key, ()):
                        for item in release(ref):
                            yield item
        elif root_page not in emitted:
            raise NotFound(f"page {root_page} is not a current page of space {space_key}")

        if include_blogposts:
            async for ref in self._backend.iter_refs(space, "blogpost", with_labels=with_labels):
                yield ref

    async def _subtree(
        self, space: Space, root_page: str, *, with_labels: bool
    ) -> AsyncIterator[PageRef]:
        """The ``root_page`` subtree from the backend's own subtree listing (Cloud: pages
        below folders, whiteboards, databases and embeds included); ``NotFound`` when the
        root is not a current page of the space."""
        first = True
        try:
            async for ref in self._backend.iter_subtree_refs(
                space, root_page, with_labels=with_labels
            ):
                if first and ref.id != root_page:
                    break  # the root itself was not listed (trashed, another space)
                first = False
                yield ref
        except NotFound as exc:
            if not first:
                raise
            if await self._is_current_page(space, root_page):
                raise _NoSubtreeListing(f"no subtree listing ({exc})") from None
        if first:
            raise NotFound(f"page {root_page} is not a current page of space {space.key}")

    async def _is_current_page(self, space: Space, page_id: str) -> bool:
        try:
            page = await self._backend.get_page(
                page_id, kind="page", ancestors=False, include_trashed=False
            )
        except NotFound:
            return False
        return page.status == "current" and page.space_id in (None, str(space.id))

    async def iter_blogposts(self, space_key: str) -> AsyncIterator[PageRef]:
        """Stream the current blog posts of a space as light records."""
        space = await self.get_space(space_key)
        async for ref in self._backend.iter_refs(space, "blogpost"):
            yield ref

    # -- pages -------------------------------------------------------------------------------

    async def get_page(
        self,
        page_id: str,
        *,
        kind: Kind = "page",
        ancestors: bool = True,
        include_trashed: bool = False,
    ) -> Page:
        """A page (or blog post) with storage body, version, labels and (by default) ancestors.

        ``ancestors=False`` saves a request on Cloud. ``include_trashed`` also finds the page
        when it is in the trash (check ``page.status``); otherwise a trashed page is NotFound.
        """
        return await self._backend.get_page(
            str(page_id), kind=kind, ancestors=ancestors, include_trashed=include_trashed
        )

    async def get_ancestors(self, page_id: str) -> tuple[str, ...]:
        """The ids above a current page, root first (one request on Cloud)."""
        return await self._backend.get_ancestors(str(page_id))

    async def iter_pages(
        self,
        page_ids: Iterable[str],
        *,
        kind: Kind = "page",
        ancestors: bool = False,
    ) -> AsyncIterator[tuple[str, Page | ConfluenceError]]:
        """Fetch many pages with bounded concurrency; yield ``(id, page or error)`` as they come.

        A failure of one page (say NotFound) does not stop the others.
        """
        window = self._transport.settings.concurrency * 2
        ids = iter(page_ids)
        running: dict[asyncio.Task[Page], str] = {}

        def launch() -> bool:
            page_id = next(ids, None)
            if page_id is None:
                return False
            task = asyncio.ensure_future(self.get_page(page_id, kind=kind, ancestors=ancestors))
            running[task] = page_id
            return True

        try:
            while len(running) < window and launch():
                pass
            while running:
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    page_id = running.pop(task)
                    error = task.exception()
                    if error is not None and not isinstance(error, ConfluenceError):
                        raise error
                    launch()
                    yield page_id, error if error is not None else task.result()
        finally:
            for task in running:
                task.cancel()

    def bulk_body_limit(self) -> int:
        """Pages with bodies one bulk read returns at most (250 on Cloud, 50 on DC)."""
        return self._backend.bulk_body_limit

    async def iter_pages_by_id(
        self, page_ids: Iterable[str], *, kind: Kind = "page"
    ) -> AsyncIterator[Page]:
        """Many pages with storage body and version in ``ceil(n / bulk_body_limit)``
        requests (Cloud ``GET /pages?id=...&body-format=storage``, DC ``content/search``
        with ``id in (...)`` and the body expanded). Pages no longer current are left
        out; ``labels`` is None where the answer could not carry them (always on Cloud)."""
        async for page in self._backend.iter_pages_by_id([str(p) for p in page_ids], kind):
            yield page

    async def space_attachments(self, space_key: str) -> dict[str, list[Attachment]]:
        """Every current attachment of the space by container id, in
        ``ceil(attachments / 200)`` requests: CQL ``type = attachment`` with the container
        and version expanded (both flavors; DC caps such searches at 200 results per
        request, Atlassian KB confkb 1032258424). Comes from the search index, which can
        lag a moment behind an upload: callers trust it for pages whose recorded
        attachments it all lists, and read the others' lists one by one."""
        cql = f"space = {_cql_quote(space_key)} and type = attachment"
        found: dict[str, list[Attachment]] = {}
        async for item in self._backend.cql_search(cql, expand="version,container", limit=200):
            container = item.get("container")
            if not isinstance(container, dict) or not container.get("id"):
                continue
            attachment = parse_attachment_v1(item, str(container["id"]))
            found.setdefault(attachment.page_id, []).append(attachment)
        return found

    async def create_page(
        self,
        space_key: str,
        title: str,
        body: str,
        *,
        parent_id: str | None = None,
        kind: Kind = "page",
    ) -> Page:
        """Create a page under ``parent_id`` (the space home page when None) or a blog post.

        Raises ``TitleExists`` when the title is taken in the space (trash included).
        """
        space = await self.get_space(space_key)
        try:
            reply = await self._backend.create_page(space, title, body, parent_id, kind)
        except TitleExists as exc:
            if exc.attempts > 1:
                # An earlier attempt may have created it before the connection failed.
                mine = await self._find_own_create(space, title, body, parent_id, kind)
                if mine is not None:
                    return mine
            raise
        data = reply.json()
        return _answered_page(self._backend.parse_page(data, kind), data, body)

    async def _find_own_create(
        self, space: Space, title: str, body: str, parent_id: str | None, kind: Kind
    ) -> Page | None:
        ref = await self._backend.find_by_title(space, title, kind)
        if ref is None or ref.version != 1:
            return None
        page = await self.get_page(ref.id, kind=kind, ancestors=False)
        if not _same_text(page.body, body):
            return None
        if parent_id and kind == "page" and page.parent_id != str(parent_id):
            return None
        return page

    async def update_page(
        self,
        page_id: str,
        *,
        title: str,
        body: str,
        base_version: int,
        parent_id: str | None = None,
        message: str = "",
        minor_edit: bool = False,
        kind: Kind = "page",
    ) -> Page:
        """Write a new version based on ``base_version`` (sent as ``base_version + 1``).

        ``parent_id`` moves the page (same space). Raises ``VersionConflict`` when the page
        moved on since ``base_version`` (``current_version`` filled in): merge, never force.
        The returned page has the new version; ``labels``/``ancestors`` are not loaded.
        """
        page_id = str(page_id)
        new_version = base_version + 1
        try:
            reply = await self._backend.put_page(
                page_id,
                title=title,
                body=body,
                version=new_version,
                parent_id=parent_id,
                message=message,
                minor_edit=minor_edit,
                kind=kind,
            )
        except VersionConflict as conflict:
            current = await self._current_or_none(page_id, kind)
            if (
                conflict.attempts > 1
                and current is not None
                and current.version == new_version
                and current.title == title
                and _same_text(current.body, body)
            ):
                log.info("page %s: update applied by an earlier attempt", page_id)
                return current
            if conflict.current_version is None and current is not None:
                conflict.current_version = current.version
            raise
        data = reply.json()
        return _answered_page(self._backend.parse_page(data, kind), data, body)

    async def _current_or_none(self, page_id: str, kind: Kind) -> Page | None:
        try:
            return await self.get_page(page_id, kind=kind, ancestors=False)
        except NotFound:
            return None

    async def move_page(self, page_id: str, target_id: str, position: str = "append") -> None:
        """Move a page: ``append`` makes it a child of ``target_id``; ``before``/``after``
        make it a sibling of the target."""
        if position not in ("append", "before", "after"):
            raise ValueError("position must be append, before or after")
        await self._backend.move_page(str(page_id), str(target_id), position)

    async def trash_page(self, page_id: str, *, kind: Kind = "page") -> None:
        """Move a page to the space trash (recoverable with ``restore_page``)."""
        try:
            await self._backend.trash_page(str(page_id), kind)
        except NotFound as exc:
            if exc.attempts > 1:
                page = await self.get_page(page_id, kind=kind, include_trashed=True)
                if page.status == "trashed":
                    return
            raise

    async def restore_page(self, page_id: str, *, kind: Kind = "page") -> Page:
        """Bring a trashed page back to current; returns it (no-op when already current)."""
        page = await self.get_page(page_id, kind=kind, ancestors=False, include_trashed=True)
        if page.status == "current":
            return page
        await self._backend.put_page(
            str(page_id),
            title=page.title,
            body=page.body,
            version=page.version + 1,
            parent_id=None,
            message="",
            minor_edit=True,
            kind=kind,
            status="current",
            current_status=page.status,
        )
        return await self.get_page(page_id, kind=kind)

    async def purge_page(self, page_id: str, *, kind: Kind = "page") -> None:
        """Delete a *trashed* page for good. Not recoverable: callers confirm first."""
        try:
            await self._backend.purge_page(str(page_id), kind)
        except NotFound as exc:
            if exc.attempts <= 1:
                raise

    # -- containers (Cloud) -------------------------------------------------------------------

    @property
    def supports_containers(self) -> bool:
        """Cloud has folders, whiteboards, databases and embeds as parents; DC has none."""
        return self._backend.supports_containers

    async def get_container(self, kind: str, container_id: str) -> Container:
        """A folder / whiteboard / database / embed by id (kind as in ``parentType``)."""
        if kind not in CONTAINER_KINDS:
            raise ValueError(f"not a container kind: {kind!r}")
        return await self._backend.get_container(kind, str(container_id))

    async def create_folder(
        self, space_key: str, title: str, *, parent_id: str | None = None
    ) -> Container:
        """Create a folder under ``parent_id`` (a page or folder; the space top when None)."""
        space = await self.get_space(space_key)
        return await self._backend.create_folder(space, title, parent_id)

    async def rename_folder(self, folder_id: str, title: str, *, base_version: int) -> None:
        """Rename a folder (v1 ``PUT /content/{id}`` with type folder, version + 1)."""
        await self._backend.rename_folder(str(folder_id), title, base_version + 1)

    async def trash_folder(self, folder_id: str) -> None:
        """Move a folder to the trash (v2 ``DELETE /folders/{id}``: documented as trash)."""
        try:
            await self._backend.trash_folder(str(folder_id))
        except NotFound as exc:
            if exc.attempts <= 1:
                raise

    # -- labels ------------------------------------------------------------------------------

    async def get_labels(self, page_id: str, *, kind: Kind = "page") -> list[str]:
        return [name async for name in self._backend.iter_labels(str(page_id), kind)]

    async def add_labels(self, page_id: str, names: Iterable[str]) -> None:
        names = [n for n in names if n]
        if names:
            await self._backend.add_labels(str(page_id), names)

    async def remove_label(self, page_id: str, name: str) -> None:
        try:
            await self._backend.remove_label(str(page_id), name)
        except NotFound as exc:
            if exc.attempts <= 1:  # after a retry, "gone" means an earlier attempt removed it
                raise

    # -- attachments -------------------------------------------------------------------------

    async def list_attachments(self, page_id: str, *, kind: Kind = "page") -> list[Attachment]:
        return [a async for a in self._backend.iter_attachments(str(page_id), kind)]

    @overload
    async def download_attachment(
        self, attachment: Attachment, destination: Path | str, *, durable: bool = True
    ) -> int: ...

    @overload
    async def download_attachment(
        self, attachment: Attachment, destination: None = None, *, durable: bool = True
    ) -> bytes: ...

    async def download_attachment(
        self, attachment: Attachment, destination: Path | str | None = None, *, durable: bool = True
    ) -> int | bytes:
        """Stream the attachment to ``destination`` (atomically replaced); return its size.
        ``durable=False``: not fsynced (a scratch copy the caller reads back at once).
        Without a destination, return its bytes (for a file small enough to hold)."""
        url = self._backend.download_url(attachment)
        if destination is None:
            reply = await self._transport.request("GET", url, follow_redirects=True)
            return reply.content
        return await self._transport.download(url, Path(destination), durable=durable)

    async def upload_attachment(
        self,
        page_id: str,
        path: Path | str,
        *,
        filename: str | None = None,
        comment: str = "",
        minor_edit: bool = True,
        media_type: str | None = None,
        kind: Kind = "page",
        attachment_id: str | None = None,
    ) -> Attachment:
        """Upload a file to a page: a new attachment, or a new version of the one with the
        same file name.

        ``attachment_id`` names the attachment this file was (one in the trash, which the
        listing leaves out): it gets the new version when no current attachment has the
        name, since a new attachment would clash with the trashed one's name.
        """
        path = Path(path)
        filename = filename or path.name
        existing = None
        for attachment in await self.list_attachments(page_id, kind=kind):
            if attachment.title == filename:
                existing = attachment.id
                break
        if existing is None and attachment_id:
            existing = str(attachment_id)
        return await self._backend.upload_attachment(
            str(page_id),
            path,
            filename=filename,
            comment=comment,
            minor_edit=minor_edit,
            media_type=media_type,
            existing_id=existing,
        )

    async def delete_attachment(self, attachment_id: str) -> None:
        await self._backend.delete_attachment(str(attachment_id))

    # -- change feed -------------------------------------------------------------------------

    async def changes_since(
        self,
        space_key: str,
        since: dt.datetime,
        *,
        overlap: dt.timedelta = dt.timedelta(minutes=2),
        include_blogposts: bool = True,
    ) -> list[Change]:
        """Pages (and blog posts) modified since ``since``, as deduplicated (id, version).

        CQL ``lastmodified`` has minute precision and reads dates in the searching user's
        time zone, so the window starts ``overlap`` earlier (wider still when the zone is
        unknown); the caller ignores entries whose version it already has. Only current
        content is reported: trash and purge show up through webhooks or tree listings.
        """
        types = "type in (page, blogpost)" if include_blogposts else "type = page"
        cql = await self._modified_since_cql(space_key, types, since, overlap)
        latest: dict[str, Change] = {}
        async for item in self._backend.cql_search(cql):
            content = item.get("content") if "content" in item else item
            if not isinstance(content, dict) or "id" not in content:
                continue
            version = int((content.get("version") or {}).get("number") or 0)
            change = Change(
                id=str(content["id"]),
                version=version,
                kind="blogpost" if content.get("type") == "blogpost" else "page",
                title=content.get("title"),
            )
            known = latest.get(change.id)
            if known is None or change.version > known.version:
                latest[change.id] = change
        return list(latest.values())

    async def attachment_changes_since(
        self,
        space_key: str,
        since: dt.datetime,
        *,
        overlap: dt.timedelta = dt.timedelta(minutes=2),
    ) -> list[AttachmentChange]:
        """Attachments added or given a new version since ``since``, with their container.

        Same window as `changes_since` (overlap, user time zone). An attachment upload
        leaves the page's version alone, so this is how a full sync or a poll learns which
        pages need their attachment list read again. Trashed attachments are not listed
        (CQL finds current content only): deletions come from webhooks or a list read.
        """
        cql = await self._modified_since_cql(space_key, "type = attachment", since, overlap)
        latest: dict[str, AttachmentChange] = {}
        async for item in self._backend.cql_search(cql, expand="version,container"):
            content = item.get("content") if "content" in item else item
            if not isinstance(content, dict) or "id" not in content:
                continue
            container = content.get("container")
            if not isinstance(container, dict) or not container.get("id"):
                continue  # no container in the answer: nothing to re-read
            change = AttachmentChange(
                id=str(content["id"]),
                version=int((content.get("version") or {}).get("number") or 0),
                page_id=str(container["id"]),
                page_kind="blogpost" if container.get("type") == "blogpost" else "page",
                title=content.get("title"),
            )
            known = latest.get(change.id)
            if known is None or change.version > known.version:
                latest[change.id] = change
        return list(latest.values())

    async def _modified_since_cql(
        self, space_key: str, types: str, since: dt.datetime, overlap: dt.timedelta
    ) -> str:
        """The CQL for content of ``types`` modified since ``since``, window widened by
        ``overlap`` (minute precision) and by a day's span of time zones when the
        searching user's zone is unknown (CQL reads date literals in that zone)."""
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        start = since - overlap
        zone = await self._user_zone()
        if zone is None:
            start -= _UNKNOWN_ZONE_MARGIN
            zone = dt.UTC
        literal = start.astimezone(zone).strftime(self._backend.cql_date_format)
        return (
            f"space = {_cql_quote(space_key)} and {types} and lastmodified >= "
            f'"{literal}" order by lastmodified asc'
        )

    async def _user_zone(self) -> dt.tzinfo | None:
        if self._cql_zone is False:
            zone: dt.tzinfo | None = None
            configured = self._transport.settings.cql_timezone
            try:
                name = configured or (await self._backend.current_user()).get("timeZone")
                if isinstance(name, str) and name:
                    zone = ZoneInfo(name)
            except (ConfluenceError, ZoneInfoNotFoundError, ValueError) as exc:
                log.info("time zone of the Confluence user unknown (%s)", type(exc).__name__)
            self._cql_zone = zone
        return self._cql_zone or None

    # -- webhooks ----------------------------------------------------------------------------

    async def _webhook_call(self, coro: Any) -> Any:
        """Map refusals of the webhook API to ``WebhooksUnavailable`` subclasses."""
        if self.via_gateway:
            coro.close()
            raise WebhooksNotForScopedTokens(
                "webhooks cannot be registered with a scoped API token (the API gateway "
                "serves no webhook registration API)"
            )
        try:
            return await coro
        except PermissionDenied as exc:
            raise WebhookPermissionDenied(
                f"not allowed to manage webhooks: {exc.message}", status=exc.status, url=exc.url
            ) from None
        except AuthFailed as exc:
            # DC answers 401 to non-admins; tell that apart from a bad token.
            try:
                await self._backend.current_user()
            except AuthFailed:
                raise exc from None
            raise WebhookPermissionDenied(
                "not allowed to manage webhooks (administrator rights needed)",
                status=exc.status,
                url=exc.url,
            ) from None

    async def list_webhooks(self) -> list[Webhook]:
        """Registered webhooks. ``WebhooksNotSupported`` when the deployment has no API."""

        async def collect() -> list[Webhook]:
            return [hook async for hook in self._backend.iter_webhooks()]

        try:
            return await self._webhook_call(collect())
        except NotFound as exc:
            if isinstance(exc, WebhooksNotSupported):
                raise
            raise WebhooksNotSupported(
                "this Confluence has no webhook registration API", status=exc.status, url=exc.url
            ) from None

    async def create_webhook(
        self,
        name: str,
        url: str,
        events: Iterable[str],
        *,
        secret: str | None = None,
        active: bool = True,
    ) -> Webhook:
        """Register one webhook. On Cloud, deliveries carry no event name: register one
        webhook per event (see ``ensure_webhooks``)."""
        try:
            return await self._webhook_call(
                self._backend.create_webhook(name, url, list(events), secret, active)
            )
        except WebhooksNotSupported:
            raise
        except NotFound as exc:
            raise WebhooksNotSupported(
                "this Confluence has no webhook registration API", status=exc.status, url=exc.url
            ) from None

    async def update_webhook(
        self,
        webhook_id: str,
        *,
        name: str,
        url: str,
        events: Iterable[str],
        secret: str | None = None,
        active: bool = True,
    ) -> Webhook:
        """Replace a webhook's settings (``NotFound`` if it no longer exists)."""
        return await self._webhook_call(
            self._backend.update_webhook(str(webhook_id), name, url, list(events), secret, active)
        )

    async def delete_webhook(self, webhook_id: str) -> None:
        """Unregister a webhook; one that is already gone is not an error."""
        try:
            await self._webhook_call(self._backend.delete_webhook(str(webhook_id)))
        except NotFound:
            pass

    async def ensure_webhooks(
        self,
        name: str,
        url: str,
        events: Iterable[str],
        *,
        secret: str | None = None,
    ) -> list[Webhook]:
        """Make sure our webhook(s) exist, reusing earlier registrations named ``name``.

        Data Center: one webhook with every event, signed with ``secret``. Cloud: one webhook
        per event at ``url`` plus ``?event=<name>`` (Cloud payloads carry no event name and
        its query strings are delivered verbatim). Stale registrations of ours (same name,
        other URL) are removed. Raises ``WebhooksUnavailable`` when registration is
        impossible, so the caller can fall back to polling.
        """
        from .webhooks import ensure_webhooks

        return await ensure_webhooks(self, name, url, list(events), secret=secret)
