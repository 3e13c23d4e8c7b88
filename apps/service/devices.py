"""The installed base: devices as one actor may see them, recording one, and importing many from a CSV or
XLSX file. An import is all or nothing: every row is checked first (the same checks as recording one),
each problem named with its spreadsheet row, and only a clean file is written.

A device names its product from the ordering app's catalog by SKU where there is one (the ticket shows
the catalog's name then), or by a name as given; its region, the dealer that sold it and the service
partner that looks after it by code, as the programme knows them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.models import Product
from apps.service.models import Device
from interconnect.models import EnterpriseLink, Region
from portal.actor import Actor
from portal.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from portal.i18n import N_
from portal.spreadsheets import Columns, SheetRow, read_table
from roles.access import scoped
from roles.policy import RolePolicy

MAX_ERRORS = 50  # enough to fix a file by; a wholly wrong file need not list every row
# Accepted headers per column (see portal.spreadsheets.Columns); the export writes the first of each.
IMPORT_COLUMNS = Columns(
    aliases={
        "serial_number": ("serial_number", "serial", "sn", "序列号", "设备序列号"),
        "sku": ("sku", "product_sku", "产品编码", "物料编码"),
        "product_name": ("product_name", "product", "model", "产品名称", "产品", "型号"),
        "customer_name": ("customer_name", "customer", "客户名称", "客户"),
        "site_address": ("site_address", "address", "安装地址", "地址"),
        "region": ("region", "region_code", "区域", "区域编码"),
        "install_date": ("install_date", "installed_on", "安装日期"),
        "warranty_end": ("warranty_end", "warranty_until", "保修截止", "保修到期"),
        "dealer_code": ("dealer_code", "dealer", "经销商编码", "经销商"),
        "partner_code": ("partner_code", "service_partner", "服务商编码", "服务商"),
    },
    required=("serial_number", "customer_name", "site_address"),
    max_rows=5000,
)
EXPORT_LIMIT = 10_000
_CHUNK = 500  # serial numbers looked up per statement, under every driver's parameter limit
TEXT_LIMITS = {"serial_number": 80, "product_name": 200, "customer_name": 200, "site_address": 500}


@dataclass(frozen=True, slots=True)
class DeviceFilter:
    search: str | None = None  # serial number, product or customer
    enterprise_id: uuid.UUID | None = None
    region_id: uuid.UUID | None = None


@dataclass
class Lookups:
    """What rows name by code, read once for a whole file."""

    products: dict[str, tuple[uuid.UUID, str]] = field(default_factory=dict)  # sku -> (id, name)
    regions: dict[str, uuid.UUID] = field(default_factory=dict)  # code (lower case) -> id
    links: dict[str, uuid.UUID] = field(default_factory=dict)  # enterprise code (lower case) -> id
    taken: set[str] = field(default_factory=set)  # serial numbers already recorded (lower case)


class Devices:
    """The devices `actor` may reach as `obj` ("service.device" or "partner.service.device")."""

    def __init__(self, session: AsyncSession, policy: RolePolicy, actor: Actor, obj: str) -> None:
        self.session = session
        self.policy = policy
        self.actor = actor
        self.obj = obj

    async def query(self) -> Select[tuple[Device]]:
        return await scoped(self.session, select(Device), self.policy, self.actor, self.obj)

    async def page(self, wanted: DeviceFilter, limit: int = 50, offset: int = 0) -> tuple[list[Device], int]:
        query = await self.query()
        if wanted.enterprise_id is not None:
            query = query.where(Device.enterprise_id == wanted.enterprise_id)
        if wanted.region_id is not None:
            query = query.where(Device.region_id == wanted.region_id)
        if wanted.search and wanted.search.strip():
            like = f"%{wanted.search.strip().lower()}%"
            fields = [Device.serial_number, Device.product_name]
            if self.policy.fields(self.actor, self.obj).get("customer_name") != "hidden":
                fields.append(Device.customer_name)
            query = query.where(or_(*(func.lower(f).like(like) for f in fields)))
        total = await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = await self.session.scalars(
            query.order_by(Device.created_at.desc(), Device.id.desc()).limit(limit).offset(offset)
        )
        return list(rows), total

    async def get(self, device_id: uuid.UUID) -> Device:
        device = await self.session.scalar((await self.query()).where(Device.id == device_id))
        if device is None:
            raise NotFound(N_("No such device"))
        return device

    async def by_serial(self, serial_number: str) -> Device:
        """The device the actor may see with this serial number (unique per tenant, compared without case)."""
        query = (await self.query()).where(func.lower(Device.serial_number) == serial_number.strip().lower())
        device = await self.session.scalar(query)
        if device is None:
            raise NotFound(N_("No such device"))
        return device

    async def writable(self, device_id: uuid.UUID) -> Device:
        """A device the actor may change: not found outside their read scope, refused outside the write one."""
        await self.get(device_id)
        query = await scoped(self.session, select(Device), self.policy, self.actor, self.obj, "write")
        device = await self.session.scalar(query.where(Device.id == device_id))
        if device is None:
            raise PermissionDenied(N_("You may read this device but not change it"), code="record_read_only")
        return device

    # --- presenting ---

    async def names(self, devices: Sequence[Device]) -> dict[uuid.UUID, str]:
        links = sorted({i for d in devices for i in (d.enterprise_id, d.dealer_id) if i is not None})
        regions = sorted({d.region_id for d in devices if d.region_id is not None})
        known: dict[uuid.UUID, str] = {}
        if links:
            rows = await self.session.execute(
                select(EnterpriseLink.id, EnterpriseLink.name).where(EnterpriseLink.id.in_(links))
            )
            known.update({key: name for key, name in rows})
        if regions:
            rows = await self.session.execute(select(Region.id, Region.name).where(Region.id.in_(regions)))
            known.update({key: name for key, name in rows})
        return known

    def summary(self, device: Device, names: Mapping[uuid.UUID, str]) -> dict[str, Any]:
        values: dict[str, Any] = {
            "id": device.id,
            "serial_number": device.serial_number,
            "product_id": device.product_id,
            "product_name": device.product_name,
            "customer_name": device.customer_name,
            "site_address": device.site_address,
            "region_id": device.region_id,
            "region": names.get(device.region_id) if device.region_id else None,
            "install_date": device.install_date,
            "warranty_end": device.warranty_end,
            "dealer_id": device.dealer_id,
            "dealer": names.get(device.dealer_id) if device.dealer_id else None,
            "enterprise_id": device.enterprise_id,
            "enterprise": names.get(device.enterprise_id) if device.enterprise_id else None,
            "created_at": device.created_at,
        }
        rules = self.policy.fields(self.actor, self.obj)
        return {k: v for k, v in values.items() if rules.get(k) != "hidden"}

    async def out_many(self, devices: Sequence[Device]) -> list[dict[str, Any]]:
        names = await self.names(devices)
        return [self.summary(d, names) for d in devices]

    async def out(self, device: Device) -> dict[str, Any]:
        return (await self.out_many([device]))[0]

    # --- recording ---

    async def create(self, values: Mapping[str, str], given: Mapping[str, uuid.UUID | None]) -> Device:
        """One device from text values keyed as the import's columns, with its region, dealer and service
        partner `given` by id (region_id, dealer_id, enterprise_id) rather than by code."""
        lookups = await _lookups(self.session, [values])
        errors = await self._known(given)
        device = await self._checked(values, lookups, errors, None, given)
        if errors or device is None:
            raise ValidationFailed(errors)
        self.session.add(device)
        await self.session.flush()
        return device

    async def update(
        self, device_id: uuid.UUID, values: Mapping[str, str], given: Mapping[str, uuid.UUID | None]
    ) -> Device:
        """Replace what recording one sets (a changed serial number must still be unique); tickets keep
        the device they were opened on."""
        device = await self.writable(device_id)
        lookups = await _lookups(self.session, [values])
        lookups.taken.discard(device.serial_number.lower())
        errors = await self._known(given)
        checked = await self._checked(values, lookups, errors, None, given)
        if errors or checked is None:
            raise ValidationFailed(errors)
        for name in (
            "serial_number",
            "product_id",
            "product_name",
            "customer_name",
            "site_address",
            "region_id",
            "install_date",
            "warranty_end",
            "dealer_id",
            "enterprise_id",
        ):
            setattr(device, name, getattr(checked, name))
        await self.session.flush()
        return device

    async def sku_of(self, device: Device) -> str | None:
        """The catalog SKU the device was recorded with, if it names a product."""
        if device.product_id is None:
            return None
        return await self.session.scalar(select(Product.sku).where(Product.id == device.product_id))

    async def _known(self, given: Mapping[str, uuid.UUID | None]) -> list[FieldError]:
        """Errors for a region or enterprise named by an id this tenant does not have."""
        errors: list[FieldError] = []
        for name, model, message in (
            ("region_id", Region, N_("No such region")),
            ("dealer_id", EnterpriseLink, N_("No such partner enterprise")),
            ("enterprise_id", EnterpriseLink, N_("No such partner enterprise")),
        ):
            key = given.get(name)
            if key is not None and await self.session.scalar(select(model.id).where(model.id == key)) is None:
                errors.append(FieldError(name, message, "unknown"))
        return errors

    async def import_file(self, filename: str, content: bytes) -> int:
        """Every row of the file recorded, or none: a refusal names each bad row (up to MAX_ERRORS)."""
        rows = await asyncio.to_thread(read_table, filename, content, IMPORT_COLUMNS)
        lookups = await _lookups(self.session, [row.values for row in rows])
        errors: list[FieldError] = []
        devices: list[Device] = []
        first_row: dict[str, int] = {}
        for row in rows:
            found: list[FieldError] = []
            device = await self._checked(row.values, lookups, found, row)
            serial = row.values["serial_number"].strip().lower()
            if device is not None and serial in first_row:
                found.append(
                    _row_error(
                        row.number,
                        "serial_number",
                        N_("Row %(row)s: the serial number %(serial)s is already on row %(first)s"),
                        "duplicate",
                        serial=device.serial_number,
                        first=first_row[serial],
                    )
                )
            elif device is not None:
                first_row[serial] = row.number
            if found:
                errors.extend(found)
            elif device is not None:
                devices.append(device)
            if len(errors) >= MAX_ERRORS:
                break
        if errors:
            raise ValidationFailed(errors, N_("The file was not imported: correct the rows named and upload it again"))
        self.session.add_all(devices)
        await self.session.flush()
        return len(devices)

    async def _checked(
        self,
        values: Mapping[str, str],
        lookups: Lookups,
        errors: list[FieldError],
        row: SheetRow | None,
        given: Mapping[str, uuid.UUID | None] | None = None,
    ) -> Device | None:
        """The device the values describe, or None with the errors added (named by row in an import)."""
        start = len(errors)

        def fail(name: str, message: str, row_message: str, code: str = "invalid", **params: Any) -> None:
            if row is None:
                errors.append(FieldError(name, message, code, params))
            else:
                errors.append(_row_error(row.number, name, row_message, code, **params))

        text: dict[str, str] = {}
        for column, limit in TEXT_LIMITS.items():
            value = (values.get(column) or "").strip()
            if len(value) > limit:
                fail(
                    column,
                    N_("may be at most %(max)s characters"),
                    N_("Row %(row)s: %(column)s may be at most %(max)s characters"),
                    "too_long",
                    column=column,
                    max=limit,
                )
            text[column] = value
        for column in IMPORT_COLUMNS.required:
            if not text[column]:
                fail(column, N_("is required"), N_("Row %(row)s: %(column)s is missing"), "required", column=column)
        product_id = None
        sku = (values.get("sku") or "").strip()
        if sku:
            product = lookups.products.get(sku)
            if product is None:
                fail(
                    "sku",
                    N_("no product has the SKU %(sku)s"),
                    N_("Row %(row)s: no product has the SKU %(sku)s"),
                    "unknown",
                    sku=sku,
                )
            else:
                product_id = product[0]
                text["product_name"] = text["product_name"] or product[1]
        if not text["product_name"] and not sku:
            fail(
                "product_name",
                N_("name the product (its SKU or its name)"),
                N_("Row %(row)s: name the product (its SKU or its name)"),
                "required",
            )
        if given is not None:
            region_id, dealer_id, partner_id = (
                given.get("region_id"),
                given.get("dealer_id"),
                given.get("enterprise_id"),
            )
        else:
            region_id = _code(
                values,
                "region",
                lookups.regions,
                fail,
                N_("No such region"),
                N_("Row %(row)s: no region has the code %(value)s"),
            )
            dealer_id = _code(
                values,
                "dealer_code",
                lookups.links,
                fail,
                N_("No such partner enterprise"),
                N_("Row %(row)s: no enterprise has the code %(value)s"),
            )
            partner_id = _code(
                values,
                "partner_code",
                lookups.links,
                fail,
                N_("No such partner enterprise"),
                N_("Row %(row)s: no enterprise has the code %(value)s"),
            )
        dates: dict[str, date | None] = {}
        for column in ("install_date", "warranty_end"):
            dates[column] = None
            value = (values.get(column) or "").strip()
            if value:
                try:
                    dates[column] = date.fromisoformat(value[:10])
                except ValueError:
                    fail(
                        column,
                        N_("must be a date (YYYY-MM-DD)"),
                        N_("Row %(row)s: %(column)s must be a date (YYYY-MM-DD)"),
                        column=column,
                    )
        installed, warranty = dates["install_date"], dates["warranty_end"]
        if installed is not None and warranty is not None and warranty < installed:
            fail(
                "warranty_end",
                N_("cannot end before the device was installed"),
                N_("Row %(row)s: the warranty cannot end before the device was installed"),
            )
        serial = text["serial_number"]
        if serial and serial.lower() in lookups.taken:
            fail(
                "serial_number",
                N_("A device with the serial number %(serial)s is already recorded"),
                N_("Row %(row)s: a device with the serial number %(serial)s is already recorded"),
                "taken",
                serial=serial,
            )
        if len(errors) > start:
            return None
        return Device(
            serial_number=serial,
            product_id=product_id,
            product_name=text["product_name"],
            customer_name=text["customer_name"],
            site_address=text["site_address"],
            region_id=region_id,
            install_date=installed,
            warranty_end=warranty,
            dealer_id=dealer_id,
            enterprise_id=partner_id,
            owner_id=self.actor.user_id,
            created_by=self.actor.user_id,
        )

    # --- export ---

    async def export_rows(self) -> tuple[list[str], list[list[str]]]:
        """The import's columns (an exported file imports back into an empty workspace as it was)."""
        rules = self.policy.fields(self.actor, self.obj)
        columns = [c for c in IMPORT_COLUMNS.aliases if rules.get(c) != "hidden"]
        devices = list(
            await self.session.scalars((await self.query()).order_by(Device.created_at.desc()).limit(EXPORT_LIMIT))
        )
        codes = await _codes(self.session, devices)
        rows = []
        for d in devices:
            values = {
                "serial_number": d.serial_number,
                "sku": codes.get(d.product_id) if d.product_id else "",
                "product_name": d.product_name,
                "customer_name": d.customer_name,
                "site_address": d.site_address,
                "region": codes.get(d.region_id) if d.region_id else "",
                "install_date": d.install_date.isoformat() if d.install_date else "",
                "warranty_end": d.warranty_end.isoformat() if d.warranty_end else "",
                "dealer_code": codes.get(d.dealer_id) if d.dealer_id else "",
                "partner_code": codes.get(d.enterprise_id) if d.enterprise_id else "",
            }
            rows.append([values[c] or "" for c in columns])
        return columns, rows


