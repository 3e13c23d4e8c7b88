"""Demo field work on a ticket an engineer has on site: a check-in with a position, a work note, a part
from the partner's stock and a photo, through the same FieldWork as the pages."""

from __future__ import annotations

import io
import uuid

from PIL import Image, ImageDraw

from apps.ordering.models import Product
from apps.service.field.steps import FieldWork, Location
from apps.service.tickets import Tickets
from portal.storage.attachments import Attachments


def _photo() -> bytes:
    """A stand-in for a phone photo: a pump housing drawn in a few shapes."""
    image = Image.new("RGB", (640, 480), (205, 215, 222))
    draw = ImageDraw.Draw(image)
    draw.rectangle((160, 140, 480, 360), fill=(40, 90, 150))
    draw.ellipse((260, 190, 380, 310), fill=(200, 200, 205))
    draw.rectangle((480, 230, 600, 270), fill=(120, 120, 125))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


async def load_field_work(
    attachments: Attachments,
    engineer: Tickets,
    ticket_id: uuid.UUID,
    part: Product | None,
    location: Location,
    note: str,
) -> None:
    work = FieldWork(engineer, attachments)
    await work.check_in(ticket_id, location)
    await work.note(ticket_id, note)
    if part is not None:
        await work.use_part(ticket_id, part.id, 1)
    await work.photo(ticket_id, _photo(), "pump.jpg")
