"""The manufacturer's side of orders and money: the order desk's queue, placing an order on a dealer's
behalf, approval, shipping, cancellation; payments, credit limits, each enterprise's statement; the
ordering settings and approval rules."""

from __future__ import annotations

import uuid
from datetime import date

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody
from sqlalchemy import select

from apps.ordering import account, placing, workflow
from apps.ordering.addresses import AddressBook, address_out
from apps.ordering.admin import rule_out, settings_out
from apps.ordering.catalog import settings_of
from apps.ordering.controllers.partner import period, statement_cells, statement_out
from apps.ordering.controllers.shared import xlsx
from apps.ordering.dependencies import STAFF_DEPENDENCIES, AdminDep, OrdersDep, PaymentsDep
from apps.ordering.models import CreditLimit
from apps.ordering.objects import CREDIT, ORDER, PAYMENT, SETTINGS
from apps.ordering.schemas import (
    AddressOut,
    ApprovalRuleIn,
    ApprovalRuleOut,
    AutoReceivedOut,
    Comment,
    ConfirmIn,
    CreditLimitIn,
    CreditLimitOut,
    EnterpriseAccountOut,
    OrderOut,
    OrderPage,
    PaymentOut,
    PaymentPage,
    RejectPaymentIn,
    SettingsOut,
    SettingsPatch,
    ShipIn,
    StaffOrderIn,
    StaffPaymentIn,
    StatementOut,
)
from interconnect.models import EnterpriseLink
from portal.errors import NotFound, ValidationFailed
from portal.http.deps import DB, CurrentActor
from portal.http.inputs import Limit, Offset, Search
from portal.i18n import N_
from portal.identity.schemas import sent, typed
from portal.permissions import requires
from portal.spreadsheets import XLSX_MEDIA_TYPE


