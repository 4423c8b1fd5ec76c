"""Entry points: storage_to_markdown (pull) and markdown_to_storage (push)."""

from __future__ import annotations

from .blocks import project
from .model import LinkResolver, PullResult, PushResult, RecordingResolver, Sidecar
from .push import push


def storage_to_markdown(storage: str, *, resolver: LinkResolver | None = None) -> PullResult:
    """Project a storage body to Markdown; the sidecar keeps what a push needs."""
    recorder = RecordingResolver(resolver)
    proj = project(storage, recorder)
    blocks = [
        {
            "start": b.start,
            "end": b.end,
            "kind": b.kind,
            "line": b.first_line + 1,
            "lines": b.md.count("\n") + 1,
        }
        for b in proj.blocks
    ]
    sidecar = Sidecar(body=storage, markdown=proj.markdown, blocks=blocks, links=recorder.links())
    return PullResult(proj.markdown, sidecar)


def markdown_to_storage(
    markdown: str, *, sidecar: Sidecar | None, resolver: LinkResolver | None = None
) -> PushResult:
    """Patch the pulled body with the edits in ``markdown`` (or write a new page body).

    Returns ``PushResult(storage=None)`` when the Markdown is unchanged.  Raises
    :class:`ConversionRefused` rather than return a body that would not read back as
    ``markdown``.
    """
    return push(markdown, sidecar=sidecar, resolver=resolver)
