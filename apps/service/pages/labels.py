"""The devices' QR labels in the console: an A4 sheet of the labels of the devices a filter finds, one
device's label, and making a new address for a device's public page or revoking it (a printed label then
leads nowhere). The label's QR code encodes the device's public page (apps.service.public)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from litestar import Router, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from apps.service import public
from apps.service.dependencies import STAFF_DEPENDENCIES, DevicesDep
from apps.service.devices import DeviceFilter
from apps.service.models import Device
from apps.service.objects import DEVICE
from portal.http.deps import DB, ServicesDep
from portal.permissions import requires
from portal.ui.forms import uuid_or_none
from portal.ui.qr import qr_svg

LABELS = "/console/service/devices/labels"
SHEET_LIMIT = 240  # ten A4 sheets of 24


@dataclass(frozen=True, slots=True)
class Label:
    device: Device
    url: str
    qr: str


def _label(base_url: str, device: Device) -> Label | None:
    url = public.page_url(base_url, device)
    return Label(device, url, qr_svg(url, scale=3)) if url else None


@get(LABELS, opt=requires(DEVICE, "read"), include_in_schema=False)
async def label_sheet(
    devices: DevicesDep,
    services: ServicesDep,
    q: FromQuery[str | None] = None,
    partner: FromQuery[str | None] = None,
    region: FromQuery[str | None] = None,
) -> Template:
    """The labels of the devices the devices list's filter finds, 24 to an A4 sheet; those without a
    public page are counted, and can be given one."""
    wanted = DeviceFilter((q or "").strip()[:40] or None, uuid_or_none(partner), uuid_or_none(region))
    rows, _total = await devices.page(wanted, SHEET_LIMIT, 0)
    labels = [label for d in rows if (label := _label(services.settings.base_url, d)) is not None]
    chosen = {"q": q or "", "partner": partner or "", "region": region or ""}
    return Template(
        "service/console/labels.html",
        context={"labels": labels, "without": len(rows) - len(labels), "chosen": chosen, "single": False},
    )


@post(LABELS, opt=requires(DEVICE, "update"), include_in_schema=False)
async def make_pages(
    db: DB,
    devices: DevicesDep,
    q: FromQuery[str | None] = None,
    partner: FromQuery[str | None] = None,
    region: FromQuery[str | None] = None,
) -> Redirect:
    """A public page for each device the filter finds that has none (those with one keep theirs)."""
    wanted = DeviceFilter((q or "").strip()[:40] or None, uuid_or_none(partner), uuid_or_none(region))
    rows, _total = await devices.page(wanted, SHEET_LIMIT, 0)
    for device in rows:
        if device.public_token is None:
            public.new_device_token(await devices.writable(device.id))
    await db.flush()
    query = "&".join(f"{k}={v}" for k, v in (("q", q), ("partner", partner), ("region", region)) if v)
    return Redirect(f"{LABELS}?{query}" if query else LABELS)


@get("/console/service/devices/{device_id:uuid}/label", opt=requires(DEVICE, "read"), include_in_schema=False)
async def one_label(device_id: FromPath[uuid.UUID], devices: DevicesDep, services: ServicesDep) -> Template:
    device = await devices.get(device_id)
    label = _label(services.settings.base_url, device)
    context = {"labels": [label] if label else [], "device": device, "without": 0 if label else 1, "single": True}
    return Template("service/console/labels.html", context=context)


@post("/console/service/devices/{device_id:uuid}/label/new", opt=requires(DEVICE, "update"), include_in_schema=False)
async def new_label(device_id: FromPath[uuid.UUID], db: DB, devices: DevicesDep) -> Redirect:
    """A new address for the device's public page: a label printed before stops working."""
    public.new_device_token(await devices.writable(device_id))
    await db.flush()
    return Redirect(f"/console/service/devices/{device_id}/label")


@post("/console/service/devices/{device_id:uuid}/label/revoke", opt=requires(DEVICE, "update"), include_in_schema=False)
async def revoke_label(device_id: FromPath[uuid.UUID], db: DB, devices: DevicesDep) -> Redirect:
    """No public page for the device any more: its label leads nowhere."""
    public.revoke_device_token(await devices.writable(device_id))
    await db.flush()
    return Redirect(f"/console/service/devices/{device_id}/label")


LABEL_PAGES = [
    Router(
        "/",
        route_handlers=[label_sheet, make_pages, one_label, new_label, revoke_label],
        dependencies=STAFF_DEPENDENCIES,
    )
]
