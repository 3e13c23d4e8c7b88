"""The upstream admin console for the partner programme: partner types, tiers and regions; partner
enterprises (search, create, detail, status); invitations with QR codes; bulk import and export.

Pages call the interconnect services (the same ones the JSON API uses) inside the request's unit of
work. A refused form is re-rendered with its field errors; everything else goes to the one error mapper.

The package: programme (types, tiers, regions), enterprises, invitations, import_export, and shared
(helpers of all of them); CONSOLE_PARTNER_PAGES lists every page for the web component.
"""

from __future__ import annotations

from typing import Any

from web.console.partners.enterprises import (
    create_enterprise_page,
    enterprise_page,
    enterprise_status,
    enterprises_page,
    external_user_status,
    new_enterprise_form,
    terminate_confirmation,
)
from web.console.partners.import_export import export_enterprises_page, import_form, import_progress, start_import
from web.console.partners.invitations import create_invitation_page, invitations_page, revoke_invitation_page
from web.console.partners.programme import (
    add_partner_type,
    add_region,
    add_tier,
    programme_page,
    update_partner_type,
    update_tier,
)
from web.console.partners.shared import can, percent

__all__ = ["CONSOLE_PARTNER_PAGES", "can", "percent"]

CONSOLE_PARTNER_PAGES: list[Any] = [
    programme_page,
    add_partner_type,
    add_tier,
    add_region,
    update_partner_type,
    update_tier,
    enterprises_page,
    new_enterprise_form,
    create_enterprise_page,
    enterprise_page,
    terminate_confirmation,
    enterprise_status,
    external_user_status,
    invitations_page,
    create_invitation_page,
    revoke_invitation_page,
    import_form,
    start_import,
    import_progress,
    export_enterprises_page,
]
