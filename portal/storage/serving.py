"""Serving a stored file: only through `Attachments.open` (the owning feature's check), with headers
that keep a browser from treating it as anything but the file it is.

`attachment_route(path)` makes the GET handler a feature mounts wherever its pages or API need one
(the shell mounts it for pages at /attachments/{attachment_id}, for staff tokens at
/api/attachments/{attachment_id} and for partner tokens at /api/partner/attachments/{attachment_id});
every instance decides through the same owner check. Images are shown inline (for <img>), PDFs are always
downloaded: a browser's PDF viewer runs the document's own code."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from litestar import get
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from portal.http.deps import DB, CurrentActor, ServicesDep
from portal.permissions import signed_in
from portal.storage.attachments import OpenedAttachment
from portal.storage.content import IMAGE_KINDS

# Nothing in a served file may load, run or frame anything; `sandbox` also makes the file's origin
# opaque, should a browser ever render it as a document.
FILE_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
INLINE_TYPES = frozenset(k.media_type for k in IMAGE_KINDS)


def content_disposition(name: str, inline: bool) -> str:
    """RFC 6266: an ASCII fallback name for old clients, and the real one (Chinese and all) encoded."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\%' else "_" for c in name)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


class FileStream(Stream):
    """A stream whose own media type wins: Litestar prefers the handler's, which for a file route is only
    what the API document says (application/octet-stream)."""

    def to_asgi_response(self, *args: Any, **kwargs: Any) -> Any:
        kwargs["media_type"] = self.media_type
        return super().to_asgi_response(*args, **kwargs)


def attachment_response(opened: OpenedAttachment, download: bool = False) -> Stream:
    attachment = opened.attachment
    inline = attachment.content_type in INLINE_TYPES and not download
    return FileStream(
        opened.chunks,
        media_type=attachment.content_type,
        headers={
            "Content-Disposition": content_disposition(attachment.name, inline),
            "Content-Length": str(attachment.size),
            "Content-Security-Policy": FILE_CONTENT_SECURITY_POLICY,
            "X-Content-Type-Options": "nosniff",
            "Cross-Origin-Resource-Policy": "same-origin",
            # the answer depends on who asks: never kept by a shared cache
            "Cache-Control": "private, max-age=300",
            "ETag": f'"{attachment.sha256}"',
        },
    )


def attachment_route(path: str, *, opt: dict[str, Any] | None = None) -> HTTPRouteHandler:
    """A GET handler at `path`, which names `{attachment_id:uuid}`: the file, to whoever its owning
    feature lets read it (404 for everyone else). `?download=true` asks for a download even of an image."""

    @get(
        path,
        opt=opt or signed_in(),
        include_in_schema=path.startswith("/api/"),
        tags=["files"],
        # what the document says; each answer carries the file's own type
        media_type="application/octet-stream",
    )
    async def serve_attachment(
        attachment_id: FromPath[uuid.UUID],
        db: DB,
        actor: CurrentActor,
        services: ServicesDep,
        download: FromQuery[bool] = False,
    ) -> Stream:
        """A stored file: an image inline, any other file as a download. Whether you may read it is
        decided by the record it belongs to; a file you may not read is 404, as one that does not exist."""
        return attachment_response(await services.attachments.open(db, actor, attachment_id), download)

    return serve_attachment
