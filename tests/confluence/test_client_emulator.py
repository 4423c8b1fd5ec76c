"""Every client operation against the emulator, in both flavors (Cloud and Data Center)."""

from __future__ import annotations

import datetime as dt
import time

import httpx
import pytest
from confluence_testkit import VirtualClock

from syncd.confluence import (
    AuthFailed,
    ConfluenceClient,
    ConnectionSettings,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    TitleExists,
    VersionConflict,
    WebhooksUnavailable,
)
from syncd.emulator.server import EmulatorServer

FLAVORS = [("cloud", "cloud"), ("dc", "datacenter")]


def settings_for(emu, **overrides) -> ConnectionSettings:
    options = {
        "base_url": emu.base_url,
        "email": emu.user,
        "token": emu.token,
        "deployment": "auto",
        "backoff_base": 0.02,
        "backoff_cap": 0.2,
        "max_attempts": 4,
        "page_size": 7,  # small pages: every listing spans several server pages
    }
    options.update(overrides)
    return ConnectionSettings(**options)


@pytest.fixture(params=FLAVORS, ids=[f for f, _ in FLAVORS])
async def site(request):
    flavor, deployment = request.param
    async with EmulatorServer(flavor=flavor, pages=40, seed=3) as emu:
        client = await ConfluenceClient.open(settings_for(emu))
        try:
            assert client.deployment == deployment
            yield emu, client
        finally:
            await client.aclose()


async def control(emu, method: str, path: str, body: dict | None = None) -> dict:
    async with httpx.AsyncClient() as http:
        response = await http.request(method, f"{emu.root_url}/_emulator/{path}", json=body)
        response.raise_for_status()
        return response.json()


async def home_of(client: ConfluenceClient, emu) -> str:
    space = await client.get_space(emu.space_key)
    assert space.homepage_id
    return space.homepage_id


# -- reading -------------------------------------------------------------------------------


async def test_space_and_whole_tree_listing_across_many_server_pages(site):
    emu, client = site
    space = await client.get_space(emu.space_key)
    assert space.key == emu.space_key
    await control(emu, "POST", "reset")
    refs = [ref async for ref in client.iter_page_tree(emu.space_key)]
    health = await control(emu, "GET", "health")
    assert len(refs) == health["pages"] == 41
    ids = [r.id for r in refs]
    assert len(set(ids)) == len(ids)
    for ref in refs:
        assert ref.version >= 1 and ref.title and ref.kind == "page"
        if ref.parent_id is not None:
            assert ids.index(ref.parent_id) < ids.index(ref.id)  # parents first
    roots = [r for r in refs if r.parent_id is None]
    assert [r.id for r in roots] == [space.homepage_id]
    counts = await control(emu, "GET", "requests")
    listing = sum(
        n
        for route, n in counts["by_route"].items()
        if route.startswith("GET")
        and (route.endswith("/pages") or route.endswith("/rest/api/content"))
    )
    assert listing >= 41 // 7  # followed the next links through every server page


async def test_subtree_listing(site):
    emu, client = site
    home = await home_of(client, emu)
    refs = [ref async for ref in client.iter_page_tree(emu.space_key)]
    children: dict[str | None, list[str]] = {}
    for ref in refs:
        children.setdefault(ref.parent_id, []).append(ref.id)
    root = next(r.id for r in refs if r.parent_id == home and children.get(r.id))
    grandchild = await client.create_page(
        emu.space_key, "Grandchild", "<p/>", parent_id=children[root][0]
    )
    expected = {root, *children[root], grandchild.id}
    sub = [ref async for ref in client.iter_page_tree(emu.space_key, root_page=root)]
    assert {r.id for r in sub} == expected
    assert sub[0].id == root
    ids = [r.id for r in sub]
    assert ids.index(children[root][0]) < ids.index(grandchild.id)


async def test_page_with_body_labels_and_ancestors(site):
    emu, client = site
    refs = [ref async for ref in client.iter_page_tree(emu.space_key)]
    deep = next(r for r in refs if r.parent_id and r.parent_id != refs[0].id)
    await client.add_labels(deep.id, ["alpha", "beta"])
    page = await client.get_page(deep.id)
    assert page.id == deep.id
    assert page.version == deep.version
    assert page.body.strip()
    assert set(page.labels or ()) >= {"alpha", "beta"}
    assert page.ancestors and page.ancestors[-1] == deep.parent_id
    assert page.ancestors[0] == refs[0].id
    with pytest.raises(NotFound):
        await client.get_page("99999999")


# -- writing -------------------------------------------------------------------------------


