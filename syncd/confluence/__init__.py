"""The Confluence client: Cloud (REST v2, v1 where v2 lacks) and Data Center (/rest/api).

The rest of syncd imports from here only::

    from syncd.confluence import ConfluenceClient, ConnectionSettings, VersionConflict
"""

from .client import ConfluenceClient
from .errors import (
    AuthFailed,
    ConfluenceError,
    DeploymentUnknown,
    Gone,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ScopeMissing,
    ServerError,
    TitleExists,
    Unreachable,
    VersionConflict,
    WebhookPermissionDenied,
    WebhooksNotSupported,
    WebhooksUnavailable,
    collapse_scope_errors,
    stops_every_request,
)
from .models import Attachment, AttachmentChange, Change, Container, Page, PageRef, Space, Webhook
from .settings import ConnectionSettings
from .transport import TransportStats

__all__ = [
    "Attachment",
    "AttachmentChange",
    "AuthFailed",
    "Change",
    "ConfluenceClient",
    "ConfluenceError",
    "ConnectionSettings",
    "Container",
    "DeploymentUnknown",
    "Gone",
    "InvalidRequest",
    "NotFound",
    "Page",
    "PageRef",
    "PermissionDenied",
    "RateLimited",
    "ScopeMissing",
    "ServerError",
    "Space",
    "TitleExists",
    "TransportStats",
    "Unreachable",
    "VersionConflict",
    "Webhook",
    "WebhookPermissionDenied",
    "WebhooksNotSupported",
    "WebhooksUnavailable",
    "collapse_scope_errors",
    "stops_every_request",
]
