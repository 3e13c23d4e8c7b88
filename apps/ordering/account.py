"""Each enterprise's account with the manufacturer: entries (approved orders, confirmed payments,
reversals) from which the balance, the credit exposure and the statement are sums in SQL, and the
matching of confirmed payments to the orders they pay."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from apps.ordering.models import AccountEntry, CreditLimit, Order, PaymentAllocation
from apps.ordering.orders import RECEIVABLE_STATUSES
from portal.db.begin import commit_with, commits_with
from portal.db.tenancy import tenant_of
from portal.errors import ValidationFailed
from portal.i18n import N_
from portal.timezones import DEFAULT_TIME_ZONE, zone

ZERO = Decimal(0)


async def balance(session: AsyncSession, enterprise_id: uuid.UUID, before: datetime | None = None) -> Decimal:
    """What the enterprise owes (negative: paid in advance), up to `before` when given."""
    query = select(
        func.coalesce(func.sum(AccountEntry.debit), ZERO), func.coalesce(func.sum(AccountEntry.credit), ZERO)
    )
    query = query.where(AccountEntry.enterprise_id == enterprise_id)
    if before is not None:
        query = query.where(AccountEntry.occurred_at < before)
    debit, credit = (await session.execute(query)).one()
    return Decimal(debit) - Decimal(credit)


async def awaiting_approval(session: AsyncSession, enterprise_id: uuid.UUID, leave_out: uuid.UUID | None) -> Decimal:
    query = select(func.coalesce(func.sum(Order.total), ZERO)).where(
        Order.enterprise_id == enterprise_id, Order.status == "submitted"
    )
    if leave_out is not None:
        query = query.where(Order.id != leave_out)
    return Decimal(await session.scalar(query) or ZERO)


@dataclass(frozen=True, slots=True)
class Credit:
    limit: Decimal | None  # None: no limit
    balance: Decimal
    awaiting: Decimal

    @property
    def used(self) -> Decimal:
        return self.balance + self.awaiting

    @property
    def left(self) -> Decimal | None:
        return None if self.limit is None else self.limit - self.used


# An enterprise's limit, plain and locked: built once (every order placed runs one), the enterprise bound.
_LIMIT = select(CreditLimit.amount).where(CreditLimit.enterprise_id == bindparam("enterprise_id"))
_LIMIT_LOCKED = _LIMIT.with_for_update()


async def credit(
    session: AsyncSession, enterprise_id: uuid.UUID, leave_out: uuid.UUID | None = None, lock: bool = False
) -> Credit:
    """The enterprise's limit and what uses it. `lock` takes the limit row for the rest of the
    transaction, so two orders of one enterprise are checked one after the other (PostgreSQL)."""
    limit = await session.scalar(_LIMIT_LOCKED if lock else _LIMIT, {"enterprise_id": enterprise_id})
    return await _standing(session, enterprise_id, limit, leave_out)


async def credit_to_check(
    session: AsyncSession, enterprise_id: uuid.UUID, leave_out: uuid.UUID, *, lock: bool = True
) -> Credit | None:
    """`credit(lock=True)` for a new order, or None when the enterprise has no limit (nothing to check).
    `lock=False`: the limit and what uses it as committed now, in one statement, for an order whose
    commit checks them again (`check_again_at_commit`)."""
    if not lock:
        params = {"tenant_id": tenant_of(session), "enterprise_id": enterprise_id}
        row = (await (await session.connection()).execute(_limit_and_standing(), params)).first()
        if row is None:
            return None
        debit, credit_sum, awaiting, limit = row
        return Credit(limit, Decimal(debit) - Decimal(credit_sum), Decimal(awaiting))
    limit = await session.scalar(_LIMIT_LOCKED, {"enterprise_id": enterprise_id})
    return None if limit is None else await _standing(session, enterprise_id, limit, leave_out)


async def checks_at_commit(session: AsyncSession) -> bool:
    """Whether this unit of work can check an order's credit again with its COMMIT (PostgreSQL)."""
    return commits_with((await session.connection()).sync_connection)


# What the check with the COMMIT raises when the order no longer fits: its DETAIL is "<limit> <used>".
OVER_LIMIT = "ordering: credit limit exceeded"


