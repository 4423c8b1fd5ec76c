"""Lossless conversion between Confluence storage XHTML and Markdown.

Pure functions: no network, no file I/O.  See docs/markdown.md for the Markdown dialect.

    result = storage_to_markdown(body, resolver=resolver)
    result.markdown            # write to the page's .md file
    result.sidecar.to_json()   # keep beside it (the pulled body and its block map)
    push = markdown_to_storage(edited, sidecar=result.sidecar, resolver=resolver)
    push.storage               # None: unchanged, do not update the page
"""

from __future__ import annotations

from .api import markdown_to_storage, storage_to_markdown
from .chunks import normalise
from .meaning import same_meaning
from .model import (
    ConversionRefused,
    DefaultResolver,
    LinkResolver,
    PullResult,
    PushResult,
    Sidecar,
)
from .wording import in_pulled_wording, keep_wording

__all__ = [
    "ConversionRefused",
    "DefaultResolver",
    "LinkResolver",
    "PullResult",
    "PushResult",
    "Sidecar",
    "in_pulled_wording",
    "keep_wording",
    "markdown_to_storage",
    "normalise",
    "same_meaning",
    "storage_to_markdown",
]
