"""What roles grant on spare parts. Staff read every partner's stock ("service.parts"), correct it
("adjust": a counted stock, with the reason) and decide on
requests ("service.part_request": approve or reject, ship); partners read their enterprise's stock
("partner.service.parts") and ask for more ("partner.service.part_request"). Each object is data-scoped
on its own table, so a partner's data level keeps it to its own enterprise."""

from __future__ import annotations

from apps.service.objects import APP
from apps.service.parts.models import PartRequest, PartStock
from portal.i18n import N_
from portal.permissions import ProtectedObject

STOCK = "service.parts"
REQUEST = "service.part_request"
PARTNER_STOCK = "partner.service.parts"
PARTNER_REQUEST = "partner.service.part_request"

OBJECTS = (
    ProtectedObject(STOCK, N_("Spare-parts stock of the service partners"), ("read", "adjust"), model=PartStock),
    ProtectedObject(REQUEST, N_("Parts requests"), ("read", "approve", "ship"), model=PartRequest),
    ProtectedObject(PARTNER_STOCK, N_("Spare-parts stock"), ("read",), model=PartStock, app=APP, staff_view=(STOCK,)),
    ProtectedObject(
        PARTNER_REQUEST,
        N_("Parts requests"),
        ("read", "create"),
        model=PartRequest,
        app=APP,
        staff_view=(REQUEST,),
    ),
)