async def check_again_at_commit(
    session: AsyncSession,
    enterprise_id: uuid.UUID,
    order_id: uuid.UUID,
    total: Decimal,
    refused: Callable[[Credit], BaseException],
) -> None:
    """Check, with the COMMIT of a new order that fitted under the enterprise's limit when it was placed,
    that it still does: the limit row is locked there (two orders of one enterprise are checked one
    after the other, but each holds the lock only while its COMMIT runs, not from the middle of its
    request), then what uses it is summed as committed by then, leaving the order out and adding its
    `total`. When it no longer fits, the commit fails with `refused(credit as it was then)`. Nothing is
    checked when the order was not written after all (a savepoint rolled back) or the limit went away.
    The check runs after the rows sent with the COMMIT (the order among them, when it goes that way)."""
    connection = (await session.connection()).sync_connection
    tenant = tenant_of(session)
    quote = connection.dialect.identifier_preparer.format_table
    limits, entries, orders = (quote(t) for t in (CreditLimit.__table__, AccountEntry.__table__, Order.__table__))
    if not total.is_finite():
        raise ValueError("an order's total is a finite amount")
    # ids and the total are formatted from UUIDs and a Decimal: literal SQL that holds no text of anyone's
    statement = f"""DO $portal_credit$ DECLARE lim numeric; used numeric; BEGIN
PERFORM 1 FROM {orders} WHERE tenant_id = '{tenant}' AND id = '{order_id}';
IF NOT FOUND THEN RETURN; END IF;
SELECT amount INTO lim FROM {limits} WHERE tenant_id = '{tenant}' AND enterprise_id = '{enterprise_id}' FOR UPDATE;
IF lim IS NULL THEN RETURN; END IF;
SELECT coalesce(sum(debit), 0) - coalesce(sum(credit), 0) INTO used FROM {entries}
 WHERE tenant_id = '{tenant}' AND enterprise_id = '{enterprise_id}';
used := used + (SELECT coalesce(sum(total), 0) FROM {orders} WHERE tenant_id = '{tenant}'
 AND enterprise_id = '{enterprise_id}' AND status = 'submitted' AND id <> '{order_id}');
IF used + {total} > lim THEN
 RAISE EXCEPTION USING MESSAGE = '{OVER_LIMIT}', DETAIL = lim::text || ' ' || used::text;
END IF;
END $portal_credit$"""  # noqa: S608

    def refusal(detail: str) -> BaseException:
        limit, used = (Decimal(value) for value in detail.split())
        return refused(Credit(limit, used, ZERO))

    if not commit_with(connection, statement, refusal=(OVER_LIMIT, refusal)):
        raise RuntimeError("this unit of work cannot check credit with its COMMIT (see checks_at_commit)")


_ENTRIES = AccountEntry.__table__.c
_ORDERS = Order.__table__.c


@lru_cache(maxsize=2)
def _standing_statement(leaving_out: bool) -> Select[tuple[Decimal, Decimal, Decimal]]:
    """The sums `_standing()` reads, the tenant, the enterprise (and the order left out) bound per run: in
    Core, each table named with its tenant, on the unit of work's connection (every order placed runs it)."""
    tenant, enterprise = bindparam("tenant_id"), bindparam("enterprise_id")
    entries = select(
        func.coalesce(func.sum(_ENTRIES.debit), ZERO), func.coalesce(func.sum(_ENTRIES.credit), ZERO)
    ).where(_ENTRIES.tenant_id == tenant, _ENTRIES.enterprise_id == enterprise)
    waiting = select(func.coalesce(func.sum(_ORDERS.total), ZERO)).where(
        _ORDERS.tenant_id == tenant, _ORDERS.enterprise_id == enterprise, _ORDERS.status == "submitted"
    )
    if leaving_out:
        waiting = waiting.where(_ORDERS.id != bindparam("leave_out"))
    sums = entries.subquery()
    return select(sums.c[0], sums.c[1], waiting.scalar_subquery())


