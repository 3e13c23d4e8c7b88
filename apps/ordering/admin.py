"""What the manufacturer's staff set up: categories, products and their audiences, price lists and
their items, warehouses and stock counts, credit limits, the ordering settings and approval rules.
Each write checks its input and refuses with a problem naming the field; nothing is half-written."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering import presets
from apps.ordering.catalog import settings_of
from apps.ordering.models import (
    Category,
    CreditLimit,
    OrderingSettings,
    PriceList,
    PriceListItem,
    Product,
    ProductVisibility,
    Warehouse,
)
from apps.ordering.models.catalog import PRICE_LIST_KINDS
from apps.ordering.orders import ORDER_KIND
from apps.ordering.syncing import prices_changed, product_changed
from apps.ordering.workflow import ORDER_APPROVAL
from interconnect.models import EnterpriseLink, PartnerTier, PartnerType
from portal.errors import FieldError, NotFound, ValidationFailed
from portal.i18n import N_
from portal.ui.numbers import is_currency
from roles.approvals import ApprovalKinds, FlowAdmin
from roles.approvals.models import ApprovalFlowStep
from roles.models import Role

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")
PRICE_PLACES = Decimal("0.0001")
MAX_PRICE = Decimal(10) ** 13
PRODUCT_TEXT = {"sku": 60, "name": 200, "unit": 20, "description": 5000, "image_url": 500}


def _text(errors: list[FieldError], name: str, value: Any, limit: int, required: bool = False) -> str | None:
    cleaned = (value or "").strip() if isinstance(value, str) or value is None else str(value).strip()
    if not cleaned:
        if required:
            errors.append(FieldError(name, N_("is required"), "required"))
        return None
    if len(cleaned) > limit:
        errors.append(FieldError(name, N_("may be at most %(max)s characters"), "too_long", {"max": limit}))
    return cleaned


def money(errors: list[FieldError], name: str, value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.append(FieldError(name, N_("must be a number"), "invalid"))
        return None
    if amount.is_finite() and amount >= MAX_PRICE:
        errors.append(FieldError(name, N_("must be less than %(max)s"), "out_of_range", {"max": f"{MAX_PRICE:,}"}))
        return None
    if not amount.is_finite() or amount < 0:
        errors.append(FieldError(name, N_("must be 0 or more"), "out_of_range"))
        return None
    if amount != amount.quantize(PRICE_PLACES):
        errors.append(FieldError(name, N_("may have at most %(places)s decimal places"), "invalid", {"places": 4}))
        return None
    return amount


def _count(errors: list[FieldError], name: str, value: Any, low: int = 1, high: int = 1_000_000) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors.append(
            FieldError(name, N_("must be between %(low)s and %(high)s"), "out_of_range", {"low": low, "high": high})
        )
        return None
    return value


async def _exists(session: AsyncSession, model: Any, key: uuid.UUID | None) -> bool:
    return key is None or await session.scalar(select(model.id).where(model.id == key)) is not None


class CatalogAdmin:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- categories ---

    async def create_category(self, code: str, name: str, parent_id: uuid.UUID | None, sort_order: int) -> Category:
        errors: list[FieldError] = []
        clean_code = _text(errors, "code", code, 40, required=True)
        clean_name = _text(errors, "name", name, 100, required=True)
        if clean_code and not CODE.match(clean_code):
            errors.append(FieldError("code", N_("may hold letters, digits, '.', '_' and '-'"), "invalid"))
        if not await _exists(self.session, Category, parent_id):
            errors.append(FieldError("parent_id", N_("No such category"), "unknown"))
        if clean_code and await self.session.scalar(select(Category.id).where(Category.code == clean_code)):
            errors.append(FieldError("code", N_("is already used"), "taken"))
        if errors:
            raise ValidationFailed(errors)
        category = Category(code=clean_code, name=clean_name, parent_id=parent_id, sort_order=sort_order)
        self.session.add(category)
        await self.session.flush()
        return category

    # --- products ---

    async def product(self, product_id: uuid.UUID, lock: bool = False) -> Product:
        query = select(Product).where(Product.id == product_id)
        found = await self.session.scalar(query.with_for_update() if lock else query)
        if found is None:
            raise NotFound(N_("No such product"))
        return found

    async def _product_values(self, values: Mapping[str, Any], current: Product | None) -> dict[str, Any]:
        errors: list[FieldError] = []
        out: dict[str, Any] = {}
        for name, value in values.items():
            if name in PRODUCT_TEXT:
                out[name] = _text(errors, name, value, PRODUCT_TEXT[name], required=name in ("sku", "name", "unit"))
            elif name in ("pack_size", "min_order_quantity"):
                out[name] = _count(errors, name, value)
            elif name == "cost_price":
                out[name] = money(errors, name, value)
            elif name == "listed":
                out[name] = bool(value)
            elif name == "category_id":
                if not await _exists(self.session, Category, value):
                    errors.append(FieldError(name, N_("No such category"), "unknown"))
                out[name] = value
            else:
                raise KeyError(name)  # the schemas let no other field through
        url = out.get("image_url")
        if url and not (url.startswith("https://") or url.startswith("http://") or url.startswith("/")):
            errors.append(FieldError("image_url", N_("must be an http(s) address or a path"), "invalid"))
        sku = out.get("sku")
        changed = sku and (current is None or sku != current.sku)
        if changed and await self.session.scalar(select(Product.id).where(Product.sku == sku)):
            errors.append(FieldError("sku", N_("is already used"), "taken"))
        if errors:
            raise ValidationFailed(errors)
        return out

    async def product_values(self, values: Mapping[str, Any], current: Product | None) -> dict[str, Any]:
        """`values` as a product would take them, checked (a refusal names the field); nothing written."""
        return await self._product_values(values, current)

    async def create_product(self, values: Mapping[str, Any]) -> Product:
        product = Product(**await self._product_values(values, None))
        self.session.add(product)
        await self.session.flush()
        product_changed(self.session, product.id)
        return product

    async def update_product(self, product_id: uuid.UUID, values: Mapping[str, Any]) -> Product:
        product = await self.product(product_id, lock=True)
        for name, value in (await self._product_values(values, product)).items():
            setattr(product, name, value)
        await self.session.flush()
        product_changed(self.session, product.id)
        return product

    async def set_visibility(
        self,
        product_id: uuid.UUID,
        visible_to_all: bool,
        audiences: Sequence[tuple[uuid.UUID | None, uuid.UUID | None]],
    ) -> Product:
        product = await self.product(product_id, lock=True)
        errors: list[FieldError] = []
        for number, (type_id, tier_id) in enumerate(audiences):
            if type_id is None and tier_id is None:
                errors.append(FieldError(f"audiences[{number}]", N_("name a partner type, a tier or both"), "required"))
            if not await _exists(self.session, PartnerType, type_id):
                errors.append(FieldError(f"audiences[{number}].partner_type_id", N_("No such partner type"), "unknown"))
            if not await _exists(self.session, PartnerTier, tier_id):
                errors.append(FieldError(f"audiences[{number}].tier_id", N_("No such tier"), "unknown"))
        if not visible_to_all and not audiences:
            errors.append(FieldError("audiences", N_("A product not visible to all needs an audience"), "required"))
        if errors:
            raise ValidationFailed(errors)
        await self.session.execute(delete(ProductVisibility).where(ProductVisibility.product_id == product.id))
        for type_id, tier_id in dict.fromkeys(audiences):
            self.session.add(ProductVisibility(product_id=product.id, partner_type_id=type_id, tier_id=tier_id))
        product.visible_to_all = visible_to_all
        await self.session.flush()
        product_changed(self.session, product.id)
        return product

    async def audiences(self, product_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(ProductVisibility.partner_type_id, ProductVisibility.tier_id).where(
                ProductVisibility.product_id == product_id
            )
        )
        return [{"partner_type_id": t, "tier_id": r} for t, r in rows]

    # --- price lists ---

    async def price_list(self, list_id: uuid.UUID, lock: bool = False) -> PriceList:
        query = select(PriceList).where(PriceList.id == list_id)
        found = await self.session.scalar(query.with_for_update() if lock else query)
        if found is None:
            raise NotFound(N_("No such price list"))
        return found

    async def create_price_list(self, values: Mapping[str, Any]) -> PriceList:
        errors: list[FieldError] = []
        name = _text(errors, "name", values.get("name"), 100, required=True)
        kind = values.get("kind")
        if kind not in PRICE_LIST_KINDS:
            errors.append(
                FieldError("kind", N_("must be one of %(choices)s"), "invalid", {"choices": "base, tier, enterprise"})
            )
        tier_id, enterprise_id = values.get("tier_id"), values.get("enterprise_id")
        if kind == "tier" and (tier_id is None or not await _exists(self.session, PartnerTier, tier_id)):
            errors.append(FieldError("tier_id", N_("A tier list names an existing tier"), "required"))
        if kind == "enterprise" and (
            enterprise_id is None or not await _exists(self.session, EnterpriseLink, enterprise_id)
        ):
            errors.append(
                FieldError("enterprise_id", N_("An enterprise list names an existing enterprise"), "required")
            )
        currency = (values.get("currency") or "").upper()
        if not is_currency(currency):
            errors.append(FieldError("currency", N_("must be a currency code such as CNY or USD"), "invalid"))
        start, end = values.get("valid_from"), values.get("valid_to")
        if start and end and end < start:
            errors.append(FieldError("valid_to", N_("must not be before the start"), "invalid"))
        if errors:
            raise ValidationFailed(errors)
        price_list = PriceList(
            name=name,
            kind=kind,
            tier_id=tier_id if kind == "tier" else None,
            enterprise_id=enterprise_id if kind == "enterprise" else None,
            currency=currency,
            valid_from=start,
            valid_to=end,
            active=bool(values.get("active", True)),
        )
        self.session.add(price_list)
        await self.session.flush()
        prices_changed(self.session, price_list.id, [])
        return price_list

    async def update_price_list(self, list_id: uuid.UUID, values: Mapping[str, Any]) -> PriceList:
        price_list = await self.price_list(list_id, lock=True)
        errors: list[FieldError] = []
        if "name" in values:
            price_list.name = _text(errors, "name", values["name"], 100, required=True) or price_list.name
        for name in ("valid_from", "valid_to", "active"):
            if name in values:
                setattr(price_list, name, values[name])
        if price_list.valid_from and price_list.valid_to and price_list.valid_to < price_list.valid_from:
            errors.append(FieldError("valid_to", N_("must not be before the start"), "invalid"))
        if errors:
            raise ValidationFailed(errors)
        await self.session.flush()
        prices_changed(self.session, price_list.id, await self._priced(price_list.id))
        return price_list

    async def _priced(self, list_id: uuid.UUID) -> list[uuid.UUID]:
        return list(
            await self.session.scalars(
                select(PriceListItem.product_id).where(PriceListItem.price_list_id == list_id).distinct()
            )
        )

    async def replace_items(
        self, list_id: uuid.UUID, items: Sequence[tuple[uuid.UUID, int, Any]]
    ) -> list[PriceListItem]:
        """The list's items become exactly these (product, quantity from, unit price)."""
        price_list = await self.price_list(list_id, lock=True)
        errors: list[FieldError] = []
        seen: set[tuple[uuid.UUID, int]] = set()
        known = (
            set(
                await self.session.scalars(select(Product.id).where(Product.id.in_(sorted({p for p, _q, _u in items}))))
            )
            if items
            else set()
        )
        clean: list[tuple[uuid.UUID, int, Decimal]] = []
        for number, (product_id, min_quantity, unit_price) in enumerate(items):
            field = f"items[{number}]"
            if product_id not in known:
                errors.append(FieldError(f"{field}.product_id", N_("No such product"), "unknown"))
            quantity = _count(errors, f"{field}.min_quantity", min_quantity)
            price = money(errors, f"{field}.unit_price", unit_price)
            if price is None and unit_price in (None, ""):
                errors.append(FieldError(f"{field}.unit_price", N_("is required"), "required"))
            if (product_id, min_quantity) in seen:
                errors.append(FieldError(field, N_("the same product and quantity twice"), "duplicate"))
            seen.add((product_id, min_quantity))
            if quantity is not None and price is not None:
                clean.append((product_id, quantity, price))
        if errors:
            raise ValidationFailed(errors)
        before = await self._priced(price_list.id)
        await self.session.execute(delete(PriceListItem).where(PriceListItem.price_list_id == price_list.id))
        prices_changed(self.session, price_list.id, sorted({*before, *(p for p, _q, _u in clean)}))
        rows = [
            PriceListItem(price_list_id=price_list.id, product_id=p, min_quantity=q, unit_price=u) for p, q, u in clean
        ]
        self.session.add_all(rows)
        await self.session.flush()
        return rows

    async def items(self, list_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(
                PriceListItem.product_id,
                Product.sku,
                Product.name,
                PriceListItem.min_quantity,
                PriceListItem.unit_price,
            )
            .join(Product, Product.id == PriceListItem.product_id)
            .where(PriceListItem.price_list_id == list_id)
            .order_by(Product.sku, PriceListItem.min_quantity)
        )
        return [{"product_id": p, "sku": s, "name": n, "min_quantity": q, "unit_price": u} for p, s, n, q, u in rows]

    async def delete_price_list(self, list_id: uuid.UUID) -> None:
        price_list = await self.price_list(list_id, lock=True)
        prices_changed(self.session, price_list.id, await self._priced(price_list.id))
        await self.session.delete(price_list)
        await self.session.flush()

    # --- warehouses, credit, settings, approval rules ---

    async def create_warehouse(self, code: str, name: str) -> Warehouse:
        errors: list[FieldError] = []
        clean_code = _text(errors, "code", code, 40, required=True)
        clean_name = _text(errors, "name", name, 100, required=True)
        if clean_code and await self.session.scalar(select(Warehouse.id).where(Warehouse.code == clean_code)):
            errors.append(FieldError("code", N_("is already used"), "taken"))
        if errors:
            raise ValidationFailed(errors)
        warehouse = Warehouse(code=clean_code, name=clean_name)
        self.session.add(warehouse)
        await self.session.flush()
        return warehouse

    async def warehouse(self, warehouse_id: uuid.UUID) -> Warehouse:
        found = await self.session.scalar(select(Warehouse).where(Warehouse.id == warehouse_id))
        if found is None:
            raise NotFound(N_("No such warehouse"))
        return found

    async def set_credit_limit(self, enterprise_id: uuid.UUID, amount: Decimal | None) -> CreditLimit | None:
        if not await _exists(self.session, EnterpriseLink, enterprise_id):
            raise NotFound(N_("No such enterprise"))
        errors: list[FieldError] = []
        clean = money(errors, "amount", amount)
        if errors:
            raise ValidationFailed(errors)
        current = await self.session.scalar(
            select(CreditLimit).where(CreditLimit.enterprise_id == enterprise_id).with_for_update()
        )
        if clean is None:
            if current is not None:
                await self.session.delete(current)
                await self.session.flush()
            return None
        if current is None:
            current = CreditLimit(enterprise_id=enterprise_id, amount=clean)
            self.session.add(current)
        else:
            current.amount = clean
        await self.session.flush()
        return current

    async def update_settings(self, values: Mapping[str, Any]) -> OrderingSettings:
        settings = await settings_of(self.session)
        errors: list[FieldError] = []
        if "reserve_on" in values and values["reserve_on"] not in ("submit", "approval"):
            errors.append(
                FieldError("reserve_on", N_("must be one of %(choices)s"), "invalid", {"choices": "submit, approval"})
            )
        if "over_credit" in values and values["over_credit"] not in ("refuse", "approval"):
            errors.append(
                FieldError("over_credit", N_("must be one of %(choices)s"), "invalid", {"choices": "refuse, approval"})
            )
        if "auto_receive_days" in values:
            _count(errors, "auto_receive_days", values["auto_receive_days"], 1, 365)
        if "credit_approver_role" in values and not await self._internal_role(values["credit_approver_role"]):
            errors.append(FieldError("credit_approver_role", N_("No such staff role"), "unknown"))
        if "default_warehouse_id" in values and not await _exists(
            self.session, Warehouse, values["default_warehouse_id"]
        ):
            errors.append(FieldError("default_warehouse_id", N_("No such warehouse"), "unknown"))
        if errors:
            raise ValidationFailed(errors)
        for name, value in values.items():
            setattr(settings, name, value)
        await self.session.flush()
        return settings

    async def _internal_role(self, key: Any) -> bool:
        return await self.session.scalar(select(Role.id).where(Role.key == key, Role.kind == "internal")) is not None

    # --- approval rules: the steps of the order approval flows (roles.approvals) ---

    def _flows(self) -> FlowAdmin:
        return FlowAdmin(self.session, ApprovalKinds([ORDER_APPROVAL]))

    async def approval_rules(self) -> list[ApprovalFlowStep]:
        """The steps of the orders' first flow, by step and amount (other flows: the flow editor)."""
        return await self._flows().kind_steps(ORDER_KIND, first_only=True)

    async def create_approval_rule(self, values: Mapping[str, Any]) -> ApprovalFlowStep:
        """A step of the orders' first flow (made when there is none): orders from its amount on (of its
        partner type, if it names one) take it."""
        errors: list[FieldError] = []
        _text(errors, "name", values.get("name"), 100, required=True)
        _count(errors, "step", values.get("step"), 1, 20)
        money(errors, "min_amount", values.get("min_amount"))
        if not await self._internal_role(values.get("role_key")):
            errors.append(FieldError("role_key", N_("No such staff role"), "unknown"))
        if not await _exists(self.session, PartnerType, values.get("partner_type_id")):
            errors.append(FieldError("partner_type_id", N_("No such partner type"), "unknown"))
        if errors:
            raise ValidationFailed(errors)
        flows = self._flows()
        flow = await flows.first_flow(ORDER_KIND, presets.APPROVAL_FLOW)
        keep = ("name", "step", "role_key", "min_amount", "partner_type_id")
        return await flows.add_step(flow.id, {k: values.get(k) for k in keep})

    async def delete_approval_rule(self, rule_id: uuid.UUID) -> None:
        try:
            await self._flows().delete_step(rule_id, ORDER_KIND)
        except NotFound:
            raise NotFound(N_("No such approval rule")) from None


def settings_out(settings: OrderingSettings) -> dict[str, Any]:
    return {
        "currency": settings.currency,
        "reserve_on": settings.reserve_on,
        "over_credit": settings.over_credit,
        "credit_approver_role": settings.credit_approver_role,
        "auto_receive_days": settings.auto_receive_days,
        "default_warehouse_id": settings.default_warehouse_id,
    }


def price_list_out(price_list: PriceList) -> dict[str, Any]:
    return {
        "id": price_list.id,
        "name": price_list.name,
        "kind": price_list.kind,
        "tier_id": price_list.tier_id,
        "enterprise_id": price_list.enterprise_id,
        "currency": price_list.currency,
        "valid_from": price_list.valid_from,
        "valid_to": price_list.valid_to,
        "active": price_list.active,
    }


def rule_out(rule: ApprovalFlowStep) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": rule.name,
        "step": rule.step,
        "role_key": rule.role_key or "",
        "min_amount": rule.min_amount,
        "partner_type_id": rule.partner_type_id,
        "active": rule.active,
    }
