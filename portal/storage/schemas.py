"""An attachment as the API shows it (for the features whose records carry files)."""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec

from portal.storage.models import Attachment


class AttachmentOut(msgspec.Struct):
    id: uuid.UUID
    name: str  # as uploaded, made safe; the extension says what the content is
    content_type: str  # found from the content: image/jpeg, image/png, image/webp or application/pdf
    size: int  # bytes as stored (an image is re-encoded, without its metadata)
    sha256: str
    created_at: datetime
    url: str  # GET it with the same credentials: /api/attachments/{id} (partners: /api/partner/attachments/{id})

    @classmethod
    def of(cls, attachment: Attachment, base: str = "/api/attachments") -> AttachmentOut:
        return cls(
            attachment.id,
            attachment.name,
            attachment.content_type,
            attachment.size,
            attachment.sha256,
            attachment.created_at,
            f"{base}/{attachment.id}",
        )