@lru_cache(maxsize=1)
def _limit_and_standing() -> Select[tuple[Decimal, Decimal, Decimal, Decimal]]:
    """The enterprise's limit and what uses it, in one snapshot; no row (nothing summed) without a limit."""
    tenant, enterprise = bindparam("tenant_id"), bindparam("enterprise_id")
    limits = CreditLimit.__table__.c
    mine = (_ENTRIES.tenant_id == tenant, _ENTRIES.enterprise_id == enterprise)
    waiting = select(func.coalesce(func.sum(_ORDERS.total), ZERO)).where(
        _ORDERS.tenant_id == tenant, _ORDERS.enterprise_id == enterprise, _ORDERS.status == "submitted"
    )
    return select(
        select(func.coalesce(func.sum(_ENTRIES.debit), ZERO)).where(*mine).scalar_subquery(),
        select(func.coalesce(func.sum(_ENTRIES.credit), ZERO)).where(*mine).scalar_subquery(),
        waiting.scalar_subquery(),
        limits.amount,
    ).where(limits.tenant_id == tenant, limits.enterprise_id == enterprise)


async def _standing(
    session: AsyncSession, enterprise_id: uuid.UUID, limit: Decimal | None, leave_out: uuid.UUID | None
) -> Credit:
    """The balance and the orders awaiting approval in one statement, after the limit row is locked (a
    statement of its own, so this one sees whatever the order before it committed)."""
    statement = _standing_statement(leave_out is not None)
    params = {"tenant_id": tenant_of(session), "enterprise_id": enterprise_id, "leave_out": leave_out}
    debit, credit_sum, awaiting = (await (await session.connection()).execute(statement, params)).one()
    return Credit(limit, Decimal(debit) - Decimal(credit_sum), Decimal(awaiting or ZERO))


async def credits(session: AsyncSession, enterprise_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Credit]:
    """`credit()` of many enterprises at once, for lists: three grouped statements, whatever their number."""
    ids = sorted(set(enterprise_ids))
    if not ids:
        return {}
    limits = dict(
        (e, a)
        for e, a in await session.execute(
            select(CreditLimit.enterprise_id, CreditLimit.amount).where(CreditLimit.enterprise_id.in_(ids))
        )
    )
    balances = {
        e: Decimal(d) - Decimal(c)
        for e, d, c in await session.execute(
            select(AccountEntry.enterprise_id, func.sum(AccountEntry.debit), func.sum(AccountEntry.credit))
            .where(AccountEntry.enterprise_id.in_(ids))
            .group_by(AccountEntry.enterprise_id)
        )
    }
    waiting = {
        e: Decimal(t)
        for e, t in await session.execute(
            select(Order.enterprise_id, func.sum(Order.total))
            .where(Order.enterprise_id.in_(ids), Order.status == "submitted")
            .group_by(Order.enterprise_id)
        )
    }
    return {e: Credit(limits.get(e), balances.get(e, ZERO), waiting.get(e, ZERO)) for e in ids}


def entry(
    enterprise_id: uuid.UUID,
    kind: str,
    description: str,
    *,
    debit: Decimal = ZERO,
    credit: Decimal = ZERO,
    order_id: uuid.UUID | None = None,
    payment_id: uuid.UUID | None = None,
) -> AccountEntry:
    return AccountEntry(
        enterprise_id=enterprise_id,
        kind=kind,
        description=description,
        debit=debit,
        credit=credit,
        order_id=order_id,
        payment_id=payment_id,
    )


POSTED_KINDS = ("commission", "fund")  # what other apps post to an account through the ledger


async def post_owed(
    session: AsyncSession, enterprise_id: uuid.UUID, description: str, amount: Decimal, kind: str = "commission"
) -> None:
    """What the manufacturer owes the enterprise for an approved commission statement (kind "commission")
    or a paid market development fund claim (kind "fund"): a credit (a debit when a statement's reversals
    outweigh what it earned). Offered to other apps through the component (`extra["account_ledger"]`),
    which never import this one."""
    if kind not in POSTED_KINDS:
        raise ValueError(f"not an entry kind another app posts: {kind}")
    session.add(entry(enterprise_id, kind, description[:200], credit=max(amount, ZERO), debit=max(-amount, ZERO)))
    await session.flush()


async def open_orders(session: AsyncSession, enterprise_id: uuid.UUID) -> list[Order]:
    """Orders with something left to pay, oldest first."""
    return list(
        await session.scalars(
            select(Order)
            .where(
                Order.enterprise_id == enterprise_id,
                Order.status.in_(RECEIVABLE_STATUSES),
                Order.paid_amount < Order.total,
            )
            .order_by(Order.approved_at, Order.id)
        )
    )