async def test_create_update_and_conflict_on_stale_version(site):
    emu, client = site
    home = await home_of(client, emu)
    page = await client.create_page(emu.space_key, "Client test page", "<p>one</p>", parent_id=home)
    assert page.version == 1 and page.parent_id == home

    updated = await client.update_page(
        page.id, title="Client test page", body="<p>two</p>", base_version=1, message="sync"
    )
    assert updated.version == 2
    fetched = await client.get_page(page.id)
    assert fetched.body == "<p>two</p>" and fetched.version_message == "sync"

    with pytest.raises(VersionConflict) as info:
        await client.update_page(
            page.id, title="Client test page", body="<p>stale</p>", base_version=1
        )
    assert info.value.current_version == 2
    assert (await client.get_page(page.id)).body == "<p>two</p>"  # nothing overwritten

    minor = await client.update_page(
        page.id, title="Renamed", body="<p>two</p>", base_version=2, minor_edit=True
    )
    assert minor.version == 3 and minor.title == "Renamed"

    with pytest.raises(TitleExists):
        await client.create_page(emu.space_key, "Renamed", "<p>dup</p>", parent_id=home)


async def test_move_by_update_and_by_move(site):
    emu, client = site
    home = await home_of(client, emu)
    a = await client.create_page(emu.space_key, "Move A", "<p>a</p>", parent_id=home)
    b = await client.create_page(emu.space_key, "Move B", "<p>b</p>", parent_id=home)
    c = await client.create_page(emu.space_key, "Move C", "<p>c</p>", parent_id=home)

    await client.move_page(b.id, a.id, "append")
    moved = await client.get_page(b.id)
    assert moved.parent_id == a.id and moved.body == "<p>b</p>"

    await client.move_page(c.id, b.id, "after")
    assert (await client.get_page(c.id)).parent_id == a.id

    via_update = await client.update_page(
        c.id,
        title="Move C",
        body="<p>c</p>",
        base_version=(await client.get_page(c.id)).version,
        parent_id=home,
    )
    assert (await client.get_page(via_update.id)).parent_id == home


async def test_trash_restore_purge(site):
    emu, client = site
    home = await home_of(client, emu)
    page = await client.create_page(emu.space_key, "Trash me", "<p>x</p>", parent_id=home)
    await client.trash_page(page.id)
    with pytest.raises(NotFound):
        await client.get_page(page.id)
    trashed = await client.get_page(page.id, include_trashed=True, ancestors=False)
    assert trashed.status == "trashed"
    assert page.id not in [r.id async for r in client.iter_page_tree(emu.space_key)]

    restored = await client.restore_page(page.id)
    assert restored.status == "current" and restored.body == "<p>x</p>"
    assert page.id in [r.id async for r in client.iter_page_tree(emu.space_key)]

    await client.trash_page(page.id)
    await client.purge_page(page.id)
    with pytest.raises(NotFound):
        await client.get_page(page.id, include_trashed=True)


async def test_labels_read_add_remove(site):
    emu, client = site
    home = await home_of(client, emu)
    page = await client.create_page(emu.space_key, "Labelled", "<p/>", parent_id=home)
    assert await client.get_labels(page.id) == []
    await client.add_labels(page.id, ["one", "two", "three"])
    assert sorted(await client.get_labels(page.id)) == ["one", "three", "two"]
    await client.remove_label(page.id, "two")
    assert sorted(await client.get_labels(page.id)) == ["one", "three"]


async def test_attachments_upload_list_download_version_delete(site, tmp_path):
    emu, client = site
    home = await home_of(client, emu)
    page = await client.create_page(emu.space_key, "With files", "<p/>", parent_id=home)
    source = tmp_path / "report.bin"
    payload = bytes(range(256)) * 512
    source.write_bytes(payload)

    first = await client.upload_attachment(page.id, source, comment="first")
    assert first.title == "report.bin" and first.version == 1

    listed = await client.list_attachments(page.id)
    assert [a.title for a in listed] == ["report.bin"]

    target = tmp_path / "out" / "report.bin"
    assert await client.download_attachment(listed[0], target) == len(payload)
    assert target.read_bytes() == payload

    source.write_bytes(b"second version")
    second = await client.upload_attachment(page.id, source)
    assert second.id == first.id and second.version == 2
    again = (await client.list_attachments(page.id))[0]
    await client.download_attachment(again, target)
    assert target.read_bytes() == b"second version"

    await client.delete_attachment(first.id)
    assert await client.list_attachments(page.id) == []


