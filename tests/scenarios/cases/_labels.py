"""Shared steps of the label scenarios: labels edited in Confluence (which bumps no
page version) and in the front matter, and checks on both sides and on the requests."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from scenarios.runner import OTHER_USER, Ctx, diff_counts, read_doc, write_requests

from syncd.local import frontmatter

ALPHA = {
    "key": "a",
    "title": "Alpha",
    "body": "<p>Alpha one.</p><p>Alpha two.</p><p>Alpha three.</p>",
}


def seed(*names: str) -> Callable[[Ctx], None]:
    def step(ctx: Ctx) -> None:
        for name in names:
            ctx.store.add_label(ctx.pid("a"), name)

    return step


def remote_labels(add: Iterable[str] = (), remove: Iterable[str] = ()) -> Callable[[Ctx], None]:
    """Another user adds/removes labels in Confluence (webhook events, no new version)."""

    def step(ctx: Ctx) -> None:
        version = ctx.page("a").version.number
        with ctx.store.act_as(OTHER_USER):
            for name in add:
                ctx.store.add_label(ctx.pid("a"), name)
            for name in remove:
                ctx.store.remove_label(ctx.pid("a"), name)
        assert ctx.page("a").version.number == version  # labels bump no version

    return step


def local_labels(labels: Iterable[str], append: str | None = None) -> Callable[[Ctx], None]:
    """The user rewrites the front matter's labels (and maybe appends a line)."""

    def step(ctx: Ctx) -> None:
        path = ctx.must_file("a")
        doc = read_doc(path)
        meta = frontmatter.FrontMatter(
            page_id=doc.meta.page_id,
            title=doc.meta.title,
            labels=tuple(labels),
            extra=doc.meta.extra,
        )
        body = doc.body if append is None else doc.body.rstrip("\n") + f"\n\n{append}\n"
        path.write_text(frontmatter.render(meta, body), encoding="utf-8")
        if append is not None:
            ctx.edits.append(append)

    return step


def crlf(ctx: Ctx) -> None:
    """The user's editor saved the file with CRLF line ends (no content change)."""
    path = ctx.must_file("a")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


def raw_body(ctx: Ctx) -> bytes:
    """The file's body as stored (no newline translation)."""
    text = ctx.must_file("a").read_bytes().decode("utf-8")
    return frontmatter.parse(text).body.encode("utf-8")


def remember_file(ctx: Ctx) -> None:
    ctx.captured["body"] = raw_body(ctx)


def body_untouched(ctx: Ctx) -> None:
    """The label pull rewrote the front matter only: the body is the same bytes."""
    assert raw_body(ctx) == ctx.captured["body"]


def mark_requests(ctx: Ctx) -> None:
    ctx.captured["requests"] = dict(ctx.emu.requests)


def no_remote_writes(ctx: Ctx) -> None:
    delta = diff_counts(ctx.captured["requests"], dict(ctx.emu.requests))
    assert write_requests(delta) == {}, delta


def no_page_put(ctx: Ctx) -> None:
    """Label writes are fine; the page body is never PUT (its Markdown did not change)."""
    delta = diff_counts(ctx.captured["requests"], dict(ctx.emu.requests))
    puts = {k: v for k, v in delta.items() if k.startswith("PUT")}
    assert puts == {}, delta


def labels_are(expected: Iterable[str]) -> Callable[[Ctx], None]:
    """Both sides carry exactly these labels."""

    def check(ctx: Ctx) -> None:
        want = set(expected)
        local = set(read_doc(ctx.must_file("a")).meta.labels)
        remote = set(ctx.page("a").labels)
        assert local == want, (local, want)
        assert remote == want, (remote, want)

    return check
