"""A price list's items as a spreadsheet on the staff API: the XLSX download and the import of an XLSX
or CSV file (multipart, field `file`), all or nothing (see apps.ordering.price_sheets)."""

from __future__ import annotations

import uuid

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath

from apps.ordering import price_sheets
from apps.ordering.admin import price_list_out
from apps.ordering.controllers.shared import AnyRequest
from apps.ordering.dependencies import STAFF_DEPENDENCIES, AdminDep
from apps.ordering.objects import PRICES
from apps.ordering.schemas import PriceImportOut
from portal.errors import ValidationFailed
from portal.http.deps import DB
from portal.http.openapi import upload_operation
from portal.i18n import N_
from portal.identity.schemas import typed
from portal.permissions import requires
from portal.spreadsheets import MAX_BYTES, XLSX_MEDIA_TYPE
from portal.ui.downloads import download, stamped

UPLOAD_BODY_LIMIT = MAX_BYTES + 256 * 1024  # the file plus its multipart envelope


class StaffPriceSheetsController(Controller):
    path = "/api/ordering/price-lists"
    tags = ["ordering: catalog"]
    dependencies = STAFF_DEPENDENCIES

    @get("/{price_list_id:uuid}/items.xlsx", opt=requires(PRICES, "export"), media_type=XLSX_MEDIA_TYPE)
    async def export_items(self, price_list_id: FromPath[uuid.UUID], db: DB) -> Response[bytes]:
        """The list's items: sku, name, min_quantity, unit_price (every cell text). Imports back unchanged."""
        content = await price_sheets.export_xlsx(db, price_list_id)
        return download(content, stamped("price-list"))

    @post(
        "/{price_list_id:uuid}/items/import",
        opt=requires(PRICES, "import"),
        status_code=200,
        request_max_body_size=UPLOAD_BODY_LIMIT,
        operation_class=upload_operation(),
    )
    async def import_items(
        self, price_list_id: FromPath[uuid.UUID], request: AnyRequest, db: DB, admin: AdminDep
    ) -> PriceImportOut:
        """The file's rows (sku, min_quantity, unit_price; name is ignored) become the list's items. One
        bad row and nothing is imported: the 422 names every bad row (`rows[<row>].<column>`)."""
        # The list first, the body after: an unknown list is not found, whatever was sent (a typed
        # multipart body would be refused as unreadable before the list is looked at).
        await admin.price_list(price_list_id)
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise ValidationFailed.single("file", N_("is required: upload a .csv or .xlsx file"), "required")
        content = await upload.read()
        await upload.close()
        done = await price_sheets.import_items(db, price_list_id, upload.filename, content)
        values = {
            **price_list_out(await admin.price_list(price_list_id)),
            "imported": done.rows,
            "products": done.products,
            "items": await admin.items(price_list_id),
        }
        return typed(values, PriceImportOut)


STAFF_PRICE_SHEET_CONTROLLERS = [StaffPriceSheetsController]
