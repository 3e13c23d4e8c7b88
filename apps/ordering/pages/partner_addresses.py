"""The address book pages: /p/{slug}/ordering/addresses lists the enterprise's ship-to addresses with a
form to add one; each address has a page to change it, and buttons to make it the default (the one
checkout preselects) or delete it. They call apps.ordering.addresses as the API does, so another
enterprise's address is not found here either."""

from __future__ import annotations

import uuid

from litestar import get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from apps.ordering.addresses import FIELDS, AddressBook, address_out
from apps.ordering.dependencies import AddressBookDep
from apps.ordering.objects import PARTNER_ORDER
from apps.ordering.pages.partner_shared import base_of, form_errors, render
from interconnect.pages.workspace import CurrentPortal, PortalContext
from portal.errors import ValidationFailed
from portal.http.deps import DB
from portal.i18n import N_
from portal.permissions import requires
from portal.ui.forms import Form

DONE_NOTICES = {
    "added": N_("The address is saved."),
    "changed": N_("The address is changed. Orders placed before keep the address they were placed with."),
    "default": N_("This address is now preselected at checkout."),
    "deleted": N_("The address is deleted. Orders placed with it keep their copy."),
}


def _form(data: dict[str, str]) -> dict[str, str]:
    return {name: data.get(name, "") for name in FIELDS}


async def _book_page(
    book: AddressBook,
    portal: PortalContext,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    done: str | None = None,
    status_code: int = 200,
) -> Template:
    return render(
        "addresses",
        portal,
        status_code,
        addresses=[address_out(a) for a in await book.list()],
        form=form or {},
        errors=errors or {},
        notice=DONE_NOTICES.get(done or ""),
    )


@get("/ordering/addresses", opt=requires(PARTNER_ORDER, "create"), include_in_schema=False)
async def addresses_page(
    portal: CurrentPortal, address_book: AddressBookDep, done: FromQuery[str | None] = None
) -> Template:
    return await _book_page(address_book, portal, done=done)


@post("/ordering/addresses", opt=requires(PARTNER_ORDER, "create"), include_in_schema=False)
async def add_address_page(
    data: Form, db: DB, portal: CurrentPortal, address_book: AddressBookDep
) -> Template | Redirect:
    form = _form(data)
    try:
        async with db.begin_nested():
            await address_book.create(form, make_default=bool(data.get("is_default")))
    except ValidationFailed as error:
        return await _book_page(address_book, portal, form=form, errors=form_errors(error), status_code=422)
    return Redirect(f"{base_of(portal)}/addresses?done=added")


@get(
    "/ordering/addresses/{address_id:uuid}",
    opt=requires(PARTNER_ORDER, "create"),
    include_in_schema=False,
)
async def address_page(
    address_id: FromPath[uuid.UUID], portal: CurrentPortal, address_book: AddressBookDep
) -> Template:
    found = address_out(await address_book.get(address_id))
    return render("address", portal, address=found, form=found, errors={})


@post(
    "/ordering/addresses/{address_id:uuid}",
    opt=requires(PARTNER_ORDER, "create"),
    include_in_schema=False,
)
async def change_address_page(
    address_id: FromPath[uuid.UUID],
    data: Form,
    db: DB,
    portal: CurrentPortal,
    address_book: AddressBookDep,
) -> Template | Redirect:
    found = address_out(await address_book.get(address_id))
    form = _form(data)
    try:
        async with db.begin_nested():
            await address_book.update(address_id, form)
    except ValidationFailed as error:
        return render("address", portal, 422, address=found, form=form, errors=form_errors(error))
    return Redirect(f"{base_of(portal)}/addresses?done=changed")


@post(
    "/ordering/addresses/{address_id:uuid}/default",
    opt=requires(PARTNER_ORDER, "create"),
    include_in_schema=False,
)
async def default_address_page(
    address_id: FromPath[uuid.UUID], portal: CurrentPortal, address_book: AddressBookDep
) -> Redirect:
    await address_book.make_default(await address_book.get(address_id))
    return Redirect(f"{base_of(portal)}/addresses?done=default")


@post(
    "/ordering/addresses/{address_id:uuid}/delete",
    opt=requires(PARTNER_ORDER, "create"),
    include_in_schema=False,
)
async def delete_address_page(
    address_id: FromPath[uuid.UUID], portal: CurrentPortal, address_book: AddressBookDep
) -> Redirect:
    await address_book.delete(address_id)
    return Redirect(f"{base_of(portal)}/addresses?done=deleted")


ADDRESS_PAGES = [
    addresses_page,
    add_address_page,
    address_page,
    change_address_page,
    default_address_page,
    delete_address_page,
]
