"""Attachments both ways and blog posts in `blog/`."""

from __future__ import annotations

import pytest

from .sync_kit import diff_counts, make_config, read_doc, request_counts, run_sync, set_body

IMG = '<p>Logo: <ac:image><ri:attachment ri:filename="logo.png" /></ac:image></p>'


@pytest.fixture(params=["cloud", "dc"])
async def emu(request, emulator_factory):
    return await emulator_factory(flavor=request.param, pages=0, seed=1)


async def test_attachments_download_upload_and_settle(emu, tmp_path):
    pid = str(emu.store.create_page(emu.space_key, "Brand", IMG).id)
    emu.store.add_attachment(pid, "logo.png", b"\x89PNG one")
    config = make_config(tmp_path, emu)
    report = await run_sync(config)
    assert report.in_sync, report.errors
    docs = tmp_path / "docs"
    logo = docs / "Brand.attachments" / "logo.png"
    assert logo.read_bytes() == b"\x89PNG one"
    assert "Brand.attachments/logo.png" in read_doc(docs / "Brand.md").body

    # a new image referenced from the page, and a changed existing one
    (docs / "Brand.attachments" / "chart.png").write_bytes(b"\x89PNG chart")
    logo.write_bytes(b"\x89PNG two")
    set_body(
        docs / "Brand.md",
        read_doc(docs / "Brand.md").body + "\n![chart](Brand.attachments/chart.png)\n",
    )
    report = await run_sync(config)
    assert report.in_sync, report.errors
    page = emu.store.get(pid)
    atts = {a.filename: a for a in emu.store.attachments_of(pid)}
    assert atts["chart.png"].versions[-1].data == b"\x89PNG chart"
    assert atts["logo.png"].versions[-1].data == b"\x89PNG two"
    assert 'ri:filename="chart.png"' in page.body

    # settled: nothing uploaded or downloaded again
    before = request_counts(emu)
    report = await run_sync(config)
    assert report.plan.actions == ()
    delta = diff_counts(before, request_counts(emu))
    assert all(k.startswith("GET") for k in delta), delta
    assert not any("attachment" in k or "download" in k for k in delta), delta


async def test_blog_posts_mirror_into_the_blog_folder(emu, tmp_path):
    post = str(emu.store.create_blogpost(emu.space_key, "Launch day", "<p>We shipped.</p>").id)
    config = make_config(tmp_path, emu, blog_posts=True)
    report = await run_sync(config)
    assert report.in_sync, report.errors
    docs = tmp_path / "docs"
    path = docs / "blog" / "Launch day.md"
    assert read_doc(path).meta.page_id == post
    set_body(path, "We shipped, and it worked.\n")
    (docs / "blog" / "Retro.md").write_text("Lessons learned.\n")
    report = await run_sync(config)
    assert report.in_sync, report.errors
    assert "it worked" in emu.store.get(post).body
    new_id = read_doc(docs / "blog" / "Retro.md").meta.page_id
    assert emu.store.get(new_id).type == "blogpost"
    report = await run_sync(config)
    assert report.plan.actions == ()


async def test_blog_posts_off_leaves_them_out(emu, tmp_path):
    emu.store.create_blogpost(emu.space_key, "Launch day", "<p>We shipped.</p>")
    config = make_config(tmp_path, emu)
    await run_sync(config)
    assert not (tmp_path / "docs" / "blog").exists()


async def test_a_hint_for_a_new_blog_post_pulls_it(emu, tmp_path):
    from syncd.sync.engine import SyncEngine, SyncRequest

    config = make_config(tmp_path, emu, blog_posts=True)
    await run_sync(config)
    post = str(emu.store.create_blogpost(emu.space_key, "Hinted", "<p>news</p>").id)
    engine = await SyncEngine.open(config)
    try:
        report = await engine.run_once(SyncRequest(page_ids={post}))
    finally:
        await engine.close()
    assert report.in_sync, report.errors
    assert read_doc(tmp_path / "docs" / "blog" / "Hinted.md").meta.page_id == post