async def test_blog_posts_when_asked(site):
    emu, client = site
    post = await client.create_page(emu.space_key, "News", "<p>blog</p>", kind="blogpost")
    assert post.kind == "blogpost"
    fetched = await client.get_page(post.id, kind="blogpost")
    assert fetched.body == "<p>blog</p>" and fetched.kind == "blogpost"
    pages_only = [r async for r in client.iter_page_tree(emu.space_key)]
    assert post.id not in {r.id for r in pages_only}
    everything = [r async for r in client.iter_page_tree(emu.space_key, include_blogposts=True)]
    assert next(r for r in everything if r.id == post.id).kind == "blogpost"
    assert post.id in {r.id async for r in client.iter_blogposts(emu.space_key)}


async def test_changes_since_reports_new_versions(site):
    emu, client = site
    home = await home_of(client, emu)
    since = dt.datetime.now(dt.UTC)
    page = await client.create_page(emu.space_key, "Changed", "<p>1</p>", parent_id=home)
    await client.update_page(page.id, title="Changed", body="<p>2</p>", base_version=1)
    changes = await client.changes_since(emu.space_key, since)
    versions = {c.id: c.version for c in changes}
    assert versions.get(page.id) == 2
    assert len(versions) == len(changes)  # deduplicated


async def test_attachment_changes_since_reports_uploads_without_page_edits(site, tmp_path):
    emu, client = site
    home = await home_of(client, emu)
    page = await client.create_page(emu.space_key, "Files", "<p>1</p>", parent_id=home)
    first = tmp_path / "one.txt"
    first.write_bytes(b"one")
    att = await client.upload_attachment(page.id, first)
    since = dt.datetime.now(dt.UTC)
    first.write_bytes(b"two")
    await client.upload_attachment(page.id, first)  # a new version; the page is not edited
    changes = await client.attachment_changes_since(emu.space_key, since)
    mine = [(c.id, c.version, c.page_id) for c in changes if c.page_id == page.id]
    assert mine == [(att.id, 2, page.id)]  # (the window's overlap may show others' too)
    assert (await client.get_page(page.id)).version == page.version
    await client.delete_attachment(att.id)  # to the trash: no longer reported
    changes = await client.attachment_changes_since(emu.space_key, since)
    assert all(c.page_id != page.id for c in changes)


async def test_iter_pages_fetches_many_with_errors_isolated(site):
    emu, client = site
    refs = [ref async for ref in client.iter_page_tree(emu.space_key)]
    wanted = [r.id for r in refs[:20]] + ["88888888"]
    results = {pid: item async for pid, item in client.iter_pages(wanted)}
    assert set(results) == set(wanted)
    assert isinstance(results["88888888"], NotFound)
    assert all(results[r].body is not None for r in wanted[:-1])


# -- webhooks ------------------------------------------------------------------------------


async def test_webhook_crud_and_reuse(site):
    _, client = site
    try:
        hooks = await client.ensure_webhooks(
            "syncd-test",
            "http://127.0.0.1:9/hook",
            ["page_updated", "page_created"],
            secret="s" * 20,
        )
    except WebhooksUnavailable as exc:  # pragma: no cover - depends on the emulator
        pytest.fail(f"webhooks unavailable on the emulator: {exc}")
    if client.deployment == "cloud":
        assert len(hooks) == 2
        assert {h.url for h in hooks} == {
            "http://127.0.0.1:9/hook?event=page_updated",
            "http://127.0.0.1:9/hook?event=page_created",
        }
    else:
        assert len(hooks) == 1 and set(hooks[0].events) == {"page_updated", "page_created"}

    again = await client.ensure_webhooks(
        "syncd-test", "http://127.0.0.1:9/hook", ["page_updated", "page_created"], secret="s" * 20
    )
    assert sorted(h.id for h in again) == sorted(h.id for h in hooks)  # reused, not duplicated
    listed = [h for h in await client.list_webhooks() if h.name == "syncd-test"]
    assert len(listed) == len(hooks)

    updated = await client.update_webhook(
        hooks[0].id, name="syncd-test", url=hooks[0].url, events=["page_removed"], active=True
    )
    assert updated.events == ("page_removed",)

    for hook in hooks:
        await client.delete_webhook(hook.id)
    assert [h for h in await client.list_webhooks() if h.name == "syncd-test"] == []


# -- faults --------------------------------------------------------------------------------


class RecordingSleep:
    def __init__(self) -> None:
        self.total = 0.0

    async def __call__(self, delay: float) -> None:
        import asyncio

        self.total += delay
        await asyncio.sleep(delay)


