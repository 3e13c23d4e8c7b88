"""The ordering app's spreadsheets as an attacker and as older data would have them: a hostile workbook
uploaded as a price sheet is refused naming the file's problem with the list unchanged, and stored
values holding control characters or formula-like text come out of every XLSX export, as text."""

from __future__ import annotations

import uuid

from litestar.testing import TestClient

from apps.ordering.models import AccountEntry, PriceList, Product
from interconnect.models import EnterpriseLink
from portal.config import Settings
from tests.integration.ordering.support import ok, staff
from tests.integration.web.test_pages import act_as
from tests.spreadsheets import (
    assert_refused_as_a_file_problem,
    bombs,
    exported_values,
    shown,
    stored_text,
    write_directly,
)
from tests.world import World


def test_the_price_sheet_import_refuses_hostile_workbooks(client: TestClient, world: World) -> None:
    list_id = world.ids["ordering_price_list"]
    before = ok(staff(client, world.a.admin, "GET", f"/price-lists/{list_id}"))["items"]
    for what, (content, codes) in bombs().items():
        response = client.post(
            f"/api/ordering/price-lists/{list_id}/items/import",
            headers=world.a.admin.bearer,
            files={"file": ("prices.xlsx", content)},
        )
        assert_refused_as_a_file_problem(response, codes, what)
    assert ok(staff(client, world.a.admin, "GET", f"/price-lists/{list_id}"))["items"] == before


def test_stored_control_characters_and_formula_text_come_out_of_every_ordering_export(
    client: TestClient, world: World, settings: Settings
) -> None:
    tenant, x = world.a.tenant_id, uuid.UUID(world.x.link_id)
    shop, pump, base = (stored_text(settings, text) for text in ("Shop", "@Pump", "Base"))
    reference = "=cmd|' /C calc'!A0\x02"
    write_directly(settings, tenant, EnterpriseLink, EnterpriseLink.id == x, name=shop)
    write_directly(settings, tenant, AccountEntry, AccountEntry.enterprise_id == x, description=reference)
    write_directly(settings, tenant, Product, Product.id == uuid.UUID(world.ids["ordering_product"]), name=pump)
    list_id = world.ids["ordering_price_list"]
    write_directly(settings, tenant, PriceList, PriceList.id == uuid.UUID(list_id), name=base)
    period = {"start": "2020-01-01"}

    staff_orders = exported_values(client.get("/api/ordering/orders/export.xlsx", headers=world.a.admin.bearer))
    assert shown(shop) in {cell for row in staff_orders for cell in row}
    partner_orders = exported_values(
        client.get("/api/partner/ordering/orders/export.xlsx", headers=world.x.admin.bearer)
    )
    assert shown(shop) in {cell for row in partner_orders for cell in row}
    statements = [
        client.get(f"/api/ordering/accounts/{x}/statement.xlsx", headers=world.a.admin.bearer, params=period),
        client.get("/api/partner/ordering/account/statement.xlsx", headers=world.x.admin.bearer, params=period),
    ]
    prices = [client.get(f"/api/ordering/price-lists/{list_id}/items.xlsx", headers=world.a.admin.bearer)]
    act_as(client, world.a.admin.cookie)
    statements.append(client.get(f"/console/ordering/accounts/{x}/statement.xlsx", params=period))
    prices.append(client.get(f"/console/ordering/price-lists/{list_id}/items.xlsx"))
    act_as(client, world.x.admin.cookie)
    statements.append(client.get(f"/p/{world.a.slug}/ordering/account/statement.xlsx", params=period))
    orders_page = exported_values(client.get(f"/p/{world.a.slug}/ordering/orders/export.xlsx"))
    assert shown(shop) in {cell for row in orders_page for cell in row}
    for response in statements:
        assert shown(reference) in {row[2] for row in exported_values(response)}
    for response in prices:
        assert shown(pump) in {row[1] for row in exported_values(response)}