def _row_error(row: int, name: str, message: str, code: str = "invalid", **params: Any) -> FieldError:
    return FieldError(f"rows[{row}].{name}", message, code, {"row": row, **params})


def _code(
    values: Mapping[str, str],
    column: str,
    known: Mapping[str, uuid.UUID],
    fail: Any,
    message: str,
    row_message: str,
) -> uuid.UUID | None:
    code = (values.get(column) or "").strip()
    if not code:
        return None
    found = known.get(code.lower())
    if found is None:
        fail(column, message, row_message, "unknown", value=code)
    return found


async def _lookups(session: AsyncSession, rows: Sequence[Mapping[str, str]]) -> Lookups:
    skus = sorted({v for r in rows if (v := (r.get("sku") or "").strip())})
    lookups = Lookups()
    serials = sorted({v.lower() for r in rows if (v := (r.get("serial_number") or "").strip())})
    for start in range(0, len(serials), _CHUNK):
        chunk = serials[start : start + _CHUNK]
        lookups.taken.update(
            s.lower()
            for s in await session.scalars(
                select(Device.serial_number).where(func.lower(Device.serial_number).in_(chunk))
            )
        )
    if skus:
        for product_id, sku, name in await session.execute(
            select(Product.id, Product.sku, Product.name).where(Product.sku.in_(skus))
        ):
            lookups.products[sku] = (product_id, name)
    if any((r.get("region") or "").strip() for r in rows):
        lookups.regions = {code.lower(): key for key, code in await session.execute(select(Region.id, Region.code))}
    if any((r.get(c) or "").strip() for r in rows for c in ("dealer_code", "partner_code")):
        lookups.links = {
            code.lower(): key
            for key, code in await session.execute(
                select(EnterpriseLink.id, EnterpriseLink.code).where(EnterpriseLink.code.is_not(None))
            )
        }
    return lookups


async def _codes(session: AsyncSession, devices: Sequence[Device]) -> dict[uuid.UUID, str]:
    """The SKU, region code and enterprise code of what the devices name, by id."""
    found: dict[uuid.UUID, str] = {}
    products = sorted({d.product_id for d in devices if d.product_id})
    if products:
        found.update(
            dict((await session.execute(select(Product.id, Product.sku).where(Product.id.in_(products)))).all())
        )
    found.update(dict((await session.execute(select(Region.id, Region.code))).all()))
    links = sorted({i for d in devices for i in (d.enterprise_id, d.dealer_id) if i is not None})
    if links:
        rows = await session.execute(select(EnterpriseLink.id, EnterpriseLink.code).where(EnterpriseLink.id.in_(links)))
        found.update({key: code or "" for key, code in rows})
    return found
