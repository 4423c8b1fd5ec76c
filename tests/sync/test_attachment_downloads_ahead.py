"""Downloads started ahead of their page's turn: small ones held in memory (no staging file
to create, fsync, read back and remove), within a bound; big or unsized ones staged."""

from __future__ import annotations

from pathlib import Path

from syncd.confluence.models import Attachment
from syncd.sync import attachments as attachments_mod
from syncd.sync.attachments import AttachmentSync


class Client:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    async def download_attachment(self, att, destination=None, *, durable=True):
        self.calls.append((att.id, None if destination is None else "file"))
        data = b"x" * (att.size or 3)
        if destination is None:
            return data
        assert durable is False  # a scratch copy: never fsynced
        Path(destination).write_bytes(data)  # noqa: ASYNC240 - a test double
        return len(data)


def att(i: int, size: int | None) -> Attachment:
    return Attachment(id=str(i), title=f"f{i}", page_id="1", version=1, size=size)


async def test_small_downloads_are_held_in_memory_within_a_bound(tmp_path, monkeypatch):
    monkeypatch.setattr(attachments_mod, "HELD_AHEAD", 250)
    client = Client()
    sync = AttachmentSync(tmp_path / "docs", None, client, tmp_path / "staging")  # type: ignore[arg-type]
    sizes = {1: 100, 2: 100, 3: 100, 4: None, 5: (1 << 20) + 1}
    fetched = {i: await sync._fetch(att(i, size)) for i, size in sizes.items()}
    assert [i for i, got in fetched.items() if isinstance(got, bytes)] == [1, 2]
    assert sync._held == 200  # the third would pass the bound: staged
    for i in (3, 4, 5):
        staged = Path(fetched[i])  # type: ignore[arg-type]
        assert staged.read_bytes() == b"x" * (sizes[i] or 3)  # noqa: ASYNC240
    assert client.calls == [("1", None), ("2", None), ("3", "file"), ("4", "file"), ("5", "file")]
    # Taking a held download frees its share of the bound.
    sync._ahead[("1", 1)] = _done(fetched[1])
    assert await sync._download(att(1, 100)) == b"x" * 100
    assert sync._held == 100


def _done(value):
    import asyncio

    future = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future
