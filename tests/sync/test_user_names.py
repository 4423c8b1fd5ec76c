"""Display names of mentioned users: looked up through the client, kept in the state.

The emulator's lookups follow the specs: Cloud v2 ``POST /wiki/api/v2/users-bulk`` with
``{"accountIds": [...]}`` answering ``{"results": [User]}`` without unknown ids (OpenAPI v2
``/users-bulk``); DC ``GET /rest/api/user?key=`` answering a ``Person`` with ``displayName``,
404 for an unknown key (DC OpenAPI ``getUser``).
"""

from __future__ import annotations

import asyncio

from syncd.confluence import ConfluenceClient, ConnectionSettings
from syncd.emulator.seed import TEAM
from syncd.emulator.server import EmulatorServer
from syncd.sync.resolver import PageIndex
from syncd.sync.state import StateDB
from syncd.sync.users import REFRESH_AFTER, UserNames, mentioned_users

PRIYA = "712020:5e1c0a4b-2f6d-4c3a-9e8b-7a6f5d4c3b21"


async def _client(emu) -> ConfluenceClient:
    return await ConfluenceClient.open(
        ConnectionSettings(
            base_url=emu.base_url, email=emu.user, token=emu.token, deployment="auto"
        )
    )


async def test_cloud_looks_names_up_in_bulk_and_leaves_unknown_users_out():
    async with EmulatorServer(flavor="cloud", pages=3, seed=1) as emu:
        client = await _client(emu)
        try:
            names = await client.user_names("account-id", [PRIYA, "557058:nobody"])
        finally:
            await client.aclose()
    assert names == {PRIYA: TEAM[PRIYA]}


async def test_dc_looks_names_up_by_user_key():
    async with EmulatorServer(flavor="dc", pages=3, seed=1) as emu:
        key = next(u.user_key for u in emu.store.users.values() if u.account_id == PRIYA)
        client = await _client(emu)
        try:
            names = await client.user_names("userkey", [key, "ffff0000"])
            by_name = await client.user_names("username", ["priya"])
        finally:
            await client.aclose()
    assert names == {key: "Priya Raman"}
    assert by_name == {"priya": "Priya Raman"}


class CountingClient:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.calls: list[tuple[str, list[str]]] = []

    async def user_names(self, kind, values):
        self.calls.append((kind, values))
        return {v: self.names[v] for v in values if v in self.names}


BODY = (
    f'<p><ac:link><ri:user ri:account-id="{PRIYA}" /></ac:link> and '
    '<ac:link><ri:user ri:account-id="557058:gone" /></ac:link></p>'
)


async def test_names_are_cached_in_the_state_and_refreshed_rarely(tmp_path):
    now = [1000.0]
    client = CountingClient({PRIYA: "Priya Raman"})
    with StateDB.open(tmp_path / "state") as db:
        users = UserNames(db, clock=lambda: now[0])
        await users.learn(client, BODY)
        assert client.calls == [("account-id", ["557058:gone", PRIYA])]
        await users.learn(client, BODY)  # known (and known-unknown): no request
        assert len(client.calls) == 1
        # A restart reads them back from the state.
        again = UserNames(db, clock=lambda: now[0])
        assert again.name("account-id", PRIYA) == "Priya Raman"
        assert again.name("account-id", "557058:gone") is None
        await again.learn(client, BODY)
        assert len(client.calls) == 1
        # After a week the name is asked again (a rename shows up).
        now[0] += REFRESH_AFTER + 1
        client.names[PRIYA] = "Priya R. Raman"
        await again.learn(client, BODY)
        assert again.name("account-id", PRIYA) == "Priya R. Raman"


def test_the_page_resolver_hands_names_to_the_converter():
    from syncd.convert import storage_to_markdown

    index = PageIndex("DEMO")
    users = UserNames(None)
    users._names[("account-id", PRIYA)] = ("Priya Raman", 0.0)
    index.users = users
    md = storage_to_markdown(BODY, resolver=index.for_page("Page.md")).markdown
    assert md == (
        f"[@Priya Raman](confluence-user:{PRIYA}) and [@user-gone](confluence-user:557058:gone)\n"
    )
    assert mentioned_users(BODY) == {("account-id", PRIYA), ("account-id", "557058:gone")}


def test_the_configured_jira_turns_issue_macros_into_links():
    from syncd.convert import storage_to_markdown

    jira = (
        '<p>See <ac:structured-macro ac:name="jira"><ac:parameter ac:name="key">OPS-7'
        "</ac:parameter></ac:structured-macro></p>"
    )
    index = PageIndex("DEMO", jira_url="https://jira.example.com/")
    md = storage_to_markdown(jira, resolver=index.for_page("Page.md")).markdown
    assert md == "See [OPS-7](https://jira.example.com/browse/OPS-7)\n"


async def test_pages_read_side_by_side_ask_for_a_user_once(tmp_path):
    """Bodies fetched ahead learn their users concurrently: a user another page is being
    looked up for is waited for, not asked again."""
    gate = asyncio.Event()

    class SlowClient(CountingClient):
        async def user_names(self, kind, values):
            self.calls.append((kind, values))
            await gate.wait()
            return {v: self.names[v] for v in values if v in self.names}

    client = SlowClient({PRIYA: "Priya Raman"})
    users = UserNames(None)
    first = asyncio.ensure_future(users.learn(client, BODY))
    second = asyncio.ensure_future(users.learn(client, BODY))
    third = asyncio.ensure_future(
        users.learn(client, f'<ri:user ri:account-id="{PRIYA}" /><ri:user ri:account-id="x" />')
    )
    await asyncio.sleep(0)
    assert not second.done()  # waits for the first call's answer
    gate.set()
    await asyncio.gather(first, second, third)
    assert client.calls == [("account-id", ["557058:gone", PRIYA]), ("account-id", ["x"])]
    assert users.name("account-id", PRIYA) == "Priya Raman"