class StaffOrdersController(Controller):
    path = "/api/ordering/orders"
    tags = ["ordering"]
    dependencies = STAFF_DEPENDENCIES

    @get("/", opt=requires(ORDER, "read"))
    async def list_orders(
        self,
        orders: OrdersDep,
        status: FromQuery[str | None] = None,
        search: Search = None,
        enterprise_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> OrderPage:
        """The order desk's queue: newest first, by status ("submitted" waits for approval, "open" is
        everything not yet received), number or enterprise."""
        rows, total = await orders.page(status, search, enterprise_id, limit, offset)
        return typed(
            {"items": await orders.out_many(rows), "total": total, "limit": limit, "offset": offset}, OrderPage
        )

    @post("/", opt=requires(ORDER, "create"))
    async def place_order(
        self,
        data: JSONBody[StaffOrderIn],
        db: DB,
        orders: OrdersDep,
    ) -> OrderOut:
        """Place an order on a partner enterprise's behalf (at its prices, against its credit; it sees
        the order), or without `enterprise_id` the upstream's own at base prices, which no partner sees."""
        lines = [placing.LineIn(line.product_id, line.quantity) for line in data.lines]
        order = await placing.place(
            orders,
            lines,
            enterprise_id=data.enterprise_id,
            ship_to=data.ship_to,
            address_id=data.address_id,
            po_number=data.po_number,
            requested_delivery_date=data.requested_delivery_date,
            note=data.note,
            tracked=False,  # only presented
        )
        return typed(await orders.out(order), OrderOut)

    @get("/export.xlsx", opt=requires(ORDER, "export"), media_type=XLSX_MEDIA_TYPE)
    async def export_orders(self, orders: OrdersDep) -> Response[bytes]:
        columns, rows = await orders.export_rows()
        return await xlsx("orders", columns, rows)

    @get("/{order_id:uuid}", opt=requires(ORDER, "read"))
    async def get_order(self, order_id: FromPath[uuid.UUID], orders: OrdersDep) -> OrderOut:
        return typed(await orders.out(await orders.get(order_id)), OrderOut)

    @post("/{order_id:uuid}/approve", opt=requires(ORDER, "approve"), status_code=200)
    async def approve_order(
        self, order_id: FromPath[uuid.UUID], data: JSONBody[Comment], orders: OrdersDep
    ) -> OrderOut:
        """Take the order's next approval step (the step's role, or an administrator); the last step
        approves the order."""
        return typed(await orders.out(await workflow.approve(orders, order_id, data.comment)), OrderOut)

    @post("/{order_id:uuid}/reject", opt=requires(ORDER, "approve"), status_code=200)
    async def reject_order(self, order_id: FromPath[uuid.UUID], data: JSONBody[Comment], orders: OrdersDep) -> OrderOut:
        """Refuse the order; `comment` (required) says why."""
        return typed(await orders.out(await workflow.reject(orders, order_id, data.comment)), OrderOut)

    @post("/{order_id:uuid}/cancel", opt=requires(ORDER, "cancel"), status_code=200)
    async def cancel_order(self, order_id: FromPath[uuid.UUID], data: JSONBody[Comment], orders: OrdersDep) -> OrderOut:
        return typed(await orders.out(await workflow.cancel(orders, order_id, data.comment)), OrderOut)

    @post("/{order_id:uuid}/shipments", opt=requires(ORDER, "ship"), status_code=201)
    async def ship_order(
        self, order_id: FromPath[uuid.UUID], data: JSONBody[ShipIn], db: DB, orders: OrdersDep
    ) -> OrderOut:
        """Ship some lines (order line id -> quantity) or everything left, with carrier and tracking
        number, or as the manufacturer's own delivery (`own_delivery`)."""
        await workflow.ship(
            orders,
            order_id,
            data.lines,
            carrier=data.carrier,
            tracking_number=data.tracking_number,
            own_delivery=data.own_delivery,
        )
        return typed(await orders.out(await orders.get(order_id)), OrderOut)

    @post("/{order_id:uuid}/complete", opt=requires(ORDER, "approve"), status_code=200)
    async def complete_order(
        self, order_id: FromPath[uuid.UUID], data: JSONBody[Comment], orders: OrdersDep
    ) -> OrderOut:
        return typed(await orders.out(await workflow.complete(orders, order_id, data.comment)), OrderOut)

    @post("/auto-receive", opt=requires(ORDER, "ship"), status_code=200)
    async def auto_receive(self, orders: OrdersDep) -> AutoReceivedOut:
        """Receive, on the dealers' behalf, every order shipped longer ago than the tenant's setting
        (`portal ordering auto-receive` does the same for every tenant)."""
        done = await workflow.auto_receive(orders)
        return AutoReceivedOut(received=[o.number for o in done])


class StaffPaymentsController(Controller):
    path = "/api/ordering/payments"
    tags = ["ordering"]
    dependencies = STAFF_DEPENDENCIES

    @get("/", opt=requires(PAYMENT, "read"))
    async def list_payments(
        self,
        payments: PaymentsDep,
        status: FromQuery[str | None] = None,
        enterprise_id: FromQuery[uuid.UUID | None] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PaymentPage:
        """`status=reported` lists the payments dealers reported, waiting for confirmation."""
        items, total = await payments.page(status, enterprise_id, limit, offset)
        return typed({"items": items, "total": total, "limit": limit, "offset": offset}, PaymentPage)

    @post("/", opt=requires(PAYMENT, "create"))
    async def record_payment(
        self,
        data: JSONBody[StaffPaymentIn],
        db: DB,
        payments: PaymentsDep,
    ) -> PaymentOut:
        """Money received from an enterprise: confirmed at once and matched to `allocations`, or to its
        oldest open orders."""
        if data.enterprise_id is None:
            raise ValidationFailed.single("enterprise_id", N_("is required"), "required")
        payment = await payments.create(
            enterprise_id=data.enterprise_id,
            amount=data.amount,
            method=data.method,
            received_on=data.received_on,
            reference=data.reference,
            note=data.note,
            allocations=data.allocations,
        )
        return typed(await payments.out(payment), PaymentOut)

    @post("/{payment_id:uuid}/confirm", opt=requires(PAYMENT, "approve"), status_code=200)
    async def confirm_payment(
        self,
        payment_id: FromPath[uuid.UUID],
        data: JSONBody[ConfirmIn],
        payments: PaymentsDep,
    ) -> PaymentOut:
        return typed(await payments.out(await payments.confirm(payment_id, data.allocations)), PaymentOut)

    @post("/{payment_id:uuid}/reject", opt=requires(PAYMENT, "approve"), status_code=200)
    async def reject_payment(
        self,
        payment_id: FromPath[uuid.UUID],
        data: JSONBody[RejectPaymentIn],
        payments: PaymentsDep,
    ) -> PaymentOut:
        return typed(await payments.out(await payments.reject(payment_id, data.note)), PaymentOut)


async def _enterprise(db: DB, enterprise_id: uuid.UUID) -> EnterpriseLink:
    link = await db.scalar(select(EnterpriseLink).where(EnterpriseLink.id == enterprise_id))
    if link is None:
        raise NotFound(N_("No such enterprise"))
    return link


class StaffAddressesController(Controller):
    """A partner enterprise's address book, to choose from when placing an order on its behalf."""

    path = "/api/ordering/addresses"
    tags = ["ordering"]
    dependencies = STAFF_DEPENDENCIES

    @get("/", opt=requires(ORDER, "create", problems=(404,)))
    async def list_addresses(self, db: DB, enterprise_id: FromQuery[uuid.UUID]) -> list[AddressOut]:
        link = await _enterprise(db, enterprise_id)
        return typed([address_out(a) for a in await AddressBook(db, link.id).list()], list[AddressOut])


class StaffAccountsController(Controller):
    """Each partner enterprise's account: credit limit, balance and statement."""

    path = "/api/ordering/accounts"
    tags = ["ordering"]
    dependencies = STAFF_DEPENDENCIES

    @get("/", opt=requires(CREDIT, "read"))
    async def list_credit_limits(self, db: DB) -> list[EnterpriseAccountOut]:
        rows = await db.execute(
            select(CreditLimit.enterprise_id, EnterpriseLink.name, CreditLimit.amount)
            .join(EnterpriseLink, EnterpriseLink.id == CreditLimit.enterprise_id)
            .order_by(EnterpriseLink.name)
        )
        rows = list(rows)
        standing = await account.credits(db, [enterprise_id for enterprise_id, _name, _amount in rows])
        return [
            EnterpriseAccountOut(
                enterprise_id=enterprise_id,
                enterprise=name,
                credit_limit=amount,
                balance=standing[enterprise_id].balance,
                awaiting_approval=standing[enterprise_id].awaiting,
                credit_left=standing[enterprise_id].left,
            )
            for enterprise_id, name, amount in rows
        ]

    @get("/{enterprise_id:uuid}", opt=requires(CREDIT, "read"))
    async def get_account(self, enterprise_id: FromPath[uuid.UUID], db: DB) -> EnterpriseAccountOut:
        link = await _enterprise(db, enterprise_id)
        standing = await account.credit(db, link.id)
        return EnterpriseAccountOut(
            enterprise_id=link.id,
            enterprise=link.name,
            credit_limit=standing.limit,
            balance=standing.balance,
            awaiting_approval=standing.awaiting,
            credit_left=standing.left,
        )

    @put("/{enterprise_id:uuid}/credit-limit", opt=requires(CREDIT, "update"))
    async def set_credit_limit(
        self, enterprise_id: FromPath[uuid.UUID], data: JSONBody[CreditLimitIn], admin: AdminDep
    ) -> CreditLimitOut:
        """Set the enterprise's credit limit; null removes it (no limit)."""
        limit = await admin.set_credit_limit(enterprise_id, data.amount)
        return CreditLimitOut(enterprise_id=enterprise_id, credit_limit=None if limit is None else limit.amount)

    @get("/{enterprise_id:uuid}/statement", opt=requires(CREDIT, "read"))
    async def get_statement(
        self,
        enterprise_id: FromPath[uuid.UUID],
        db: DB,
        actor: CurrentActor,
        start: FromQuery[date | None] = None,
        end: FromQuery[date | None] = None,
    ) -> StatementOut:
        link = await _enterprise(db, enterprise_id)
        first, last = period(start, end, actor.time_zone)
        return statement_out(await account.statement(db, link.id, first, last, actor.time_zone))

    @get("/{enterprise_id:uuid}/statement.xlsx", opt=requires(CREDIT, "read"), media_type=XLSX_MEDIA_TYPE)
    async def export_statement(
        self,
        enterprise_id: FromPath[uuid.UUID],
        db: DB,
        actor: CurrentActor,
        start: FromQuery[date | None] = None,
        end: FromQuery[date | None] = None,
    ) -> Response[bytes]:
        link = await _enterprise(db, enterprise_id)
        first, last = period(start, end, actor.time_zone)
        columns, rows = statement_cells(await account.statement(db, link.id, first, last, actor.time_zone))
        return await xlsx("statement", columns, rows)


class StaffSettingsController(Controller):
    path = "/api/ordering/settings"
    tags = ["ordering"]
    dependencies = STAFF_DEPENDENCIES

    @get("/", opt=requires(SETTINGS, "read"))
    async def get_settings(self, db: DB) -> SettingsOut:
        return typed(settings_out(await settings_of(db)), SettingsOut)

    @patch("/", opt=requires(SETTINGS, "update"))
    async def update_settings(self, data: JSONBody[SettingsPatch], admin: AdminDep) -> SettingsOut:
        """reserve_on: submit | approval; over_credit: refuse | approval (then credit_approver_role
        takes an extra step); auto_receive_days; default_warehouse_id."""
        return typed(settings_out(await admin.update_settings(sent(data))), SettingsOut)

    @get("/approval-rules", opt=requires(SETTINGS, "read"))
    async def list_rules(self, admin: AdminDep) -> list[ApprovalRuleOut]:
        return typed([rule_out(r) for r in await admin.approval_rules()], list[ApprovalRuleOut])

    @post("/approval-rules", opt=requires(SETTINGS, "update"))
    async def create_rule(self, data: JSONBody[ApprovalRuleIn], db: DB, admin: AdminDep) -> ApprovalRuleOut:
        """A step orders from `min_amount` on (of one partner type, or all) must pass, taken by
        `role_key`."""
        return typed(rule_out(await admin.create_approval_rule(sent(data))), ApprovalRuleOut)

    @delete("/approval-rules/{approval_rule_id:uuid}", opt=requires(SETTINGS, "update"))
    async def delete_rule(self, approval_rule_id: FromPath[uuid.UUID], admin: AdminDep) -> None:
        await admin.delete_approval_rule(approval_rule_id)


STAFF_ORDER_CONTROLLERS = [
    StaffOrdersController,
    StaffAddressesController,
    StaffPaymentsController,
    StaffAccountsController,
    StaffSettingsController,
]
