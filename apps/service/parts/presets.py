"""What a new upstream starts with on spare parts (migration 0037_service_parts keeps a frozen copy for
the tenants made before, 0044_service_dealer_tickets the adjustments): the service manager reads and
corrects every partner's stock and approves and ships
requests, the staff dispatcher reads them; a partner's service dispatcher reads its stock and requests
parts, its engineers read the stock they use from."""

from __future__ import annotations

from apps.service.parts.objects import PARTNER_REQUEST, PARTNER_STOCK, REQUEST, STOCK
from apps.service.presets import DISPATCHER
from roles.presets import SERVICE_DISPATCHER, SERVICE_ENGINEER, SERVICE_MANAGER

GRANTS: dict[str, tuple[tuple[str, str], ...]] = {
    SERVICE_MANAGER: ((STOCK, "read"), (STOCK, "adjust"), (REQUEST, "read"), (REQUEST, "approve"), (REQUEST, "ship")),
    DISPATCHER: ((STOCK, "read"), (REQUEST, "read")),
    SERVICE_DISPATCHER: ((PARTNER_STOCK, "read"), (PARTNER_REQUEST, "read"), (PARTNER_REQUEST, "create")),
    SERVICE_ENGINEER: ((PARTNER_STOCK, "read"),),
}
LEVELS: dict[str, dict[str, tuple[str, bool]]] = {
    PARTNER_STOCK: {"service_provider": ("enterprise_read", False)},
    PARTNER_REQUEST: {"service_provider": ("enterprise_write", False)},
}