async def allocate(
    session: AsyncSession,
    payment_id: uuid.UUID,
    enterprise_id: uuid.UUID,
    amount: Decimal,
    requested: Mapping[uuid.UUID, Decimal] | None = None,
) -> list[tuple[Order, Decimal]]:
    """Match the payment to orders: the amounts asked for, else oldest open orders first. What is left
    stays on the account as a credit. Each order's paid amount moves by a conditional UPDATE, so two
    payments can never pay one order more than its total."""
    candidates = {o.id: o for o in await open_orders(session, enterprise_id)}
    plan: list[tuple[Order, Decimal]] = []
    if requested:
        if sum(requested.values(), ZERO) > amount:
            raise ValidationFailed.single("allocations", N_("The allocations add up to more than the payment"))
        for order_id, share in requested.items():
            order = candidates.get(order_id)
            if order is None:
                raise ValidationFailed.single(
                    "allocations", N_("%(order)s has nothing left to pay"), order=str(order_id)
                )
            if share <= 0 or share > order.total - order.paid_amount:
                raise ValidationFailed.single(
                    "allocations",
                    N_("%(number)s has %(left)s left to pay"),
                    number=order.number,
                    left=order.total - order.paid_amount,
                )
            plan.append((order, share))
    else:
        left = amount
        for order in candidates.values():
            if left <= 0:
                break
            share = min(left, order.total - order.paid_amount)
            plan.append((order, share))
            left -= share
    for order, share in plan:
        result = await session.execute(
            update(Order)
            .where(Order.id == order.id, Order.paid_amount + share <= Order.total)
            .values(paid_amount=Order.paid_amount + share)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            raise ValidationFailed.single("allocations", N_("%(number)s was paid meanwhile"), number=order.number)
        session.add(PaymentAllocation(payment_id=payment_id, order_id=order.id, amount=share))
        await session.refresh(order, ["paid_amount"])
    await session.flush()
    return plan


def day_start(day: date, time_zone: str = DEFAULT_TIME_ZONE) -> datetime:
    """Midnight of a day where the tenant is, as the UTC moment entries are stored in."""
    return datetime.combine(day, time.min, tzinfo=zone(time_zone)).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Statement:
    enterprise_id: uuid.UUID
    start: date
    end: date
    opening: Decimal
    lines: list[dict[str, Any]]
    debits: Decimal
    credits: Decimal

    @property
    def closing(self) -> Decimal:
        return self.opening + self.debits - self.credits


async def statement(
    session: AsyncSession, enterprise_id: uuid.UUID, start: date, end: date, time_zone: str = DEFAULT_TIME_ZONE
) -> Statement:
    """The account from `start` to `end` (the tenant's days, inclusive): the balance before, every entry
    with the running balance, the totals and the balance after."""
    if end < start:
        raise ValidationFailed.single("end", N_("must not be before the start"))
    if (end - start).days > 3660:
        raise ValidationFailed.single("end", N_("a statement covers at most ten years"))
    begin, finish = day_start(start, time_zone), day_start(end + timedelta(days=1), time_zone)
    opening = await balance(session, enterprise_id, before=begin)
    entries: Sequence[AccountEntry] = list(
        await session.scalars(
            select(AccountEntry)
            .where(
                AccountEntry.enterprise_id == enterprise_id,
                AccountEntry.occurred_at >= begin,
                AccountEntry.occurred_at < finish,
            )
            .order_by(AccountEntry.occurred_at, AccountEntry.id)
        )
    )
    running = opening
    lines = []
    for e in entries:
        running += e.debit - e.credit
        lines.append(
            {
                "at": e.occurred_at,
                "kind": e.kind,
                "description": e.description,
                "order_id": e.order_id,
                "payment_id": e.payment_id,
                "debit": e.debit,
                "credit": e.credit,
                "balance": running,
            }
        )
    return Statement(
        enterprise_id,
        start,
        end,
        opening,
        lines,
        sum((e.debit for e in entries), ZERO),
        sum((e.credit for e in entries), ZERO),
    )