async def test_rate_limit_with_retry_after_is_waited_out(site):
    emu, _ = site
    sleeper = RecordingSleep()
    client = await ConfluenceClient.open(settings_for(emu, max_attempts=6), sleep=sleeper)
    try:
        await control(emu, "POST", "faults", {"rate_limit_per_s": 1})
        started = time.monotonic()
        for _ in range(3):
            await client.get_space(emu.space_key)
            client._spaces.clear()
        elapsed = time.monotonic() - started
        assert client.stats.throttled >= 1
        assert sleeper.total >= 1.0  # Retry-After: 1 s at least, per throttled call
        assert elapsed >= 1.0
    finally:
        await control(emu, "POST", "reset", {"faults": True})
        await client.aclose()


async def test_503s_are_retried_and_listing_completes(site):
    emu, _ = site
    await control(emu, "POST", "faults", {"error_rate": 0.3, "error_status": 502})
    try:
        retried = ConfluenceClient.open(settings_for(emu, max_attempts=10))
        client2 = await retried
        try:
            refs = [r async for r in client2.iter_page_tree(emu.space_key)]
            assert len(refs) == 41
            assert client2.stats.retries >= 1
        finally:
            await client2.aclose()
    finally:
        await control(emu, "POST", "reset", {"faults": True})


async def test_persistent_503_gives_up_with_a_typed_error(site):
    emu, _ = site
    clock = VirtualClock()  # waits are recorded on a virtual timeline, not slept
    delays = clock.sleeps
    client = await ConfluenceClient.open(
        settings_for(emu), sleep=clock.sleep, clock=clock.monotonic, wall_clock=clock.wall
    )
    home = await home_of(client, emu)
    await control(emu, "POST", "faults", {"error_rate": 1.0, "error_status": 503})
    try:
        started = client.stats.requests
        with pytest.raises(ServerError) as info:
            await client.get_page(home)
        assert info.value.status == 503
        assert info.value.attempts == 4
        assert client.stats.requests - started == 4  # max_attempts, then the typed error
        assert len(delays) == 3 and min(delays) >= 1.0  # the emulator's Retry-After: 1
    finally:
        await control(emu, "POST", "reset", {"faults": True})
        await client.aclose()


async def test_wrong_token_is_auth_failed(site):
    emu, client = site
    deployment = client.deployment
    with pytest.raises(AuthFailed):
        bad = await ConfluenceClient.open(
            settings_for(emu, token="wrong-token", deployment=deployment)
        )
        try:
            await bad.get_space(emu.space_key)
        finally:
            await bad.aclose()


async def test_rate_limited_when_it_never_ends(site):
    emu, _ = site
    client = await ConfluenceClient.open(settings_for(emu, max_attempts=2, max_retry_after=0.5))
    try:
        await control(emu, "POST", "faults", {"rate_limit_per_s": 0.2})
        with pytest.raises(RateLimited) as info:
            for _ in range(5):
                await client.get_space(emu.space_key)
                client._spaces.clear()
        assert info.value.retry_after is not None and info.value.retry_after >= 1
    finally:
        await control(emu, "POST", "reset", {"faults": True})
        await client.aclose()


async def test_detection_from_the_site_root_and_with_a_bare_token(site):
    emu, client = site
    if client.deployment == "cloud":
        # A Cloud site given without /wiki is found under /wiki.
        found = await ConfluenceClient.open(settings_for(emu, base_url=emu.root_url))
        assert (found.deployment, found.base_url) == ("cloud", emu.base_url)
    else:
        # A DC personal access token alone (no user name) is enough: bearer auth.
        found = await ConfluenceClient.open(settings_for(emu, email=None))
        assert (found.deployment, found.base_url) == ("datacenter", emu.base_url)
    try:
        assert (await found.get_space(emu.space_key)).key == emu.space_key
    finally:
        await found.aclose()


async def test_a_rate_limit_storm_under_concurrency_completes(site):
    emu, client = site
    refs = [ref async for ref in client.iter_page_tree(emu.space_key)]
    await control(emu, "POST", "faults", {"rate_limit_per_s": 10})
    try:
        started = client.stats.throttled
        results = [item async for _, item in client.iter_pages([r.id for r in refs[:30]])]
        assert all(not isinstance(item, Exception) for item in results)
        assert len(results) == 30
        assert client.stats.throttled > started  # the storm happened and was ridden out
    finally:
        await control(emu, "POST", "reset", {"faults": True})


async def test_403_is_permission_denied(site):
    """The emulator refuses an upload without the XSRF header with 403, as Confluence does."""
    emu, client = site
    home = await home_of(client, emu)
    with pytest.raises(PermissionDenied) as info:
        await client._transport.request(
            "POST",
            f"/rest/api/content/{home}/child/attachment",
            files=lambda: {"file": ("a.txt", b"x", "text/plain")},
        )
    assert info.value.status == 403
